"""The NoC's link loads as compiled loops (numba) over a batch's flows, one design at a time.

Flows are grouped by design (``flow_start[d]`` .. ``flow_start[d + 1]``, as
:func:`pimsim.model.flows.batch_flows` lays them) and routed X then Y: a flow's horizontal leg runs
along its source's row, its vertical leg along its destination's column. A design's link loads are
kept as four grids ``[g, a, b]`` (east, west, south, north): the link from index ``b`` to ``b + 1``
(east, south) or from ``b + 1`` to ``b`` (west, north) along row ``a`` (east, west) or column ``a``
(south, north), the layout of :func:`pimsim.model.kernel.link_grids`.

A line's loads are summed with difference arrays, in the order the numpy form summed them (which
fixes every figure to the last bit): per cell, the weights of the legs starting there in flow order
(``plus``) less those of the legs ending there in flow order (``minus``), then the prefix sums of
``plus - minus`` along the line, position by position (what ``np.cumsum`` does).

:mod:`pimsim.model.crossing`'s compiled loops call these: numba's cache does not see an edit of
this file from there; :mod:`pimsim.jitcache` does, and clears the package's cache.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def lay_legs(r0, c0, r1, c1, weight, f0, f1, hot_rows, hot_cols, plus, minus):  # fmt: skip
    """Add each leg of flows ``f0`` .. ``f1 - 1`` (in that order) to the difference arrays ``plus``
    and ``minus`` ``(4, lines, positions + 1)``: ``weight[f]`` where it starts (its lowest index)
    and where it ends (its highest index) on its grid's line; only the legs along the rows
    ``hot_rows`` and the columns ``hot_cols`` (bool per line); a leg that does not move is not
    laid."""
    for f in range(f0, f1):
        if c0[f] != c1[f] and hot_rows[r0[f]]:
            g = 0 if c1[f] > c0[f] else 1
            _event(plus, minus, g, r0[f], min(c0[f], c1[f]), max(c0[f], c1[f]), weight[f])
        if r0[f] != r1[f] and hot_cols[c1[f]]:
            g = 2 if r1[f] > r0[f] else 3
            _event(plus, minus, g, c1[f], min(r0[f], r1[f]), max(r0[f], r1[f]), weight[f])


@njit(cache=True, inline="always")
def _event(plus, minus, g, line, start, end, x):  # fmt: skip
    """``x`` added to ``plus[g, line, start]`` and ``minus[g, line, end]``."""
    plus[g, line, start] += x
    minus[g, line, end] += x


@njit(cache=True)
def prefix_sums(plus, minus, out, rows, cols):  # fmt: skip
    """``out[g, a, b]``: the prefix sum along line ``a`` of ``plus - minus`` up to position ``b``
    (sequential, as ``np.cumsum``), for the cells of a ``rows`` x ``cols`` mesh (grids east and
    west: ``rows`` lines of ``cols`` positions; south and north: ``cols`` lines of ``rows``); the
    other cells of ``out`` are left as they are. ``plus`` and ``minus`` are set to 0 as they are
    read (workspaces used design after design: every leg of the mesh lies in those cells)."""
    for g in range(4):
        lines, length = (rows, cols) if g < 2 else (cols, rows)
        for a in range(lines):
            s = plus[g, a, 0] - minus[g, a, 0]
            plus[g, a, 0], minus[g, a, 0], out[g, a, 0] = 0.0, 0.0, s
            for b in range(1, length):
                s = s + (plus[g, a, b] - minus[g, a, b])
                plus[g, a, b], minus[g, a, b], out[g, a, b] = 0.0, 0.0, s


@njit(cache=True)
def design_grid(r0, c0, r1, c1, weight, f0, f1, rows, cols, plus, minus, out):  # fmt: skip
    """``out[g, a, b]``: the loads (``weight`` per flow, summed over the legs taking each link) of
    every link of one design's ``rows`` x ``cols`` mesh (flows ``f0`` .. ``f1 - 1``; ``out``'s
    other cells are left as they are). ``plus``, ``minus``: all-zero workspaces ``(4, P, P + 1)``,
    left so."""
    every = np.ones(max(rows, cols), dtype=np.bool_)
    lay_legs(r0, c0, r1, c1, weight, f0, f1, every, every, plus, minus)
    prefix_sums(plus, minus, out, rows, cols)


@njit(cache=True)
def batch_grids(r0, c0, r1, c1, flits, flow_start, meshes, side):  # fmt: skip
    """:func:`pimsim.model.kernel.link_grids` of every design: ``(4, B, side, side)``, cells
    outside a design's mesh ``-inf``."""
    count = len(meshes)
    out = np.full((4, count, side, side), -np.inf)
    plus, minus = np.zeros((4, side, side + 1)), np.zeros((4, side, side + 1))
    grid = np.empty((4, side, side))
    for d in range(count):
        rows, cols = meshes[d, 0], meshes[d, 1]
        f0, f1 = flow_start[d], flow_start[d + 1]
        design_grid(r0, c0, r1, c1, flits, f0, f1, rows, cols, plus, minus, grid)
        for g in range(4):
            lines, length = (rows, cols) if g < 2 else (cols, rows)
            out[g, d, :lines, :length] = grid[g, :lines, :length]
    return out


