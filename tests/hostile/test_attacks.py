"""The red team: one submission per attack, each graded by the real command line.

Every attack is a file in submissions/ appended to a base (the reference solution or the stubs)
after `ATTACK = True`. Its honest baseline is the base alone or, where the attack replaces the
code it attacks, the same file after `ATTACK = False`. Every attack must leave a valid report,
no grader error, no more points than its baseline, no process behind, a flat grader memory, and
finish within its bound; the tests after the first check what each attack was after.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import jsonschema
import pytest
from grading_runs import (
    REFERENCE,
    REPO,
    SECRET,
    STUBS,
    SUBMISSIONS,
    TOKEN,
    Case,
    Grading,
    Gradings,
    reference_module,
    secrets_folder,
    stubs_module,
)

from grader.pipeline import SECTION_IDS

BASES = {"reference": (reference_module, REFERENCE), "stubs": (stubs_module, STUBS)}
GRADER_MEMORY_MB = 400
"""The grader's own peak memory (RSS) stays under this, whatever the worker does."""
IPC_NAME, IPC_KEY = f"scratchgrad-{TOKEN[-12:]}", int(TOKEN[-7:], 16)
"""What the IPC attacks name their objects, and their SysV key: this run's own."""


_listener: list[socket.socket] = []
_listener_lock = threading.Lock()


def listener() -> socket.socket:
    """A loopback TCP port that the network attack tries to reach (made once, in any thread)."""
    with _listener_lock:
        if not _listener:
            server = socket.create_server(("127.0.0.1", 0))
            server.setblocking(False)
            _listener.append(server)
        return _listener[0]


@pytest.fixture(scope="module", autouse=True)
def _close_listener() -> Iterator[None]:
    yield
    for server in _listener:
        server.close()


def placeholders(folder: Path) -> dict[str, str]:
    """What an attack file may name: the targets it goes after."""
    secrets = secrets_folder()
    return {
        "__REPORT__": str(folder / "report.json"),
        "__MARKER__": str(folder / "marker"),
        "__GRADER__": str(REPO / "grader"),
        "__REPO__": str(REPO),
        "__SECRET_FILE__": str(secrets / "secret.txt"),
        "__OTHER_SUBMISSION__": str(secrets / "other-submission"),
        "__CACHE__": str(folder.parent / "oracle-cache"),
        "__SITE_PACKAGES__": sysconfig.get_paths()["purelib"],
        "__IPC_NAME__": IPC_NAME,
        "__IPC_KEY__": str(IPC_KEY),
    }


def snippet(name: str, folder: Path, attack: bool) -> str:
    text = (SUBMISSIONS / f"{name}.py").read_text(encoding="utf-8")
    for key, value in placeholders(folder).items():
        text = text.replace(key, value)
    if "__PORT__" in text:
        text = text.replace("__PORT__", str(listener().getsockname()[1]))
    return f"\n\n\nATTACK = {attack}\n{text}"


def module(
    name: str, base: str, attack: bool, under: tuple[str, ...] = ()
) -> Callable[[Path], Path]:
    """The base with the attack `name` added, after the attacks in `under` (always on)."""

    def build(folder: Path) -> Path:
        path = folder / f"{name}.py"
        attacks = [snippet(other, folder, True) for other in under] + [
            snippet(name, folder, attack)
        ]
        path.write_text(BASES[base][0]() + "".join(attacks), encoding="utf-8")
        return path

    return build


def sections_of(args: tuple[str, ...]) -> tuple[str, ...]:
    chosen = tuple(a.partition("=")[2] for a in args if a.startswith("--section="))
    return chosen or SECTION_IDS


