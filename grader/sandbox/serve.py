"""The worker: confine this process, import the submission, answer probe requests.

Runs as `python -I -S -B -u serve.py CONFIG` in a fresh folder that holds only a copy of the
submission. Stdlib only. Requests arrive as JSON lines on stdin and replies leave as JSON lines
on stdout, both moved to private descriptors before any student code runs: the submission sees
an empty stdin, and its prints go to stderr, which the harness drains and caps. The harness
trusts nothing it reads here beyond parsed numbers.
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
import loading  # noqa: E402
import runner  # noqa: E402


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        config = json.load(f)
    requests, replies = private_channels()
    sys.path.remove(HERE)

    in_force = confine.apply(config)
    send(replies, {"seq": 0, "ready": True, "limits": in_force})

    submission = loading.Submission(config["submission"])
    gc.disable()
    for line in requests:
        request = json.loads(line)
        send(replies, {**answer(submission, request), "seq": request.get("seq")})


def private_channels():
    """Keep stdin and stdout for the protocol; give the submission an empty stdin and make its
    prints (stdout) go to stderr."""
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    empty = os.open(os.devnull, os.O_RDONLY)
    os.dup2(empty, 0)
    os.close(empty)
    os.dup2(2, 1)
    return requests, replies


def answer(submission: loading.Submission, request: dict) -> dict:
    """Run one probe with the cyclic GC off: autograd graphs are all reference cycles, and
    collecting during a probe costs more than the probe (1.26 s vs 0.11 s per training step).

    The GC stays off between probes too: the previous probe's garbage is collected when the
    next probe starts, so the last probe's graph (often the largest) is never collected."""
    gc.collect()
    try:
        return runner.run(submission, request)
    except BaseException as exc:  # a probe must always answer, whatever the submission did
        return {"error": loading.describe(exc, submission.root), "where": "probe"}
    finally:
        gc.disable()  # again: the submission may have turned it on
        if request.get("probe") == "load":
            gc.collect()
            gc.freeze()  # the submission's modules live on: later collections skip them


def send(stream, reply: dict) -> None:
    try:
        text = json.dumps(reply, allow_nan=True)
    except (TypeError, ValueError, RecursionError) as exc:
        error: dict[str, object] = {"type": "ProtocolError", "message": str(exc)[:200]}
        error.update(file=None, line=None, code=None, task=None)
        text = json.dumps({"error": error, "where": "reply", "seq": reply.get("seq")})
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
