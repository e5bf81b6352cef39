"""grader/probes.py: requests are plain JSON built from specs and builders."""

from __future__ import annotations

import json

from grader.probes import Builder, Const, Node, op_graph


def test_builder_numbers_nodes_after_the_leaves_and_starts_each_pass_afresh() -> None:
    b = Builder(0.5, -2, names=("a", "b"))
    product = b.op("mul", 0, Const(2.0))
    assert (product, b.op("add", product, 1)) == (2, 3)
    b.backward()
    assert b.op("neg", 1) == 2
    b.backward(root=0)
    graph = b.graph()
    assert graph.leaves == (0.5, -2) and graph.names == ("a", "b")
    assert [p.root for p in graph.passes] == [3, 0]
    assert graph.passes[0].nodes == (
        Node("mul", (0, 2.0), (False, True)),
        Node("add", (2, 1), (False, False)),
    )
    assert (graph.name(1), graph.name(3)) == ("b", "n3")


def test_a_graph_request_is_plain_json() -> None:
    b = Builder(0.5, -2)
    b.op("pow", b.op("sub", Const(1.5), 1), Const(3))
    b.backward()
    request = b.graph().request()
    assert (
        json.loads(json.dumps(request))
        == request
        == {
            "probe": "graph",
            "leaves": [0.5, -2],
            "passes": [
                {"nodes": [["sub", {"const": 1.5}, 1], ["pow", 2, {"const": 3}]], "root": 3}
            ],
        }
    )


def test_op_graph_names_its_leaves_and_keeps_ints() -> None:
    unary = op_graph("tanh", 0.5)
    assert (unary.names, unary.passes[0].root) == (("x", "out"), 1)
    binary = op_graph("add", 3, 4, backward=False)
    assert (binary.leaves, binary.names, binary.passes[0].root) == ((3, 4), ("a", "b", "out"), None)
    assert binary.request()["leaves"] == [3, 4]