def attack(
    name: str,
    *,
    base: str = "reference",
    sections: tuple[str, ...] = (),
    limits: tuple[str, ...] = (),
    bound_s: float = 45.0,
    same_code_baseline: bool = False,
    build: Callable[[Path], Path] | None = None,
    from_inside: bool = False,
) -> Case:
    """`name`'s file after `ATTACK = True` on `base`; its baseline is `base` graded in full or,
    with `same_code_baseline`, the same file after `ATTACK = False`."""
    args = tuple(f"--section={s}" for s in sections) + tuple(f"--limit={x}" for x in limits)
    if same_code_baseline:
        baseline = Case(f"{name}-baseline", module(name, base, attack=False), args)
    else:
        baseline = BASES[base][1]
    return Case(
        name, build or module(name, base, attack=True), args, bound_s, baseline, from_inside
    )


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def stub_package(folder: Path) -> Path:
    package = folder / "submission"
    package.mkdir()
    for name in ("__init__.py", "engine.py", "nn.py", "train.py"):
        _write(package / name, _stub_part(name))
    return package


def _stub_part(name: str) -> str:
    return (REPO / "exercises" / name).read_text(encoding="utf-8")


def conftest_package(folder: Path) -> Path:
    """The stubs as a package, with a hostile conftest.py, pytest.ini, sitecustomize.py and
    .pth file beside them; graded from inside that folder."""
    package = stub_package(folder)
    marker = placeholders(folder)["__MARKER__"]
    _write(package / "conftest.py", snippet("conftest_in_submission_folder", folder, True))
    _write(package / "pytest.ini", f"[pytest]\naddopts = -p conftest --json-report-file={marker}\n")
    _write(package / "sitecustomize.py", f"open({marker!r}, 'w').write('sitecustomize ran')\n")
    _write(
        package / "scratchgrad_hostile.pth", f"import os; open({marker!r}, 'w').write('.pth ran')\n"
    )
    return package


def linked_package(folder: Path) -> Path:
    """A package whose modules are symbolic links to the reference solutions."""
    package = folder / "submission"
    package.mkdir()
    _write(package / "__init__.py", snippet("symlink_to_solutions", folder, True))
    for name in ("engine.py", "nn.py", "train.py"):
        (package / name).symlink_to(REPO / "solutions" / name)
    (package / "secret.txt").symlink_to(secrets_folder() / "secret.txt")
    (package / "solutions_link").symlink_to(REPO / "solutions", target_is_directory=True)
    return package


ATTACKS = {
    case.name: case
    for case in [
        attack(
            "always_equal_objects",
            base="stubs",
            sections=("forward", "backward", "backprop"),
            same_code_baseline=True,
        ),
        attack("monkeypatched_comparisons", sections=("backward", "nn"), same_code_baseline=True),
        attack("fake_report_then_exit", sections=("forward", "training")),
        attack("atexit_rewrites_report", sections=("forward", "backward")),
        attack("detached_daemon", sections=("forward",)),
        attack(
            "conftest_in_submission_folder", base="stubs", build=conftest_package, from_inside=True
        ),
        attack("reads_grader_files", sections=("forward",)),
        attack("torch_inside_submission", sections=("forward",)),
        attack("torch_past_the_import_guard", sections=("forward",)),
        attack("infinite_loop_at_import", limits=("import_timeout_s=2",), bound_s=25),
        attack("sleep_at_import", limits=("import_timeout_s=2",), bound_s=25),
        attack("infinite_recursion", sections=("backward",)),
        attack("memory_bomb", sections=("training",)),
        attack("output_flood", sections=("forward",)),
        attack("segfault", sections=("training",)),
        attack("hang_in_every_backward", limits=("budget_s=12",), bound_s=30),
        attack("sys_exit_during_probe", sections=("training",)),
        attack("os_exit_during_probe", sections=("training",)),
        attack("kill_parent", sections=("backward",)),
        attack("raises_signals", sections=("training",)),
        attack("closes_worker_pipes", sections=("training",)),
        attack(
            "finite_difference_gradients",
            sections=("backward", "backprop"),
            bound_s=60,
        ),
        attack(
            "complex_step_gradients",
            sections=("backward", "backprop"),
            bound_s=60,
        ),
        attack(
            "complex_steps_where_checked",
            sections=("backward", "backprop"),
            bound_s=60,
        ),
        attack(
            "backward_while_building",
            sections=("backward", "backprop"),
            bound_s=60,
            build=module(
                "backward_while_building",
                "reference",
                attack=True,
                under=("complex_step_gradients",),
            ),
        ),
        attack("network_access", sections=("forward",)),
        attack("protocol_garbage", sections=("backprop", "nn", "training")),
        attack("fake_score_in_messages", sections=("backward",)),
        attack("fork_bomb", sections=("forward",)),
        attack("symlink_to_solutions", base="stubs", build=linked_package),
        attack("lazy_stdlib_imports", sections=("backward", "backprop")),
        attack("leaves_ipc_objects", sections=("forward",)),
        attack("memory_across_processes", sections=("forward",)),
        attack("memory_files", sections=("forward",)),
        attack("defeats_cleanup", sections=("forward",)),
    ]
}
FINDS_IPC_OBJECTS = attack("finds_ipc_objects", sections=("forward",))
"""Graded on demand: after leaves_ipc_objects, while the host holds the same objects."""


