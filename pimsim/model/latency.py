"""The latency of one image alone through a design: when each layer starts and finishes.

Part of the kernel's evaluation (:func:`pimsim.model.evaluate.evaluate` calls it per design when
latency is asked for; the synthesizer's fitness does not need it).
"""

from __future__ import annotations

import math

import numpy as np

from pimsim.model.offchip import input_bits
from pimsim.model.tables import DesignArrays, NetworkTables
from pimsim.model.windows import BlockGeometry, first_needed, tail_blocks


def layer_times(
    t: NetworkTables,
    d: DesignArrays,
    block_lat: np.ndarray,
    lp_full: np.ndarray,
    per_image: np.ndarray,
    link_ns: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Start and finish of every layer for one image alone, and the image's latency (ns).

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

    With an off-chip interface (:mod:`pimsim.model.offchip`; the latency counts from the first
    load, as the simulator's does): the input arrives in as many parts as the fed layer with the
    most blocks has blocks, the first before that load, so a layer fed by it finishes no sooner
    than the other parts' crossing (input bits x (1 - 1/parts) / bandwidth) and one block latency,
    and its time per image is at least the whole input's crossing; the image is done when each
    output's last block has been read out of its macro's scratchpad (bits / port rate) and has
    crossed the interface, after the layer's earlier blocks (the whole output's crossing from the
    first block, each block read then sent), nor before the channel has carried the rest of the
    input and every output. Left out: the first part's write into the scratchpad (before the first
    load: the bound is that much long), and queueing on the interface (one image's outputs behind
    the next one's input).
    """
    n = len(t.names)
    starts, finishes = np.zeros(n), np.zeros(n)
    paced = np.maximum(per_image, link_ns)  # time per image, throttled by links and producers
    first_share = np.searchsorted(d.share_layer, np.arange(n))
    geo = [BlockGeometry(layer, int(d.per_block[i])) for i, layer in enumerate(t.layers)]
    fed = t.fed
    arrival = 0.0  # after the first block's load, until the last part of the input is written
    if d.interface_gbit_s:
        in_ns = input_bits(t) / d.interface_gbit_s
        parts = max(geo[i].blocks for i in np.flatnonzero(fed))
        arrival = in_ns * (1 - 1 / parts)
        paced[fed] = np.maximum(paced[fed], in_ns)
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
                start + arrival + block_lat[c] if fed[c] else 0.0,
            )
            + merge[c]
        )
    gone = finishes.copy()  # outputs: once their last block has left the chip
    if d.interface_gbit_s:
        outputs = np.flatnonzero(t.outputs)
        # one channel carries the rest of the input, then every output
        channel = arrival + t.out_bits[outputs].sum() / d.interface_gbit_s
        for i in outputs:
            # each block is read out of its macro's scratchpad, then crosses the interface, one
            # block after the other from the first one published: the last one leaves no sooner
            # than after its own read and crossing, nor than after every block's, nor than after
            # the channel has carried the rest of the input and every output
            block = t.out_bits[i] / geo[i].blocks
            spread = d.spread is not None and bool(d.spread[i])  # read in parts, at each share
            shares = range(first_share[i], ends[i]) if spread else [first_share[i]]
            read = max(
                block
                * (d.share_frac[r] if spread else 1.0)
                / d.macros.port_bits_per_ns[d.share_macro[r]]
                for r in shares
            )
            gone[i] = max(
                finishes[i] + read + block / d.interface_gbit_s,
                starts[i]
                + block_lat[i]
                + merge[i]
                + geo[i].blocks * read
                + t.out_bits[i] / d.interface_gbit_s,
                channel + read,
            )
    return starts, finishes, float(gone.max())
