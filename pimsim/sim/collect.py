"""From a finished run to a :class:`SimResult`: action counts, energy, per-layer and unit figures.

Every unit counted the jobs it served, each job performing the actions the compiler derived from
the mapping and the layer's geometry (:mod:`pimsim.sim.blockwork`); flows counted their flit-hops.
The counts of each macro are priced by :func:`pimsim.model.pricing.price`, the one pricing function
the estimate also uses (``WORK`` is its table's column order), with static power over one period
per image.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from types import MappingProxyType

from pimsim.arch.schema import Hardware
from pimsim.model.actions import Action
from pimsim.model.pricing import WORK, hardware_energy_table, price
from pimsim.sim.ir import StageSpec
from pimsim.sim.noc import FlowRun
from pimsim.sim.result import FlowSim, LayerSim, SimResult, StageSim, UnitSim
from pimsim.sim.state import RunState

_BUFFER = MappingProxyType({str(Action.BUFFER_READ_BITS): 0, str(Action.BUFFER_WRITE_BITS): 1})


def energy_per_item(hw: Hardware) -> Callable[[StageSpec, int], tuple[float, float]]:
    """A function giving a stage's dynamic energy per item (full, last block) in a macro, pJ: what
    trace slices carry."""
    table = hardware_energy_table(hw)
    per_action = {str(a): float(table.action_pj[i]) for i, a in enumerate(WORK)}

    def energy(spec: StageSpec, macro: int) -> tuple[float, float]:
        full = last = 0.0
        for action, f, la in spec.actions:
            pj = (
                float(table.buffer_pj[macro, _BUFFER[action]])
                if action in _BUFFER
                else per_action.get(action, 0.0)
            )
            full += f * pj
            last += la * pj
        return full, last

    return energy


def scratchpad_bit_energy(hw: Hardware) -> Callable[[int], tuple[float, float]]:
    """A function giving the energy per bit (pJ) read and written in a macro's scratchpad, as the
    pricing function charges the NoC's and the interface's accesses: what trace slices carry."""
    table = hardware_energy_table(hw)

    def energy(macro: int) -> tuple[float, float]:
        return float(table.buffer_pj[macro, 0]), float(table.buffer_pj[macro, 1])

    return energy


def collect(m: RunState, wall_s: float, stopped: str | None = None) -> SimResult:
    """The result of machine ``m`` after its run (``stopped``: why a guard ended it early; the
    figures are then those of the images that finished, and the energy per image each share's work
    over the images' worth of blocks it stored, with static power over the measured period)."""
    program, images, ns = m.program, m.images, m.clock.ns
    hw = program.hardware
    counts: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    per_image: dict[int, Counter[str]] = defaultdict(Counter)  # each share's work per image
    for unit in m.units:  # what every unit counted as it served its jobs
        if unit.macro is not None:
            for action, n in unit.counts().items():
                counts[unit.macro][action] += n
    for sh in m.shares:
        # a stopped run: each share's counts over the images' worth of blocks it stored
        share_images = images if stopped is None else sh.stored.count / sh.task.blocks
        if not share_images:
            continue
        for st in sh.stages:
            for job in st.jobs:
                for action, n in job.actions:
                    per_image[st.macro][action] += job.served * n / share_images
    for fr in m.flows:
        # a stopped run: each flow's counts over the images' worth of blocks it delivered
        flow_images = images if stopped is None else fr.delivered.count / fr.spec.blocks
        for macro, action, n in _flow_counts(fr):
            if n:
                counts[macro][action] += n
                if flow_images:
                    per_image[macro][action] += n / flow_images
    # what channels booked to macros (the interface's bits and scratchpad accesses); a stopped
    # run: over the images that finished
    finished = images if stopped is None else sum(t is not None for t in m.image_finish)
    for unit in m.units:
        for macro, action, n in unit.booked():
            if n:
                counts[macro][action] += n
                if finished:
                    per_image[macro][action] += n / finished
    finish = [ns(t) for t in m.image_finish if t is not None]
    starts = []
    first_layers = [sh for sh in m.shares if not sh.task.inputs]
    for i in range(len(finish)):
        times = [t for sh in first_layers if (t := sh.load.start_cycles[i]) is not None]
        starts.append(ns(min(times)) if times else 0.0)
    done = len(finish)
    period = (
        (finish[-1] - finish[0]) / (done - 1)
        if done > 1
        else finish[0] - starts[0]
        if done
        else 0.0
    )
    time_ns = ns(m.now)
    # no image finished: no period, so no energy per image either
    energy = price(per_image, hw, period) if done else {}
    total = Counter[str]()
    for c in counts.values():
        total.update(c)
    if hw.parts.sample_hold is None:  # sampling is part of the crossbar read then (as the estimate)
        total.pop(str(Action.SAMPLE_HOLD), None)
    layers = tuple(_layer(m, info.name, time_ns) for info in program.layers)
    return SimResult(
        program.arch,
        program.network,
        images,
        hw.clock_ghz,
        program.ops_per_image,
        time_ns,
        period,
        tuple(starts),
        tuple(finish),
        tuple(f - s for f, s in zip(finish, starts, strict=True)),
        energy,
        {a: float(v) for a, v in sorted(total.items()) if v},
        layers,
        _units(m),
        tuple(
            FlowSim(
                fr.name(),
                fr.spec.src,
                fr.spec.dst,
                len(fr.spec.route),
                fr.flit_hops,
                _ns_dict(fr.stall, ns),
                fr.flits,
                fr.router_flits,
                fr.read_bits,
                fr.write_bits,
            )
            for fr in m.flows
        ),
        {macro: spm.peak for macro, spm in sorted(m.scratchpads.items())},
        m.events,
        wall_s,
        program.warnings,
        stopped=stopped,
    )


def _flow_counts(fr: FlowRun) -> tuple[tuple[int, str, float], ...]:
    """What a flow did, as (macro, action, count): its scratchpad reads at the source and writes
    at the destination, its flit-hops (booked to the source macro)."""
    src, dst = fr.spec.src, fr.spec.dst
    return (
        (src, str(Action.NOC_BUFFER_READ_BITS), fr.read_bits),
        (dst, str(Action.NOC_BUFFER_WRITE_BITS), fr.write_bits),
        (src, str(Action.NOC_FLIT_HOPS), float(fr.flit_hops)),
    )


def _ns_dict(cycles: dict, ns: Callable[[float], float]) -> dict[str, float]:  # type: ignore[type-arg]
    return {str(k): ns(v) for k, v in sorted(cycles.items()) if v}


def _layer(m: RunState, name: str, time_ns: float) -> LayerSim:
    ns = m.clock.ns
    info = next(x for x in m.program.layers if x.name == name)
    shares = [m.shares[t] for t in info.tasks]
    busy: dict[str, float] = {}
    stages = []
    for sh in shares:
        mine: dict[str, float] = defaultdict(float)
        for st in sh.stages:
            key = "buffer" if st.name in ("load", "store") else st.name
            mine[key] += ns(st.busy)
            stages.append(
                StageSim(st.name, st.macro, ns(st.busy), _ns_dict(st.stall, ns), st.items_done)
            )
        for key, value in mine.items():
            busy[key] = max(busy.get(key, 0.0), value)
    bottleneck = max(busy, key=lambda k: busy[k]) if busy else ""
    stall: dict[str, float] = {}
    for sh in shares:
        for st in sh.stages:
            key = "buffer" if st.name in ("load", "store") else st.name
            if key != bottleneck:
                continue
            for cause, cycles in st.stall.items():
                if cycles:
                    stall[str(cause)] = max(stall.get(str(cause), 0.0), ns(cycles))
    starts = []
    for i in range(m.images):
        times = [t for sh in shares if (t := sh.load.start_cycles[i]) is not None]
        starts.append(ns(min(times)) if times else 0.0)
    finish = tuple(ns(t or 0) for t in m.layer_finish[name])
    items, macs = 0, 0.0
    for sh in shares:  # the outputs each share computed (its last stage counts its blocks)
        full, last = sh.stages[-1].jobs
        done = full.served * sh.task.items[0] + last.served * sh.task.items[1]
        items += done
        macs += done * sh.task.frac * info.macs / max(info.items, 1)
    return LayerSim(
        name,
        info.kind,
        tuple(sh.task.macro for sh in shares),
        info.blocks,
        tuple(starts),
        finish,
        busy,
        dict(sorted(stall.items())),
        bottleneck,
        busy.get(bottleneck, 0.0) / time_ns if time_ns else 0.0,
        items,
        macs,
        tuple(stages),
    )


def _units(m: RunState) -> tuple[UnitSim, ...]:
    ns = m.clock.ns
    stalls: dict[str, Counter[str]] = defaultdict(Counter)
    for sh in m.shares:
        for st in sh.stages:
            for cause, cycles in st.stall.items():
                stalls[st.unit.name][str(cause)] += cycles
    for unit in m.units:  # a channel's own waiters (not stages)
        for cause, cycles in unit.own_stall().items():
            stalls[unit.name][str(cause)] += cycles
    out = [
        UnitSim(
            unit.name,
            unit.kind,
            unit.macro,
            ns(unit.pool.busy_cycles),
            ns(unit.pool.queued_cycles),
            unit.pool.jobs,
            _ns_dict(stalls[unit.name], ns),
            unit.server_busy_ns(),
            unit.conflicts(),
        )
        for unit in m.units
    ]
    return tuple(out)
