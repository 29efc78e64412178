"""A NoC link idled by a cross flow's packets on the next link: a closed-form bound on the period.

A flow sends one block at a time: its next block leaves only once the last one has taken every
channel of its route (:func:`pimsim.sim.noc.run_flow`). Take a link ``L`` and a link ``L'`` that
some of ``L``'s flows take next (set ``A``). While a packet of a *cross* flow (one on ``L'`` that
does not come from ``L``: set ``C``) holds ``L'``, each flow of ``A`` can still put one packet on
``L`` -- it then waits at the router for ``L'`` and sends nothing more -- and ``L``'s other flows
(set ``B``, ending at the router or turning elsewhere) carry what their producers make meanwhile.
The rest of the cross packet's span ``L`` idles although it has work queued behind it: the link
busy-time bound misses it (docs/disagreements.md, "a link idled by long packets of a cross flow").

First-order model, per pair (``L``, ``L'``) with cross packets, at a period ``T``::

    idle = k x max(0, s_C x (1 - busy_B / T) - s_A)

- ``k = min(n_C, n_A)``: the cross packets per image, at most one gap per packet of ``A`` (a
  cross packet that finds no ``A`` packet waiting idles nothing that was queued);
- ``s_C = busy_C / n_C``: a cross packet's mean span (its flits x the flit time);
- ``s_A``: one packet of each flow of ``A`` (its flits per image over its packets per image);
- ``busy_B / T``: the share of the gap ``B`` fills, its packets arriving at their producers' pace
  (no backlog: a saturated pipeline's buffers hold about one block each).

``L``'s period bound ``T`` is its busy time plus the idle of all its pairs: the least fixed
point of ``T = busy_L + sum idle(T)``, found by iterating from ``busy_L`` (the map rises with
``T``, by ``k s_C busy_B / T^2`` per ns, well below 1 where ``L`` is saturated). Neglected: the few
cycles of the waiting flow's way back to ``L`` (a hop, the next block's read) and packets larger
than a router's buffer, which keep holding ``L`` while they wait.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from pimsim.model.kernel import Ends
from pimsim.model.noc_loops import column_leg, design_grid, prefix_sums, row_leg

_ROUNDS = 64  # fixed-point iterations at most (each pair's map contracts by far below 1)
_NEAR = 1 + 1e-9  # a link is solved for if its bound could reach this much of the design's period


@njit(cache=True, inline="always")
def next_link_bound(grid, ending, rows, cols, near, pad):  # fmt: skip
    """The largest over a design's links (``grid``: its link loads on a ``rows`` x ``cols`` mesh,
    :func:`~pimsim.model.noc_loops.design_grid`) of the loads of the links a flow may take next
    under X-then-Y routing (straight on; from a row also into the column, either way) plus the
    load of the flows that end at the link's end (``ending``,
    :func:`~pimsim.model.noc_loops.lay_legs`): a bound on the
    design's :func:`design_cross`, in the grids' unit; each link's own in ``near[g, a, b]`` (0
    outside the mesh). A link's idle is at most its cross packets' spans, and its next links
    carry those and every flow of the link that goes on: busy + sum (next - going on) = sum next
    + ending. Per link: (ending + next straight) + the two links into the column at the end (down
    + up), each load taken as 0 outside the mesh or where it is not positive. ``ending`` is set
    to 0 as it is read; ``pad`` ``(4, P + 2, P + 2)``: a workspace (the loads so taken, with a
    border of 0 around the mesh: read without a test)."""
    side = max(rows, cols)
    pad[:, : side + 2, : side + 2] = 0.0
    for g in range(4):
        lines, length = (rows, cols) if g < 2 else (cols, rows)
        for a in range(lines):
            for b in range(length):
                x = grid[g, a, b]
                pad[g, a + 1, b + 1] = x if x > 0 else 0.0
    best = -np.inf
    for r in range(side):
        for c in range(side):
            # the links out of router (r, c + 1) and (r, c) into their columns (south + north)
            turns_next = pad[2, c + 2, r + 1] + pad[3, c + 2, r]
            turns_here = pad[2, c + 1, r + 1] + pad[3, c + 1, r]
            near[0, r, c] = ending[0, r, c] + pad[0, r + 1, c + 2] + turns_next
            near[1, r, c] = ending[1, r, c] + pad[1, r + 1, c] + turns_here
            near[2, r, c] = ending[2, r, c] + pad[2, r + 1, c + 2]
            near[3, r, c] = ending[3, r, c] + pad[3, r + 1, c]
            bound = max(max(max(near[0, r, c], near[1, r, c]), near[2, r, c]), near[3, r, c])
            best = max(best, bound)
            for g in range(4):
                ending[g, r, c] = 0.0
    return best


@njit(cache=True, inline="always")
def mark_lines(near, rows, cols, margin, floor, lines, hot_rows, hot_cols):  # fmt: skip
    """The lines to lay for :func:`design_cross`: ``lines[g, a]``, whether a link of line ``a`` of
    grid ``g`` could pass the period ``floor`` (its :func:`next_link_bound` ``near`` times
    ``margin`` does), and ``hot_rows`` / ``hot_cols`` (bool per line), the rows and columns of
    those links' next links (straight on, and the column a row link may turn into; so a marked
    row line's own row is hot, and a column line's own column). All three are set anew, for a
    ``rows`` x ``cols`` mesh."""
    for a in range(len(hot_rows)):  # (loops, not slices: a view costs a reference count)
        hot_rows[a], hot_cols[a] = False, False
        for g in range(4):
            lines[g, a] = False
    for g in range(4):
        count, length = (rows, cols) if g < 2 else (cols, rows)
        for a in range(count):
            for b in range(length):
                if near[g, a, b] * margin > floor:
                    lines[g, a] = True
                    if g >= 2:
                        hot_cols[a] = True
                        continue
                    hot_rows[a] = True
                    column = b + 1 if g == 0 else b
                    if column < cols:
                        hot_cols[column] = True


@njit(cache=True, inline="always")
def _lay_pairs(r0, c0, r1, c1, flits, blocks, made, f0, f1, lines, plus3, minus3, turn, hot_rows,
               hot_cols, plus, minus):  # fmt: skip
    """Add the weights (flits, packets, one packet's flits: ``flits / packets``) per image of flows
    ``f0`` .. ``f1 - 1`` (flow ``f``'s packets: ``blocks[made[f]]``) taking a link and then the
    next one straight on to the difference arrays ``plus3``, ``minus3`` (4, P, P + 1, 3), by the
    first link (ahead: low .. high - 2, back: low + 1 .. high - 1), and of those turning from a
    row into a column to ``turn`` (south / north, east / west, row, position, 3), at the row leg's
    last link; in flow order. Only along the lines ``lines[g, a]`` (the first link's). In the same
    walk, the packets of every leg along the rows ``hot_rows`` and the columns ``hot_cols`` to
    ``plus`` and ``minus`` (as :func:`~pimsim.model.noc_loops.lay_legs`)."""
    for f in range(f0, f1):
        a, e = r0[f], c1[f]  # (read once: the stores below may alias them)
        if not (hot_rows[a] or hot_cols[e]):  # (every line laid is one of those: mark_lines)
            continue
        b, c = c0[f], r1[f]
        row_grid = 0 if e > b else 1
        row_hot = b != e and hot_rows[a]
        column_hot = a != c and hot_cols[e]
        row_line = b != e and lines[row_grid, a]
        turns = row_line and a != c
        row_on = row_line and abs(e - b) >= 2
        column_on = abs(c - a) >= 2 and lines[2 if c > a else 3, e]
        if not (row_hot or column_hot or turns or row_on or column_on):
            continue
        x = float(blocks[made[f]])
        if row_hot:
            g, line, start, end = row_leg(a, b, e)
            plus[g, line, start] += x
            minus[g, line, end] += x
        if column_hot:
            g, line, start, end = column_leg(a, c, e)
            plus[g, line, start] += x
            minus[g, line, end] += x
        if not (turns or row_on or column_on):
            continue
        w = (flits[f], x, flits[f] / x)
        if turns:
            way = 0 if c > a else 1
            at = e - (1 - row_grid)  # (east: the link into c1 from c1 - 1)
            for k in range(3):
                turn[way, row_grid, a, at, k] += w[k]
        if row_on:  # the row leg (east or west)
            g, start, end = _straight(b, e)
            for k in range(3):
                plus3[g, a, start, k] += w[k]
                minus3[g, a, end, k] += w[k]
        if column_on:  # the column leg (south or north)
            back, start, end = _straight(a, c)
            for k in range(3):
                plus3[2 + back, e, start, k] += w[k]
                minus3[2 + back, e, end, k] += w[k]


@njit(cache=True, inline="always")
def _straight(a, b):  # fmt: skip
    """Of a leg from ``a`` to ``b`` along its line (ahead if ``b > a``): whether it goes back (0, 1:
    east or west, south + 0 or 1), and the first and last positions of its links followed by the
    next one straight on (scalars only, see :func:`~pimsim.model.noc_loops.row_leg`)."""
    back = 0 if b > a else 1
    return back, min(a, b) + back, max(a, b) - 1 + back


@njit(cache=True, inline="always")
def design_cross(r0, c0, r1, c1, flits, blocks, made, f0, f1, rows, cols, load, flit_ns, floor,
                 margin, work):  # fmt: skip
    """The longest bound of the module's model over the links of one design (flows ``f0`` ..
    ``f1 - 1``, a ``rows`` x ``cols`` mesh; ``flits`` per flow and image, flow ``f``'s packets per
    image ``blocks[made[f]]``) that could
    pass the period ``floor`` (ns), and its link (grid, line, position), the first in that order;
    ``-inf`` and (0, 0, 0) where none is solved for. ``load``: the design's link loads in flits
    (:func:`~pimsim.model.noc_loops.design_grid`); its loads in packets are laid here, only along
    the rows and columns where they are read (``work``'s rows and columns, :func:`mark_lines`).
    Only the links whose :func:`next_link_bound` (``work``'s near) times ``margin`` passes
    ``floor`` are solved for (along ``work``'s lines, :func:`mark_lines`): that bound is at least
    the link's busy time plus all its cross packets' spans (see :func:`next_link_bound`), and so
    at least the link's bound of the model (each gap idles at most the cross packet's span;
    ``margin`` holds a margin of 1e-9 of it for the order of the sums, far above their rounding):
    a link left out is one whose bound would not pass the period. Of those solved for, a link
    whose busy time plus all its cross packets' spans cannot pass the period is not iterated.
    ``work``: :func:`design_bound`'s workspaces, each cell of the difference arrays set back to 0
    as it is read.

    Per link, its pairs in this order: the flows going straight on, then those turning south, then
    north (each a pair if its flows make more than half a packet an image); a pair is crossed if
    its next link carries more than half a packet of other flows. The link's loads and its pairs'
    sums are in flow order (:mod:`pimsim.model.noc_loops`), a link's sums over its pairs in pair
    order; the least fixed point is iterated from the busy time until a step moves it by at most
    1e-12 of itself, or 64 rounds."""
    legs_plus, legs_minus, sent, near, _, lines, hot_rows, hot_cols, pairs, small, second = work
    plus, minus, turn = pairs
    _lay_pairs(r0, c0, r1, c1, flits, blocks, made, f0, f1, lines, plus, minus, turn, hot_rows,
               hot_cols, legs_plus, legs_minus)  # fmt: skip
    prefix_sums(legs_plus, legs_minus, sent, rows, cols, hot_rows, hot_cols)
    # small's rows, each set before it is read (no need to clear them design after design): 0,
    # the prefix sums along the line as the cells are visited; 1, 2: the cell's turns (south,
    # north); per pair 3 n_a, 4 busy_a, 5 span_a; per crossed pair 6 span_c, 7 span_w, 8 gaps,
    # 9 busy_b (indexed, not sliced: a view costs a reference count)
    top, where = -np.inf, (0, 0, 0)
    for g in range(4):
        count, length = (rows, cols) if g < 2 else (cols, rows)  # (no flow leaves the mesh)
        for a in range(count):
            if not lines[g, a]:
                continue
            for b in range(length):
                for k in range(3):  # (as np.cumsum: the first difference, then a sum)
                    x = plus[g, a, b, k] - minus[g, a, b, k]
                    small[0, k] = x if b == 0 else small[0, k] + x
                    plus[g, a, b, k], minus[g, a, b, k] = 0.0, 0.0
                    if g < 2:
                        small[1, k], small[2, k] = turn[0, g, a, b, k], turn[1, g, a, b, k]
                        turn[0, g, a, b, k], turn[1, g, a, b, k] = 0.0, 0.0
                if not near[g, a, b] * margin > floor:
                    continue
                pairs = 0
                if small[0, 1] > 0.5:  # (g, a, b) then straight on
                    small[3, pairs] = small[0, 1]
                    small[4, pairs] = small[0, 0] * flit_ns
                    small[5, pairs] = small[0, 2] * flit_ns
                    step = 1 if g == 0 or g == 2 else -1
                    second[pairs, 0], second[pairs, 1], second[pairs, 2] = g, a, b + step
                    pairs += 1
                for way in range(2 if g < 2 else 0):  # a row link, then south or north
                    if small[1 + way, 1] > 0.5:
                        small[3, pairs] = small[1 + way, 1]
                        small[4, pairs] = small[1 + way, 0] * flit_ns
                        small[5, pairs] = small[1 + way, 2] * flit_ns
                        column = b + (1 if g == 0 else 0)
                        second[pairs, 0], second[pairs, 1] = 2 + way, column
                        second[pairs, 2] = a - way
                        pairs += 1
                if pairs == 0:
                    continue
                busy_l = load[g, a, b] * flit_ns
                crossed = 0
                reach = 0.0  # all its gaps idle
                for i in range(pairs):
                    s0, s1, s2 = second[i, 0], second[i, 1], second[i, 2]
                    x = sent[s0, s1, s2] - small[3, i]  # whole packets: exact
                    if not x > 0.5:
                        continue
                    small[6, crossed] = (load[s0, s1, s2] * flit_ns - small[4, i]) / x
                    small[8, crossed] = min(x, small[3, i])
                    small[9, crossed] = busy_l - small[4, i]
                    reach += small[8, crossed] * small[6, crossed]
                    small[7, crossed] = small[5, i]  # (the waiting flows' packet)
                    crossed += 1
                if crossed == 0 or not (busy_l + reach) * _NEAR > floor:
                    continue
                t = busy_l
                for _ in range(_ROUNDS):
                    idle = 0.0
                    for i in range(crossed):
                        filled = small[9, i] / t
                        idle += small[8, i] * max(small[6, i] * (1.0 - filled) - small[7, i], 0.0)
                    new = busy_l + idle
                    if abs(new - t) <= 1e-12 * t:
                        break
                    t = new
                # only a link that idles: the busy time alone is the link bound's
                if t > busy_l and t > top:
                    top, where = t, (g, a, b)
    return top, where


@njit(cache=True, inline="always")
def design_bound(r0, c0, r1, c1, flits, blocks, made, f0, f1, rows, cols, load, ending, floor,
                 margin, flit_ns, work):  # fmt: skip
    """:func:`design_cross` of one design (flows ``f0`` .. ``f1 - 1``, a ``rows`` x ``cols`` mesh;
    ``flits`` per flow and image, flow ``f``'s packets per image ``blocks[made[f]]``) at the period
    ``floor`` (ns), given its link loads ``load`` and ending flits ``ending``
    (:func:`~pimsim.model.noc_loops.design_grid`; ``ending`` is set back to 0): ``-inf`` and (0, 0,
    0) at once where no link's :func:`next_link_bound` times ``margin`` (the flit time and a
    margin for the order of the sums) passes ``floor``. ``work``: :func:`workspaces`, left ready
    to be used again."""
    near, pad, lines, hot_rows, hot_cols = work[3], work[4], work[5], work[6], work[7]
    if not next_link_bound(load, ending, rows, cols, near, pad) * margin > floor:
        return -np.inf, (0, 0, 0)
    mark_lines(near, rows, cols, margin, floor, lines, hot_rows, hot_cols)
    return design_cross(r0, c0, r1, c1, flits, blocks, made, f0, f1, rows, cols, load, flit_ns,
                        floor, margin, work)  # fmt: skip


@njit(cache=True)
def workspaces(side):  # fmt: skip
    """All-zero workspaces of :func:`design_bound` for meshes of side ``P`` = ``side`` at most:
    plus, minus ``(4, P, P + 1)``; sent (packets per link), near ``(4, P, P)``; pad ``(4, P + 2,
    P + 2)``; lines ``(4, P)``, rows, columns ``(P,)`` (bool); the pairs' (:func:`_lay_pairs`);
    :func:`design_cross`'s per-link figures ``(10, 3)`` and next links ``(3, 3)``."""
    sent, near = np.zeros((4, side, side)), np.zeros((4, side, side))
    pad = np.zeros((4, side + 2, side + 2))
    lines = np.zeros((4, side), dtype=np.bool_)
    hot_rows, hot_cols = np.zeros(side, dtype=np.bool_), np.zeros(side, dtype=np.bool_)
    pairs = (
        np.zeros((4, side, side + 1, 3)),
        np.zeros((4, side, side + 1, 3)),
        np.zeros((2, 2, side, side, 3)),
    )
    plus, minus = np.zeros((4, side, side + 1)), np.zeros((4, side, side + 1))
    small, second = np.zeros((10, 3)), np.zeros((3, 3), dtype=np.int64)
    return plus, minus, sent, near, pad, lines, hot_rows, hot_cols, pairs, small, second


@njit(cache=True)
def cross_bounds(r0, c0, r1, c1, flits, packets, flow_start, chosen, meshes, period, margin,
                 flit_ns, mesh):  # fmt: skip
    """Per design (``chosen``: (B,) bool, the designs to bound; ``flow_start``: their flows), the
    longest bound of :func:`design_cross` over the links that could pass its period so far
    (``period``, :func:`design_bound`) and its link as a cell of mesh side ``mesh`` (``grid x mesh
    x mesh + line x mesh + position``); ``-inf`` and 0 where none does. Exact where it passes the
    period (the links left out could not); a period of ``-inf`` solves for every link
    (``meshes`` (B, 2): each design's mesh)."""
    count = len(chosen)
    bound, where = np.full(count, -np.inf), np.zeros(count, dtype=np.int64)
    side = 1
    for d in range(count):
        if chosen[d]:
            side = max(side, meshes[d, 0], meshes[d, 1])
    work = workspaces(side)
    load, ending = np.empty((4, side, side)), np.zeros((4, side, side))
    made = np.arange(len(flits))  # (flow f's packets: packets[f])
    for d in range(count):
        if not chosen[d]:
            continue
        f0, f1 = flow_start[d], flow_start[d + 1]
        rows, cols = meshes[d, 0], meshes[d, 1]
        design_grid(r0, c0, r1, c1, flits, f0, f1, rows, cols, work[0], work[1], load, ending, True)
        top, link = design_bound(r0, c0, r1, c1, flits, packets, made, f0, f1, rows, cols, load,
                                 ending, period[d], margin, flit_ns, work)  # fmt: skip
        bound[d], where[d] = top, (link[0] * mesh + link[1]) * mesh + link[2]
    return bound, where


def _by_design(ends: Ends, design: np.ndarray, *weights: np.ndarray) -> tuple:
    """The flows' ends and ``weights`` as contiguous int64 / float64 arrays, grouped by design in
    a stable order (each design's flows in theirs)."""
    order = np.argsort(design, kind="stable")
    ints = tuple(np.ascontiguousarray(np.take(x, order), dtype=np.int64) for x in ends)
    floats = tuple(np.ascontiguousarray(np.take(x, order), dtype=np.float64) for x in weights)
    return ints + floats


def cross_idle_bounds(
    ends: Ends,
    flits: np.ndarray,
    packets: np.ndarray,
    design: np.ndarray,
    chosen: np.ndarray,
    side: int,
    flit_ns: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Per design (``chosen``: (B,) bool, the designs to bound), the longest bound of the module's
    model over all its links that idle and its link as a cell of
    :func:`pimsim.model.kernel.link_grids` with mesh side ``side`` (``grid x side x side + line x
    side + position``); ``-inf`` and 0 where no link idles. ``ends``, ``flits`` (per image),
    ``packets`` (blocks per image) and ``design`` per flow (routers below ``side``)."""
    count = len(chosen)
    flow_start = np.searchsorted(np.sort(design), np.arange(count + 1))
    meshes = np.full((count, 2), side, dtype=np.int64)
    return cross_bounds(
        *_by_design(ends, design, flits, packets),
        flow_start,
        np.asarray(chosen, dtype=np.bool_),
        meshes,
        np.full(count, -np.inf),
        1.0,
        float(flit_ns),
        side,
    )


def next_link_bounds(
    ends: Ends, flits: np.ndarray, design: np.ndarray, meshes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per design (``meshes`` (B, 2)): :func:`next_link_bound` in flits per image, and
    the flits ending at each link ``(B, 4, P, P)`` (``P`` the largest mesh side)."""
    r0, c0, r1, c1, flits = _by_design(ends, design, flits)
    count, side = len(meshes), int(meshes.max())
    flow_start = np.searchsorted(np.sort(design), np.arange(count + 1))
    near, ending = np.zeros(count), np.zeros((count, 4, side, side))
    plus, minus = np.zeros((4, side, side + 1)), np.zeros((4, side, side + 1))
    load, work = np.zeros((4, side, side)), np.empty((4, side, side))
    pad = np.empty((4, side + 2, side + 2))
    for d, (rows, cols) in enumerate(meshes.tolist()):
        f0, f1 = flow_start[d], flow_start[d + 1]
        design_grid(r0, c0, r1, c1, flits, f0, f1, rows, cols, plus, minus, load, ending[d], True)
        near[d] = next_link_bound(load, ending[d].copy(), rows, cols, work, pad)
    return near, ending
