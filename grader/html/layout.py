"""Graph layout: layers by longest path from the leaves, then barycentre sweeps to order them."""

from __future__ import annotations

# Sugiyama's layered method without dummy nodes, our own because no library serves: graphviz,
# pydot and pygraphviz need the `dot` binary, which students may lack; grandalf, the pure-Python
# Sugiyama, has had no release since January 2023 (and can overlap nodes); fast-sugiyama is a
# compiled wheel for Python >= 3.11 (we support 3.10); igraph is a 5.7 MB compiled wheel;
# networkx has no crossing reduction. Drawn graphs have at most 300 nodes
# (compare.MAX_DRAWN_NODES), where these 30 lines are instant and add no dependency.


def layout(args: list[tuple[int, ...]]) -> tuple[list[int], list[int]]:
    """(layer, position in layer) of each node; nodes come in topological order, `args[i]`
    naming earlier nodes. Layers by longest path from the leaves, each leaf just before its
    first use; then barycentre sweeps, down and up, order each layer."""
    users: list[list[int]] = [[] for _ in args]
    for node, node_args in enumerate(args):
        for a in node_args:
            users[a].append(node)
    layer: list[int] = []
    for node_args in args:
        layer.append(1 + max((layer[a] for a in node_args), default=-1))
    for node, node_args in enumerate(args):
        if not node_args and users[node]:
            layer[node] = min(layer[u] for u in users[node]) - 1
    rows: list[list[int]] = [[] for _ in range(max(layer, default=0) + 1)]
    for node, depth in enumerate(layer):
        rows[depth].append(node)
    position = [0] * len(args)
    for row in rows:
        for p, node in enumerate(row):
            position[node] = p
    for sweep in range(4):
        neighbours, order = (args, rows[1:]) if sweep % 2 == 0 else (users, rows[-2::-1])
        for row in order:
            row.sort(key=lambda n: _mean([position[m] for m in neighbours[n]], position[n]))
            for p, node in enumerate(row):
                position[node] = p
    return layer, position


def _mean(values: list[int], default: int) -> float:
    return sum(values) / len(values) if values else default
