# ruff: noqa
"""Breaking the protocol: the worker's reply function is replaced, and each probe's reply comes
back as some kind of garbage: not JSON, not an object, nested too deep, too long, two lines,
another request's reply, or the real reply with its lists and numbers swapped for other JSON."""

import json
import sys
import zlib

serve = sys.modules["__main__"]
_send = serve.send

LINES = [
    lambda reply: "this is not JSON\n",
    lambda reply: "[1, 2, 3]\n",
    lambda reply: "[" * 100_000 + "]" * 100_000 + "\n",
    lambda reply: "x" * 20 * 2**20,
    lambda reply: json.dumps(reply) + "\n" + json.dumps(reply) + "\n",
    lambda reply: json.dumps({**reply, "seq": (reply.get("seq") or 0) + 1}) + "\n",
    lambda reply: json.dumps({"seq": reply.get("seq"), "error": "a string", "where": []}) + "\n",
    lambda reply: json.dumps({"seq": reply.get("seq"), "error": {"type": [1], "line": "2"}}) + "\n",
]
VALUES = [
    lambda x: [] if isinstance(x, list) else x,
    lambda x: {} if isinstance(x, list) else x,
    lambda x: None if isinstance(x, list) else x,
    lambda x: [None] * 3 if isinstance(x, list) else x,
    lambda x: "1.5" if isinstance(x, (int, float)) else x,
    lambda x: True if isinstance(x, (int, float)) else x,
    lambda x: [x] if isinstance(x, (int, float)) else x,
    lambda x: 10**5000 if isinstance(x, (int, float)) else x,
    lambda x: float("nan") if isinstance(x, (int, float)) else x,
    lambda x: -(2**62) if isinstance(x, int) else x,
]


def _swap(value, change):
    """`value` with `change` applied to everything inside it, except the request number."""
    if isinstance(value, dict):
        return {k: v if k == "seq" else _swap(v, change) for k, v in value.items()}
    changed = change(value)
    if changed is not value:
        return changed
    return [_swap(v, change) for v in value] if isinstance(value, list) else value


def send(stream, reply):
    if "names" in reply:  # the import's reply goes through, so that every probe is asked
        return _send(stream, reply)
    kind = zlib.crc32(json.dumps(reply, sort_keys=True).encode()) % (len(LINES) + len(VALUES))
    if kind < len(LINES):
        text = LINES[kind](reply)
    else:
        text = json.dumps(_swap(reply, VALUES[kind - len(LINES)])) + "\n"
    stream.write(text)
    stream.flush()


if ATTACK:
    serve.send = send
