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
    model over its links that idle (``-inf`` where none does) and its link as a cell of :func:`pimsim.model.kernel.link_grids` with mesh side
    ``side`` (``grid x side x side + line x side + position``); ``-inf`` and 0 where none.

    ``ends``, ``flits`` (per image), ``packets`` (blocks per image) and ``design`` per flow. Each
    design's figures are those it gets alone: its links' sums see its flows in their order.
    """
    count = len(chosen)
    bound, where = np.full(count, -np.inf), np.zeros(count, dtype=int)
    r0, c0, r1, c1 = ends
    keep = np.flatnonzero(np.take(chosen, design) & ((r0 != r1) | (c0 != c1)))
    if not len(keep):
        return bound, where
    r0, c0, r1, c1, f, p, d = (np.take(x, keep) for x in (r0, c0, r1, c1, flits, packets, design))
    across, down = np.abs(c1 - c0), np.abs(r1 - r0)
    hops = across + down
    flow = np.repeat(np.arange(len(keep)), hops)
    step = np.arange(len(flow)) - np.repeat(np.cumsum(hops) - hops, hops)
    # X then Y: the k-th link along the row r0 from c0, then along the column c1 from r0
    x_leg = step < across[flow]
    k = np.where(x_leg, step, step - across[flow])
    at = np.where(x_leg, c0[flow], r0[flow])
    ahead = np.where(x_leg, c1[flow] > c0[flow], r1[flow] > r0[flow])
    grid = np.where(x_leg, 0, 2) + ~ahead
    position = np.where(ahead, at + k, at - k - 1)  # the link's lower router index on its line
    line = np.where(x_leg, r0[flow], c1[flow])
    cell = (grid * side + line) * side + position
    key = d[flow] * (4 * side * side) + cell  # each design's links in (grid, line, position) order
    links, link = np.unique(key, return_inverse=True)
    n_links = len(links)
    fl, pk = np.take(f, flow), np.take(p, flow)
    busy = np.bincount(link, fl, n_links) * flit_ns
    made = np.bincount(link, pk, n_links)
    # the pairs (L, L') of consecutive links of a route
    then = np.flatnonzero(step[:-1] + 1 < hops[flow[:-1]])
    pair_key = link[then] * n_links + link[then + 1]
    pairs, pair = np.unique(pair_key, return_inverse=True)
    first, second = pairs // n_links, pairs % n_links
    n_pairs = len(pairs)
    busy_a = np.bincount(pair, fl[then], n_pairs) * flit_ns
    n_a = np.bincount(pair, pk[then], n_pairs)
    span_a = np.bincount(pair, fl[then] / pk[then], n_pairs) * flit_ns
    n_c = made[second] - n_a  # whole packets: exact
    crossed = np.flatnonzero(n_c > 0.5)
    if len(crossed):
        first = first[crossed]
        n_c = n_c[crossed]
        span_c = (busy[second[crossed]] - busy_a[crossed]) / n_c
        gaps = np.minimum(n_c, n_a[crossed])
        busy_b = busy[first] - busy_a[crossed]
        span_a = span_a[crossed]
        period = busy.copy()
        settled = np.zeros(n_links, dtype=bool)
        for _ in range(_ROUNDS):
            filled = busy_b / period[first]
            idle = gaps * np.maximum(span_c * (1.0 - filled) - span_a, 0.0)
            new = busy + np.bincount(first, idle, n_links)
            settled |= np.abs(new - period) <= 1e-12 * period
            period = np.where(settled, period, new)
            if settled.all():
                break
        # only a link that idles: the busy time alone is the link bound's (its own sums' order)
        period = np.where(period > busy, period, -np.inf)
    else:
        period = np.full(n_links, -np.inf)
    owner = links // (4 * side * side)
    starts = np.searchsorted(owner, np.arange(count + 1))
    has = starts[1:] > starts[:-1]
    top = np.maximum.reduceat(period, starts[:-1][has])
    hits = np.flatnonzero(period == np.repeat(top, (starts[1:] - starts[:-1])[has]))
    best = hits[np.searchsorted(hits, starts[:-1][has])]
    bound[has], where[has] = top, links[best] % (4 * side * side)
    return bound, where
