"""Expanding a compact :class:`~pimsim.sim.ir.Program` into instructions, lazily.

Instructions are produced image by image and layer by layer (network order), each layer's tasks
block by block, then its merges and its transfers; every dependency names an instruction produced
earlier. Ids read ``kind:layer@macro:image:block[:bit]``
(``transfer:producer->consumer@macro:...``).
"""

from __future__ import annotations

from collections.abc import Iterator

from pimsim.sim.ir import Instr, Op, Program, StageSpec, Task


def _sid(stage: str, t: Task, image: int, block: int, bit: int | None) -> str:
    base = f"{stage}:{t.layer}@{t.macro}:{image}:{block}"
    return base if bit is None else f"{base}:{bit}"


def _tid(program: Program, flow: int, image: int, block: int) -> str:
    f = program.flows[flow]
    if f.op is Op.MERGE:
        return f"merge:{f.layer}@{f.src}->{f.dst}:{image}:{block}"
    consumer = program.tasks[f.task]
    part = "" if f.source_task is None else f"<-{f.src}"  # a spread producer's share
    return f"transfer:{f.layer}->{consumer.layer}@{f.dst}{part}:{image}:{block}"


def _task_ops(program: Program, t: Task, image: int, per_bit: bool) -> Iterator[Instr]:
    stages = t.stages
    blocks = t.blocks
    bit_stages = [i for i, s in enumerate(stages) if s.per_bit and per_bit]
    for c in range(blocks):
        li = 1 if c == blocks - 1 else 0
        for i, s in enumerate(stages):
            if i in bit_stages:
                if i == bit_stages[0]:  # the per-bit stages, bit by bit
                    for b in range(t.bits):
                        for j in bit_stages:
                            yield _stage_op(
                                program, t, stages, j, stages[j], image, c, b, li, per_bit
                            )
                continue
            yield _stage_op(program, t, stages, i, s, image, c, None, li, per_bit)


def _item(
    t: Task, s: StageSpec, image: int, c: int, b: int | None, per_bit: bool
) -> tuple[int, int, int | None] | None:
    """The previous item of stage ``s`` (image, block, bit), None for the very first."""
    if s.per_bit and per_bit and b:
        return image, c, b - 1
    last = t.bits - 1 if s.per_bit and per_bit else None
    if c:
        return image, c - 1, last
    if image:
        return image - 1, t.blocks - 1, last
    return None


def _stage_op(
    program: Program,
    t: Task,
    stages: tuple[StageSpec, ...],
    i: int,
    s: StageSpec,
    image: int,
    c: int,
    b: int | None,
    li: int,
    per_bit: bool,
) -> Instr:
    after: list[str] = []
    prev = _item(t, s, image, c, b, per_bit)
    if prev is not None:
        after.append(_sid(s.name, t, *prev))
    if i > 0:
        up = stages[i - 1]
        if up.per_bit and per_bit:
            after.append(_sid(up.name, t, image, c, b if s.per_bit else t.bits - 1))
        else:
            after.append(_sid(up.name, t, image, c, None))
    else:
        for inp in t.inputs:
            after += [_tid(program, f, image, inp.hi[c]) for f in inp.flows]
    slot = None
    if i + 1 < len(stages):
        down = stages[i + 1]
        prev_down: tuple[int, int, int | None] | None
        if down.per_bit and per_bit and not (s.per_bit and per_bit):
            prev_down = (
                (image, c - 1, 0) if c else ((image - 1, t.blocks - 1, 0) if image else None)
            )
        else:
            prev_down = _item(t, down, image, c, b if down.per_bit and per_bit else None, per_bit)
            if s.per_bit and per_bit and not (down.per_bit and per_bit):
                prev_down = prev_down if b == 0 else None
        if prev_down is not None:
            slot = _sid(down.name, t, *prev_down)
    work = s.work[li] * (t.bits if s.per_bit and not per_bit else 1)
    return Instr(
        _sid(s.name, t, image, c, b),
        s.op,
        t.layer,
        t.macro,
        image,
        c,
        b,
        work,
        unit=s.name if s.op is Op.ALU else None,
        after=tuple(after),
        slot=slot,
    )


def program_ops(program: Program, images: int = 1, level: str = "bit") -> Iterator[Instr]:
    """Every instruction of ``images`` images of ``program``, generated lazily in a
    dependency-respecting order (layers in network order). ``level="block"`` lists one
    mvm/adc/shift-and-add per block instead of one per input bit."""
    return expand(program, images, level == "bit")


def expand(program: Program, images: int, per_bit: bool) -> Iterator[Instr]:
    """The instructions of :func:`program_ops` (``per_bit``: one per input bit of the per-bit stages)."""
    for image in range(images):
        for info in program.layers:
            tasks = [program.tasks[i] for i in info.tasks]
            for t in tasks:
                yield from _task_ops(program, t, image, per_bit)
            first = tasks[0]
            for f in info.merges:
                flow = program.flows[f]
                share = program.tasks[flow.task]
                stores = [[_sid("store", share, image, c, None)] for c in range(flow.blocks)]
                yield from _flow_ops(program, f, Op.MERGE, info.name, image, stores)
            for f in info.transfers:
                flow = program.flows[f]
                source = program.tasks[flow.source_task] if flow.source_task is not None else None
                ready = [
                    # a spread producer's share, or the layer's output macro and its merges
                    [_sid("store", source, image, c, None)]
                    if source is not None
                    else [_sid("store", first, image, c, None)]
                    + [_tid(program, m, image, c) for m in info.merges]
                    for c in range(flow.blocks)
                ]
                yield from _flow_ops(program, f, Op.TRANSFER, info.name, image, ready)


def _flow_ops(
    program: Program, f: int, op: Op, layer: str, image: int, ready: list[list[str]]
) -> Iterator[Instr]:
    """Flow ``f``'s instructions for ``image``: block ``c`` after ``ready[c]`` and after the
    flow's previous block (the last of the previous image for the first)."""
    flow = program.flows[f]
    for c in range(flow.blocks):
        after = list(ready[c])
        if c or image:
            previous = (image, c - 1) if c else (image - 1, flow.blocks - 1)
            after.append(_tid(program, f, *previous))
        yield Instr(
            _tid(program, f, image, c),
            op,
            layer,
            flow.src,
            image,
            c,
            None,
            flow.bits[1 if c == flow.blocks - 1 else 0],
            dst=flow.dst,
            hops=len(flow.route),
            after=tuple(after),
        )
