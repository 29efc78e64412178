"""The NoC traffic of a batch of designs (:mod:`pimsim.model.stack`): every flow of one image
between two macros (see :func:`pimsim.model.evaluate.evaluate_stack`), as one compiled loop over
the batch's designs, edges, layers and shares."""

from __future__ import annotations

import numpy as np
from numba import njit

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

    Per design, in this order: its edges (for each, the consumer's shares in order, from the
    producer's output macro), then its layers' merges (the shares after the first, to the first),
    then the spread parts (per edge from a spread producer, per consumer share, the producer's
    shares, to it). A flow's bits are the edge's (the layer's output) bits times the share's
    fraction (a spread part: times the consumer share's fraction first), its flits those bits
    divided by ``flit_bits``.
    """
    n = len(t.names)
    spread = np.zeros(st.count * n, dtype=bool) if st.spread is None else st.spread
    return _flows(
        np.ascontiguousarray(t.edge_src, dtype=np.int64),
        np.ascontiguousarray(t.edge_dst, dtype=np.int64),
        np.ascontiguousarray(t.edge_bits, dtype=np.float64),
        np.ascontiguousarray(t.out_bits, dtype=np.float64),
        np.ascontiguousarray(layer_start, dtype=np.int64),
        np.ascontiguousarray(st.share_macro, dtype=np.int64),
        np.ascontiguousarray(st.share_frac, dtype=np.float64),
        np.ascontiguousarray(spread, dtype=np.bool_),
        float(flit_bits),
        st.count,
        n,
    )


@njit(cache=True)
def _flows(edge_src, edge_dst, edge_bits, out_bits, layer_start, macro, frac, spread, flit_bits,
           count, n):  # fmt: skip
    """:func:`batch_flows`' loop: every (design, segment, share) in the documented order, the
    flows between one macro and itself left out."""
    n_edges = len(edge_src)
    most = 0  # every (segment, share) pair: an upper bound on the flows
    for d in range(count):
        for e in range(n_edges):
            p, c = d * n + edge_src[e], d * n + edge_dst[e]
            size_c = layer_start[c + 1] - layer_start[c]
            most += size_c * (layer_start[p + 1] - layer_start[p] if spread[p] else 1)
        most += layer_start[(d + 1) * n] - layer_start[d * n]
    src = np.empty(most, dtype=np.int64)
    dst = np.empty(most, dtype=np.int64)
    flits = np.empty(most, dtype=np.float64)
    layer = np.empty(most, dtype=np.int64)
    made = np.empty(most, dtype=np.int64)
    design = np.empty(most, dtype=np.int64)
    k = 0
    for d in range(count):
        k0 = k
        for e in range(n_edges):  # a consumer's shares read from the producer's output macro
            p, c = d * n + edge_src[e], d * n + edge_dst[e]
            if spread[p]:
                continue
            fixed = macro[layer_start[p]]
            for s in range(layer_start[c], layer_start[c + 1]):
                if macro[s] != fixed:
                    src[k], dst[k], flits[k] = fixed, macro[s], edge_bits[e] * frac[s] / flit_bits
                    layer[k], made[k] = c, p
                    k += 1
        for lay in range(d * n, (d + 1) * n):  # a layer's shares send to its first share
            if spread[lay]:
                continue
            fixed = macro[layer_start[lay]]
            for s in range(layer_start[lay] + 1, layer_start[lay + 1]):
                if macro[s] != fixed:
                    src[k], dst[k] = macro[s], fixed
                    flits[k] = out_bits[lay - d * n] * frac[s] / flit_bits
                    layer[k], made[k] = lay, lay
                    k += 1
        for e in range(n_edges):  # a spread producer's shares send to each consumer share
            p, c = d * n + edge_src[e], d * n + edge_dst[e]
            if not spread[p]:
                continue
            for cs in range(layer_start[c], layer_start[c + 1]):
                part = edge_bits[e] * frac[cs]
                for s in range(layer_start[p], layer_start[p + 1]):
                    if macro[s] != macro[cs]:
                        src[k], dst[k], flits[k] = macro[s], macro[cs], part * frac[s] / flit_bits
                        layer[k], made[k] = c, p
                        k += 1
        design[k0:k] = d
    return src[:k], dst[:k], flits[:k], layer[:k], design[:k], made[:k]  # (views: no copies)
