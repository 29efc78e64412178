"""The NoC's compiled loops (pimsim.model.noc_loops, pimsim.model.flows; the bounds on the period:
tests/test_noc_bounds.py) against the rule they implement, stated plainly: X-then-Y routes walked
link by link, the flows of a layout written out share by share. Whole-number flits (exact in any
order of the sums) where sums are compared."""

from __future__ import annotations

import random

import numpy as np

from pimsim.model.kernel import link_grids


def _route(r0: int, c0: int, r1: int, c1: int) -> list[tuple[int, int, int]]:
    """The links (grid, line, position) of a flow routed X then Y, one step at a time."""
    links, c, r = [], c0, r0
    while c != c1:  # along row r0: east (0) or west (1)
        step = 1 if c1 > c else -1
        links.append((0, r0, c) if step > 0 else (1, r0, c - 1))
        c += step
    while r != r1:  # along column c1: south (2) or north (3)
        step = 1 if r1 > r else -1
        links.append((2, c1, r) if step > 0 else (3, c1, r - 1))
        r += step
    return links


def test_link_grids_add_each_flow_on_the_links_of_its_route() -> None:
    rng = random.Random("grids")
    meshes = np.array([[3, 4], [5, 2], [1, 6]])
    flows = []  # (design, r0, c0, r1, c1, flits), designs interleaved
    for _ in range(60):
        d = rng.randrange(3)
        rows, cols = meshes[d]
        ends = [rng.randrange(rows), rng.randrange(cols), rng.randrange(rows), rng.randrange(cols)]
        flows.append((d, *ends, float(rng.randrange(1, 100))))
    design, r0, c0, r1, c1, flits = (np.array(x) for x in zip(*flows, strict=True))
    grids = link_grids((r0, c0, r1, c1), flits, design, meshes)
    side = 6
    assert grids.shape == (4, 3, side, side)
    expected = np.zeros((4, 3, side, side))
    for d, a, b, c, e, f in flows:
        for g, line, position in _route(a, b, c, e):
            expected[g, d, line, position] += f
    for d, (rows, cols) in enumerate(meshes.tolist()):  # cells outside the mesh
        expected[:2, d, rows:, :] = expected[:2, d, :, cols:] = -np.inf
        expected[2:, d, cols:, :] = expected[2:, d, :, rows:] = -np.inf
    assert np.array_equal(grids, expected)


def test_flows_of_spread_layers_are_the_layout_written_out() -> None:
    """Per design: each edge from a gathered producer (its output macro to each consumer share),
    each layer's merge (its shares after the first, to the first), then each edge from a spread
    producer (per consumer share, from each producer share); flows within a macro left out."""
    from test_evaluate_batch import _spread_pair

    from pimsim.model.flows import batch_flows
    from pimsim.model.stack import Stack
    from pimsim.model.tables import NetworkTables

    _, arrays, net = _spread_pair()
    t = NetworkTables.build(net, 128, 2, 1)
    st = Stack.of(t, [arrays[1], arrays[0]])
    n = len(t.names)
    starts = np.searchsorted(st.layer, np.arange(st.count * n + 1))
    flit_bits = arrays[0].flit_bits
    got = batch_flows(t, st, starts, flit_bits)
    macro, frac, spread = st.share_macro.tolist(), st.share_frac.tolist(), st.spread.tolist()
    expected = []
    for d in range(st.count):
        pairs = zip(t.edge_src, t.edge_dst, t.edge_bits, strict=True)
        edges = [(d * n + p, d * n + c, b) for p, c, b in pairs]
        for p, c, bits in edges:
            for s in range(starts[c], starts[c + 1]):
                if not spread[p]:
                    expected.append((macro[starts[p]], macro[s], bits * frac[s], c, d, p))
        for lay in range(d * n, (d + 1) * n):
            for s in range(starts[lay] + 1, starts[lay + 1]):
                if not spread[lay]:
                    bits = t.out_bits[lay - d * n] * frac[s]
                    expected.append((macro[s], macro[starts[lay]], bits, lay, d, lay))
        for p, c, bits in edges:
            for cs in range(starts[c], starts[c + 1]):
                for s in range(starts[p], starts[p + 1]):
                    if spread[p]:
                        part = bits * frac[cs] * frac[s]
                        expected.append((macro[s], macro[cs], part, c, d, p))
    expected = [(a, b, bits / flit_bits, *rest) for a, b, bits, *rest in expected if a != b]
    assert any(spread) and len(expected) > 100
    assert [tuple(x) for x in zip(*(g.tolist() for g in got), strict=True)] == expected
