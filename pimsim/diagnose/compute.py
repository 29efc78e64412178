"""Conditions under which the estimate is knowingly wrong about a design (docs/disagreements.md).

:func:`disagreements` looks at a placed design and names every known condition it has, one line
each, so that ``pimsyn explore --validate`` can flag them beside the simulated figures. Each line
says what the estimate does and what the simulated hardware does. The compute conditions:

- **ADC mux imbalance**: a share whose busiest ADC (the simulator's wiring, ``adc_wiring``,
  :func:`pimsim.sim.blockwork.adc_loads`) converts longer per bit than the estimate charges. Where
  the estimate spreads a bit's conversions evenly over the macro's ADCs (``"slots"`` wiring, and a
  macro with fewer ADCs than weight layers: one bank) that is the even spread and the bit time;
  where it follows the ``"weights"`` wiring (:mod:`pimsim.model.wiring`) it is the closed form
  ``min(P, ceil(W / A))`` conversions a bit, computed here from the simulator's crossbars, so the
  flag fires only if the simulator's busiest ADC exceeds it;
- **shared macro**: two or more weight layers in one macro. Where the estimate has them take the
  whole ADC bank in turns (``"slots"``, or one bank: fewer ADCs than layers), the simulator
  converts each on the ADCs its columns are wired to, at once where they are disjoint. Under
  ``"weights"`` with a run of ADCs each, as the estimate has them, what it still does not follow is
  the order in which the layers' jobs meet at the macro's shared shift-and-add units: flagged when
  those units are busy at least half the estimated period per image but below all of it (the
  estimate then charges a closed-form loss per job of the other layer, ``unit_turns``; when the
  units' load sets the period they never idle and the load is the period);
- **tail block**: a layer on several macros whose last block leaves some copies idle: the estimate
  splits the last block's work over the macros in proportion to their crossbars;
- **small scratchpad**: a scratchpad too small for the windows and staging that let transfers
  overlap work (the compiler's warnings): the run stalls for space, which the estimate ignores;
- the communication conditions of :mod:`pimsim.diagnose.communication` (router buffer starvation,
  router port contention, hot-spot links, interface-bound designs, scratchpad port contention from
  NoC traffic, scratchpad bank rounds).
"""

from __future__ import annotations

import math

import numpy as np

from pimsim.components.parts import UnitKind
from pimsim.diagnose.communication import BUSY_SHARE, communication_disagreements
from pimsim.model.design import bit_ns
from pimsim.model.estimate import estimate
from pimsim.model.plan import LayerPlan, Plan
from pimsim.model.windows import BlockGeometry
from pimsim.model.wiring import whole_actions
from pimsim.sim.blockwork import ShareCrossbars, adc_loads, share_crossbars
from pimsim.sim.compiler import compile_program

#: How much longer than the estimate's time a busiest ADC must be to be flagged (1%: below it the
#: two differ by the clock's rounding of each bit to whole cycles).
ADC_SHARE = 0.01


def disagreements(plan: Plan) -> list[str]:
    """One line per known condition of ``plan`` where the estimate and the simulation part."""
    period = estimate(plan.arch, plan).period_ns
    xbars = share_crossbars(plan)
    out: list[str] = []
    weights_in: dict[int, list[str]] = {}
    for name, lp in plan.layers.items():
        if lp.xset is not None:
            for share in lp.shares:
                weights_in.setdefault(share.macro, []).append(name)
    for name, lp in plan.layers.items():
        if lp.xset is None:
            continue
        geo = BlockGeometry(lp.layer, lp.dup)
        for s, share in enumerate(lp.shares):
            out += _mux_imbalance(plan, name, share.macro, xbars[(name, s)], geo, weights_in)
        if len(lp.shares) > 1 and geo.last < lp.dup:
            idle = [
                lp.shares[s].macro
                for s in range(len(lp.shares))
                if all(q >= geo.last for q in xbars[(name, s)].copy)
            ]
            out.append(
                f"tail block: '{name}' computes {geo.last} of {lp.dup} pixels in its last block"
                + (f"; macros {idle} are idle in it" if idle else "")
                + ": the estimate splits that block's work by crossbars"
            )
    for macro, names in sorted(weights_in.items()):
        if len(set(names)) > 1:
            out += _shared_macro(plan, macro, names, xbars, period)
    program = compile_program(plan)
    out += [f"small scratchpad: {w}" for w in program.warnings]
    return out + communication_disagreements(plan, program)


def _wired(plan: Plan, macro: int, weights_in: dict[int, list[str]]) -> bool:
    """Whether the estimate times ``macro``'s shares on their wired ADCs (``"weights"`` wiring and
    at least one ADC per weight share, :func:`pimsim.model.wiring.wiring`) rather than the even
    spread over the bank."""
    hw = plan.arch.hardware
    return hw.adc_wiring == "weights" and plan.groups[macro].adcs >= len(weights_in[macro])


def _shapes(geo: BlockGeometry) -> list[tuple[int, int]]:
    """(pixels, blocks per image) of each block shape of a weight layer: full, then the last."""
    return [(p, n) for p, n in ((geo.full, geo.blocks - 1), (geo.last, 1)) if n > 0]


def _active_columns(xb: ShareCrossbars, pixels: int) -> int:
    """Weight columns a share reads a bit in a block of ``pixels`` (copies ``0 .. pixels - 1``)."""
    return sum(c for q, c in zip(xb.copy, xb.cols, strict=True) if q < pixels)


