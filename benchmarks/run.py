"""scratchgrad's speed, as ratios measured in one run on this machine: prints a table.

    python benchmarks/run.py [--submissions 40] [--repeat 3]

Targets (issue 12): overhead (a warm grading's wall time / its tests' own time) <= 1.15x; a
cold grading <= 1.3x `import torch`; batch --jobs 2 >= 85% of the 2-core limit (2 / the tests'
own time), Dask with 2 local workers within 15% of --jobs 2; and the reference engine no slower
than lecture micrograd.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from solutions.engine import Value  # noqa: E402
from solutions.nn import MLP  # noqa: E402
from solutions.train import mse_loss  # noqa: E402

CHAIN = 100_000


class LectureValue:
    """The common lecture micrograd: recursive build_topo, `set` children, closures."""

    def __init__(self, data, _children=(), _op=""):
        self.data, self.grad = data, 0.0
        self._backward = lambda: None
        self._prev, self._op = set(_children), _op

    def __add__(self, other):
        other = other if isinstance(other, LectureValue) else LectureValue(other)
        out = LectureValue(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, LectureValue) else LectureValue(other)
        out = LectureValue(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, k):
        out = LectureValue(self.data**k, (self,), f"**{k}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        import math

        t = math.tanh(self.data)
        out = LectureValue(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t**2) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        topo, visited = [], set()

        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)

        build_topo(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1


class LectureMLP:
    """micrograd's nn.MLP with tanh everywhere, to match MLP(2, [16, 16, 1])."""

    def __init__(self, nin, nouts):
        sizes = [nin, *nouts]
        rng = random.Random(0)
        self.layers = [
            [
                ([LectureValue(rng.uniform(-1, 1)) for _ in range(sizes[i])], LectureValue(0.0))
                for _ in range(sizes[i + 1])
            ]
            for i in range(len(nouts))
        ]

    def __call__(self, x):
        for layer in self.layers:
            x = [sum((wi * xi for wi, xi in zip(w, x, strict=True)), b).tanh() for w, b in layer]
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for w, b in layer for p in [*w, b]]


