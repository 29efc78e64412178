"""Running a program: build the hardware in a fresh environment, start every process, run, collect.

:func:`simulate` compiles the plan (:mod:`pimsim.sim.compiler`), creates one :class:`SimEnv` for the
run, and in it the hardware of every macro that has work (scratchpad with its port and partitions,
ADC bank, digital units, one PE group per share), the mesh links, one process per stage of every
share and one per flow. Layer outputs are *published* once every share's part of a block is in the
layer's output macro; a block's staging space is freed once every consumer share has received it.
Shares of a layer run at different speeds: its staging in the output macro is reserved whole block
by whole block, in block order (:class:`~pimsim.sim.buffer.Staging`), so a fast share runs at most
a partition's worth of blocks ahead of the oldest unpublished block, whose parts always have room.
The run ends when no event is left: if an image is then unfinished, the design deadlocked and
:class:`SimDeadlock` reports who waits on what. A cycle or wall-clock limit (:class:`SimOptions`)
stops a runaway run early with a partial result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pimsim.components.parts import UnitKind
from pimsim.errors import InputError
from pimsim.model.plan import Plan
from pimsim.model.pricing import hardware_energy_table
from pimsim.sim.adc import AdcBank
from pimsim.sim.buffer import Scratchpad, Staging
from pimsim.sim.collect import collect, energy_per_item
from pimsim.sim.compiler import compile_program
from pimsim.sim.core import (
    Clock,
    GuardedEnv,
    Pool,
    Progress,
    RunStopped,
    SimEnv,
    least_of,
    whole_parts,
)
from pimsim.sim.ir import FlowSpec, LayerInfo, Link, Op, Program, Task
from pimsim.sim.noc import FlowRun, Mesh, run_flow
from pimsim.sim.pe import PeGroup
from pimsim.sim.result import SimResult
from pimsim.sim.share import InputRun, LoadStage, ShareRun, StoreStage
from pimsim.sim.stage import Stage, link, make_lazy
from pimsim.sim.trace import SimTracer
from pimsim.sim.units import UnitPool
from pimsim.sim.waits import deadlock_report
from pimsim.traceformat.events import NOC_PID


@dataclass(frozen=True)
class SimOptions:
    """How to run: images in flight, and an optional trace.

    ``images``: images fed to the first layers back to back (each layer takes the next image as
    soon as it is free); throughput is measured between their completions. ``trace``: a file for a
    Chrome trace (``.gz``: gzipped), with ``trace_level`` ``layer``, ``block`` or ``bit``;
    ``overwrite`` allows replacing an existing trace. ``max_cycles`` and ``max_wall_s`` stop a
    runaway run: the result is then partial (``SimResult.stopped`` says why), its figures measured
    on the images that finished and its energy on the work done.
    """

    images: int = 4
    trace: str | None = None
    trace_level: str = "block"
    overwrite: bool = False
    max_cycles: int | None = None
    max_wall_s: float | None = None


class SimDeadlock(InputError):
    """The design deadlocked: no event is left but work remains; ``waits``: who waits on what."""

    def __init__(
        self,
        arch: str,
        cycle: int,
        done: int,
        images: int,
        waits: list[str],
        warnings: tuple[str, ...] = (),
    ) -> None:
        self.waits = waits
        shown = "; ".join(waits[:12]) + (f"; and {len(waits) - 12} more" if len(waits) > 12 else "")
        warned = f" The compiler warned: {'; '.join(warnings[:3])}." if warnings else ""
        super().__init__(
            arch,
            f"simulation at cycle {cycle:,}",
            f"deadlock: no event is left but {images - done} of {images} images are "
            f"unfinished. Waiting: {shown}.{warned}",
            "give the scratchpads more space (buffer_kib) or check the mapping",
        )


class _Machine:
    """The hardware and processes of one run (everything lives in ``env``)."""

    def __init__(self, program: Program, options: SimOptions, tracer: SimTracer | None) -> None:
        self.program = program
        self.images = options.images
        guarded = options.max_cycles is not None or options.max_wall_s is not None
        self.env = GuardedEnv(options.max_cycles, options.max_wall_s) if guarded else SimEnv()
        hw = program.hardware
        self.clock = Clock(hw.clock_ghz)
        self.groups = hw.macro_groups()
        self.tracer = tracer
        self.spms: dict[int, Scratchpad] = {}
        self.adcs: dict[int, AdcBank] = {}
        self.units: dict[tuple[int, str], UnitPool] = {}
        self.mesh = Mesh(self.env, hw.parts.noc, self.clock)
        parts: dict[int, dict[str, int]] = {}
        for p in program.partitions:
            parts.setdefault(p.macro, {})[p.name] = p.bits
        for m, named in sorted(parts.items()):
            buffer = hw.parts.buffer(self.groups[m].buffer_kib)
            assert buffer is not None
            self.spms[m] = Scratchpad(self.env, m, buffer, self.clock, named)
        self.energy = energy_per_item(hw)
        self.events = 0
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
        env, m, hw = self.env, task.macro, self.program.hardware
        spm = self.spms[m]
        stages: list[Stage] = []
        last = len(task.stages) - 1
        for i, spec in enumerate(task.stages):
            job: Callable[[float], tuple[int, int]]
            if spec.name in ("load", "store"):
                pool, job = spm.port, spm.job
            elif spec.name == "mvm":
                pe = PeGroup(env, m, task.layer, task.crossbars, hw, self.clock)
                pool, job = pe.pool, pe.job
            elif spec.name == "adc":
                bank = self.adcs.get(m)
                if bank is None:
                    bank = self.adcs[m] = AdcBank(env, m, self.groups[m].adcs, hw, self.clock)
                self._need(bank.adcs, spec.work, task.layer, m, "ADC")
                pool, job = bank.pool, bank.job
            else:
                units = self._unit_pool(m, spec.name)
                self._need(units.count, spec.work, task.layer, m, f"'{spec.name}' unit")
                pool, job = units.pool, units.job
            args = (
                env,
                spec,
                task.bits,
                task.blocks,
                self.images,
                pool,
                (job(spec.work[0]), job(spec.work[1])),
                self.energy(spec, m),
                m,
                task.layer,
                f"{self._macro_name(m)}/{pool.name}",
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
                stages.append(Stage(*args))
        link(stages)
        return ShareRun(task, stages, spm)

    def _need(self, count: int, work: tuple[float, float], layer: str, m: int, what: str) -> None:
        if count <= 0 and max(work) > 0:
            raise InputError(
                self.program.arch,
                f"macro {m} ({self.groups[m].name})",
                f"has no {what} but layer '{layer}' needs one there",
            )

    def _unit_pool(self, m: int, kind: str) -> UnitPool:
        key = (m, kind)
        pool = self.units.get(key)
        if pool is None:
            hw = self.program.hardware
            part = hw.parts.unit(UnitKind(kind))
            count = self.groups[m].units.get(UnitKind(kind), 0)
            if part is None:
                raise InputError(
                    self.program.arch,
                    "hardware.parts.units",
                    f"has no '{kind}' unit but macro {m} needs one",
                )
            pool = self.units[key] = UnitPool(self.env, m, kind, count, part, self.clock)
        return pool

    def _flow(self, spec: FlowSpec) -> FlowRun:
        # the source progress is bound in _wire (producer layers are published there); a merge
        # reserves its part's space in the layer's staging, in block order with the other parts
        staging = self.stagings[spec.layer] if spec.op is Op.MERGE else None
        assert staging is None or (staging.spm.macro == spec.dst and staging.name == spec.partition)
        return FlowRun(self.env, spec, Progress(self.env), self.spms[spec.dst], staging)

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
            ] or [published]
            release = self._stager(self.stagings[info.name], done)
            for s in done:
                s.listeners.append(release)
        outputs = [info.name for info in program.layers if not info.transfers]
        image_done = self._image_done(outputs)
        for name in outputs:
            self.published[name].listeners.append(image_done)

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
            done = [fr.delivered for fr in mine] or [sh.stored]
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

    def _image_done(self, outputs: list[str]) -> Callable[[int], None]:
        finished = [self.layer_finish[o] for o in outputs]
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

        def queued(pool: Pool) -> None:
            tracer.counter(NOC_PID, f"queue {pool.name}", env.now, len(pool.line))

        def new_link(link: Link, pool: Pool) -> None:
            tracer.link_unit(link, pool)
            pool.on_queue = queued

        self.mesh.on_new_link = new_link

    # -- running ----------------------------------------------------------------------------------
    def start(self) -> None:
        env, images, tracer = self.env, self.images, self.tracer
        for sh in self.shares:
            for stage in sh.stages:
                stage.poke()
        for fr in self.flows:
            env.process(run_flow(env, fr, self.mesh, images, tracer))


def simulate(
    plan: Plan, options: SimOptions = SimOptions(), program: Program | None = None
) -> SimResult:
    """Simulate ``plan``'s network on its architecture.

    Raises:
        InputError: bad options, a macro without a unit its layers need, or an unwritable trace.
        SimDeadlock: the run stopped with work left (an :class:`InputError`).
    """
    if options.images < 1:
        raise InputError("command line", "--images", f"must be at least 1, not {options.images}")
    if options.max_cycles is not None and options.max_cycles < 1:
        raise InputError(
            "command line", "--max-cycles", f"must be at least 1, not {options.max_cycles}"
        )
    if options.max_wall_s is not None and not options.max_wall_s > 0:
        raise InputError(
            "command line",
            "--max-wall-s",
            f"must be a positive number of seconds, not {options.max_wall_s}",
        )
    program = program or compile_program(plan)
    hw = program.hardware
    tracer = None
    if options.trace is not None:
        meta = {
            "arch": program.arch,
            "network": program.network,
            "images": options.images,
            "clock_ghz": hw.clock_ghz,
            "trace_level": options.trace_level,
            "generator": "pimsim run",
        }
        tracer = SimTracer(
            options.trace,
            options.trace_level,
            hw.clock_ghz,
            meta,
            options.overwrite,
            hw.parts.noc.flit_bits,
            hw.parts.noc.hop_energy_pj,
            hardware_energy_table(hw).buffer_pj,
        )
    try:
        machine = _Machine(program, options, tracer)
        machine.start()
        wall = time.perf_counter()
        stopped = None
        if isinstance(machine.env, GuardedEnv):
            machine.env.start_clock(wall)
        try:
            machine.env.run()
        except RunStopped as stop:
            stopped = stop.why
        wall = time.perf_counter() - wall
        machine.events = machine.env.scheduled()
    except BaseException:
        if tracer is not None:
            tracer.abort()
        raise
    done = sum(1 for t in machine.image_finish if t is not None)
    if done < options.images and stopped is None:
        if tracer is not None:
            tracer.close()
        raise SimDeadlock(
            program.arch,
            machine.env.now,
            done,
            options.images,
            deadlock_report(machine),
            program.warnings,
        )
    result = collect(machine, wall, stopped)
    if tracer is not None:
        tracer.close()
        result = _write_summary(result, tracer)
    return result


def _write_summary(result: SimResult, tracer: SimTracer) -> SimResult:
    import json
    from dataclasses import replace

    from pimsim.fileio import write_atomic
    from pimsim.sim.result import result_json
    from pimsim.traceformat.events import summary_path

    path = summary_path(tracer.path)
    result = replace(result, trace_file=str(tracer.path), summary_file=str(path))
    data = result_json(result, brief=True)
    data["trace_level"] = ("layer", "block", "bit")[tracer.level]
    write_atomic(path, json.dumps(data, separators=(",", ":")), force=True)
    return result