HIDDEN_ARGS = (
    "--section=backward",
    "--section=backprop",
    "--hidden",
    f"--course={REPO}/course.json",
)
CARRIES_HIDDEN_INPUTS_OUT = Case(
    "carries_hidden_inputs_out",
    module("carries_hidden_inputs_out", "reference", attack=True),
    HIDDEN_ARGS,
    baseline=Case(
        "carries_hidden_inputs_out-public",
        module("carries_hidden_inputs_out", "reference", attack=True),
        HIDDEN_ARGS[:2],
    ),
)
"""Graded on demand, with --hidden, against the same code graded without."""


KNOWN_GAPS: dict[str, str] = {}
"""Attacks the grader does not contain yet (strict xfail), with why; none today."""


def by_name(*names: str) -> list:
    return [
        pytest.param(
            ATTACKS[name],
            id=name,
            marks=[pytest.mark.xfail(reason=KNOWN_GAPS[name], strict=True)]
            if name in KNOWN_GAPS
            else [],
        )
        for name in names
    ]


@pytest.mark.parametrize("case", by_name(*ATTACKS))
def test_attack_is_contained(gradings: Gradings, schema: dict, case: Case) -> None:
    """Valid report, exit 0, no grader error, no more points than honest code, no process
    left, the grader's memory flat, and finished in time."""
    got = gradings[case]
    assert case.baseline is not None
    baseline = gradings[case.baseline]
    assert got.returncode == 0, got.stderr[-3000:]
    assert got.report is not None
    jsonschema.validate(got.report, schema)
    assert [e for e in got.report["errors"] if e["kind"] == "grader"] == []
    sections = sections_of(case.args)
    assert points(got, sections) <= points(baseline, sections) + 1e-9, got.messages()
    assert got.survivors == ()
    assert got.peak_rss_mb < GRADER_MEMORY_MB
    assert got.duration_s < case.bound_s
    assert TOKEN not in got.report_text and SECRET not in got.report_text


def points(grading: Grading, sections: tuple[str, ...]) -> float:
    """Points in `sections`, extra credit included."""
    return sum(grading.section_score(s) for s in sections)


def result(gradings: Gradings, name: str) -> Grading:
    return gradings[ATTACKS[name]]


def statuses(grading: Grading, section: str) -> set[str]:
    return {t["status"] for t in grading.tests() if t["id"].startswith(f"{section}::")}


def test_always_equal_objects_compare_as_numbers(gradings: Gradings) -> None:
    got = result(gradings, "always_equal_objects")
    assert "a EqualObject instead of a number" in got.messages()


def test_fake_and_atexit_reports_never_reach_the_report(gradings: Gradings) -> None:
    for name in ("fake_report_then_exit", "atexit_rewrites_report"):
        got = result(gradings, name)
        assert "faked" not in got.report_text
        assert "wrote a fake report to /" not in got.output
        assert "rewrote the report" not in got.output
    fake = result(gradings, "fake_report_then_exit")
    assert "could not write a fake report to /" in fake.output
    assert "ended the worker process (exit status 0)" in fake.messages()
    assert statuses(fake, "forward") == {"passed"}


def test_daemon_does_not_survive_grading(gradings: Gradings) -> None:
    got = result(gradings, "detached_daemon")
    assert "daemon pid" in got.output
    assert processes_named("sg-daemon") == [], "the daemon survived"


