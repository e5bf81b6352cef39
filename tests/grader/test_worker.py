"""grader/worker.py, grader/worker_process.py and grader/sandbox/: the worker's life and limits.

The attacks themselves are in tests/hostile/; here, the mechanics: numbered replies, the time
budget, caps, what happens on a platform without the Linux sandbox, and the documentation.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

import pytest

from grader import submission
from grader.protocol import ProtocolError, decode
from grader.stubs import build_module
from grader.worker import (
    SANDBOX_FILES,
    BudgetExhausted,
    Limits,
    Worker,
    WorkerTimeout,
    WorkerUnavailable,
)
from grader.worker_process import remove_tree

REPO = Path(__file__).resolve().parents[2]
GRADING_DOC = (REPO / "docs" / "grading.md").read_text(encoding="utf-8")
ADD = {
    "probe": "graph",
    "leaves": [2.0, 3.0],
    "passes": [{"nodes": [["add", 0, 1]], "root": 2}],
    "reseed": True,
    "report": None,
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> submission.Submission:
    path = tmp_path_factory.mktemp("reference") / "reference.py"
    path.write_text(build_module(REPO / "solutions", solutions=True), encoding="utf-8")
    return submission.load(path)


def hanging_backward(tmp_path: Path) -> submission.Submission:
    path = tmp_path / "hangs.py"
    path.write_text(
        "import time\nclass Value:\n    def __init__(self, data):\n"
        "        self.data, self.grad = data, 0.0\n    def __add__(self, other):\n"
        "        return Value(self.data + other.data)\n    def backward(self):\n"
        "        time.sleep(60)\n",
        encoding="utf-8",
    )
    return submission.load(path)


def test_replies_are_numbered_and_parsed(reference: submission.Submission) -> None:
    with Worker(reference, Limits()) as worker:
        assert worker.load().import_error is None
        first, second = worker.request(ADD), worker.request(ADD)
    assert first["passes"][0]["grad"] == [1.0, 1.0, 1.0]
    assert (first["seq"], second["seq"]) == (2, 3)
    assert worker.starts == 1 and worker.limits_in_force["request_timeout"] is True


def test_a_timeout_kills_the_worker_and_the_budget_ends_grading(tmp_path: Path) -> None:
    limits = replace(Limits(), request_timeout_s=0.5, budget_s=1.5)
    timeouts = []
    with (
        Worker(hanging_backward(tmp_path), limits) as worker,
        pytest.raises(BudgetExhausted, match="time budget of 1.5 s"),
    ):
        for _request in range(10):
            try:
                worker.request(ADD)
            except WorkerTimeout as exc:
                timeouts.append(str(exc))
    assert timeouts[0] == "no answer within 0.5 s"
    assert all(t.endswith(("within 0.5 s", "for the whole submission ran out")) for t in timeouts)
    assert worker.starts == len(timeouts) and 1.5 <= worker.spent < 2.5


def test_a_reply_beyond_the_cap_is_a_protocol_error(reference: submission.Submission) -> None:
    with (
        Worker(reference, replace(Limits(), reply_mb=0)) as worker,
        pytest.raises(WorkerUnavailable, match="could not start"),
    ):
        worker.load()


@pytest.mark.parametrize(
    "line",
    [
        b"[1, 2]\n",
        b"not json\n",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a": 1' + b"0" * 5000 + b"}\n",
        b"\xff\n",
    ],
)
def test_anything_but_a_json_object_is_a_protocol_error(line: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode(line, 1, "graph")


def test_the_sandbox_degrades_where_the_platform_has_no_linux_limits(tmp_path: Path) -> None:
    """As on Windows: no `resource`, no Landlock, no namespaces, no own user; it still runs."""
    script = (
        "import json, sys\n"
        "sys.modules['resource'] = None\n"
        "sys.platform = 'win32'\n"
        f"sys.path.insert(0, {str(SANDBOX_FILES)!r})\n"
        "import confine, runner, serve\n"
        f"config = json.loads({json.dumps(json.dumps(config(tmp_path)))})\n"
        "print(json.dumps(confine.apply(config)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, check=True
    )
    in_force = json.loads(done.stdout)
    assert in_force.pop("forbidden_imports") is True
    assert in_force == dict.fromkeys(in_force, False)


def config(tmp_path: Path) -> dict:
    limits = {f.name: getattr(Limits(), f.name) for f in fields(Limits)}
    return {"limits": {**limits, "uid": None}, "writable": str(tmp_path), "site_packages": []}


def test_every_limit_and_report_key_is_documented(reference: submission.Submission) -> None:
    for limit in fields(Limits):
        assert re.search(rf"\| `{limit.name}` +\| `", GRADING_DOC), limit.name
    with Worker(reference, Limits()) as worker:
        worker.load()
        keys = set(worker.limits_in_force)
    assert keys <= set(re.findall(r"^\| `(\w+)` +\|", GRADING_DOC, re.M))


@pytest.mark.parametrize(
    "limits, error",
    [
        ({}, "No module named 'packaging'"),
        ({"site_packages": True}, None),
        (
            {"site_packages": True, "forbidden_modules": ("packaging",)},
            "import packaging is not allowed in this assignment",
        ),
    ],
)
def test_installed_packages_only_where_allowed(
    tmp_path: Path, limits: dict, error: str | None
) -> None:
    path = tmp_path / "uses_packaging.py"
    path.write_text("import packaging.version\n", encoding="utf-8")
    with Worker(submission.load(path), replace(Limits(), **limits)) as worker:
        import_error = worker.load().import_error
    assert (import_error and import_error.message.split(":")[0]) == error


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_worker_dies_with_its_grader(tmp_path: Path) -> None:
    """A grader killed outright (a batch timeout) leaves no worker behind, even a hanging one."""
    script = (
        "import sys\nfrom pathlib import Path\nfrom grader import submission\n"
        "from grader.worker import Limits, Worker\n"
        "worker = Worker(submission.load(Path(sys.argv[1])), Limits(request_timeout_s=60))\n"
        "worker.load()\nprint(worker._process.pid, worker._folder, flush=True)\nworker.request("
        f"{ADD!r})\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script, str(hanging_backward(tmp_path).path)],
        stdout=subprocess.PIPE,
        text=True,
    ) as grader:
        assert grader.stdout is not None
        pid, folder = grader.stdout.readline().split()
        worker = int(pid)
        inside = Path(f"/proc/{worker}/task/{worker}/children").read_text().split()
        time.sleep(0.3)
        grader.kill()
    for _attempt in range(50):
        alive = [pid for pid in [worker, *map(int, inside)] if running(pid)]
        if not alive:
            break
        time.sleep(0.1)
    shutil.rmtree(folder)  # a grader killed outright cannot remove its worker's folder
    assert alive == []


def running(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, unix sockets and modes are POSIX's")
def test_remove_tree_removes_whatever_the_worker_left(tmp_path: Path) -> None:
    """1,500 nested folders (shutil.rmtree's RecursionError), unreadable and read-only folders,
    a FIFO, a socket, links to a file and a folder outside: all gone; what the links name stays
    as it was, its mode included."""
    outside = tmp_path / "outside"
    outside.mkdir()
    kept = outside / "kept.txt"
    kept.write_text("kept", encoding="utf-8")
    kept.chmod(0o444)
    folder = tmp_path / "worker"
    folder.mkdir()
    level = os.open(folder, os.O_RDONLY)
    for _depth in range(1500):
        os.mkdir("d", dir_fd=level)
        deeper = os.open("d", os.O_RDONLY, dir_fd=level)
        os.close(level)
        level = deeper
    os.close(os.open("deepest.txt", os.O_CREAT | os.O_WRONLY, dir_fd=level))
    os.chmod(level, 0o500)
    os.close(level)
    for mode in (0, 0o500):
        (folder / f"mode-{mode:o}" / "inside").mkdir(parents=True)
        (folder / f"mode-{mode:o}" / "inside" / "file.txt").write_text("x", encoding="utf-8")
        (folder / f"mode-{mode:o}").chmod(mode)
    os.mkfifo(folder / "fifo")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(folder / "socket"))
    os.link(kept, folder / "hard-link")
    (folder / "link-to-folder").symlink_to(outside, target_is_directory=True)
    (folder / "link-to-file").symlink_to(kept)
    remove_tree(folder)
    assert not os.path.lexists(folder)
    assert kept.read_text(encoding="utf-8") == "kept" and kept.stat().st_mode & 0o777 == 0o444
    remove_tree(folder)  # nothing there: no error either
