"""The NoC traffic of a batch of designs (:mod:`pimsim.model.stack`): every flow of one image
between two macros, and a cheap bound on the busiest link of each design (see
:func:`pimsim.model.evaluate.evaluate_batch`)."""

from __future__ import annotations

import numpy as np

from pimsim.model.kernel import Ends
from pimsim.model.stack import Stack
from pimsim.model.tables import NetworkTables


def batch_flows(
    t: NetworkTables, st: Stack, layer_start: np.ndarray, flit_bits: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(src macro, dst macro, flits, batch layer, design, producer) of every flow of one image
    between different macros, grouped by design (in each design: inputs by edge, then merges, then
    spread parts); the producer is the batch layer whose blocks the flow carries, one packet a
    block (the edge's producer; a merge's own layer).

    A consumer's input goes from the producer's output macro (its first share) to each of the
    consumer's shares in proportion (the flow's layer: the consumer); every share of a layer but the
    first sends its results to the first (the flow's layer: that layer). A *spread* producer's
    output is not gathered: each of its shares sends its part to each consumer share.
    ``layer_start``: each batch layer's first share, and the number of shares.

    The flows are laid out directly in that order as *segments*, each a run of consecutive shares
    with one fixed end: per design its edges (the consumer's shares, from the producer's output
    macro), then its layers' merges (the shares after the first, to the first), then the spread
    parts (per consumer share, the producer's shares, to it).
    """
    n, count, n_edges = len(t.names), st.count, len(t.edge_src)
    macro, frac = st.share_macro, st.share_frac
    starts = layer_start[:-1]
    sizes = np.diff(layer_start)
    first = macro[starts]
    shift = (np.arange(count) * n)[:, None]
    e_src, e_dst = shift + t.edge_src, shift + t.edge_dst  # (B, E)
    by_layer = (count, n)
    seg_start = np.concatenate([starts[e_dst], (starts + 1).reshape(by_layer)], axis=1)
    seg_len = np.concatenate([sizes[e_dst], (sizes - 1).reshape(by_layer)], axis=1)
    seg_fixed = np.concatenate([first[e_src], first.reshape(by_layer)], axis=1)
    seg_bits = np.concatenate(
        [np.broadcast_to(t.edge_bits, (count, n_edges)), np.broadcast_to(t.out_bits, by_layer)],
        axis=1,
    )
    seg_layer = np.concatenate([e_dst, np.arange(count * n).reshape(by_layer)], axis=1)
    seg_made = np.concatenate([e_src, np.arange(count * n).reshape(by_layer)], axis=1)
    # a merge's (and a spread part's) shares send to the fixed end; an edge's receive from it
    seg_in = np.broadcast_to(np.arange(n_edges + n) >= n_edges, seg_len.shape)
    seg_design = np.broadcast_to(np.arange(count)[:, None], seg_len.shape)
    segments = [
        x.ravel() for x in (seg_start, seg_len, seg_fixed, seg_bits, seg_layer, seg_in, seg_made)
    ]
    if st.spread is not None:
        spread = st.spread
        seg_len[:, :n_edges][spread[e_src]] = 0  # not gathered: sent in parts below
        seg_len[:, n_edges:][spread.reshape(by_layer)] = 0
        segments[1] = seg_len.ravel()
        more = [
            (starts[ps], sizes[ps], macro[cs], t.edge_bits[e % n_edges] * frac[cs], cd, True, ps)
            for e, (ps, cd) in enumerate(
                zip(e_src.ravel().tolist(), e_dst.ravel().tolist(), strict=True)
            )
            if spread[ps]
            for cs in range(starts[cd], starts[cd] + sizes[cd])
        ]
        if more:
            extra = [np.array(x) for x in zip(*more, strict=True)]
            design = np.concatenate([seg_design.ravel(), extra[4] // n])
            order = np.argsort(design, kind="stable")  # each design's spread parts last
            segments = [np.concatenate([a, b])[order] for a, b in zip(segments, extra, strict=True)]
    start, length, fixed, bits, layer, sends, made = segments
    ends = np.cumsum(length)
    share = np.arange(ends[-1]) + np.repeat(start - (ends - length), length)
    moving = macro[share]
    fixed, sends = np.repeat(fixed, length), np.repeat(sends, length)
    src, dst = np.where(sends, moving, fixed), np.where(sends, fixed, moving)
    bits = np.repeat(bits, length) * frac[share]
    layer, made = np.repeat(layer, length), np.repeat(made, length)
    keep = np.flatnonzero(src != dst)
    src, dst, bits, layer, made = (np.take(x, keep) for x in (src, dst, bits, layer, made))
    return src, dst, bits / flit_bits, layer, layer // n, made


def line_loads(
    meshes: np.ndarray, ends: Ends, flits: np.ndarray, design: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(B, P) twice: per design and mesh row, the flits per image whose horizontal legs run along
    the row, and per column those whose vertical legs run along it (X-then-Y routing; ``P`` the
    largest mesh side): a bound on the load of any link of the line."""
    count, side = len(meshes), int(meshes.max())
    r0, c0, r1, c1 = ends
    size = count * side
    line = design * side  # (each line's bin sees its legs in flow order)
    rows = np.bincount(np.where(c0 != c1, line + r0, size), flits, size + 1)[:-1]
    cols = np.bincount(np.where(r0 != r1, line + c1, size), flits, size + 1)[:-1]
    return rows.reshape(count, side), cols.reshape(count, side)
