# ruff: noqa
"""Hidden inputs reach the worker: this submission keeps every small graph's leaves and, on the
100,000-op chain (a visible test), raises with a digest of what it has seen. Graded with and
without --hidden, that visible message must be the same: no hidden input got there first."""

import hashlib as _hashlib
import sys as _sys

_runner = _sys.modules.get("runner")
_seen = []

if ATTACK and _runner is not None:
    _real_run = _runner.run

    def _run(submission, request):
        if request.get("probe") == "graph" and len(request.get("leaves", ())) <= 3:
            _seen.append(tuple(request["leaves"]))
        if request.get("probe") == "chain":
            digest = _hashlib.sha256(repr(_seen).encode()).hexdigest()[:16]
            raise ValueError(f"SEEN {len(_seen)} small graphs, digest {digest}")
        return _real_run(submission, request)

    _runner.run = _run
