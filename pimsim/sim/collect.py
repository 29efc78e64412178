"""From a finished run to a :class:`SimResult`: action counts, energy, per-layer and unit figures.

Every stage counted the items it processed in full and in last blocks; its actions are those items
times the actions per item the compiler wrote into the program. Flows counted their flit-hops. The
counts of each macro are priced by :func:`pimsim.model.pricing.price`, the one pricing function the
estimate also uses, with static power over one period per image.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from pimsim.arch.schema import Hardware
from pimsim.model.actions import Action
from pimsim.model.kernel import WORK
from pimsim.model.pricing import hardware_energy_table, price
from pimsim.sim.ir import StageSpec
from pimsim.sim.result import FlowSim, LayerSim, SimResult, StageSim, UnitSim

if TYPE_CHECKING:
    from pimsim.sim.machine import Machine as _Machine

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


def collect(m: _Machine, wall_s: float, stopped: str | None = None) -> SimResult:
    """The result of machine ``m`` after its run (``stopped``: why a guard ended it early; the
    figures are then those of the images that finished, and the energy per image each share's work
    over the images' worth of blocks it stored, with static power over the measured period)."""
    program, images, ns = m.program, m.images, m.clock.ns
    hw = program.hardware
    counts: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    per_image: dict[int, Counter[str]] = defaultdict(Counter)  # each share's work per image
    for sh in m.shares:
        # a stopped run: each share's counts over the images' worth of blocks it stored
        share_images = images if stopped is None else sh.stored.count / sh.task.blocks
        for st in sh.stages:
            for action, full, last in st.spec.actions:
                n = st.n[0] * full + st.n[1] * last
                counts[st.macro][action] += n
                if share_images:
                    per_image[st.macro][action] += n / share_images
    for fr in m.flows:
        _count_noc_buffer_bits(fr, images if stopped is None else None, counts, per_image)
        if fr.flit_hops:
            counts[fr.spec.src][str(Action.NOC_FLIT_HOPS)] += fr.flit_hops
            flow_images = images if stopped is None else fr.delivered.count / fr.spec.blocks
            if flow_images:
                per_image[fr.spec.src][str(Action.NOC_FLIT_HOPS)] += fr.flit_hops / flow_images
    if program.interface_bits:  # every image crossed the off-chip interface (booked to the chip)
        io = str(Action.INTERFACE_BITS)
        counts[-1][io] += program.interface_bits * (images if stopped is None else done_images(m))
        per_image[-1][io] += program.interface_bits
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
    time_ns = ns(m.env.now)
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
            )
            for fr in m.flows
        ),
        {macro: spm.peak for macro, spm in sorted(m.spms.items())},
        m.events,
        wall_s,
        program.warnings,
        stopped=stopped,
    )


def done_images(m: _Machine) -> int:
    """Images that finished."""
    return sum(1 for t in m.image_finish if t is not None)


def _count_noc_buffer_bits(
    fr: Any,
    images: int | None,
    counts: dict[int, dict[str, float]],
    per_image: dict[int, Counter[str]],
) -> None:
    """A flow between two macros reads its blocks from the sender's scratchpad and writes them
    into the receiver's: the bits of the blocks it delivered (``images`` None: a stopped run)."""
    spec = fr.spec
    if spec.src == spec.dst or spec.in_place:
        return
    one = (spec.blocks - 1) * spec.bits[0] + spec.bits[1]  # bits of one image
    n = fr.delivered.count
    done = n // spec.blocks
    bits = done * one + min(n - done * spec.blocks, spec.blocks - 1) * spec.bits[0]
    for macro, action in (
        (spec.src, str(Action.NOC_BUFFER_READ_BITS)),
        (spec.dst, str(Action.NOC_BUFFER_WRITE_BITS)),
    ):
        counts[macro][action] += bits
        if n:
            per_image[macro][action] += one


def _ns_dict(cycles: dict, ns: Callable[[float], float]) -> dict[str, float]:  # type: ignore[type-arg]
    return {str(k): ns(v) for k, v in sorted(cycles.items()) if v}


def _layer(m: _Machine, name: str, time_ns: float) -> LayerSim:
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
                StageSim(st.name, st.macro, ns(st.busy), _ns_dict(st.stall, ns), st.n[0] + st.n[1])
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
        n = sh.stages[-1].n
        done = n[0] * sh.task.items[0] + n[1] * sh.task.items[1]
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


def _units(m: _Machine) -> tuple[UnitSim, ...]:
    ns = m.clock.ns
    stalls: dict[str, Counter[str]] = defaultdict(Counter)
    kinds = {"load": "port", "store": "port", "mvm": "pe", "adc": "adc"}
    unit_kind: dict[str, str] = {}
    unit_pool = {}
    for sh in m.shares:
        for st in sh.stages:
            unit_kind[st.unit] = kinds.get(st.name, "units")
            unit_pool[st.unit] = (st.pool, st.macro)
            for cause, cycles in st.stall.items():
                stalls[st.unit][str(cause)] += cycles
    out = []
    for name, (pool, macro) in unit_pool.items():
        out.append(
            UnitSim(
                name,
                unit_kind[name],
                macro,
                ns(pool.busy_cycles),
                ns(pool.queued_cycles),
                pool.jobs,
                _ns_dict(stalls[name], ns),
            )
        )
    for pool in m.mesh.links.values():
        out.append(
            UnitSim(
                f"NoC/{pool.name}",
                "link",
                None,
                ns(pool.busy_cycles),
                ns(pool.queued_cycles),
                pool.jobs,
                {},
            )
        )
    return tuple(out)
