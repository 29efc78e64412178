"""The hardware and processes of one run, built in a fresh environment and wired together.

:class:`Machine` builds, for a compiled program, every unit through the registry
(:mod:`pimsim.sim.registry`), the scratchpads with their partitions and the layers' output staging,
the mesh and the off-chip interface, one state machine per stage of every share and one process per
flow; then it wires publication (a layer's block is published once every share's part is in its
output macro), the release of staged blocks (once every consumer share has received them) and the
images' finish times. :func:`pimsim.sim.engine.simulate` runs it; :meth:`Machine.state` is the
public run state that results and deadlock reports are collected from.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from types import MappingProxyType

from pimsim.sim.buffer import Scratchpad, Staging
from pimsim.sim.chain import link, make_lazy
from pimsim.sim.collect import energy_per_item, scratchpad_bit_energy
from pimsim.sim.core import (
    Clock,
    GuardedEnv,
    Progress,
    SimEnv,
    least_of,
    whole_parts,
)
from pimsim.sim.interface import offchip
from pimsim.sim.ir import FlowSpec, LayerInfo, Op, Program, StageSpec, Task
from pimsim.sim.noc import FlowRun, Mesh, run_flow
from pimsim.sim.options import SimOptions
from pimsim.sim.registry import LISTING_RANK, channel_class, unit_class
from pimsim.sim.share import InputRun, LoadStage, ShareRun, StoreStage
from pimsim.sim.stage import Stage
from pimsim.sim.state import RunState
from pimsim.sim.trace import SimTracer
from pimsim.sim.unit import BuildContext, Place, Unit
from pimsim.traceformat.events import NOC_PID


class Machine:
    """The hardware and processes of one run (everything lives in ``env``).

    Its public surface is what :func:`~pimsim.sim.engine.simulate` uses: ``env`` (to run it),
    :meth:`start`, and :meth:`state` once the run has ended; results, deadlock reports and tests
    read that :class:`~pimsim.sim.state.RunState`, the result or a trace, never its other attributes.
    """

    def __init__(
        self,
        program: Program,
        options: SimOptions,
        tracer: SimTracer | None,
        input_bits: float = 0.0,
    ) -> None:
        self.program = program
        self.images = options.images
        guarded = options.max_cycles is not None or options.max_wall_s is not None
        self.env = GuardedEnv(options.max_cycles, options.max_wall_s) if guarded else SimEnv()
        hw = program.hardware
        self.clock = Clock(hw.clock_ghz)
        self.groups = hw.macro_groups()
        self.tracer = tracer
        self.spms: dict[int, Scratchpad] = {}
        # every unit, stage-serving or channel, by its key (UnitKindSpec.key; kind and place)
        self.units: dict[Hashable, Unit] = {}
        parts: dict[int, dict[str, int]] = {}
        for p in program.partitions:
            parts.setdefault(p.macro, {})[p.name] = p.bits
        for m, named in sorted(parts.items()):
            buffer = hw.parts.buffer(self.groups[m].buffer_kib)
            assert buffer is not None
            self.spms[m] = Scratchpad(self.env, m, buffer, self.clock, named)
        self.ctx = BuildContext(self.env, self.clock, hw, self.groups, self.spms, program.arch)
        self.mesh = Mesh(self.env, hw.parts.noc, self.clock, self._channel)
        # inputs in and outputs out through the off-chip interface, if there is one
        self.offchip = offchip(self._channel, hw, self.images, input_bits)
        self.energy = energy_per_item(hw)
        bit_pj = scratchpad_bit_energy(hw)
        for m, spm in self.spms.items():
            spm.access_pj = bit_pj(m)
        # every layer's output staging in its output macro, shared by all its parts (block order)
        self.stagings: dict[str, Staging] = {}
        self.spread = {info.name for info in program.layers if info.spread}
        for info in program.layers:
            tasks = [program.tasks[t] for t in info.tasks]
            self.stagings[info.name] = Staging(
                self.spms[tasks[0].macro],
                tasks[0].out_partition,
                whole_parts([t.out_bits for t in tasks]),
                info.blocks,
            )
        self.shares = [self._share(t) for t in program.tasks]
        make_lazy([st for sh in self.shares for st in sh.stages])
        self.flows = [self._flow(f) for f in program.flows]
        self.published: dict[str, Progress] = {}
        self.layer_finish: dict[str, list[int | None]] = {}
        self.image_finish: list[int | None] = [None] * self.images
        self._wire()
        if tracer is not None:
            self._hook_tracer(tracer)

    # -- building ---------------------------------------------------------------------------------
    def _macro_name(self, m: int) -> str:
        return f"macro {m}"

    def _share(self, task: Task) -> ShareRun:
        m = task.macro
        spm = self.spms[m]
        stages: list[Stage] = []
        last = len(task.stages) - 1
        for i, spec in enumerate(task.stages):
            unit = self._unit(task, spec)
            jobs = (
                unit.job(
                    spec.work[0], tuple((a, f) for a, f, _ in spec.actions), spec.per_server[0]
                ),
                unit.job(
                    spec.work[1], tuple((a, la) for a, _, la in spec.actions), spec.per_server[1]
                ),
            )
            args = (
                self.env,
                spec,
                task.bits,
                task.blocks,
                self.images,
                unit,
                jobs,
                self.energy(spec, m),
                task.layer,
                self.tracer,
            )
            if i == 0:
                stages.append(LoadStage(*args, inputs=[], images=self.images))
            elif i == last:
                # share 0 stores into the layer's shared staging, another share into its own
                gathered = task.share == 0 and task.layer not in self.spread
                staging = (
                    self.stagings[task.layer]
                    if gathered
                    else Staging(spm, task.out_partition, whole_parts([task.out_bits]), task.blocks)
                )
                stages.append(StoreStage(*args, staging=staging))
            else:
                stages.append((unit.stage_class or Stage)(*args))
        link(stages)
        return ShareRun(task, stages, spm)

    def _unit(self, task: Task, spec: StageSpec) -> Unit:
        """The unit serving ``task``'s stage ``spec`` (built by its kind's class, or shared)."""
        cls = unit_class(spec.name)
        key = cls.key(task.macro, task, spec)
        unit = self.units.get(key)
        if unit is None:
            unit = self.units[key] = cls.build(self.ctx, task.macro, task, spec)
        unit.admit(self.ctx, task, spec)
        return unit

    def _channel(self, kind: str, place: Place) -> Unit:
        """The channel of kind ``kind`` at ``place`` (built by its kind's class, once)."""
        key = (kind, place)
        unit = self.units.get(key)
        if unit is None:
            unit = self.units[key] = channel_class(kind).build(self.ctx, kind, place)
            if self.tracer is not None:
                unit.traced(self.tracer)
        return unit

    def _flow(self, spec: FlowSpec) -> FlowRun:
        # the source progress is bound in _wire (producer layers are published there); a merge
        # reserves its part's space in the layer's staging, in block order with the other parts
        staging = self.stagings[spec.layer] if spec.op is Op.MERGE else None
        assert staging is None or (staging.spm.macro == spec.dst and staging.name == spec.partition)
        return FlowRun(
            self.env, spec, Progress(self.env), self.spms[spec.src], self.spms[spec.dst], staging
        )

    def _wire(self) -> None:
        env, program = self.env, self.program
        self.inputs: dict[int, InputRun] = {}  # by each flow that feeds it
        for task in program.tasks:
            share = self.shares[task.id]
            for spec in task.inputs:
                inp = InputRun(env, spec, [self.flows[f] for f in spec.flows], share.spm)
                for f in spec.flows:
                    self.inputs[f] = inp
                share.load.inputs.append(inp)
                inp.arrived.listeners.append(share.load.poke)
        for info in program.layers:
            first = self.shares[info.tasks[0]]
            if info.spread:
                self._wire_spread(info)
                continue
            sources = [first.stored] + [self.flows[f].delivered for f in info.merges]
            for f in info.merges:
                fr = self.flows[f]
                fr.source = self.shares[fr.spec.task].stored
                fr.delivered.listeners.append(self._merge_release(fr))
            published = self._publish(info, sources)
            outs = [self.flows[f] for f in info.transfers]
            for fr in outs:
                fr.source = published
            done = [
                self.inputs[fr.spec.id].consumed if fr.spec.in_place else fr.delivered
                for fr in outs
            ] or [self._leave(info, [(first, published)])]
            release = self._stager(self.stagings[info.name], done)
            for s in done:
                s.listeners.append(release)
        outputs = [info for info in program.layers if not info.transfers]
        left = self.offchip.gone if self.offchip is not None else {}
        gone = [left.get(x.name, (self.published[x.name], x.blocks)) for x in outputs]
        image_done = self._image_done([self._finish_times(g, blocks) for g, blocks in gone])
        for g, _blocks in gone:
            g.listeners.append(image_done)
        if self.offchip is not None:
            self.offchip.feed(
                [
                    (t.blocks, self.spms[t.macro], self.shares[t.id].load)
                    for t in program.tasks
                    if not t.inputs
                ]
            )

    def _wire_spread(self, info: LayerInfo) -> None:
        """A spread layer: published once every share has stored its part of a block; each share's
        part is freed once every consumer share has received it."""
        shares = [self.shares[t] for t in info.tasks]
        self._publish(info, [sh.stored for sh in shares])
        outs = [self.flows[f] for f in info.transfers]
        for t, sh in zip(info.tasks, shares, strict=True):
            mine = [fr for fr in outs if fr.spec.source_task == t]
            for fr in mine:
                fr.source = sh.stored
            store = sh.stages[-1]
            assert isinstance(store, StoreStage)
            done = [fr.delivered for fr in mine] or [self._leave(info, [(sh, sh.stored)])]
            release = self._stager(store.staging, done)
            for s in done:
                s.listeners.append(release)

    def _publish(self, info: LayerInfo, sources: list[Progress]) -> Progress:
        """The layer's published blocks: those every source (share or merge) has delivered; its
        finish time per image is recorded as they are."""
        published = least_of(self.env, sources)
        self.published[info.name] = published
        finish: list[int | None] = [None] * self.images
        self.layer_finish[info.name] = finish
        published.listeners.append(self._finisher(finish, info.blocks))
        return published

    def _merge_release(self, fr: FlowRun) -> Callable[[int], None]:
        share = self.shares[fr.spec.task]
        blocks = fr.spec.blocks

        def release(count: int) -> None:
            c = (count - 1) % blocks
            share.spm.release(
                share.task.out_partition, share.out_whole[1 if c == blocks - 1 else 0]
            )

        return release

    def _stager(self, staging: Staging, done: list[Progress]) -> Callable[[int], None]:
        """Frees a layer's staged blocks (its own part and the merged ones) in its output macro
        once every consumer is done with them (``done``: blocks delivered or consumed)."""
        spm, part = staging.spm, staging.name
        state = {"freed": 0}

        def release(_count: int) -> None:
            new = min(p.count for p in done)
            for g in range(state["freed"], new):
                spm.release(part, staging.bits(g))
            state["freed"] = max(state["freed"], new)

        return release

    def _finisher(self, finish: list[int | None], blocks: int) -> Callable[[int], None]:
        def record(count: int) -> None:
            if count % blocks == 0 and count // blocks <= len(finish):
                finish[count // blocks - 1] = self.env.now

        return record

    def _leave(self, info: LayerInfo, parts: list[tuple[ShareRun, Progress]]) -> Progress:
        """A network output's blocks (the whole layer, or one share's part of a spread one) leave
        the chip through the interface, if there is one; the blocks gone (else those there)."""
        if self.offchip is None:
            return parts[0][1]
        tasks = [self.program.tasks[t] for t in info.tasks]
        out = []
        for sh, source in parts:
            mine = [sh.task] if info.spread else tasks
            bits = (sum(t.out_bits[0] for t in mine), sum(t.out_bits[1] for t in mine))
            out.append((sh.spm, bits, source))
        return self.offchip.leave(info.name, info.blocks, info.spread, out)

    def _finish_times(self, gone: Progress, blocks: int) -> list[int | None]:
        finish: list[int | None] = [None] * self.images
        gone.listeners.append(self._finisher(finish, blocks))
        return finish

    def _image_done(self, finished: list[list[int | None]]) -> Callable[[int], None]:
        state = {"next": 0}

        def record(_count: int) -> None:
            i = state["next"]
            while i < self.images and all(f[i] is not None for f in finished):
                self.image_finish[i] = self.env.now
                i += 1
            state["next"] = i

        return record

    def _hook_tracer(self, tracer: SimTracer) -> None:
        for m in sorted(self.spms):
            tracer.process(m, self._macro_name(m), self.groups[m].name)
        tracer.process(NOC_PID, "NoC")
        for sh in self.shares:
            for st in sh.stages:
                tracer.stage_unit(st, sh.task.share)
        env = self.env
        for spm in self.spms.values():
            spm.on_change = lambda s: tracer.counter(
                s.macro, "SPM occupancy (bits)", env.now, s.used
            )

    # -- running ----------------------------------------------------------------------------------
    def state(self) -> RunState:
        """The run as it ended (a frozen value for collection and deadlock reports)."""
        return RunState(
            self.program,
            self.images,
            self.clock,
            self.env.now,
            self.env.scheduled(),
            tuple(self.shares),
            tuple(self.flows),
            tuple(sorted(self.units.values(), key=lambda u: LISTING_RANK[u.kind])),
            MappingProxyType(self.spms),
            MappingProxyType({k: tuple(v) for k, v in self.layer_finish.items()}),
            tuple(self.image_finish),
        )

    def start(self) -> None:
        env, images, tracer = self.env, self.images, self.tracer
        for sh in self.shares:
            for stage in sh.stages:
                stage.poke()
        at = self.program.positions
        for fr in self.flows:
            ends = (at[fr.spec.src], at[fr.spec.dst])
            env.process(run_flow(env, fr, self.mesh, images, tracer, ends))
        if self.offchip is not None:
            self.offchip.start()
