"""grader/explain.py: `python -m grader explain TEST_ID`, one case of the report in the terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader import cli
from grader.explain import MAX_ROWS, main

REPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "reports"


def explain(
    capsys: pytest.CaptureFixture[str], test_id: str, report: Path = REPORTS / "failing.json"
) -> tuple[int, list[str], str]:
    status = main([test_id, "--report", str(report)])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def walked(lines: list[str]) -> list[str]:
    """The node names of the first table, in the order printed."""
    start = next(i for i, line in enumerate(lines) if line.startswith("    node "))
    names = []
    for line in lines[start + 1 :]:
        if not line:
            return names
        if not line.startswith("       "):  # a line under the first wrong node
            names.append(line[4:].split()[0])
    return names


def row(lines: list[str], start: str) -> str:
    return next(line for line in lines if line.startswith(start))


def test_a_graph_is_walked_from_the_root_with_the_local_derivative_at_the_first_wrong_node(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, lines, _ = explain(capsys, "backward::test_tanh[upstream-neuron]")
    assert status == 0
    assert lines[0].startswith("[blocked] backward::test_tanh[upstream-neuron]: backward of tanh")
    assert "(Task 2.4)" in lines[0]
    assert walked(lines) == ["L", "o", "n", "s", "x2w2", "x1w1", "b", "w2", "w1", "x2", "x1"]
    first = row(lines, "  >>n ")
    assert "s + b" in first and "0.4464" in first and "first wrong grad" in first
    local = lines[lines.index(first) + 1 : lines.index(first) + 3]
    assert local[0].strip() == (
        "d tanh(x)/dx: you used 1 - x^2 (the input, not tanh(x)) (0.2232), "
        "torch 1 - tanh(x)^2 (0.5)"
    )
    assert local[1].strip() == "at o = n.tanh(), with n = 0.881374 and o.grad = 2"
    assert row(lines, "   *x1 ").split()[-2:] == ["-1.339", "-3"]
    assert "  | L.backward()" in lines


def test_a_node_reused_twice_has_no_single_local_derivative(capsys) -> None:
    status, lines, _ = explain(capsys, "backprop::test_reused_nodes[diamond]")
    assert status == 0
    first = row(lines, "  >>d ")
    assert "a * b" in first and first.split()[-6:-4] == ["2", "3"]
    assert not any(line.strip().startswith(("at ", "likely")) for line in lines)


def test_each_backward_pass_is_walked(capsys) -> None:
    _, lines, _ = explain(capsys, "backprop::test_leaf_grads_accumulate_across_graphs[mixed]")
    assert any("backward() of n2, graph 1 of 2" in line for line in lines)
    assert any("backward() of n3, graph 2 of 2" in line for line in lines)
    assert "first wrong grad" in row(lines, "  >>b ")


def test_a_forward_failure_marks_the_wrong_data(capsys) -> None:
    _, lines, _ = explain(capsys, "forward::test_mul[2.0--3.5]")
    assert any(line.startswith("the forward pass,") for line in lines)
    first = row(lines, "  >>out ")
    assert "<NoneType>" in first and "-7" in first and "first wrong data" in first


def test_a_graph_too_large_to_carry_is_told_in_words(capsys) -> None:
    _, lines, _ = explain(capsys, "backprop::test_reverse_topological_order[mixed]")
    assert "too many nodes to list (over 300)" in lines[-1] and "node 501's grad" in lines[-1]


def test_a_model_lists_the_parameter_grads_with_the_first_wrong_one(capsys) -> None:
    _, lines, _ = explain(capsys, "nn::test_mlp_gradients[two-hidden-tanh]")
    assert "MLP with layer sizes 3 -> 4 -> 4 -> 1 (tanh, output tanh)" in lines
    first = row(lines, "  >>layer 2 neuron 1 w[2]")
    assert first.split()[-2:] == ["0.537", "-0.2913"]
    assert "every value matches torch's" in lines[lines.index("outputs (yours | torch):") + 3]


def test_a_training_run_lists_the_losses_around_the_first_difference(
    capsys, tmp_path: Path
) -> None:
    report = json.loads((REPORTS / "failing.json").read_text(encoding="utf-8"))
    test = report["sections"][4]["tests"][0]
    losses = test["details"]["losses"]
    losses["expected"] = [1.0 / (k + 1) for k in range(100)]
    losses["got"] = losses["expected"][:60] + [2.0] * 40
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    _, lines, _ = explain(capsys, test["id"], path)
    steps = [line for line in lines if line[4:9] == "step "]
    assert len(steps) == MAX_ROWS
    assert row(lines, "  >>step 60").split()[-2:] == ["2", "0.01639"]
    assert f"  (rows 50 to {50 + MAX_ROWS - 1} of 100)" in lines


def test_a_passed_case_says_so(capsys) -> None:
    status, lines, _ = explain(capsys, "training::test_train_loss_history[second-dataset]")
    assert status == 0
    assert lines[-1] == "This case passed: there is nothing to fix here."


def test_an_unknown_id_lists_close_ones(capsys) -> None:
    status, lines, err = explain(capsys, "backward::test_tanh")
    assert status == 2 and not lines
    assert err.startswith("No test backward::test_tanh in ")
    assert "Close ids: backward::test_tanh[0.5], backward::test_tanh[upstream-neuron]" in err


def test_an_id_nothing_like_any_says_what_ids_look_like(capsys) -> None:
    status, _, err = explain(capsys, "zzz")
    assert status == 2 and "nor one close to it" in err and "python -m grader -v" in err


def test_a_missing_report_says_to_grade_first(capsys, tmp_path: Path) -> None:
    status, _, err = explain(capsys, "x", tmp_path / "nope.json")
    assert status == 2 and "Grade first with `python -m grader`, or pass --report FILE." in err


def test_hostile_text_is_printed_safely(capsys) -> None:
    for test_id in (
        "backward::test_tanh[0.5]",
        "nn::test_mlp_gradients[two-hidden-tanh]",
        "training::test_train_loss_history[first-dataset]",
    ):
        status, lines, _ = explain(capsys, test_id, REPORTS / "hostile.json")
        assert status == 0
        text = "\n".join(lines)
        text.encode("utf-8")  # no lone surrogate left
        assert "\x1b" not in text and "\u202e" not in text
        assert "\\x1b[2J" in text
        assert max(map(len, lines)) < 400


def test_the_cli_runs_explain(capsys) -> None:
    assert (
        cli.main(["explain", "backward::test_tanh[0.5]", "--report", str(REPORTS / "failing.json")])
        == 0
    )
    assert "first wrong grad" in capsys.readouterr().out
