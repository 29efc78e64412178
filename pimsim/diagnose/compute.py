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
- **shared macro**: two or more weight layers in one macro, where the estimate's account of the
  sharing still parts the two (:mod:`pimsim.diagnose.shared` says where and why);
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

from pimsim.diagnose.communication import communication_disagreements
from pimsim.diagnose.shared import (
    active_columns,
    block_shapes,
    one_bank,
    one_bank_why,
    shared_macro,
)
from pimsim.model.design import bit_ns
from pimsim.model.estimate import estimate
from pimsim.model.plan import Plan
from pimsim.model.windows import BlockGeometry
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
    in_macro: dict[int, dict[tuple[str, int], ShareCrossbars]] = {}
    for name, lp in plan.layers.items():
        if lp.xset is not None:
            for s, share in enumerate(lp.shares):
                weights_in.setdefault(share.macro, []).append(name)
                in_macro.setdefault(share.macro, {})[(name, s)] = xbars[(name, s)]
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
            out += shared_macro(plan, macro, in_macro[macro], period)
    program = compile_program(plan)
    out += [f"small scratchpad: {w}" for w in program.warnings]
    return out + communication_disagreements(plan, program, period)


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
    wired = not one_bank(plan, macro, len(weights_in[macro]))
    for pixels, _ in block_shapes(geo):
        load = adc_loads(xb, pixels, adcs)
        if not load or not any(load):
            continue
        busiest = max(load) / ghz
        if wired:
            own = xb.adc_count if xb.adc_count is not None else adcs
            columns = sum(xb.cols)  # W: the share's weight columns on its own ADCs
            closed = min(active_columns(xb, pixels), math.ceil(columns / own - 1e-9)) / ghz
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
            why = one_bank_why(plan, macro, len(weights_in[macro]))
            return [
                f"ADC mux imbalance: '{name}' in macro {macro}, blocks of {pixels} pixel(s): the "
                f"estimate spreads a bit's conversions evenly over the macro's {adcs} ADC(s) "
                f"({why}): {max(bit, even):.4g} ns a bit with the read; the simulator's busiest "
                f"wired ADC converts {busiest:.4g} ns a bit"
            ]
    return []