def processes_named(name: str) -> list[int]:
    """Live (not zombie) processes called `name`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and (entry / "comm").read_text().strip() == name
                and "State:\tZ" not in (entry / "status").read_text()
            ):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_submission_folder_files_are_never_loaded_by_the_grader(gradings: Gradings) -> None:
    got = result(gradings, "conftest_in_submission_folder")
    marker = Path(placeholders(gradings.folder / "conftest_in_submission_folder")["__MARKER__"])
    assert not marker.exists()
    assert got.score == 0


def test_the_grader_files_and_secrets_are_out_of_reach(gradings: Gradings) -> None:
    got = result(gradings, "reads_grader_files")
    assert "READ " not in got.output and "WROTE" not in got.output
    assert got.output.count("blocked ") == 10, got.output
    assert "PermissionError" in got.output
    assert not (gradings.cache / "poisoned.json").exists()
    assert "SCRATCHGRAD" not in got.output.split("environment:")[1]


def test_torch_is_refused_with_a_clear_message(gradings: Gradings) -> None:
    got = result(gradings, "torch_inside_submission")
    assert "import torch is not allowed in this assignment" in got.messages()
    bypass = result(gradings, "torch_past_the_import_guard")
    assert "IMPORTED" not in bypass.output
    assert bypass.output.count("refused ") == 2, bypass.output


@pytest.mark.parametrize("name", ["infinite_loop_at_import", "sleep_at_import"])
def test_a_hanging_import_is_tried_once(gradings: Gradings, name: str) -> None:
    got = result(gradings, name)
    assert "importing your submission: no answer within 2 s" in got.messages()
    assert got.score == 0
    assert got.duration_s < 20


def test_infinite_recursion_is_named(gradings: Gradings) -> None:
    assert "RecursionError" in result(gradings, "infinite_recursion").messages()


def test_memory_bomb_is_a_memory_error(gradings: Gradings) -> None:
    got = result(gradings, "memory_bomb")
    assert "MemoryError" in got.messages() and "out of memory" in got.messages()
    assert got.report["environment"]["limits"]["memory"] is True


def test_output_flood_is_truncated(gradings: Gradings) -> None:
    got = result(gradings, "output_flood")
    output = got.report["student_output"]
    assert output["bytes"] >= 100_000_000 and output["truncated"]
    assert len(output["text"]) <= 64 * 1024
    assert len(got.report_text) < 1_000_000
    assert got.score == 20


def test_crashes_and_exits_are_failed_tests_with_a_message(gradings: Gradings) -> None:
    expected = {
        "segfault": "killed by SIGSEGV (a crash in native code, e.g. ctypes)",
        "sys_exit_during_probe": "SystemExit",
        "os_exit_during_probe": "ended the worker process (exit status 3)",
        "closes_worker_pipes": "ended the worker process",
        "raises_signals": "the worker process was killed by",
    }
    for name, message in expected.items():
        got = result(gradings, name)
        # the crashing cases are errors; those relying on them are blocked by their task
        assert statuses(got, "training") <= {"error", "blocked"}, name
        assert "error" in statuses(got, "training"), name
        assert message in got.messages(), name


def test_hang_in_every_backward_keeps_the_forward_points(gradings: Gradings) -> None:
    got = result(gradings, "hang_in_every_backward")
    assert got.section_score("forward") == 20
    assert "no answer within 5 s" in got.messages()
    assert "not run: the time budget of 12 s" in got.messages()
    assert got.duration_s < 30


def test_killing_the_parent_fails(gradings: Gradings) -> None:
    got = result(gradings, "kill_parent")
    assert "its parent's group" in got.output
    assert got.score == 25


@pytest.mark.parametrize(
    "name",
    [
        "finite_difference_gradients",
        "complex_step_gradients",
        "complex_steps_where_checked",
        "backward_while_building",
    ],
)
def test_numerical_differentiation_earns_nothing_in_backward_or_backprop(
    gradings: Gradings, name: str
) -> None:
    """Right on small graphs (complex steps to 1e-16); on the one-pass checks too slow, or,
    stepping only some nodes, wrong at the others; too slow for building and backward()
    together when the work moves into building."""
    got = result(gradings, name)
    assert got.section_score("backward") == got.section_score("backprop") == 0
    one_pass = [t for t in got.tests() if "one-pass" in t["id"] or "one_pass" in t["id"]]
    assert one_pass and {t["status"] for t in one_pass} <= {"timeout", "failed", "blocked"}
    # the points a one-pass check takes away are named after the check's task
    gate = r"not counted: Task \d\.\d's one-pass check does not backpropagate in one pass"
    assert re.search(gate, got.messages()), name


def test_no_network(gradings: Gradings) -> None:
    got = result(gradings, "network_access")
    assert "CONNECTED" not in got.output and "SENT" not in got.output
    assert "RESOLVED" not in got.output
    with pytest.raises(BlockingIOError):
        listener().accept()


def test_protocol_garbage_is_a_protocol_error(gradings: Gradings) -> None:
    got = result(gradings, "protocol_garbage")
    for message in (
        "was not JSON",
        "was not a JSON object",
        "was longer than 4 MB",
        "was not the reply to it",
    ):
        assert message in got.messages()


def test_feedback_is_printable_text(gradings: Gradings) -> None:
    """No line breaks or terminal escapes from the submission: it cannot fake a score line."""
    got = result(gradings, "fake_score_in_messages")
    assert all(t["feedback"].isprintable() for t in got.tests())


def test_fork_bomb_is_limited_and_cleaned_up(gradings: Gradings) -> None:
    got = result(gradings, "fork_bomb")
    if os.geteuid() == 0:
        assert got.report["environment"]["limits"]["processes"] is True
    assert got.survivors == ()


def test_links_are_not_followed(gradings: Gradings) -> None:
    got = result(gradings, "symlink_to_solutions")
    assert "READ " not in got.output
    assert "The grader does not follow links" in got.messages()


def test_lazy_stdlib_imports_work_in_the_sandbox(gradings: Gradings) -> None:
    got = result(gradings, "lazy_stdlib_imports")
    baseline = gradings[ATTACKS["lazy_stdlib_imports"].baseline]
    sections = ("backward", "backprop")
    assert points(got, sections) == points(baseline, sections) == 50


def test_every_limit_is_in_force_on_linux_as_root(gradings: Gradings) -> None:
    if not (os.geteuid() == 0 and os.uname().sysname == "Linux"):
        pytest.skip("CI grades as root on Linux")
    limits = result(gradings, "detached_daemon").report["environment"]["limits"]
    assert limits == dict.fromkeys(limits, True)


IPC_KINDS = (
    "SysV shared memory",
    "SysV message queue",
    "SysV semaphores",
    "POSIX message queue",
    "a file in /dev/shm",
    "a file in /tmp",
    "a key in the session keyring",
    "an abstract unix socket",
    "a unix socket file",
)
"""What leaves_ipc_objects makes on the host, where nothing stops it, and finds_ipc_objects
then finds there. (It makes a key in the user keyring too, which the kernel lets only the
processes that share no session keyring read.)"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the IPC objects are Linux's")
def test_memory_files_are_refused(gradings: Gradings) -> None:
    got = result(gradings, "memory_files")
    if not got.report["environment"]["limits"].get("memory_files_blocked"):
        pytest.skip("seccomp is in force on Linux x86_64 and arm64 only")
    assert "refused memfd_create after 0 files: Operation not permitted" in got.output
    assert "MADE" not in got.output
    assert got.section_score("forward") == 20


