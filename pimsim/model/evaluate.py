"""Evaluating a design on a network with the kernel: per-network tables, per-design arrays, results.

:class:`NetworkTables` depends only on the network and the crossbar/DAC/cell parameters, so it is
built once and reused for every candidate design; :class:`DesignArrays` describes one placement (dup,
shares, macro resources, energies); :func:`evaluate` returns period, latency and energy. The report
path (:func:`pimsim.model.estimate.estimate`) and the synthesizer both go through here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pimsim.arch.mapping import bit_iterations, crossbar_set
from pimsim.model.actions import interface_bits, other_work, pixel_work
from pimsim.model.kernel import (
    BUSY_NAMES,
    WORK,
    MacroArrays,
    Rates,
    block_latency,
    block_period,
    busiest_link,
    interleaved_busy,
    layer_max,
    macro_busy,
    route_loads,
    stage_times,
)
from pimsim.model.plan import LayerPlan
from pimsim.model.pricing import EnergyTable, noc_buffer_bits, price_arrays
from pimsim.model.windows import BlockGeometry, first_needed, tail_blocks
from pimsim.network.graph import Network
from pimsim.network.layer import Layer, LayerKind


@dataclass(frozen=True)
class NetworkTables:
    """Per-network arrays for given crossbar size, cell bits, DAC bits and precisions."""

    names: tuple[str, ...]
    weight: np.ndarray  # (L,) bool
    work: np.ndarray  # (L, K) per item: per output pixel (weight layers) or per output row (others)
    items: np.ndarray  # (L,) output pixels or output rows
    bit_iters: np.ndarray  # (L,)
    set_crossbars: np.ndarray  # (L,) crossbars per copy (0 for other layers)
    edge_src: np.ndarray  # (E,) producer layer index
    edge_dst: np.ndarray  # (E,)
    edge_bits: np.ndarray  # (E,) bits the consumer reads from the producer per image
    edge_flat: np.ndarray  # (E,) bool: the consumer sees the producer's output reshaped
    out_bits: np.ndarray  # (L,)
    geometry: np.ndarray  # (L, 7): out W, kernel H, stride H, dilation H, pad top, is FC, out H
    ops: int
    layers: tuple[Layer, ...] = ()
    io_bits: float = 0.0  # bits one image moves across the off-chip interface (in + out)

    @classmethod
    def build(
        cls,
        network: Network,
        xbar: int,
        cell_bits: int,
        dac_bits: int,
        weight_bits: int = 16,
        activation_bits: int = 16,
    ) -> NetworkTables:
        bits = bit_iterations(activation_bits, dac_bits)
        index = {layer.name: i for i, layer in enumerate(network.layers)}
        rows = []
        for layer in network.layers:
            if layer.kind.has_weights:
                xset = crossbar_set(layer, xbar, cell_bits, weight_bits)
                lp = LayerPlan(layer, xset, 1, layer.out_pixels, bits, ())
                work = pixel_work(lp, activation_bits)
                rows.append(
                    ([work.get(a, 0.0) for a in WORK], layer.out_pixels, bits, xset.crossbars)
                )
            else:
                work = other_work(LayerPlan(layer, None, 1, 1, 1, ()), activation_bits)
                n = max(layer.out_shape.h, 1)
                rows.append(([work.get(a, 0.0) / n for a in WORK], n, 1, 0))
        src, dst, ebits, flat = [], [], [], []
        for layer in network.layers:
            for source, seen in zip(layer.inputs, layer.in_shapes, strict=True):
                if source in index:
                    src.append(index[source])
                    dst.append(index[layer.name])
                    ebits.append(seen.size * activation_bits)
                    flat.append(seen != network[source].out_shape)
        return cls(
            tuple(index),
            np.array([l.kind.has_weights for l in network.layers]),
            np.array([r[0] for r in rows], dtype=float),
            np.array([r[1] for r in rows]),
            np.array([r[2] for r in rows]),
            np.array([r[3] for r in rows]),
            np.array(src, dtype=int),
            np.array(dst, dtype=int),
            np.array(ebits, dtype=float),
            np.array(flat, dtype=bool),
            np.array([l.out_shape.size * activation_bits for l in network.layers], dtype=float),
            np.array(
                [
                    (
                        l.out_shape.w,
                        l.kernel[0],
                        l.strides[0],
                        l.dilation[0],
                        l.pads[0],
                        int(l.kind is LayerKind.FC),
                        l.out_shape.h,
                    )
                    for l in network.layers
                ],
                dtype=int,
            ).reshape(-1, 7),
            network.ops,
            network.layers,
            float(interface_bits(network, activation_bits)),
        )


@dataclass(frozen=True)
class DesignArrays:
    """One design, as the kernel reads it. Shares are sorted by layer; a layer's first share is
    its output macro."""

    per_block: np.ndarray  # (L,) items per block: dup for weight layers, 1 for others
    share_layer: np.ndarray  # (S,)
    share_macro: np.ndarray  # (S,)
    share_frac: np.ndarray  # (S,)
    macros: MacroArrays
    rates: Rates
    positions: np.ndarray  # (M, 2) router row, col
    mesh: tuple[int, int]
    flit_bits: int
    flit_ns: float
    energy: EnergyTable
    hop_ns: float = 0.0
    spread: np.ndarray | None = None  # (L,) bool: outputs kept by each share (see model.plan)
    interface_gbit_s: float = 0.0  # off-chip interface bandwidth, bits/ns (0: no interface)


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate` finds; times in ns, energies in pJ per image."""

    period_ns: float
    period_set_by: str
    latency_ns: float
    stages: np.ndarray  # (L, stages) full-block stage times in each layer's slowest share
    block_period_ns: np.ndarray  # (L,)
    block_latency_ns: np.ndarray  # (L,)
    per_image_ns: np.ndarray  # (L,)
    start_ns: np.ndarray
    finish_ns: np.ndarray
    blocks: np.ndarray
    action_counts: np.ndarray  # (K,) per image
    share_work: np.ndarray  # (S, K) per image
    flit_hops: float
    energy_by_component_pj: np.ndarray  # (C,) in pimsim.model.pricing.COMPONENTS order
    noc_buffer_bits: np.ndarray | None = None  # (M, 2) scratchpad bits read / written for the NoC
    interface_bits: float = 0.0  # per image, across the off-chip interface

    @property
    def energy_pj(self) -> float:
        return float(self.energy_by_component_pj.sum())


