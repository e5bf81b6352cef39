# ruff: noqa
"""Slow backward() moved into the request the harness times as building the graph: the
worker's own dispatch table is patched so that "hold" also runs backward() and "release"
answers at once. Added after complex_step_gradients, whose backward() is one evaluation per
node: right numbers, and too slow for either request alone."""

import sys as _sys

_runner = _sys.modules.get("runner")
if ATTACK and _runner is not None:
    _hold, _release, _ready = _runner.PROBES["hold"], _runner.PROBES["release"], {}

    def _hold_and_backward(submission, request):
        reply = _hold(submission, request)
        _ready["reply"] = _release(submission, {"probe": "release"})
        return reply

    def _answer_at_once(submission, request):
        return _ready.pop("reply")

    _runner.PROBES["hold"], _runner.PROBES["release"] = _hold_and_backward, _answer_at_once
