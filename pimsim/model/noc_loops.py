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

The compiled loops of :mod:`pimsim.model.crossing` and :mod:`pimsim.model.noc_bounds` call these:
numba's cache does not see an edit of this file from there; :mod:`pimsim.jitcache` does, and
clears the package's cache.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def lay_legs(r0, c0, r1, c1, weight, f0, f1, hot_rows, hot_cols, plus, minus, ending,
             ends):  # fmt: skip
    """Add each leg of flows ``f0`` .. ``f1 - 1`` (in that order) to the difference arrays ``plus``
    and ``minus`` ``(4, lines, positions + 1)``: ``weight[f]`` where it starts (its lowest index)
    and where it ends (its highest index) on its grid's line (:func:`row_leg`,
    :func:`column_leg`); only the legs along the rows ``hot_rows`` and the columns ``hot_cols``
    (bool per line); a leg that does not move is not laid. Where ``ends``, in the same walk, each
    flow's ``weight`` also to ``ending`` ``(4, P, P)`` at its last link (:func:`last_link`), in
    flow order."""
    for f in range(f0, f1):
        a, b, c, e, x = r0[f], c0[f], r1[f], c1[f], weight[f]  # (read once: the stores may alias)
        if b != e and hot_rows[a]:
            g, line, start, end = row_leg(a, b, e)
            plus[g, line, start] += x
            minus[g, line, end] += x
        if a != c and hot_cols[e]:
            g, line, start, end = column_leg(a, c, e)
            plus[g, line, start] += x
            minus[g, line, end] += x
        if ends:
            g, line, position = last_link(a, b, c, e)
            if g >= 0:
                ending[g, line, position] += x


@njit(cache=True, inline="always")
def last_link(r0, c0, r1, c1):  # fmt: skip
    """The last link (grid, line, position) of a flow from router (``r0``, ``c0``) to (``r1``,
    ``c1``), X then Y: the column leg's last link, else the row leg's; grid -1 if it does not
    move."""
    if r0 != r1:
        ahead = r1 > r0
        return (2 if ahead else 3), c1, r1 - (1 if ahead else 0)
    if c0 != c1:
        ahead = c1 > c0
        return (0 if ahead else 1), r0, c1 - (1 if ahead else 0)
    return -1, 0, 0


@njit(cache=True, inline="always")
def row_leg(r0, c0, c1):  # fmt: skip
    """The grid (east 0, west 1), line and first and last positions of the row leg of a flow
    from router (``r0``, ``c0``) to column ``c1`` (scalars only: a compiled helper that writes
    into arrays costs far more a call)."""
    return (0 if c1 > c0 else 1), r0, min(c0, c1), max(c0, c1)


@njit(cache=True, inline="always")
def column_leg(r0, r1, c1):  # fmt: skip
    """The grid (south 2, north 3), line and first and last positions of the column leg of a flow
    from row ``r0`` to router (``r1``, ``c1``)."""
    return (2 if r1 > r0 else 3), c1, min(r0, r1), max(r0, r1)


@njit(cache=True)
def prefix_sums(plus, minus, out, rows, cols, hot_rows, hot_cols):  # fmt: skip
    """``out[g, a, b]``: the prefix sum along line ``a`` of ``plus - minus`` up to position ``b``
    (sequential, as ``np.cumsum``), for the cells of a ``rows`` x ``cols`` mesh (grids east and
    west: ``rows`` lines of ``cols`` positions; south and north: ``cols`` lines of ``rows``), along
    the rows ``hot_rows`` and the columns ``hot_cols`` only (bool per line); the other cells of
    ``out`` are left as they are. ``plus`` and ``minus`` are set to 0 as they are read
    (workspaces used design after design: every leg laid lies in those cells, :func:`lay_legs`
    with the same lines)."""
    for g in range(4):
        lines, length = (rows, cols) if g < 2 else (cols, rows)
        hot = hot_rows if g < 2 else hot_cols
        for a in range(lines):
            if not hot[a]:
                continue
            s = plus[g, a, 0] - minus[g, a, 0]
            plus[g, a, 0], minus[g, a, 0], out[g, a, 0] = 0.0, 0.0, s
            for b in range(1, length):
                s = s + (plus[g, a, b] - minus[g, a, b])
                plus[g, a, b], minus[g, a, b], out[g, a, b] = 0.0, 0.0, s


@njit(cache=True)
def design_grid(r0, c0, r1, c1, weight, f0, f1, rows, cols, plus, minus, out, ending,
                ends):  # fmt: skip
    """``out[g, a, b]``: the loads (``weight`` per flow, summed over the legs taking each link) of
    every link of one design's ``rows`` x ``cols`` mesh (flows ``f0`` .. ``f1 - 1``; ``out``'s
    other cells are left as they are); where ``ends``, the flows' weights added to ``ending`` at
    their last links (:func:`lay_legs`). ``plus``, ``minus``: all-zero workspaces ``(4, P, P +
    1)``, left so."""
    every = np.ones(max(rows, cols), dtype=np.bool_)
    lay_legs(r0, c0, r1, c1, weight, f0, f1, every, every, plus, minus, ending, ends)
    prefix_sums(plus, minus, out, rows, cols, every, every)


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
        design_grid(r0, c0, r1, c1, flits, f0, f1, rows, cols, plus, minus, grid, grid, False)
        for g in range(4):
            lines, length = (rows, cols) if g < 2 else (cols, rows)
            out[g, d, :lines, :length] = grid[g, :lines, :length]
    return out