def _flows(
    t: NetworkTables, d: DesignArrays
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(src macro, dst macro, flits, layer) of every flow of one image between different macros.

    A consumer's input goes from the producer's output macro (its first share) to each of the
    consumer's shares in proportion (the flow's layer: the consumer); every share of a layer but the
    first sends its results to the first (the flow's layer: that layer). A *spread* producer's
    output is not gathered: each of its shares sends its part to each consumer share.
    """
    lay, macro, frac = d.share_layer, d.share_macro, d.share_frac
    layers = np.arange(len(t.names))
    starts = np.searchsorted(lay, layers)
    ends = np.searchsorted(lay, layers, side="right")
    first = macro[starts]
    count = (ends - starts)[t.edge_dst]
    edge = np.repeat(np.arange(len(t.edge_dst)), count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    share = starts[t.edge_dst][edge] + offset
    not_first = np.ones(len(lay), dtype=bool)
    not_first[starts] = False
    rest = np.nonzero(not_first)[0]
    src = np.concatenate([first[t.edge_src][edge], macro[rest]])
    dst = np.concatenate([macro[share], first[lay[rest]]])
    bits = np.concatenate([t.edge_bits[edge] * frac[share], t.out_bits[lay[rest]] * frac[rest]])
    layer = np.concatenate([t.edge_dst[edge], lay[rest]])
    if d.spread is not None and d.spread.any():
        gathered = ~np.concatenate([d.spread[t.edge_src[edge]], d.spread[lay[rest]]])
        src, dst, bits, layer = src[gathered], dst[gathered], bits[gathered], layer[gathered]
        more = [
            (macro[ps], macro[cs], t.edge_bits[e] * frac[cs] * frac[ps], t.edge_dst[e])
            for e in np.nonzero(d.spread[t.edge_src])[0]
            for cs in range(starts[t.edge_dst[e]], ends[t.edge_dst[e]])
            for ps in range(starts[t.edge_src[e]], ends[t.edge_src[e]])
        ]
        if more:
            ms, md, mb, ml = (np.array(x) for x in zip(*more, strict=True))
            src, dst = np.concatenate([src, ms]), np.concatenate([dst, md])
            bits, layer = np.concatenate([bits, mb]), np.concatenate([layer, ml])
    keep = src != dst
    return src[keep], dst[keep], bits[keep] / d.flit_bits, layer[keep]


def evaluate(t: NetworkTables, d: DesignArrays, latency: bool = True) -> Evaluation:
    """Period, latency and energy of one image of design ``d`` (see :mod:`pimsim.model.kernel`)."""
    n = len(t.names)
    lay = d.share_layer
    first = np.searchsorted(lay, np.arange(n))
    blocks = -(-t.items // d.per_block)
    full = np.minimum(d.per_block, t.items)
    last = t.items - (blocks - 1) * d.per_block
    frac = d.share_frac[:, None]
    base = t.work[lay] * frac
    both = stage_times(
        np.concatenate([base * full[lay][:, None], base * last[lay][:, None]]),
        np.tile(t.weight[lay], 2),
        np.tile(d.share_macro, 2),
        d.rates,
        d.macros,
    )
    s_count = len(lay)
    full_stages = both[:s_count]
    periods = block_period(both)
    p_full, p_last = periods[:s_count], periods[s_count:]
    lp_full, lp_last = layer_max(p_full, first), layer_max(p_last, first)
    order = np.lexsort((p_full, lay))  # by layer, each layer's slowest share last
    worst = order[np.append(first[1:], s_count) - 1]
    block_lat = (
        block_latency(full_stages[worst], t.bit_iters.astype(float)) if latency else np.zeros(n)
    )
    per_image = (blocks - 1) * lp_full + lp_last
    share_work = base * t.items[lay][:, None]
    i = int(np.argmax(per_image))
    period, set_by = float(per_image[i]), f"layer {t.names[i]}"
    residents = np.bincount(d.share_macro, minlength=len(d.macros.adcs))
    in_shared = residents[d.share_macro] > 1
    if in_shared.any():
        busy = macro_busy(share_work[in_shared], d.share_macro[in_shared], d.rates, d.macros)
        r, c = np.unravel_index(int(np.argmax(busy)), busy.shape)
        if busy[r, c] > period:
            period, set_by = float(busy[r, c]), f"{BUSY_NAMES[c]} of macro {r}"
        turns = interleaved_busy(
            full_stages,
            p_full,
            blocks[lay].astype(float),
            t.bit_iters[lay].astype(float),
            d.share_macro,
            t.weight[lay].astype(bool),
            len(d.macros.adcs),
        )
        r = int(np.argmax(turns))
        if turns[r] > period:
            period, set_by = float(turns[r]), f"two layers taking turns in macro {r}"
    src, dst, flits, flow_layer = _flows(t, d)
    hops = np.abs(d.positions[src] - d.positions[dst]).sum(axis=1)
    flit_hops = float((flits * hops).sum())
    if flits.sum() * d.flit_ns > period:  # no link can carry more than all the traffic
        busy_ns, link = busiest_link(src, dst, flits, d.positions, d.mesh, d.flit_ns)
        if busy_ns > period:
            period, set_by = busy_ns, f"NoC link {link[0]}->{link[1]}"
    io_bits = t.io_bits if d.interface_gbit_s else 0.0  # the interface bounds the period
    if io_bits and io_bits / d.interface_gbit_s > period:
        period, set_by = io_bits / d.interface_gbit_s, "off-chip interface"
    moved = noc_buffer_bits(src, dst, flits * d.flit_bits, len(d.macros.adcs))
    energy = price_arrays(share_work, d.share_macro, flit_hops, period, d.energy, moved, io_bits)
    starts = finishes = np.zeros(n)
    if latency:
        links = np.zeros(n)  # per layer, the busiest link its inputs or its parts' merges take
        np.maximum.at(links, flow_layer, route_loads(src, dst, flits, d.positions, d.mesh))
        starts, finishes = _latency(t, d, block_lat, lp_full, per_image, links * d.flit_ns)
    return Evaluation(
        period,
        set_by,
        float(finishes.max()) if latency else 0.0,
        full_stages[worst],
        lp_full,
        block_lat,
        per_image,
        starts,
        finishes,
        blocks,
        share_work.sum(axis=0),
        share_work,
        flit_hops,
        energy,
        moved,
        io_bits,
    )


def _latency(
    t: NetworkTables,
    d: DesignArrays,
    block_lat: np.ndarray,
    lp_full: np.ndarray,
    per_image: np.ndarray,
    link_ns: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Start and finish of every layer for one image alone.

    A layer starts when each producer has made the blocks its first block needs
    (:func:`pimsim.model.windows.first_needed`), gathered every share's part of them in its output
    macro (the farthest share's hops x hop latency + the flits queued on the busiest link into that
    router x flit time), and they have crossed the NoC to the consumer (hops x hop latency + flits x
    flit time; a spread producer's parts come from the farthest of its shares). A producer makes its blocks no faster than its own block period,
    nor faster than its own producers feed it (its time per image is at least theirs). A layer
    finishes after its own time per image, and no sooner than its last producer's last block plus
    the blocks that read it (:func:`pimsim.model.windows.tail_blocks`), one block period each, and
    one block latency; nor before the busiest link its inputs or its parts' merges cross has carried
    the rest of an image's traffic after the first block (``link_ns``: that link's busy time per
    image, every flow on it counted) and the last block has gone through the layer.
    """
    n = len(t.names)
    starts, finishes = np.zeros(n), np.zeros(n)
    paced = np.maximum(per_image, link_ns)  # time per image, throttled by links and producers
    first_share = np.searchsorted(d.share_layer, np.arange(n))
    geo = [BlockGeometry(layer, int(d.per_block[i])) for i, layer in enumerate(t.layers)]
    ends = np.append(first_share[1:], len(d.share_layer))
    merge = np.zeros(n)  # a block is published when every share's part reached the output macro
    for i in range(n):
        if d.spread is not None and d.spread[i]:
            continue  # not gathered
        out = d.share_macro[first_share[i]]
        (ro, co), far, into = d.positions[out], 0, {}
        for r in range(first_share[i] + 1, ends[i]):
            if d.share_macro[r] == out:
                continue
            rm, cm = d.positions[d.share_macro[r]]
            far = max(far, abs(rm - ro) + abs(cm - co))
            # X then Y: the part enters the output router along its column if the rows differ
            link = ("y", int(np.sign(rm - ro))) if rm != ro else ("x", int(np.sign(cm - co)))
            flits = math.ceil(t.out_bits[i] / geo[i].blocks * d.share_frac[r] / d.flit_bits)
            into[link] = into.get(link, 0) + flits
        if into:  # the parts queue on the links into the output router
            merge[i] = far * d.hop_ns + max(into.values()) * d.flit_ns
    incoming: list[list[int]] = [[] for _ in range(n)]
    for e, c in enumerate(t.edge_dst):
        incoming[c].append(e)
    for c in range(n):
        start = last_producer = 0.0
        first_part = 1.0  # the share of the link's traffic that arrived before the start
        for e in incoming[c]:
            p = int(t.edge_src[e])
            first_part = min(first_part, 1 / geo[p].blocks)
            whole = bool(t.geometry[c][5]) or bool(t.edge_flat[e])
            k = first_needed(geo[c], geo[p], whole)
            pace = max(lp_full[p], paced[p] / geo[p].blocks)
            dst = d.share_macro[first_share[c]]
            # from the output macro, or (spread) from the farthest of the producer's shares
            spread = d.spread is not None and bool(d.spread[p])
            srcs = d.share_macro[first_share[p] : ends[p] if spread else first_share[p] + 1]
            hops = int(np.abs(d.positions[srcs] - d.positions[dst]).sum(axis=1).max())
            part = d.share_frac[first_share[p]] if spread else 1.0
            flits = math.ceil(
                t.edge_bits[e] / geo[p].blocks * d.share_frac[first_share[c]] * part / d.flit_bits
            )
            noc = hops * d.hop_ns + flits * d.flit_ns if (srcs != dst).any() else 0.0
            ready = starts[p] + block_lat[p] + merge[p] + (k - 1) * pace + noc
            start = max(start, min(ready, finishes[p] + noc))
            tail = tail_blocks(geo[c], geo[p], whole)  # blocks that wait for the last one
            last_producer = max(last_producer, finishes[p] + noc + (tail - 1) * lp_full[c])
            paced[c] = max(paced[c], paced[p])
        starts[c] = start
        finishes[c] = (
            max(
                start + block_lat[c] - lp_full[c] + per_image[c],
                last_producer + block_lat[c],
                start + link_ns[c] * (1 - first_part) + block_lat[c],
            )
            + merge[c]
        )
    return starts, finishes
