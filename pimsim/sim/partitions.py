"""Scratchpad space: how many producer blocks a consumer holds, and each macro's split into partitions.

Two rules of the dataflow compiler (:mod:`pimsim.sim.compiler`, whose docstring states them in full):
a consumer input holds its widest window of producer blocks (more where paths reconverge, and at a
join what its producer makes at the period while the join waits for its long path), and each
scratchpad is split in proportion to its partitions' needs, with every partition's floor first when
it is too small for them.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from pimsim.model.plan import Plan
from pimsim.model.windows import BlockGeometry
from pimsim.sim.ir import PartitionSpec


def held_spans(
    plan: Plan,
    geos: dict[str, BlockGeometry],
    wins: dict[tuple[str, int], tuple[list[int], list[int]]],
) -> dict[tuple[str, int], int]:
    """Per consumer input, how many producer blocks must be held while the consumer waits.

    Usually the consumer's widest window. Where paths reconverge (a residual branch), the consumer's
    block ``k`` also waits for its other inputs, which need the producer's blocks up to ``H(k)``
    (windows composed along every path); the producer must be able to run that far ahead while
    the consumer still holds its window from ``lo(k)``: ``max_k H(k) - lo(k) + 1`` blocks. Less
    space deadlocks: the producer waits for space that only the consumer can free, the consumer
    for a block only the producer can make.
    """
    net = plan.network
    order = [layer.name for layer in net.layers]
    position = {name: i for i, name in enumerate(order)}
    spans: dict[tuple[str, int], int] = {}
    for p in order:
        reach = {p: np.arange(geos[p].blocks)}  # highest block of p that each block needs
        for c in order[position[p] + 1 :]:
            layer = net[c]
            needs = [
                reach[src][np.asarray(wins[(c, e)][1])]
                for e, src in enumerate(layer.inputs)
                if src in reach
            ]
            if not needs:
                continue
            reach[c] = np.maximum.reduce(needs)
            for e, src in enumerate(layer.inputs):
                if src == p:
                    lo = np.asarray(wins[(c, e)][0])
                    spans[(c, e)] = int((reach[c] - lo).max()) + 1
    return spans


def join_spans(
    plan: Plan,
    geos: dict[str, BlockGeometry],
    wins: dict[tuple[str, int], tuple[list[int], list[int]]],
) -> dict[tuple[str, int], int]:
    """Per input of a join (a layer with two or more inputs), how many producer blocks it holds
    when every layer runs at one period, each spreading an image's blocks evenly over it.

    In that schedule (time in periods) layer ``L`` starts its block ``b`` at ``t_L + b / B_L``
    (``B_L`` blocks an image), as early as its windows allow: ``t_c = max over its inputs s of
    t_s + max_k (hi(k) + 1) / B_s - k / B_c``. A join waits for its slowest input (the long path
    of a residual block: two convolutions, each a row or more behind its input) while its other
    producer (the skip, or a 1x1 projection of it) keeps making blocks at the same pace; they stay
    until the join's load of block ``k`` frees those below ``lo(k + 1)``: ``max_k floor(B_s (t_c -
    t_s + k / B_c)) - lo(k)`` blocks (the queue adds one for the block being written). With less,
    the short path's producer stops for space although no stage is slower than the period; where
    every stage is busy the whole period a stopped stage never catches up, and the stops compound
    around the residual block and upstream. The period cancels: the count depends on the windows
    and the block counts only.
    """
    net = plan.network
    start: dict[str, float] = {}
    for layer in net.layers:
        n = geos[layer.name].blocks
        k = np.arange(n)
        start[layer.name] = max(
            [
                start[src]
                + float(
                    ((np.asarray(wins[(layer.name, e)][1]) + 1) / geos[src].blocks - k / n).max()
                )
                for e, src in enumerate(layer.inputs)
                if (layer.name, e) in wins
            ],
            default=0.0,
        )
    spans: dict[tuple[str, int], int] = {}
    for layer in net.layers:
        ins = [e for e in range(len(layer.inputs)) if (layer.name, e) in wins]
        if len(ins) < 2:
            continue
        n = geos[layer.name].blocks
        k = np.arange(n)
        for e in ins:
            src = layer.inputs[e]
            made = np.floor(geos[src].blocks * (start[layer.name] - start[src] + k / n) + 1e-9)
            spans[(layer.name, e)] = int((made - np.asarray(wins[(layer.name, e)][0])).max())
    return spans


def span_bits(lo: int, hi: int, block_bits: tuple[int, int], blocks: int) -> int:
    """Bits of producer blocks ``lo .. hi`` (the last block of an image may be short)."""
    n = hi - lo + 1
    return n * block_bits[0] - (block_bits[0] - block_bits[1] if hi == blocks - 1 else 0.0)


def split_scratchpads(
    plan: Plan, minimum: dict[tuple[int, str], int], floor: dict[tuple[int, str], int]
) -> tuple[tuple[PartitionSpec, ...], tuple[str, ...]]:
    """Scratchpad partitions: each macro's scratchpad split in proportion to what its partitions
    need (scaled up to fill it). A scratchpad too small for that gives every partition its floor
    (a queue its widest window, a staging one block: no overlap, but no deadlock) and the rest in
    proportion to what each needs beyond it, with a warning; one too small even for the floors is
    scaled down, with a warning that the run may deadlock."""
    by_macro: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for (macro, name), bits in minimum.items():
        by_macro[macro].append((name, bits))
    out, warnings = [], []
    for macro in sorted(by_macro):
        capacity = plan.groups[macro].buffer_kib * 8192
        parts = by_macro[macro]
        need = sum(b for _, b in parts)
        lows = [floor.get((macro, name), bits) for name, bits in parts]
        low = sum(lows)
        where = (
            f"macro {macro} ({plan.groups[macro].name}): its input windows and output "
            f"staging need {need:,} bits to overlap transfers with work but its scratchpad "
            f"holds {capacity:,}"
        )
        if need <= capacity or low > capacity:
            scale = capacity / need if need else 1.0
            out += [PartitionSpec(macro, name, int(bits * scale)) for name, bits in parts]
            if need > capacity:
                warnings.append(
                    f"{where}, less than the {low:,} they need at the least; the run may deadlock"
                )
            continue
        share = (capacity - low) / (need - low)
        out += [
            PartitionSpec(macro, name, lo + int((bits - lo) * share))
            for (name, bits), lo in zip(parts, lows, strict=True)
        ]
        warnings.append(
            f"{where}; each partition gets what it needs at the least ({low:,} bits "
            "in all) and a share of the rest: the run may stall for space"
        )
    return tuple(out), tuple(warnings)
