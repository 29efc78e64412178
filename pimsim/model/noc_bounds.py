"""The NoC links' bounds on each design's period in one compiled loop (numba) over a batch's flows.

A link's busy time (its flits per image x the flit time) bounds the period; so does a link idled
by cross packets on the next link (:mod:`pimsim.model.crossing`). Both need the design's link
loads (:mod:`pimsim.model.noc_loops`): :func:`noc_bounds` lays them once a design and bounds the
period by the busiest link and by the cross packets from the same grid (once two compiled loops,
which laid the grid twice, the second for nearly every design of a --thorough search). The cross
term's loops are inlined here (``inline="always"``): a call passing a dozen workspaces cost a
reference count on each, design after design.

:mod:`pimsim.jitcache` keeps numba's cache in step with the modules these loops call.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from pimsim.model.crossing import design_bound, workspaces
from pimsim.model.noc_loops import lay_legs, prefix_sums


@njit(cache=True)
def noc_bounds(r0, c0, r1, c1, flits, blocks, flow_made, flow_start, meshes, period, margin,
               flit_ns, side):  # fmt: skip
    """Per design (flows ``flow_start[d]`` .. ``flow_start[d + 1] - 1``, routers (``r0``, ``c0``)
    to (``r1``, ``c1``), ``flits`` per image, packets per image ``blocks[flow_made]``; mesh
    ``meshes[d]``): (1) the busy time per image (ns) of its busiest link where it could set the
    ``period``, else ``-inf``, and that link's cell (``grid x side x side + line x side +
    position``); (2) the bound of :func:`~pimsim.model.crossing.design_bound` on the links that
    cross packets could idle, at the period raised to (1) where (1) is longer, and its cell; else
    ``-inf`` and 0. ``margin``: the flit time and a margin for the order of the sums.

    A design's flits times ``margin`` must pass its period for any link to set it, and then only
    along the rows and columns whose own traffic does (no link of another line can: its load is
    at most its line's). The busiest link of those lines: per grid (east, west, south, north) the
    first largest cell of the mesh row by row, the other lines' cells 0, then the first grid whose
    load is larger than those before it. Cross packets are bounded only where a row's traffic one
    way and a column's together could pass the period before (1) (a link's
    :func:`~pimsim.model.crossing.next_link_bound` is at most the flows of its line going its way
    and those of the column it may turn into); only then are every line's legs laid (else only
    those lines'), and the flits ending at each link. Sums in flow order per design, per line and
    per cell (see :mod:`pimsim.model.noc_loops`): each line's loads are those it has laid alone.
    """
    count = len(meshes)
    busy, top = np.full(count, -np.inf), np.full(count, -np.inf)
    cell, where = np.zeros(count, dtype=np.int64), np.zeros(count, dtype=np.int64)
    plus, minus = np.zeros((4, side, side + 1)), np.zeros((4, side, side + 1))
    grid, ending = np.empty((4, side, side)), np.zeros((4, side, side))
    work, sized = workspaces(1), False  # (the cross bound's, made for the first design it bounds)
    row_load, col_load = np.empty(side), np.empty(side)
    east, west = np.empty(side), np.empty(side)
    hot_rows, hot_cols = np.empty(side, dtype=np.bool_), np.empty(side, dtype=np.bool_)
    every = np.ones(side, dtype=np.bool_)
    for d in range(count):
        f0, f1 = flow_start[d], flow_start[d + 1]
        total = 0.0
        for i in range(side):  # (loops, not slices: a view costs a reference count)
            row_load[i], col_load[i], east[i], west[i] = 0.0, 0.0, 0.0, 0.0
        for f in range(f0, f1):  # (one walk: hardly a design's flits fail to pass its period)
            a, b, e, x = r0[f], c0[f], c1[f], flits[f]  # (read once: the stores may alias)
            total += x
            if b != e:
                row_load[a] += x
                if e > b:
                    east[a] += x
                else:
                    west[a] += x
            if a != r1[f]:
                col_load[e] += x
        if not total * margin > period[d]:
            continue
        row_top, col_top, linked = -np.inf, -np.inf, False
        for i in range(side):
            row_top = max(row_top, max(east[i], west[i]))
            col_top = max(col_top, col_load[i])
            hot_rows[i], hot_cols[i] = (
                row_load[i] * margin > period[d],
                col_load[i] * margin > period[d],
            )
            linked = linked or hot_rows[i] or hot_cols[i]
        crossing = (row_top + col_top) * margin > period[d]
        if not (crossing or linked):
            continue
        rows, cols = meshes[d, 0], meshes[d, 1]
        if crossing:  # every line's legs, and the flits ending at each link
            lay_legs(r0, c0, r1, c1, flits, f0, f1, every, every, plus, minus, ending, True)
            prefix_sums(plus, minus, grid, rows, cols, every, every)
        else:  # only the lines read
            lay_legs(r0, c0, r1, c1, flits, f0, f1, hot_rows, hot_cols, plus, minus, ending, False)
            prefix_sums(plus, minus, grid, rows, cols, hot_rows, hot_cols)
        if linked:
            best, at = -1.0, 0
            for g in range(4):
                lines, length = (rows, cols) if g < 2 else (cols, rows)
                hot = hot_rows if g < 2 else hot_cols
                high, here = -np.inf, 0
                for a in range(lines):
                    for b in range(length):
                        x = grid[g, a, b] if hot[a] else 0.0  # (as if only those were laid)
                        if x > high:
                            high, here = x, a * side + b
                if high > best:
                    best, at = high, g * side * side + here
            busy[d], cell[d] = best * flit_ns, at
        if not crossing:
            continue
        if not sized:
            work, sized = workspaces(side), True
        floor = busy[d] if busy[d] > period[d] else period[d]  # (what raise_to makes it)
        bound, link = design_bound(r0, c0, r1, c1, flits, blocks, flow_made, f0, f1, rows, cols,
                                   grid, ending, floor, margin, flit_ns, work)  # fmt: skip
        top[d], where[d] = bound, (link[0] * side + link[1]) * side + link[2]
    return busy, cell, top, where
