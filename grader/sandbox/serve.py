"""The worker: confine this process, import the submission, answer probe requests.

Runs as `python -I -S serve.py CONFIG` in a fresh folder that holds only a copy of the
submission and these files. Stdlib only. Requests arrive as JSON lines on one pipe, replies
leave as JSON lines on another; the submission's own prints go to stdout/stderr, which the
harness drains and caps. The harness trusts nothing it reads here beyond parsed numbers.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import confine  # noqa: E402  (a sibling file, importable once HERE is on the path)
import runner  # noqa: E402


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        config = json.load(f)
    requests = os.fdopen(config["request_fd"], "r", encoding="utf-8")
    replies = os.fdopen(config["reply_fd"], "w", encoding="utf-8")
    sys.path.remove(HERE)

    in_force = confine.apply(config)
    send(replies, {"ready": True, "limits": in_force})

    submission = runner.Submission(config["submission"])
    for line in requests:
        request = json.loads(line)
        if request.get("probe") == "exit":
            break
        send(replies, answer(submission, request))


def answer(submission: runner.Submission, request: dict) -> dict:
    """Run one probe with the cyclic GC paused (autograd graphs are all reference cycles)."""
    gc.disable()
    try:
        return runner.run(submission, request)
    except BaseException as exc:  # a probe must always answer, whatever the submission did
        return {"error": runner.describe(exc, submission.root), "where": "probe"}
    finally:
        gc.enable()
        gc.collect()


def send(stream, reply: dict) -> None:
    try:
        text = json.dumps(reply, allow_nan=True)
    except (TypeError, ValueError) as exc:
        text = json.dumps({"error": {"type": "ProtocolError", "message": str(exc)}})
    stream.write(text + "\n")
    stream.flush()


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        traceback.print_exc()
        raise
    finally:
        os._exit(0)
