"""The batch harness: timeouts and signals kill whole gradings, workers included, leave no
folder behind, and the next run resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from grader import batch, stubs

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
MODULE = stubs.build_module(SOLUTIONS, solutions=True)
ADD = '        """Return self + other.'
HANGS = MODULE.replace(ADD, "        while True:\n            pass\n" + ADD, 1)
NESTS = MODULE + (
    "\nimport os\nfor _ in range(1500):\n    os.mkdir('d')\n    os.chdir('d')\nos.chmod('.', 0)\n"
)


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that name `text` (their folder, say)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline and int(pid) != os.getpid():
            found.append(cmdline)
    return found


def gone(folder: Path, deadline_s: float = 5.0) -> bool:
    """No process runs from `folder` any more (killed workers take a moment to die)."""
    end = time.monotonic() + deadline_s
    while processes_mentioning(str(folder)) and time.monotonic() < end:
        time.sleep(0.1)
    return not processes_mentioning(str(folder))


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """Temporary folders of the batch (and of the workers its children start) go here."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_grading_past_its_timeout_is_killed_with_its_worker(tmp_path, private_tmp, capsys):
    entries = tmp_path / "in"
    entries.mkdir()
    (entries / "hangs.py").write_text(HANGS)
    (entries / "nests_1500_folders.py").write_text(NESTS)
    (entries / "quick.py").write_text(MODULE)
    out = tmp_path / "out"
    argv = [
        str(entries),
        "--out",
        str(out),
        "--jobs",
        "1",
        "--timeout",
        "3",
        "--section",
        "forward",
    ]
    assert batch.main(argv) == 0
    result = json.loads((out / "results" / "hangs.py.json").read_text())
    assert result["status"] == "error: grading took over 3 s and was stopped"
    assert json.loads((out / "results" / "quick.py.json").read_text())["status"] == "graded"
    nested = json.loads((out / "results" / "nests_1500_folders.py.json").read_text())
    assert nested["status"]  # graded, or why not: either way the batch went on
    assert gone(tmp_path) and os.listdir(private_tmp) == []
    capsys.readouterr()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_batch_at_once_and_a_rerun_resumes(tmp_path, signum):
    entries = tmp_path / "in"
    entries.mkdir()
    (entries / "a_quick.py").write_text(MODULE)
    for name in ("b_hangs.py", "c_hangs.py"):
        (entries / name).write_text(HANGS)
    private = tmp_path / "tmp"
    private.mkdir()
    env = {**os.environ, "TMPDIR": str(private)}
    command = [
        sys.executable,
        "-m",
        "grader",
        "batch",
        str(entries),
        "--out",
        str(tmp_path / "out"),
        "--jobs",
        "2",
        "--section",
        "forward",
    ]
    batch_run = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    finished = tmp_path / "out" / "results" / "a_quick.py.json"
    deadline = time.monotonic() + 60
    while not finished.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # both hanging gradings are running now
    batch_run.send_signal(signum)
    stopped = time.monotonic()
    _, err = batch_run.communicate(timeout=30)
    assert time.monotonic() - stopped < 5  # gradings in flight are not waited for
    assert batch_run.returncode == 128 + signum
    lines = err.decode().strip().splitlines()
    assert "Traceback" not in err.decode()
    assert lines[-1].startswith(f"Stopped by {signal.Signals(signum).name}: 1 of 3 gradings")
    assert lines[-1].endswith("Run the same command again to grade the rest.")
    assert gone(tmp_path) and os.listdir(private) == []

    rerun = subprocess.run([*command, "--timeout", "1"], env=env, capture_output=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert b"1 unchanged since the last run (skipped), 0 not gradable, 2 to grade" in rerun.stdout
