"""training: mse_loss (the mean, not the sum) and train() against a torch loop."""

import pytest

from grader import checks
from grader.probes import Model, Mse

SEED_DATA = {  # the notebook's dataset
    "xs": ((2.0, 3.0, -1.0), (3.0, -1.0, 0.5), (0.5, 1.0, 1.0), (1.0, 1.0, -1.0)),
    "ys": (1.0, -1.0, -1.0, 1.0),
}
SECOND_DATA = {
    "xs": (
        (0.0, 1.0, 0.5),
        (1.0, 0.0, -0.5),
        (-1.0, -1.0, 0.25),
        (0.5, -0.5, 1.0),
        (-0.5, 1.5, -1.0),
        (1.5, 0.5, 0.0),
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


@pytest.mark.points(2)
@pytest.mark.task("5.1")
@pytest.mark.parametrize(
    "predictions, targets",
    [
        ((0.5, -1.0, 2.0), (1.0, -1.0, -1.0)),
        ((0.25, 0.75), (0.0, 1.0)),
    ],
)
def test_mse_value(worker, oracle, predictions, targets):
    """mse_loss is the mean of the squared differences."""
    what = f"mse_loss(predictions={list(predictions)}, targets={list(targets)})"
    got, expected = checks.mse(worker, oracle, Mse(predictions, targets), what=what)
    checks.numbers(
        what,
        "loss.data",
        (got.loss,),
        (expected.loss,),
        rule="mse = sum((p - t)^2) / n: the mean, not the sum",
    )


@pytest.mark.points(2)
@pytest.mark.task("5.1")
@pytest.mark.parametrize("value_targets", [False, True], ids=["number-targets", "value-targets"])
def test_mse_gradient(worker, oracle, value_targets):
    """backward() of mse_loss: d/dp = 2 (p - t) / n, for number or Value targets."""
    probe = Mse((0.5, -1.0, 2.0), (1.0, -1.0, -1.0), value_targets)
    what = "backward() of mse_loss(predictions=[0.5, -1.0, 2.0], targets=[1.0, -1.0, -1.0])"
    got, expected = checks.mse(worker, oracle, probe, what=what)
    rule = "d mse/dp_i = 2 (p_i - t_i) / n"
    checks.numbers(what, "prediction grad", got.grads, expected.grads, rule=rule)
    if value_targets:
        checks.numbers(what, "target grad", got.target_grads, expected.target_grads, rule=rule)


def trained(worker, oracle, run):
    data, args, kwargs, steps, lr = RUNS[run]
    from grader.oracle import param_count

    count = param_count("MLP", list(args), kwargs)
    params = tuple(round(((i * 29) % 19 - 9) / 12, 6) for i in range(count))
    model = Model(
        "MLP",
        args,
        kwargs,
        params,
        data["xs"],
        mode="train",
        targets=data["ys"],
        steps=steps,
        lr=lr,
    )
    what = f"train(MLP(3, {args[1]}), xs, ys, steps={steps}, lr={lr}) on the {run}"
    got, expected = checks.model(worker, oracle, model, what=what)
    return what, got, expected


@pytest.mark.points(6)
@pytest.mark.task("5.2")
@pytest.mark.parametrize("run", list(RUNS))
def test_train_loss_history(worker, oracle, run):
    """train() returns one loss per step, taken before that step's update."""
    what, got, expected = trained(worker, oracle, run)
    checks.numbers(
        what,
        "loss at step",
        got.losses,
        expected.losses,
        rule="each step: forward, mse_loss, zero_grad(), backward(), p.data -= lr * p.grad",
    )


@pytest.mark.points(5)
@pytest.mark.task("5.2")
@pytest.mark.parametrize("run", list(RUNS))
def test_train_final_model(worker, oracle, run):
    """After train(), the parameters and predictions match a torch loop from the same start."""
    what, got, expected = trained(worker, oracle, run)
    checks.numbers(
        what,
        "parameters()[i].data after training",
        got.params,
        expected.params,
        rule="each step: zero_grad(), backward(), then p.data -= lr * p.grad",
    )
    checks.numbers(what, "prediction", got.outputs, expected.outputs)
