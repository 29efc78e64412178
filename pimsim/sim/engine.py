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

from pimsim.errors import InputError
from pimsim.model.plan import Plan
from pimsim.sim.collect import collect
from pimsim.sim.compiler import compile_program
from pimsim.sim.core import (
    GuardedEnv,
    RunStopped,
)
from pimsim.sim.ir import Program
from pimsim.sim.machine import Machine
from pimsim.sim.options import SimOptions
from pimsim.sim.result import SimResult
from pimsim.sim.trace import SimTracer
from pimsim.sim.waits import deadlock_report

__all__ = ["Machine", "SimDeadlock", "SimOptions", "simulate"]


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


def simulate(
    plan: Plan, options: SimOptions | None = None, program: Program | None = None
) -> SimResult:
    """Simulate ``plan``'s network on its architecture.

    Raises:
        InputError: bad options, a macro without a unit its layers need, or an unwritable trace.
        SimDeadlock: the run stopped with work left (an :class:`InputError`).
    """
    options = options or SimOptions()
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
        )
    try:
        input_bits = sum(s.size for s in plan.network.inputs.values()) * hw.activation_bits
        machine = Machine(program, options, tracer, float(input_bits))
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
        state = machine.state()
    except BaseException:
        if tracer is not None:
            tracer.abort()
        raise
    done = sum(1 for t in state.image_finish if t is not None)
    if done < options.images and stopped is None:
        if tracer is not None:
            tracer.close()
        raise SimDeadlock(
            program.arch,
            state.now,
            done,
            options.images,
            deadlock_report(state),
            program.warnings,
        )
    result = collect(state, wall, stopped)
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
