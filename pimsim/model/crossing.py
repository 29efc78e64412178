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

from pimsim.model.kernel import Ends

_ROUNDS = 64  # fixed-point iterations at most (each pair's map contracts by far below 1)


def ending_loads(
    ends: Ends, flits: np.ndarray, design: np.ndarray, grids: np.ndarray
) -> np.ndarray:
    """``grids``' shape ``(4, B, P, P)``: per link the flits per image of the flows whose last link
    it is (X then Y: the column leg's last link, else the row leg's); ``design`` numbers the flows'
    designs as the grids do."""
    r0, c0, r1, c1 = ends
    n, side = grids.shape[1], grids.shape[2]
    column = r0 != r1
    ahead = np.where(column, r1 > r0, c1 > c0)
    grid = np.where(column, 2, 0) + ~ahead
    line = np.where(column, c1, r0)
    position = np.where(column, r1, c1) - ahead  # ahead: the link into the end from below
    moves = np.flatnonzero(column | (c0 != c1))
    cell = ((grid * n + design) * side + line) * side + position
    out = np.bincount(np.take(cell, moves), np.take(flits, moves), 4 * n * side * side)
    return out.reshape(grids.shape)


def next_link_bounds(grids: np.ndarray, ending: np.ndarray) -> np.ndarray:
    """(B,) per design of :func:`pimsim.model.kernel.link_grids`' ``(4, B, P, P)`` loads, the
    largest over its links of the loads of the links a flow may take next under X-then-Y routing
    (straight on; from a row also into the column, either way) plus the load of the flows that end
    at the link's end (``ending``, :func:`ending_loads`): a bound on :func:`cross_idle_bounds`, in
    the grids' unit. A link's idle is at most its cross packets' spans, and its next links carry
    those and every flow of the link that goes on: busy + sum (next - going on) = sum next + ending.
    """
    g = np.where(grids > 0, grids, 0.0)  # (cells outside a mesh are -inf)
    east, west, south, north = g
    n, side = east.shape[0], east.shape[1]
    pad = np.zeros((n, side + 2, side + 2))

    def moved(x: np.ndarray, rows: int, cols: int) -> np.ndarray:
        """``out[d, r, b] = x[d, r + rows, b + cols]``, 0 outside."""
        pad[:, 1:-1, 1:-1] = x
        return pad[:, 1 + rows : side + 1 + rows, 1 + cols : side + 1 + cols].copy()

    # along a row r, position b: south[d, c, r] is the link (r, c) -> (r + 1, c), north[d, c, r - 1]
    # the link (r, c) -> (r - 1, c); as (d, r, c) arrays
    down, up = south.transpose(0, 2, 1), north.transpose(0, 2, 1)
    turns_at = down + moved(up, -1, 0)  # the links out of router (r, c) into its column
    bound = np.maximum(
        ending[0] + moved(east, 0, 1) + moved(turns_at, 0, 1),
        ending[1] + moved(west, 0, -1) + turns_at,
    )
    bound = np.maximum(bound, ending[2] + moved(south, 0, 1))
    bound = np.maximum(bound, ending[3] + moved(north, 0, -1))
    return bound.reshape(n, -1).max(axis=1)


def along(diffs: np.ndarray, width: int, rows: int) -> np.ndarray:
    """``(k, rows x (width - 1))``: each row's prefix sums of ``diffs`` ``(k, width x rows)``, laid
    position by position, as rows of positions (the last position, past every link, dropped)."""
    summed = np.cumsum(diffs.reshape(len(diffs), width, rows), axis=1)[:, :-1, :]
    return np.ascontiguousarray(summed.transpose(0, 2, 1)).reshape(len(diffs), -1)


