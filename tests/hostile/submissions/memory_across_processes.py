# ruff: noqa
"""Memory beyond memory_mb, spread over processes: tanh forks three children that each hold
450 MB (each under the per-process RLIMIT_AS of 1024 MB, 1.35 GB together)."""

import os as _os
import time as _time

_tanh = Value.tanh


def _tanh_in_three_processes(self):
    touched, told = _os.pipe()
    for _ in range(3):
        if _os.fork() == 0:
            block = bytearray(450 * 1024 * 1024)
            for i in range(0, len(block), 4096):  # touched: resident, not only reserved
                block[i] = 1
            _os.write(told, b"!")
            _time.sleep(30)
            _os._exit(0)
    for _ in range(3):  # however slow the machine, all 1.35 GB is resident before the hold
        _os.read(touched, 1)
    _time.sleep(2)
    return _tanh(self)


if ATTACK:
    Value.tanh = _tanh_in_three_processes