def timed(fn, repeat: int) -> float:
    """Median wall time of `repeat` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(*args: str, env: dict | None = None) -> None:
    subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        check=True,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def chain_backward(cls) -> float:
    x = cls(1.0)
    root = x
    for _ in range(CHAIN):
        root = root * 1.000001 + 0.0
    start = time.perf_counter()
    root.backward()
    return time.perf_counter() - start


def in_big_stack(fn):
    """Run fn in a thread with a large C stack, so deep recursion hits the Python limit first."""
    result: list = []
    old = threading.stack_size(1 << 30)
    thread = threading.Thread(target=lambda: result.append(_catch(fn)))
    thread.start()
    thread.join()
    threading.stack_size(old)
    return result[0]


def _catch(fn):
    try:
        return fn()
    except RecursionError as exc:
        return exc


def training_step(model_cls, value_cls) -> float:
    rng = random.Random(1)
    xs = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(100)]
    ys = [1.0 if a * b > 0 else -1.0 for a, b in xs]
    model = model_cls(2, [16, 16, 1])
    start = time.perf_counter()
    preds = [model(x) for x in xs]
    if value_cls is Value:
        loss = mse_loss(preds, ys)
    else:
        loss = sum(((p - y) ** 2 for p, y in zip(preds, ys, strict=True)), value_cls(0.0)) / len(ys)
    for p in model.parameters():
        p.grad = 0.0
    loss.backward()
    for p in model.parameters():
        p.data -= 0.05 * p.grad
    return time.perf_counter() - start


def tests_time(report: Path) -> float:
    """The tests' own time in a report: the sum of every test's duration_s."""
    data = json.loads(report.read_text(encoding="utf-8"))
    return sum(t["duration_s"] for s in data["sections"] for t in s["tests"])


def batch_rows(tmp: Path, cache: str, tests_s: float, count: int) -> list[tuple[str, ...]]:
    """`batch` of `count` correct submissions at --jobs 1, 2 and 4, and on Dask with 2
    single-threaded local workers, against the 2-core limit: 2 / the tests' own time."""
    folder = tmp / "batch"
    for i in range(count):
        shutil.copytree(
            REPO / "solutions",
            folder / f"student{i:03d}",
            ignore=shutil.ignore_patterns("__pycache__"),
        )

    def rate(label: str, *flags: str) -> float:
        start = time.perf_counter()
        run(
            "-m",
            "grader",
            "batch",
            str(folder),
            "--out",
            str(tmp / label),
            *flags,
            env={"SCRATCHGRAD_CACHE": cache},
        )
        return count / (time.perf_counter() - start)

    limit = 2 / tests_s
    rows = [("2-core limit", f"{limit:.2f} /s", "1.00", f"2 / {tests_s:.2f} s of tests")]
    rates = {jobs: rate(f"jobs{jobs}", "--jobs", str(jobs)) for jobs in (1, 2, 4)}
    for jobs, value in rates.items():
        target = "; target >= 0.85" if jobs == 2 else ""
        rows.append(
            (
                f"batch of {count}, --jobs {jobs}",
                f"{value:.2f} /s",
                f"{value / limit:.2f}",
                f"share of the 2-core limit{target}",
            )
        )
    try:
        from dask.distributed import LocalCluster
    except ImportError:
        return rows + [("batch on Dask", "", "", "not measured: Dask is not installed")]
    os.environ["SCRATCHGRAD_CACHE"] = cache  # the workers' harnesses inherit it
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        dask = rate("dask", "--scheduler", cluster.scheduler_address)
    rows.append(
        (
            "batch on Dask, 2 local workers",
            f"{dask:.2f} /s",
            f"{dask / rates[2]:.2f}x",
            "vs --jobs 2; target >= 0.85x",
        )
    )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--submissions", type=int, default=40)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    rows: list[tuple[str, str, str, str]] = []
    torch_s = timed(lambda: run("-c", "import torch"), args.repeat)
    start_s = timed(lambda: run("-m", "grader", "--version"), args.repeat)
    rows.append(("python -c 'import torch'", f"{torch_s:.2f} s", "1.00x", "reference"))
    rows.append(
        (
            "python -m grader --version",
            f"{start_s:.2f} s",
            f"{start_s / torch_s:.2f}x",
            "process start",
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        report = tmp_path / "report.json"

        def grade_solutions(cache: str, *flags: str) -> float:
            """Wall time of one grading; its tests' own time is in the report."""
            start = time.perf_counter()
            run(
                "-m",
                "grader",
                "solutions",
                "-q",
                "--json",
                str(report),
                *flags,
                env={"SCRATCHGRAD_CACHE": cache},
            )
            return time.perf_counter() - start

        warm_cache = str(tmp_path / "warm-cache")
        grade_solutions(warm_cache)
        walls, tests = [], []
        for _ in range(args.repeat):
            walls.append(grade_solutions(warm_cache))
            tests.append(tests_time(report))
        warm_s, tests_s = statistics.median(walls), statistics.median(tests)
        cold_s = timed(lambda: grade_solutions(tempfile.mkdtemp(dir=tmp)), args.repeat)
        torch_only_s = timed(lambda: grade_solutions(warm_cache, "--no-cache"), args.repeat)
        rows.append(
            (
                "grade solutions/, warm",
                f"{warm_s:.2f} s",
                f"{warm_s / tests_s:.2f}x",
                f"overhead: wall / {tests_s:.2f} s of tests; target <= 1.15x",
            )
        )
        rows.append(
            (
                "grade solutions/, cold (empty cache)",
                f"{cold_s:.2f} s",
                f"{cold_s / torch_s:.2f}x",
                "vs import torch; target <= 1.3x (shipped expectations: no torch)",
            )
        )
        rows.append(
            (
                "grade solutions/ --no-cache (torch)",
                f"{torch_only_s:.2f} s",
                f"{torch_only_s / torch_s:.2f}x",
                "vs import torch: every expectation computed, torch imported in a thread",
            )
        )
        rows += batch_rows(tmp_path, warm_cache, tests_s, args.submissions)
    sys.setrecursionlimit(CHAIN * 3)
    ours = chain_backward(Value)
    theirs = in_big_stack(lambda: chain_backward(LectureValue))
    rows.append(
        (
            f"backward of a {CHAIN:,}-op chain",
            f"{ours:.3f} s",
            "fails" if isinstance(theirs, Exception) else f"{ours / theirs:.2f}x",
            f"baseline: {theirs!r}"
            if isinstance(theirs, Exception)
            else f"baseline {theirs:.3f} s (recursive, recursion limit raised)",
        )
    )
    ours = timed(lambda: training_step(MLP, Value), args.repeat)
    theirs = timed(lambda: training_step(LectureMLP, LectureValue), args.repeat)
    rows.append(
        (
            "train step MLP(2,[16,16,1]), 100 pts",
            f"{ours:.3f} s",
            f"{ours / theirs:.2f}x",
            f"baseline {theirs:.3f} s; target <= 1.0x",
        )
    )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("measure", "time", "ratio", "note")
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()
