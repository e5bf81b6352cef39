"""Hidden training test: train() on a dataset and start drawn from the course's secret seed."""

import random

import pytest

from grader import checks
from grader.oracle import param_count
from grader.probes import Model


@pytest.mark.hidden
@pytest.mark.points(5)
@pytest.mark.task("5.2")
@pytest.mark.group("train")
def test_secret_dataset(lab, secret_seed):
    """train() on a secret dataset: loss history and final predictions."""
    rng = random.Random(f"{secret_seed}-training")
    xs = tuple(tuple(round(rng.uniform(-1.5, 1.5), 3) for _ in range(2)) for _ in range(5))
    ys = tuple(round(rng.uniform(-0.9, 0.9), 3) for _ in range(5))
    args = (2, [3, 1])
    params = tuple(round(rng.uniform(-1, 1), 4) for _ in range(param_count("MLP", list(args), {})))
    model = Model("MLP", args, {}, params, xs, mode="train", targets=ys, steps=15, lr=0.1)
    what = "train(MLP(2, [3, 1]), xs, ys, steps=15, lr=0.1) on a hidden dataset"
    lab.case.needs |= {"1.1", "1.2", "1.3", "1.4", "1.9", "1.10", "2.1", "2.2", "2.3", "2.4"}
    lab.case.needs |= {"3.1", "4.1", "4.2", "4.4", "4.6", "4.7", "5.1"}
    got, expected = checks.model(lab, model, what=what)
    checks.numbers(what, "loss at step", got.losses, expected.losses)
    checks.numbers(what, "prediction", got.outputs, expected.outputs)