def test_ipc_objects_reach_no_other_grading_and_end_with_their_own(gradings: Gradings) -> None:
    """What a worker makes stays in its own namespaces and ends with it; what the host (or
    another worker) holds at the same time is out of its reach."""
    left = result(gradings, "leaves_ipc_objects")
    for kind in ("SysV shared memory", "SysV message queue", "SysV semaphores"):
        assert f"MADE {kind}" in left.output, left.output  # in the worker's own IPC namespace
    assert re.findall(r"^MADE (.*(?:file|key).*)$", left.output, re.M) == [], left.output
    assert found_outside(gradings.folder) == []
    assert left_by_user(left.worker_uid) == []
    with objects_outside(gradings.folder) as made:
        finder = gradings[FINDS_IPC_OBJECTS]
        control = found_outside(gradings.folder)
    assert finder.returncode == 0 and finder.report is not None, finder.stderr[-3000:]
    assert "none SysV shared memory" in finder.output, finder.output
    assert "FOUND" not in finder.output, finder.output
    assert set(IPC_KINDS) <= set(made), made
    assert set(IPC_KINDS) <= set(control), control  # found where nothing stands between
    assert found_outside(gradings.folder) == []


def found_outside(folder: Path) -> list[str]:
    """What finds_ipc_objects finds when run on the host, outside any sandbox."""
    done = subprocess.run(
        [sys.executable, "-I", "-c", snippet("finds_ipc_objects", folder, True)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return re.findall(r"^FOUND (.*?):", done.stdout, re.M)


@contextlib.contextmanager
def objects_outside(folder: Path) -> Iterator[list[str]]:
    """leaves_ipc_objects run on the host, holding what it made until the block ends; yields
    what it made."""
    code = (
        snippet("leaves_ipc_objects", folder, True)
        + "\nimport sys\nsys.stdin.read()\n_remove_all()\n"
    )
    with subprocess.Popen(
        [sys.executable, "-I", "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as maker:
        assert maker.stdin is not None and maker.stdout is not None
        made = []
        for line in maker.stdout:
            if line == "ready\n":
                break
            made += [line[5:].strip()] if line.startswith("MADE ") else []
        try:
            yield made
        finally:
            maker.stdin.close()
            maker.wait(timeout=30)


def left_by_user(uid: int | None) -> list[str]:
    """SysV objects, POSIX shared memory and keys of the worker's own user (root only)."""
    if uid is None:
        return []
    left = []
    for kind in ("shm", "msg", "sem"):
        header, *rows = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        column = header.split().index("uid")
        left += [f"{kind}: {row}" for row in rows if int(row.split()[column]) == uid]
    left += [f"/dev/shm/{p.name}" for p in Path("/dev/shm").iterdir() if p.lstat().st_uid == uid]
    users = Path("/proc/key-users").read_text()
    return left + [
        f"keys: {line}" for line in users.splitlines() if line.split(":")[0].strip() == str(uid)
    ]


def test_cleanup_cannot_be_defeated(gradings: Gradings) -> None:
    got = result(gradings, "defeats_cleanup")
    assert "made 1500 nested folders" in got.output, got.output
    folder = re.search(r"^worker folder (\S+)$", got.output, re.M)
    assert folder is not None and not os.path.lexists(folder.group(1))
    if got.report["environment"]["limits"].get("mount_namespace"):
        assert re.search(r"^folder full after (\d+) MB", got.output, re.M), got.output


@pytest.mark.torch
def test_hidden_inputs_never_reach_a_visible_tests_feedback(gradings: Gradings) -> None:
    """Hidden tests run last, in a fresh worker: what the submission saw before its visible
    chain test is exactly what it sees without the hidden tests."""
    case = CARRIES_HIDDEN_INPUTS_OUT
    with_hidden, public = gradings[case], gradings[case.baseline]

    def chain(grading: Grading) -> str:
        [test] = [t for t in grading.tests() if t["id"].endswith("hundred_thousand_op_chain")]
        return test["feedback"]

    assert "SEEN" in chain(public) and chain(with_hidden) == chain(public)
    assert any(t["visibility"] == "hidden" for t in with_hidden.tests())


def test_memory_is_limited_across_the_workers_processes(gradings: Gradings) -> None:
    """RLIMIT_AS bounds each process; a root grader also adds up all of the worker's user's
    processes and stops them past memory_mb."""
    got = result(gradings, "memory_across_processes")
    if got.worker_uid is None:
        pytest.skip("needs a root grader: the workers' processes are found by their own user")
    tanh = [t for t in got.tests() if t["id"].startswith("forward::test_tanh")]
    assert tanh and all(
        "processes together used more than 1024 MB" in t["feedback"] for t in tanh
    ), [t["feedback"] for t in tanh]
    assert got.section_score("forward") == 20 - sum(t["max_score"] for t in tanh)
    assert got.survivors == ()
