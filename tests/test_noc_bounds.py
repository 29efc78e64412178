"""The NoC links' bounds in one loop (pimsim.model.noc_bounds): worked out by hand on tiny meshes,
and on random made-up meshes against the plain computation (every link of the full grids, the
cross-packet bound solved on every link), which they must equal to the last bit wherever a bound
raises the period."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pimsim.model.crossing import cross_idle_bounds
from pimsim.model.kernel import link_grids
from pimsim.model.noc_bounds import noc_bounds


def _bounds(ends, flits, packets, flow_start, meshes, period, flit_ns, margin=None, side=None):
    """:func:`noc_bounds` of designs laid end to end (flow ``f``'s packets: ``packets[f]``)."""
    r0, c0, r1, c1 = (np.array([e[i] for e in ends], dtype=np.int64) for i in range(4))
    return noc_bounds(
        r0,
        c0,
        r1,
        c1,
        np.array(flits, dtype=float),
        np.array(packets, dtype=np.int64),
        np.arange(len(flits), dtype=np.int64),
        np.array(flow_start, dtype=np.int64),
        np.array(meshes, dtype=np.int64),
        np.array(period, dtype=float),
        float(flit_ns if margin is None else margin),
        float(flit_ns),
        int(side or np.max(meshes)),
    )


def test_only_the_lines_that_could_pass_the_period_set_it() -> None:
    # a 2x3 mesh, flit time 2 ns (margin 2: no slack); flows A (0,0)->(0,2) 100 flits, B
    # (1,0)->(1,1) 10, C (0,2)->(1,2) 50, one packet each. Lines: row 0 carries 100 flits (200
    # ns), row 1 10 (20 ns), column 2 50 (100 ns). Design 0 at a period of 150 ns: 160 flits
    # (320 ns) pass it, row 0 alone does: its first link (east, row 0, position 0) carries 100
    # flits, 200 ns. Design 1, the same flows at 320 ns: all its flits (320 ns) do not pass it.
    # Design 2 at 190 ns: row 0 (200 ns) passes; B alone on row 1 does not. No flow goes on
    # after another's link in a way that crosses (A ends at (0,2), C starts there): no cross
    # bound.
    ends = [(0, 0, 0, 2), (1, 0, 1, 1), (0, 2, 1, 2)] * 3
    busy, cell, top, _ = _bounds(
        ends, [100.0, 10.0, 50.0] * 3, [1] * 9, [0, 3, 6, 9], [[2, 3]] * 3, [150, 320, 190], 2
    )
    assert busy.tolist() == [200.0, -np.inf, 200.0]
    assert cell.tolist() == [0, 0, 0]
    assert top.tolist() == [-np.inf] * 3
    # C's column alone: at a period of 90 ns only column 2 (100 ns) could set it, its link
    # (south, column 2, position 0): cell 2 x 9 + 2 x 3 + 0 = 24
    busy, cell, _, _ = _bounds(ends[2:3], [50.0], [1], [0, 1], [[2, 3]], [90], 2, side=3)
    assert busy.tolist() == [100.0] and cell.tolist() == [24]


def test_a_link_idled_by_a_cross_packet_raises_the_raised_period() -> None:
    # tests/test_crossing.py's first case on a 1x3 mesh, 10 ns flits: X (0,0)->(0,2) 16 packets
    # of 64 flits, Y (0,0)->(0,1) 1024 flits in 16, Z (0,1)->(0,2) one packet of 512. L (east,
    # row 0, position 0) carries X and Y: 2048 flits, 20,480 ns; the term makes it T with
    # T^2 - 24960 T + 52428800 = 0 (22,644.72 ns). Its next-link bound: Y ending (1024) + L'
    # (X, Z: 1536) = 2560 flits, 25,600 ns.
    root = (24960 + math.sqrt(24960**2 - 4 * 52428800)) / 2
    ends = [(0, 0, 0, 2), (0, 0, 0, 1), (0, 1, 0, 2)] * 3
    flits, packets = [1024.0, 1024.0, 512.0] * 3, [16, 16, 1] * 3
    # at 20,000 ns: L's 20,480 ns raise it first, the term then raises it to T; at 23,000 ns L
    # does not (its busy time is still given), the term is solved (25,600 ns could pass it) and
    # found below it; at 25,600 ns all the design's flits (2560: 25,600 ns) cannot pass it
    busy, cell, top, where = _bounds(
        ends, flits, packets, [0, 3, 6, 9], [[1, 3]] * 3, [20000, 23000, 25600], 10
    )
    assert busy.tolist() == [20480.0, 20480.0, -np.inf]
    assert cell.tolist() == [0, 0, 0]
    assert top[0] == pytest.approx(root, rel=1e-12) and top[1] == top[0]
    assert top[2] == -np.inf and where.tolist() == [0, 0, 0]


def _plain(ends, flits, packets, design, meshes, flit_ns):
    """Per design, the busiest link of its full grids (ns, cell, the first largest in grid, line,
    position order) and the cross-packet bound solved on every link (ns, cell)."""
    side = int(meshes.max())
    grids = link_grids(ends, flits, design, meshes)
    flat = np.moveaxis(grids, 1, 0).reshape(len(meshes), -1)
    busy = flat.max(axis=1) * flit_ns
    count = len(meshes)
    cross, where = cross_idle_bounds(
        ends, flits, packets.astype(float), design, np.ones(count, bool), side, flit_ns
    )
    return busy, flat.argmax(axis=1), cross, where


def test_random_meshes_agree_with_the_plain_computation() -> None:
    gen = np.random.default_rng(13)
    raised_link = raised_cross = 0
    for _ in range(150):
        count = int(gen.integers(1, 6))
        meshes = gen.integers(1, 7, (count, 2))
        n = gen.integers(1, 40, count)
        design = np.repeat(np.arange(count), n)
        rows, cols = meshes[design, 0], meshes[design, 1]
        ends = tuple(
            gen.integers(0, np.maximum(m, 1)) for m in (rows, cols, rows, cols)
        )  # (r0, c0, r1, c1) per flow
        flits = gen.uniform(1.0, 300.0, len(design)) * gen.choice([1.0, 0.1, 7.3])
        packets = gen.choice([1, 16, 64], len(design))  # (long packets across many short)
        flit_ns = float(gen.choice([1.0, 2.5, 10.0]))
        busy0, cell0, cross0, where0 = _plain(ends, flits, packets, design, meshes, flit_ns)
        for scale in (0.5, 0.97, 0.999999, 1.0, 1.02):
            # periods about the figures: each design's busiest link, or (3 in 4) its cross bound
            # where that is longer (about one design in five)
            pick = gen.integers(0, 4, count).astype(bool) & (cross0 > busy0)
            period = np.where(pick, cross0, busy0) * scale
            side = int(meshes.max())
            # each flow's packets through an index, as evaluate passes them (blocks per share)
            made = gen.permutation(len(design))
            blocks = np.empty_like(packets)
            blocks[made] = packets
            busy, cell, top, where = noc_bounds(
                *(np.ascontiguousarray(x, dtype=np.int64) for x in ends),
                flits,
                blocks,
                made,
                np.searchsorted(design, np.arange(count + 1)),
                meshes,
                period,
                flit_ns * (1 + 1e-9),
                flit_ns,
                side,
            )
            for d in range(count):
                # the busiest link: exact where it raises the period
                if busy0[d] > period[d]:
                    assert (busy[d], cell[d]) == (busy0[d], cell0[d])
                    raised_link += 1
                else:
                    assert not busy[d] > period[d]
                floor = max(period[d], busy[d])
                # the cross-packet bound at the period so raised: exact where it raises it
                assert (top[d] > floor) == (cross0[d] > floor)
                if cross0[d] > floor:
                    assert (top[d], where[d]) == (cross0[d], where0[d])
                    raised_cross += 1
    # made-up meshes with few, long packets: both bounds often set the period
    assert raised_link > 300 and raised_cross > 50
