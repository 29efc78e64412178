"""The dataflow compiler: a placed network (:class:`~pimsim.model.plan.Plan`) -> a :class:`Program`.

Everything the run needs that depends on the dataflow and not on timing is decided here:

- **blocks**: a weight layer works in blocks of ``dup`` output pixels, another layer in blocks of
  one output row (as :mod:`pimsim.model.kernel` documents);
- **work**: what each block of each share does (crossbars read and their active rows and columns,
  the conversions on each ADC of the macro, the digital work, the scratchpad bits), derived from the
  mapping and the layer's geometry by :mod:`pimsim.sim.blockwork`, in a full and in the last block;
- **windows**: for every consumer block, the first and last producer block it reads (sliding window,
  rows and columns each with their kernel, stride, padding and dilation; the last input pixel of the
  last output pixel decides when the block can start, the first input pixel of the next block
  decides what can be freed);
- **flows**: a consumer share reads its input from the producer's output macro, in proportion to its
  crossbar share; every other share of a multi-macro layer merges its results into the output macro
  (a *spread* producer, :mod:`pimsim.model.plan`: no merges, each share sends its own part);
  routes are X then Y between router positions (as :mod:`pimsim.model.evaluate` documents);
- **scratchpad partitions** per macro: a remote consumer share's input queue needs its widest
  window plus one block (a join's input: what its producer makes at the period while the join waits
  for its other inputs, if more: :func:`~pimsim.sim.partitions.join_spans`); a layer's output
  staging in its output macro needs two blocks, or the widest window plus one of a consumer share
  that reads it in place. A consumer share in that same macro
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
from dataclasses import replace

from pimsim.model.actions import Action
from pimsim.model.plan import LayerPlan, Plan
from pimsim.model.windows import BlockGeometry, windows
from pimsim.network.layer import LayerKind
from pimsim.sim.blockwork import (
    BlockWork,
    ShareCrossbars,
    other_block,
    share_crossbars,
    weight_block,
)
from pimsim.sim.core import whole_parts
from pimsim.sim.ir import (
    FlowSpec,
    InputSpec,
    LayerInfo,
    Link,
    Op,
    Position,
    Program,
    StageSpec,
    Task,
)
from pimsim.sim.partitions import held_spans, join_spans, span_bits, split_scratchpads

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


def _stages(
    plan: Plan,
    lp: LayerPlan,
    geo: BlockGeometry,
    s: int,
    xbars: dict[tuple[str, int], ShareCrossbars],
) -> tuple[StageSpec, ...]:
    """Share ``s``'s stages, with the work of a full and of the last block (blockwork)."""
    hw = plan.arch.hardware
    act_bits = hw.activation_bits
    if lp.xset is None:
        other = other_block(lp, act_bits)
        full_block, last_block = other, other
        per_bit: tuple[BlockWork, BlockWork] | None = None
    else:
        xb = xbars[(lp.layer.name, s)]
        group = plan.groups[lp.shares[s].macro]
        per_bit = (
            weight_block(lp, xb, geo.full, act_bits, group.adcs),
            weight_block(lp, xb, geo.last, act_bits, group.adcs),
        )
        full_block, last_block = per_bit[0].per_block, per_bit[1].per_block

    def block_spec(name: str, action: str) -> StageSpec:
        f, la = full_block.get(action, 0.0), last_block.get(action, 0.0)
        return StageSpec(name, False, (f, la), ((action, f, la),) if f or la else ())

    def bit_spec(name: str, work: str, *acts: tuple[str, str]) -> StageSpec:
        assert per_bit is not None
        f, la = per_bit
        return StageSpec(
            name,
            True,
            (float(getattr(f, work)), float(getattr(la, work))),
            tuple((a, float(getattr(f, w)), float(getattr(la, w))) for a, w in acts),
        )

    out = [block_spec("load", str(Action.BUFFER_READ_BITS))]
    if per_bit is not None:
        adc = bit_spec("adc", "columns", (str(Action.ADC), "columns"))
        out += [
            bit_spec(
                "mvm",
                "crossbars",
                (str(Action.XBAR_READ), "crossbars"),
                (str(Action.DAC), "dac"),
                (str(Action.SAMPLE_HOLD), "columns"),
            ),
            replace(adc, per_server=(per_bit[0].adc_load, per_bit[1].adc_load)),
            bit_spec("shift_add", "columns", (str(Action.SHIFT_ADD), "columns")),
        ]
    for name, action in POST_STAGES:
        if full_block.get(str(action), 0.0) or last_block.get(str(action), 0.0):
            out.append(block_spec(name, str(action)))
    out.append(block_spec("store", str(Action.BUFFER_WRITE_BITS)))
    return tuple(out)


def compile_program(plan: Plan) -> Program:
    """Compile ``plan`` into a program (windows, work, flows, partitions)."""
    return _compile(plan, stages=True)


def _compile(plan: Plan, stages: bool) -> Program:
    """:func:`compile_program`; without ``stages`` every task's stages are left empty (the work of
    its blocks, most of the time spent here), for :func:`buffer_needs_kib`, which reads only the
    scratchpad needs (they come from the windows and flows, not from the stages)."""
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
    out_floor: dict[str, int] = defaultdict(lambda: 2)  # of which its in-place windows need
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
    spans = held_spans(plan, geos, wins)
    paced = join_spans(plan, geos, wins)
    xbars = share_crossbars(plan) if stages else {}
    for layer in net.layers:
        lp, geo = plan.layers[layer.name], geos[layer.name]
        weight = lp.xset is not None
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
                    span_bits(a, b, held, pgeo.blocks) for a, b in zip(lo, hi, strict=True)
                )
                least = max(widest, span * held[0])
                # a join's input holds what its producer makes at the period while the join
                # waits for its other inputs (the skip while the long path computes)
                held_blocks = max(span, paced.get((layer.name, e), 0))
                queue = max(least, held_blocks * held[0]) + held[0]
                # in the producer's output macro: read its blocks in place (they stay staged for
                # the whole window), unless this share's own slice in a queue takes less room
                local = (
                    not producer.spread
                    and src == share.macro
                    and (held_blocks - 1) * per_item * pgeo.full <= queue
                )
                if local:
                    part = f"out {source}"
                    out_blocks[source] = max(out_blocks[source], held_blocks + 1)
                    out_floor[source] = max(out_floor[source], span + 1)
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
                    _stages(plan, lp, geo, s, xbars) if stages else (),
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
        blocks, least_blocks = out_blocks[layer.name], out_floor[layer.name]
        minimum[key] += blocks * staged[layer.name]
        # read in place, it holds its readers' windows; else one block will do
        floor[key] += (least_blocks if least_blocks > 2 else 1) * staged[layer.name]
    partitions, warnings = split_scratchpads(plan, minimum, floor)
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
    )


def buffer_needs_kib(plan: Plan) -> dict[int, float]:
    """Scratchpad each macro needs for its input windows and output staging, KiB (the compiler's
    partition rule; a smaller scratchpad may stall for space or deadlock)."""
    return {m: bits / 8192 for m, bits in _compile(plan, stages=False).needs_bits}