def cross_idle_bounds(
    ends: Ends,
    flits: np.ndarray,
    packets: np.ndarray,
    design: np.ndarray,
    chosen: np.ndarray,
    side: int,
    flit_ns: float,
    floor: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per design (``chosen``: (B,) bool, the designs to bound), the longest bound of the module's
    model over its links that idle and its link as a cell of :func:`pimsim.model.kernel.link_grids`
    with mesh side ``side`` (``grid x side x side + line x side + position``); ``-inf`` and 0 where
    no link idles.

    ``ends``, ``flits`` (per image), ``packets`` (blocks per image) and ``design`` per flow. Each
    design's figures are those it gets alone: its links' sums see its flows in their order.
    ``floor`` (B,): a period each design has already; a link whose bound cannot pass it (its busy
    time plus all its cross packets' spans) is not solved for (its bound is left ``-inf``).
    """
    count = len(chosen)
    bound, where = np.full(count, -np.inf), np.zeros(count, dtype=int)
    r0, c0, r1, c1 = ends
    keep = np.flatnonzero(np.take(chosen, design) & ((r0 != r1) | (c0 != c1)))
    if not len(keep):
        return bound, where
    r0, c0, r1, c1, f, p, d = (np.take(x, keep) for x in (r0, c0, r1, c1, flits, packets, design))
    has = np.flatnonzero(chosen)
    n = len(has)
    d = np.take(np.cumsum(chosen) - 1, d)  # the chosen designs numbered compactly
    one = f / p  # flits of one packet
    mesh = side
    side = int(max(r0.max(), r1.max(), c0.max(), c1.max())) + 1  # the routers the flows use
    rows, width = 4 * n * side, side + 1
    # a row of links per (grid, design, line) (grids: east, west along rows; south, north along
    # columns), a column per position: the link's lower router index on its line; the differences
    # are laid position by position (position x rows + row), so that the prefix sums along every
    # row are one cumsum down the positions
    # each link's flits and packets, as differences along each row (link_grids gives the same
    # sums, but its compacted rows cost VGG16's kernel 8% more here: 2,490 against 2,710 designs/s)
    loads = np.zeros((2, rows * width))
    # the flows taking a link and then the next one straight on: (flits, packets, one packet's
    # flits), as differences along each row
    ahead_on = np.zeros((3, rows * width))
    legs = ((c0 != c1, c1 > c0, 0, r0, c0, c1), (r0 != r1, r1 > r0, 2, c1, r0, r1))
    for moves, ahead, base, line, a, b in legs:
        on = np.flatnonzero(moves)
        fwd, line, a, b = (np.take(x, on) for x in (ahead, line, a, b))
        row = ((base + ~fwd) * n + np.take(d, on)) * side + line
        low, high = np.minimum(a, b), np.maximum(a, b)
        w = [np.take(x, on) for x in (f, p, one)]
        for k in range(2):  # the leg's links: low .. high - 1
            loads[k] += np.bincount(low * rows + row, w[k], rows * width)
            loads[k] -= np.bincount(high * rows + row, w[k], rows * width)
        # consecutive links of the leg, by the first: low .. high - 2 ahead, low + 1 .. high - 1 back
        two = np.flatnonzero(high - low >= 2)
        start = np.take(row + (low + ~fwd) * rows, two)
        end = start + np.take(high - low - 1, two) * rows
        for k in range(3):
            ahead_on[k] += np.bincount(start, np.take(w[k], two), rows * width)
            ahead_on[k] -= np.bincount(end, np.take(w[k], two), rows * width)
    n_links = rows * side
    # (back to a row of positions per line: link = row x side + position)
    busy, made = along(loads, width, rows)
    busy = busy * flit_ns
    straight = along(ahead_on, width, rows)
    # a turn: the row leg's last link, then the column leg's first (south or north)
    both = np.flatnonzero((c0 != c1) & (r0 != r1))
    east, south = np.take(c1 > c0, both), np.take(r1 > r0, both)
    turn_at = ((~east + 0) * n + np.take(d, both)) * side + np.take(r0, both)
    turn_at = turn_at * side + np.take(c1, both) - east
    w = [np.take(x, both) for x in (f, p, one)]
    firsts, kinds, got = [np.flatnonzero(straight[1] > 0.5)], [0], []
    got.append(straight[:, firsts[0]])
    for kind, way in ((1, south), (2, ~south)):
        at = np.flatnonzero(way)
        sums = [np.bincount(np.take(turn_at, at), np.take(x, at), n_links) for x in w]
        taken = np.flatnonzero(sums[1] > 0.5)
        firsts.append(taken)
        kinds.append(kind)
        got.append(np.stack([x[taken] for x in sums]))
    # the pairs taken, and each one's next link
    first = np.concatenate(firsts)
    kind = np.repeat(kinds, [len(x) for x in firsts])
    got = np.concatenate(got, axis=1)
    grid, rest = np.divmod(first, n * side * side)
    dd, rest = np.divmod(rest, side * side)
    line, pos = np.divmod(rest, side)
    ahead = (grid == 0) | (grid == 2)
    column = pos + (grid == 0)  # a turn's column: the row link's end
    second = np.where(
        kind == 0,
        first + np.where(ahead, 1, -1),
        ((np.where(kind == 1, 2, 3) * n + dd) * side + column) * side + line - (kind == 2),
    )
    n_a, busy_a, span_a = got[1], got[0] * flit_ns, got[2] * flit_ns
    n_c = made[second] - n_a  # whole packets: exact
    crossed = np.flatnonzero(n_c > 0.5)
    period = np.full(n_links, -np.inf)
    if len(crossed):
        first, second, n_c = first[crossed], second[crossed], n_c[crossed]
        busy_a, span_a = busy_a[crossed], span_a[crossed]
        span_c = (busy[second] - busy_a) / n_c
        gaps = np.minimum(n_c, n_a[crossed])
        if floor is not None:  # only the links whose bound could pass the design's period
            cap = busy + np.bincount(first, gaps * span_c, n_links)  # all its gaps idle
            owner = np.take(np.take(floor, has), first // (side * side) % n)
            near = np.flatnonzero(cap[first] * (1 + 1e-9) > owner)
            first, second, n_c, busy_a, span_a = (
                x[near] for x in (first, second, n_c, busy_a, span_a)
            )
            span_c, gaps = span_c[near], gaps[near]
        links, at_link = np.unique(first, return_inverse=True)  # the links with cross packets
        busy_l = busy[links]
        busy_b = busy[first] - busy_a
        t = busy_l.copy()
        settled = np.zeros(len(links), dtype=bool)
        for _ in range(_ROUNDS):
            filled = busy_b / np.take(t, at_link)
            idle = gaps * np.maximum(span_c * (1.0 - filled) - span_a, 0.0)
            new = busy_l + np.bincount(at_link, idle, len(links))
            settled |= np.abs(new - t) <= 1e-12 * t
            t = np.where(settled, t, new)
            if settled.all():
                break
        # only a link that idles: the busy time alone is the link bound's (its own sums' order)
        period[links] = np.where(t > busy_l, t, -np.inf)
    cells = 4 * side * side
    per_design = period.reshape(4, n, side * side).transpose(1, 0, 2).reshape(n, cells)
    best = np.argmax(per_design, axis=1)
    bound[has] = per_design[np.arange(len(has)), best]
    grid, rest = np.divmod(best, side * side)
    line, pos = np.divmod(rest, side)
    where[has] = (grid * mesh + line) * mesh + pos  # (the caller's cells)
    return bound, where