@njit(cache=True)
def link_bounds(r0, c0, r1, c1, flits, flow_start, meshes, period, margin, flit_ns, side):  # fmt: skip
    """Per design: the busy time per image (ns) of its busiest link where it could set the period,
    else ``-inf``; that link's cell (``grid x side x side + line x side + position``); and whether
    a row's traffic one way and a column's together could pass the period (the designs whose
    links the cross packets of :mod:`pimsim.model.crossing` could idle: a link's bound there,
    :func:`~pimsim.model.crossing.next_link_bound`, is at most the flows of its line going its
    way and those of the column it may turn into).

    A design's flits times ``margin`` (the flit time and a margin for the order of the sums) must
    pass its ``period`` for any link to set it, and then only along the rows and columns whose own
    traffic does (no link of another line can: its load is at most its line's); only those lines
    are laid, the others' cells are 0. The busiest link: per grid (east, west, south, north) the
    first largest cell of the mesh row by row, then the first grid whose load is larger than those
    before it. Sums in flow order per design, per line and per cell (see the module)."""
    count = len(meshes)
    busy = np.full(count, -np.inf)
    cell = np.zeros(count, dtype=np.int64)
    crossing = np.zeros(count, dtype=np.bool_)
    plus, minus = np.zeros((4, side, side + 1)), np.zeros((4, side, side + 1))
    grid = np.empty((4, side, side))
    row_load, col_load = np.empty(side), np.empty(side)
    east, west = np.empty(side), np.empty(side)
    for d in range(count):
        f0, f1 = flow_start[d], flow_start[d + 1]
        total = 0.0
        for f in range(f0, f1):
            total += flits[f]
        if not total * margin > period[d]:
            continue
        row_load[:], col_load[:], east[:], west[:] = 0.0, 0.0, 0.0, 0.0
        for f in range(f0, f1):
            if c0[f] != c1[f]:
                row_load[r0[f]] += flits[f]
                if c1[f] > c0[f]:
                    east[r0[f]] += flits[f]
                else:
                    west[r0[f]] += flits[f]
            if r0[f] != r1[f]:
                col_load[c1[f]] += flits[f]
        crossing[d] = (max(east.max(), west.max()) + col_load.max()) * margin > period[d]
        hot_rows, hot_cols = row_load * margin > period[d], col_load * margin > period[d]
        if not (hot_rows.any() or hot_cols.any()):
            continue
        rows, cols = meshes[d, 0], meshes[d, 1]
        lay_legs(r0, c0, r1, c1, flits, f0, f1, hot_rows, hot_cols, plus, minus)
        prefix_sums(plus, minus, grid, rows, cols)
        best, where = -1.0, 0
        for g in range(4):
            lines, length = (rows, cols) if g < 2 else (cols, rows)
            top, at = -np.inf, 0
            for a in range(lines):
                for b in range(length):
                    if grid[g, a, b] > top:
                        top, at = grid[g, a, b], a * side + b
            if top > best:
                best, where = top, g * side * side + at
        busy[d], cell[d] = best * flit_ns, where
    return busy, cell, crossing
