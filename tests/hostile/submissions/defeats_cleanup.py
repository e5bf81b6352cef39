# ruff: noqa
"""Defeating the clean-up after grading: at import, 1,500 nested folders (shutil.rmtree dies of
RecursionError there), the deepest read-only and others unreadable (mode 0 or 0500), a FIFO, a
unix socket, hard links, files kept open, and files filled up to the file-size limit until the
folder is full. Prints its folder and how much it could write."""

import os
import stat

MB = 1024 * 1024


def _nest(depth):
    start = os.open(".", os.O_RDONLY)
    try:
        for _level in range(depth):
            os.mkdir("d")
            os.chdir("d")
        with open("deepest.txt", "w") as f:
            f.write("deep")
        os.chmod(".", 0o500)
    finally:
        os.fchdir(start)
        os.close(start)


def _fill(limit_files):
    written = 0
    for number in range(limit_files):
        try:
            with open(f"fill-{number}", "wb") as f:
                for _chunk in range(16):
                    f.write(b"\0" * MB)
                    f.flush()
                    written += MB
        except OSError as exc:
            print(f"folder full after {written // MB} MB: {type(exc).__name__}", flush=True)
            return
    print(f"wrote {written // MB} MB", flush=True)


if ATTACK:
    print(f"worker folder {os.path.dirname(os.getcwd())}", flush=True)
    _nest(1500)
    print("made 1500 nested folders", flush=True)
    os.mkfifo("fifo")
    os.mknod("socket", 0o600 | stat.S_IFSOCK)
    with open("linked.txt", "w") as f:
        f.write("linked")
    for number in range(3):
        os.link("linked.txt", f"hard-link-{number}")
    kept_open = [open("kept-open.txt", "w") for _ in range(3)]
    for mode in (0, 0o500):
        os.makedirs(f"mode-{mode:o}/inside", exist_ok=True)
        with open(f"mode-{mode:o}/inside/file.txt", "w") as f:
            f.write("x")
        os.chmod(f"mode-{mode:o}/inside", mode)
        os.chmod(f"mode-{mode:o}", mode)
    _fill(16)
