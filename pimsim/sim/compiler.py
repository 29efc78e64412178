"""The dataflow compiler: a placed network (:class:`~pimsim.model.plan.Plan`) -> a :class:`Program`.

Everything the run needs that depends on the dataflow and not on timing is decided here:

- **blocks**: a weight layer works in blocks of ``dup`` output pixels, another layer in blocks of
  one output row (as :mod:`pimsim.model.kernel` documents);
- **work**: per item from :func:`~pimsim.model.actions.pixel_work` (weight layers, per output pixel)
  or :func:`~pimsim.model.actions.other_work` divided by the output rows, times the items of a block
  and the share's fraction of the layer's crossbars;
- **windows**: for every consumer block, the first and last producer block it reads (sliding window,
  rows and columns each with their kernel, stride, padding and dilation; the last input pixel of the
  last output pixel decides when the block can start, the first input pixel of the next block
  decides what can be freed);
- **flows**: a consumer share reads its input from the producer's output macro, in proportion to its
  crossbar share; every other share of a multi-macro layer merges its results into the output macro
  (a *spread* producer, :mod:`pimsim.model.plan`: no merges, each share sends its own part);
  routes are X then Y between router positions (as :mod:`pimsim.model.evaluate` documents);
- **scratchpad partitions** per macro: a remote consumer share's input queue needs its widest
  window plus one block; a layer's output staging in its output macro needs two blocks, or the widest
  window plus one of a consumer share that reads it in place. A consumer share in that same macro
  reads in place unless it works on a slice of the layer small enough that a queue of its own slice
  of the window takes less room than holding whole producer blocks for it (a many-macro layer
  reading a wide map); its slice is then handed over within the macro, with no NoC time or energy;
  a share's staging elsewhere needs two of its parts. Sizes are in the whole bits the simulator
  reserves (each part of a block rounded up). Each scratchpad is split in proportion to these
  needs; one too small for them gives every partition its floor first (a queue its widest window,
  a staging one block: the run may stall for space but cannot deadlock on it) and warns; one too
  small even for the floors is scaled down with a warning that the run may deadlock.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from pimsim.model.actions import Action, interface_bits, other_work, pixel_work
from pimsim.model.plan import LayerPlan, Plan
from pimsim.model.windows import BlockGeometry, windows
from pimsim.network.layer import LayerKind
from pimsim.sim.core import whole_parts
from pimsim.sim.ir import (
    FlowSpec,
    InputSpec,
    LayerInfo,
    Link,
    Op,
    PartitionSpec,
    Position,
    Program,
    StageSpec,
    Task,
)

#: Per-block stages after the per-bit ones, in pipeline order, with the action each performs.
POST_STAGES = (
    ("add", Action.ADD),
    ("pool", Action.POOL),
    ("eltwise", Action.ELTWISE),
    ("activation", Action.ACTIVATION),
    ("sigmoid", Action.SIGMOID),
)


def route(a: Position, b: Position) -> tuple[Link, ...]:
    """The directed links from router ``a`` to ``b``: along a's row first, then b's column."""
    links: list[Link] = []
    (r, c), (r1, c1) = a, b
    while c != c1:
        step = 1 if c1 > c else -1
        links.append(((r, c), (r, c + step)))
        c += step
    while r != r1:
        step = 1 if r1 > r else -1
        links.append(((r, c), (r + step, c)))
        r += step
    return tuple(links)


def _per_item(lp: LayerPlan, geo: BlockGeometry, activation_bits: int) -> dict[Action, float]:
    if lp.xset is not None:
        return dict(pixel_work(lp, activation_bits))
    return {a: v / geo.items for a, v in other_work(lp, activation_bits).items()}


def _stages(
    work: dict[Action, float], geo: BlockGeometry, bits: int, frac: float, weight: bool
) -> tuple[StageSpec, ...]:
    scale = (geo.full * frac, geo.last * frac)

    def spec(name: str, per_bit: bool, main: Action, *extra: Action) -> StageSpec:
        div = bits if per_bit else 1
        acts = tuple(
            (str(a), work.get(a, 0.0) / div * scale[0], work.get(a, 0.0) / div * scale[1])
            for a in (main, *extra)
            if work.get(a, 0.0)
        )
        base = work.get(main, 0.0) / div
        return StageSpec(name, per_bit, (base * scale[0], base * scale[1]), acts)

    out = [spec("load", False, Action.BUFFER_READ_BITS)]
    if weight:
        mvm = spec("mvm", True, Action.XBAR_READ, Action.DAC, Action.SAMPLE_HOLD)
        out += [mvm, spec("adc", True, Action.ADC), spec("shift_add", True, Action.SHIFT_ADD)]
    out += [spec(name, False, action) for name, action in POST_STAGES if work.get(action, 0.0)]
    out.append(spec("store", False, Action.BUFFER_WRITE_BITS))
    return tuple(out)


def compile_program(plan: Plan) -> Program:
    """Compile ``plan`` into a program (windows, work, flows, partitions)."""
    hw = plan.arch.hardware
    net = plan.network
    act_bits = hw.activation_bits
    positions: tuple[Position, ...] = tuple((int(r), int(c)) for r, c in plan.router_pos)
    geos = {x.name: BlockGeometry(x, plan.layers[x.name].dup) for x in net.layers}
    tasks: list[Task] = []
    flows: list[FlowSpec] = []
    minimum: dict[tuple[int, str], int] = defaultdict(int)  # what a partition needs to overlap
    floor: dict[tuple[int, str], int] = defaultdict(int)  # what it needs not to deadlock
    task_ids: dict[str, list[int]] = {}
    transfers: dict[str, list[int]] = defaultdict(list)
    merges: dict[str, list[int]] = defaultdict(list)
    out_blocks: dict[str, int] = defaultdict(lambda: 2)  # blocks held at a layer's output macro
    staged: dict[str, int] = defaultdict(int)  # whole bits of a full block there

    def add_flow(
        op: str,
        layer: str,
        src: int,
        dst: int,
        task: int,
        blocks: int,
        bits: tuple[float, float],
        partition: str,
        in_place: bool = False,
        source_task: int | None = None,
    ) -> int:
        fid = len(flows)
        flows.append(
            FlowSpec(
                fid,
                Op(op),
                layer,
                src,
                dst,
                task,
                blocks,
                bits,
                route(positions[src], positions[dst]),
                partition,
                in_place,
                source_task,
            )
        )
        return fid

    wins: dict[tuple[str, int], tuple[list[int], list[int]]] = {}
    for layer in net.layers:
        for e, (source, seen) in enumerate(zip(layer.inputs, layer.in_shapes, strict=True)):
            if source in geos:
                whole = layer.kind is LayerKind.FC or seen != net[source].out_shape
                wins[(layer.name, e)] = windows(geos[layer.name], geos[source], whole)
    spans = _spans(plan, geos, wins)
    for layer in net.layers:
        lp, geo = plan.layers[layer.name], geos[layer.name]
        weight = lp.xset is not None
        work = _per_item(lp, geo, act_bits)
        block_bits = geo.block_bits(act_bits)
        bits = lp.bit_iters if weight else 1
        ids = []
        for s, share in enumerate(lp.shares):
            tid = len(tasks)
            ids.append(tid)
            inputs = []
            for e, (source, seen) in enumerate(zip(layer.inputs, layer.in_shapes, strict=True)):
                if source not in geos:
                    continue
                pgeo = geos[source]
                lo, hi = wins[(layer.name, e)]
                per_item = seen.size * act_bits / pgeo.items
                bb = (per_item * pgeo.full * share.share, per_item * pgeo.last * share.share)
                producer = plan.layers[source]
                src = producer.out_macro
                span = spans[(layer.name, e)]  # producer blocks held while this input waits
                parts = (
                    [(bb[0] * ps.share, bb[1] * ps.share) for ps in producer.shares]
                    if producer.spread
                    else [bb]
                )
                held = whole_parts(parts)  # a block in the queue, as its flows reserve it
                widest = max(
                    _span_bits(a, b, held, pgeo.blocks) for a, b in zip(lo, hi, strict=True)
                )
                least = max(widest, span * held[0])
                queue = least + held[0]
                # in the producer's output macro: read its blocks in place (they stay staged for
                # the whole window), unless this share's own slice in a queue takes less room
                local = (
                    not producer.spread
                    and src == share.macro
                    and (span - 1) * per_item * pgeo.full <= queue
                )
                if local:
                    part = f"out {source}"
                    out_blocks[source] = max(out_blocks[source], span + 1)
                else:
                    part = f"in {layer.name}<-{source}#{e}"
                    minimum[(share.macro, part)] += queue
                    floor[(share.macro, part)] += least
                if producer.spread:  # each of its shares sends its own part
                    fids = tuple(
                        add_flow(
                            "transfer",
                            source,
                            ps.macro,
                            share.macro,
                            tid,
                            pgeo.blocks,
                            p,
                            part,
                            source_task=pt,
                        )
                        for ps, pt, p in zip(producer.shares, task_ids[source], parts, strict=True)
                    )
                else:
                    fids = (
                        add_flow(
                            "transfer", source, src, share.macro, tid, pgeo.blocks, bb, part, local
                        ),
                    )
                transfers[source] += fids
                inputs.append(
                    InputSpec(source, e, pgeo.blocks, tuple(lo), tuple(hi), bb, part, fids, local)
                )
            out_bits = (block_bits[0] * share.share, block_bits[1] * share.share)
            out_part = f"out {layer.name}"
            own = whole_parts([out_bits])[0]
            staged[layer.name] += own  # the whole block in the output macro, part by part
            if s > 0 or lp.spread:  # its own part, double-buffered
                minimum[(share.macro, out_part)] += 2 * own
                floor[(share.macro, out_part)] += own
            tasks.append(
                Task(
                    tid,
                    layer.name,
                    str(layer.kind),
                    s,
                    share.macro,
                    share.share,
                    share.crossbars,
                    geo.blocks,
                    bits,
                    (geo.full, geo.last),
                    _stages(work, geo, bits, share.share, weight),
                    tuple(inputs),
                    out_bits,
                    out_part,
                )
            )
            if s > 0 and not lp.spread:  # its part of each block goes to the output macro
                merges[layer.name].append(
                    add_flow(
                        "merge",
                        layer.name,
                        share.macro,
                        lp.out_macro,
                        tid,
                        geo.blocks,
                        out_bits,
                        out_part,
                    )
                )
        task_ids[layer.name] = ids
    for layer in net.layers:  # a block stays in its output macro until every consumer is done
        if plan.layers[layer.name].spread:
            continue
        key = (plan.layers[layer.name].out_macro, f"out {layer.name}")
        blocks = out_blocks[layer.name]
        minimum[key] += blocks * staged[layer.name]
        # read in place, it holds its readers' windows; else one block will do
        floor[key] += (blocks if blocks > 2 else 1) * staged[layer.name]
    partitions, warnings = _partitions(plan, minimum, floor)
    layers = tuple(
        LayerInfo(
            x.name,
            str(x.kind),
            geos[x.name].blocks,
            geos[x.name].items,
            x.macs,
            tuple(task_ids[x.name]),
            tuple(merges[x.name]),
            tuple(transfers[x.name]),
            plan.layers[x.name].spread,
        )
        for x in net.layers
    )
    needs: dict[int, int] = defaultdict(int)
    least: dict[int, int] = defaultdict(int)
    for (macro, name), need in minimum.items():
        needs[macro] += need
        least[macro] += floor.get((macro, name), need)
    return Program(
        plan.arch.name,
        net.name,
        hw,
        layers,
        tuple(tasks),
        tuple(flows),
        partitions,
        positions,
        plan.mesh,
        net.ops,
        warnings,
        tuple(sorted(needs.items())),
        tuple(sorted(least.items())),
        float(interface_bits(net, hw.activation_bits)) if hw.parts.interface else 0.0,
    )


def buffer_needs_kib(plan: Plan) -> dict[int, float]:
    """Scratchpad each macro needs for its input windows and output staging, KiB (the compiler's
    partition rule; a smaller scratchpad may stall for space or deadlock)."""
    return {m: bits / 8192 for m, bits in compile_program(plan).needs_bits}


def _spans(
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


def _span_bits(lo: int, hi: int, block_bits: tuple[int, int], blocks: int) -> int:
    """Bits of producer blocks ``lo .. hi`` (the last block of an image may be short)."""
    n = hi - lo + 1
    return n * block_bits[0] - (block_bits[0] - block_bits[1] if hi == blocks - 1 else 0.0)


def _partitions(
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
