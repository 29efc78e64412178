"""The NoC traffic of a batch of designs (:mod:`pimsim.model.stack`): every flow of one image
between two macros, and a cheap bound on the busiest link of each design (see
:func:`pimsim.model.evaluate.evaluate_batch`)."""

from __future__ import annotations

import numpy as np

from pimsim.model.kernel import Ends
from pimsim.model.stack import Stack, tile
from pimsim.model.tables import NetworkTables


def batch_flows(
    t: NetworkTables, st: Stack, layer_start: np.ndarray, flit_bits: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(src macro, dst macro, flits, batch layer) of every flow of one image between different
    macros, grouped by design (in each design: inputs by edge, then merges, then spread parts).

    A consumer's input goes from the producer's output macro (its first share) to each of the
    consumer's shares in proportion (the flow's layer: the consumer); every share of a layer but the
    first sends its results to the first (the flow's layer: that layer). A *spread* producer's
    output is not gathered: each of its shares sends its part to each consumer share.
    ``layer_start``: each batch layer's first share, and the number of shares.
    """
    n = len(t.names)
    lay, glay, macro, frac = st.share_layer, st.layer, st.share_macro, st.share_frac
    starts, ends = layer_start[:-1], layer_start[1:]
    first = macro[starts]
    shift = (np.arange(st.count) * n)[:, None]
    e_src, e_dst = (shift + t.edge_src).ravel(), (shift + t.edge_dst).ravel()
    e_bits = tile(t.edge_bits, st.count)
    count = (ends - starts)[e_dst]
    edge = np.repeat(np.arange(len(e_dst)), count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    share = starts[e_dst][edge] + offset
    not_first = np.ones(len(lay), dtype=bool)
    not_first[starts] = False
    rest = np.nonzero(not_first)[0]
    src = np.concatenate([first[e_src][edge], macro[rest]])
    dst = np.concatenate([macro[share], first[glay[rest]]])
    bits = np.concatenate([e_bits[edge] * frac[share], t.out_bits[lay[rest]] * frac[rest]])
    layer = np.concatenate([e_dst[edge], glay[rest]])
    if st.spread is not None:
        gathered = ~np.concatenate([st.spread[e_src[edge]], st.spread[glay[rest]]])
        src, dst, bits, layer = src[gathered], dst[gathered], bits[gathered], layer[gathered]
        more = [
            (macro[ps], macro[cs], e_bits[e] * frac[cs] * frac[ps], e_dst[e])
            for e in np.nonzero(st.spread[e_src])[0]
            for cs in range(starts[e_dst[e]], ends[e_dst[e]])
            for ps in range(starts[e_src[e]], ends[e_src[e]])
        ]
        if more:
            ms, md, mb, ml = (np.array(x) for x in zip(*more, strict=True))
            src, dst = np.concatenate([src, ms]), np.concatenate([dst, md])
            bits, layer = np.concatenate([bits, mb]), np.concatenate([layer, ml])
    keep = src != dst
    src, dst, bits, layer = src[keep], dst[keep], bits[keep], layer[keep]
    order = np.argsort(layer // n, kind="stable")
    return src[order], dst[order], bits[order] / flit_bits, layer[order]


def line_traffic(
    meshes: np.ndarray, ends: Ends, flits: np.ndarray, design: np.ndarray
) -> np.ndarray:
    """(B,) per design, the most flits per image whose horizontal legs run along one mesh row or
    whose vertical legs run along one column (X-then-Y routing): a bound on any link's load."""
    count, side = len(meshes), int(meshes.max())
    r0, c0, r1, c1 = ends
    size = count * side
    lines = np.concatenate(
        [
            np.where(c0 != c1, design * side + r0, 2 * size),
            np.where(r0 != r1, size + design * side + c1, 2 * size),
        ]
    )
    per_line = np.bincount(lines, np.concatenate([flits, flits]), 2 * size + 1)[:-1]
    return per_line.reshape(2 * count, side).max(axis=1).reshape(2, count).max(axis=0)