def _mux_imbalance(
    plan: Plan,
    name: str,
    macro: int,
    xb: ShareCrossbars,
    geo: BlockGeometry,
    weights_in: dict[int, list[str]],
) -> list[str]:
    """The ADC mux imbalance line of one share (empty if none): the simulator's busiest ADC a bit,
    from its wiring, against what the estimate charges, in the first block shape that parts."""
    hw = plan.arch.hardware
    ghz = hw.parts.adc.frequency_ghz
    adcs = plan.groups[macro].adcs
    wired = _wired(plan, macro, weights_in)
    for pixels, _ in _shapes(geo):
        load = adc_loads(xb, pixels, adcs)
        if not load or not any(load):
            continue
        busiest = max(load) / ghz
        if wired:
            own = xb.adc_count if xb.adc_count is not None else adcs
            columns = sum(xb.cols)  # W: the share's weight columns on its own ADCs
            closed = min(_active_columns(xb, pixels), math.ceil(columns / own - 1e-9)) / ghz
            if busiest > (1 + ADC_SHARE) * closed:
                return [
                    f"ADC mux imbalance: '{name}' in macro {macro}, blocks of {pixels} pixel(s): "
                    f"the simulator's busiest wired ADC converts {busiest:.4g} ns a bit, the "
                    f"estimate's closed form (min(P, ceil(W / A)) on its {own} ADC(s), 'weights' "
                    f"wiring) {closed:.4g} ns"
                ]
            continue
        even = sum(load) / (adcs * ghz)
        bit = bit_ns(hw.parts)
        if busiest > (1 + ADC_SHARE) * max(bit, even):
            why = (
                "'slots' wiring"
                if hw.adc_wiring == "slots"
                else f"{adcs} ADC(s) for {len(weights_in[macro])} weight layers: one bank"
            )
            return [
                f"ADC mux imbalance: '{name}' in macro {macro}, blocks of {pixels} pixel(s): the "
                f"estimate spreads a bit's conversions evenly over the macro's {adcs} ADC(s) "
                f"({why}): {max(bit, even):.4g} ns a bit with the read; the simulator's busiest "
                f"wired ADC converts {busiest:.4g} ns a bit"
            ]
    return []


def _shared_macro(
    plan: Plan,
    macro: int,
    names: list[str],
    xbars: dict[tuple[str, int], ShareCrossbars],
    period_ns: float,
) -> list[str]:
    """The shared macro line of ``macro`` holding weight layers ``names`` (empty if the estimate
    models the sharing, see the module docstring)."""
    hw = plan.arch.hardware
    group = plan.groups[macro]
    layers = ", ".join(sorted(set(names)))
    if hw.adc_wiring != "weights" or group.adcs < len(names):
        used = set()  # the ADCs each share's columns are wired to, in a full block
        for (name, s), xb in xbars.items():
            lp = plan.layers[name]
            if lp.shares[s].macro == macro:
                load = adc_loads(xb, BlockGeometry(lp.layer, lp.dup).full, group.adcs)
                used.add(frozenset(j for j, n in enumerate(load) if n > 0))
        if len(used) < 2:
            return []  # every layer on the same ADCs: they take them in turns, as estimated
        why = (
            "'slots' wiring"
            if hw.adc_wiring == "slots"
            else f"{group.adcs} ADC(s) for {len(names)} layers: one bank"
        )
        return [
            f"shared macro: macro {macro} holds {layers}: the estimate has them take the whole "
            f"ADC bank in turns at the even spread ({why}); the simulator converts each on the "
            "ADCs its columns are wired to, at once where they are disjoint"
        ]
    load = _shift_add_ns(plan, macro, xbars)
    if period_ns and BUSY_SHARE * period_ns <= load < period_ns * (1 - 1e-9):
        return [
            f"shared macro: macro {macro} holds {layers} on their own runs of its ADCs (as the "
            f"estimate has them); its shift-and-add units are busy {load:.4g} ns per image "
            f"(estimated period {period_ns:.4g} ns): the estimate charges each layer a closed-form "
            "loss per job of the others (unit_turns), the simulator queues the jobs as they come"
        ]
    return []


def _shift_add_ns(plan: Plan, macro: int, xbars: dict[tuple[str, int], ShareCrossbars]) -> float:
    """ns per image ``macro``'s shift-and-add units are busy (server-weighted, as the simulator
    books it): every share's job of a bit holds ``k`` of the ``n`` units for ``ceil(a / k)`` action
    times (:func:`pimsim.model.wiring.whole_actions`), on the columns the simulator's crossbars
    read in each block shape."""
    part = plan.arch.hardware.parts.unit(UnitKind.SHIFT_ADD)
    units = plan.groups[macro].units.get(UnitKind.SHIFT_ADD, 0)
    if part is None or not units:
        return 0.0
    elements: list[float] = []
    jobs: list[float] = []
    for (name, s), xb in xbars.items():
        lp: LayerPlan = plan.layers[name]
        if lp.shares[s].macro != macro:
            continue
        for pixels, blocks in _shapes(BlockGeometry(lp.layer, lp.dup)):
            elements.append(_active_columns(xb, pixels))
            jobs.append(blocks * lp.bit_iters)
    _, pool = whole_actions(
        np.array(elements, dtype=float),
        np.full(len(jobs), float(units)),
        part.lanes,
        part.frequency_ghz,
    )
    return float(np.dot(pool, jobs))
