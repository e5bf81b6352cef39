"""training: mse_loss (the mean, not the sum) and train().

train() is checked twice: against the contract's steps done by the grader with the student's
own model, mse_loss and backward() (no torch: this shows train() itself is right even when the
engine is not), and against a torch training loop from the same start.
"""

import pytest

from grader import checks, compare
from grader.oracle import param_count
from grader.probes import Builder, Const, Model, Mse, TrainCheck, seeded

SEED_DATA = {  # the notebook's dataset
    "xs": ((2.0, 3.0, -1.0), (3.0, -1.0, 0.5), (0.5, 1.0, 1.0), (1.0, 1.0, -1.0)),
    "ys": (1.0, -1.0, -1.0, 1.0),
}
SECOND_DATA = {
    "xs": (
        (0.1, 1.3, 0.55),
        (1.05, -0.2, -0.45),
        (-0.95, -1.1, 0.3),
        (0.6, -0.55, 1.15),
        (-0.4, 1.45, -0.9),
        (1.35, 0.65, 0.05),
    ),
    "ys": (0.5, -0.25, 0.75, -0.5, 0.25, 0.0),
}
RUNS = {
    "seed-dataset": (SEED_DATA, (3, [4, 4, 1]), {}, 20, 0.05),
    "second-dataset": (
        SECOND_DATA,
        (3, [5, 1]),
        {"activation": "relu", "output_activation": "linear"},
        30,
        0.1,
    ),
}
"""Inputs and starting weights are chosen so that no relu ever sees exactly 0 (tested)."""
ENGINE = {"1.1", "1.2", "1.3", "1.8", "1.9", "1.10", "2.1", "2.2", "2.3", "3.1"}
"""What mse_loss's value and gradient rest on: +, *, -, ** 2, / n, their rules, backward()."""
MODEL_TASKS = {"3.1", "4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "5.1"}
"""What train() rests on besides the engine: the model, zero_grad and the loss."""
ACTIVATION_TASKS = {"tanh": {"1.4", "2.4"}, "relu": {"1.6", "2.6"}, "linear": set()}


def starting_params(run):
    _data, args, kwargs, _steps, _lr = RUNS[run]
    rng = seeded(f"training-{run}")
    return tuple(
        round(rng.uniform(-1, 1), 9) for _ in range(param_count("MLP", list(args), kwargs))
    )


def model_of(run, steps=None):
    data, args, kwargs, run_steps, lr = RUNS[run]
    return Model(
        "MLP",
        args,
        kwargs,
        starting_params(run),
        data["xs"],
        mode="train",
        targets=data["ys"],
        steps=run_steps if steps is None else steps,
        lr=lr,
    )


def what_of(model: Model, run: str) -> str:
    return (
        f"train(MLP(3, {model.args[1]}), xs, ys, steps={model.steps}, lr={model.lr}) on the {run}"
    )


def mse_graph(probe: Mse, square_by_mul: bool):
    """mse_loss written out with Value ops: sum((p - t) ** 2) / n, or with (p - t) * (p - t)."""
    n = len(probe.predictions)
    b = Builder(*probe.predictions, *probe.targets)
    squares = []
    for i in range(n):
        target: int | Const = n + i if probe.value_targets else Const(probe.targets[i])
        diff = b.op("sub", i, target)
        squares.append(b.op("mul", diff, diff) if square_by_mul else b.op("pow", diff, Const(2)))
    total = squares[0]
    for square in squares[1:]:
        total = b.op("add", total, square)
    loss = b.op("div", total, Const(float(n)))
    b.backward()
    leaves = tuple(range(n + n)) if probe.value_targets else tuple(range(n))
    return b.graph(report=(loss, *leaves))


def check_mse(lab, probe: Mse, what: str, gradient: bool):
    lab.case.needs |= ENGINE
    got, expected = checks.mse(lab, probe, what=what)
    rule = "d mse/dp_i = 2 (p_i - t_i) / n" if gradient else "mse = sum((p - t)^2) / n: the mean"
    try:
        if gradient:
            checks.numbers(what, "prediction grad", got.grads, expected.grads, rule=rule)
            if probe.value_targets:
                checks.numbers(what, "target grad", got.target_grads, expected.target_grads, rule)
        else:
            checks.numbers(what, "loss.data", (got.loss,), (expected.loss,), rule=rule)
    except checks.Failure:
        lab.case.consistent = any(
            mse_agrees(lab, probe, got, square_by_mul, gradient) for square_by_mul in (False, True)
        )
        raise


def mse_agrees(lab, probe: Mse, got, square_by_mul: bool, gradient: bool) -> bool:
    """Does the student's mse_loss give what their own ops give, written out?"""
    result = checks.own_engine(lab, mse_graph(probe, square_by_mul), "mse written out")
    if result is None:
        return False
    (mine,) = result
    if not gradient:
        return compare.close(got.loss, mine.data[0])
    grads, theirs = got.grads + (got.target_grads or ()), mine.grad or ()
    return len(grads) == len(theirs) - 1 and all(map(compare.close, grads, theirs[1:]))


@pytest.mark.points(2)
@pytest.mark.task("5.1")
@pytest.mark.group("mse")
@pytest.mark.parametrize(
    "predictions, targets",
    [
        ((0.5, -1.0, 2.0), (1.0, -1.0, -1.0)),
        ((0.25, 0.75), (0.0, 1.0)),
    ],
)
def test_mse_value(lab, predictions, targets):
    """mse_loss is the mean of the squared differences."""
    what = f"mse_loss(predictions={list(predictions)}, targets={list(targets)})"
    check_mse(lab, Mse(predictions, targets), what, gradient=False)


@pytest.mark.points(2)
@pytest.mark.task("5.1")
@pytest.mark.group("mse")
@pytest.mark.parametrize("value_targets", [False, True], ids=["number-targets", "value-targets"])
def test_mse_gradient(lab, value_targets):
    """backward() of mse_loss: d/dp = 2 (p - t) / n, for number or Value targets."""
    probe = Mse((0.5, -1.0, 2.0), (1.0, -1.0, -1.0), value_targets)
    what = "backward() of mse_loss(predictions=[0.5, -1.0, 2.0], targets=[1.0, -1.0, -1.0])"
    check_mse(lab, probe, what, gradient=True)


@pytest.mark.points(5)
@pytest.mark.task("5.2")
@pytest.mark.group("train")
@pytest.mark.parametrize("run", list(RUNS))
@pytest.mark.parametrize("steps", [1, 3])
def test_train_follows_the_steps(lab, run, steps):
    """train() does what the contract's steps do with your own model, mse_loss and backward():
    losses taken before each update, grads zeroed before backward(), p.data -= lr * p.grad."""
    probe = TrainCheck(model_of(run, steps))
    lab.case.needs |= MODEL_TASKS
    checks.train_check(lab, probe, what=what_of(probe.model, run))


def trained(lab, run):
    model = model_of(run)
    lab.case.needs |= ENGINE | MODEL_TASKS
    lab.case.needs |= ACTIVATION_TASKS[model.kwargs.get("activation", "tanh")]
    lab.case.needs |= ACTIVATION_TASKS[model.kwargs.get("output_activation", "tanh")]
    what = what_of(model, run)
    got, expected = checks.model(lab, model, what=what)
    lab.case.details = {
        "kind": "training",
        "losses": {"got": list(got.losses or ()), "expected": list(expected.losses or ())},
        "params": {"got": list(got.params or ()), "expected": list(expected.params or ())},
    }
    return what, got, expected


@pytest.mark.points(3)
@pytest.mark.task("5.2")
@pytest.mark.group("train")
@pytest.mark.parametrize("run", list(RUNS))
def test_train_loss_history(lab, run):
    """train() returns one loss per step, as a torch loop from the same start does."""
    what, got, expected = trained(lab, run)
    checks.numbers(
        what,
        "loss at step",
        got.losses,
        expected.losses,
        rule="each step: forward, mse_loss, zero_grad(), backward(), p.data -= lr * p.grad",
    )


@pytest.mark.points(3)
@pytest.mark.task("5.2")
@pytest.mark.group("train")
@pytest.mark.parametrize("run", list(RUNS))
def test_train_final_model(lab, run):
    """After train(), the parameters and predictions match a torch loop from the same start."""
    what, got, expected = trained(lab, run)
    checks.numbers(
        what,
        "parameters()[i].data after training",
        got.params,
        expected.params,
        rule="each step: zero_grad(), backward(), then p.data -= lr * p.grad",
    )
    checks.numbers(what, "prediction", got.outputs, expected.outputs)
