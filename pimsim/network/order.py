"""The order of a graph's nodes, numbered 0..n-1 in the order the source gives them: a
topological order (the smallest ready number first) or, when there is none, a cycle to report.

The importers (ONNX nodes, PIMCOMP nodes) and :class:`~pimsim.network.graph.Network` (layers)
order their graphs with it. Both rules are networkx's (``lexicographical_topological_sort`` with
the number as key, ``find_cycle``), which these modules used before: the same orders and the same
cycles in messages (``tests/test_graph.py`` compares them on random graphs), without importing
networkx (0.1-0.2 s) on every command's start.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable


def successors(n: int, edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Each node's successors, in the order of their first edge; a repeated edge counts once."""
    out: list[dict[int, None]] = [{} for _ in range(n)]
    for u, v in edges:
        out[u][v] = None
    return [list(s) for s in out]


def topological_order(succ: list[list[int]]) -> list[int] | None:
    """The nodes in an order in which every edge runs forward, taking the smallest ready node
    first (Kahn's rule with a heap); None when the graph has a cycle."""
    indegree = [0] * len(succ)
    for targets in succ:
        for v in targets:
            indegree[v] += 1
    ready = [v for v, d in enumerate(indegree) if d == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        u = heapq.heappop(ready)
        order.append(u)
        for v in succ[u]:
            indegree[v] -= 1
            if indegree[v] == 0:
                heapq.heappush(ready, v)
    return order if len(order) == len(succ) else None


def find_cycle(succ: list[list[int]]) -> list[int]:
    """The first cycle a depth-first search meets (started at each unvisited node in number order,
    successors in their order): its nodes, from the one the closing edge returns to.

    Raises:
        ValueError: the graph has no cycle.
    """
    state = [0] * len(succ)  # 0: not seen; 1: on the current path; 2: done
    for start in range(len(succ)):
        if state[start]:
            continue
        path, todo = [start], [iter(succ[start])]
        state[start] = 1
        while path:
            for v in todo[-1]:
                if state[v] == 1:
                    return path[path.index(v) :]
                if state[v] == 0:
                    state[v] = 1
                    path.append(v)
                    todo.append(iter(succ[v]))
                    break
            else:
                state[path.pop()] = 2
                todo.pop()
    raise ValueError("the graph has no cycle")
