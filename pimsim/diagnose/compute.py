"""Conditions under which the estimate is knowingly wrong about a design (docs/disagreements.md).

:func:`disagreements` looks at a placed design and names every known condition it has, one line
each, so that ``pimsyn explore --validate`` can flag them beside the simulated figures:

- **ADC mux imbalance**: a share whose busiest ADC (the arch's fixed mux wiring, ``adc_wiring``,
  :mod:`pimsim.sim.blockwork`)
  needs longer per bit than the estimate's even spread over the macro's ADCs and the bit time;
- **shared macro**: two weight layers in one macro: the estimate has them take the whole ADC bank
  in turns, the hardware gives each the ADCs its crossbars are wired to;
- **tail block**: a layer on several macros whose last block leaves some copies idle: the estimate
  splits the last block's work over the macros in proportion to their crossbars;
- **small scratchpad**: a scratchpad too small for the windows and staging that let transfers
  overlap work (the compiler's warnings): the run stalls for space, which the estimate ignores;
- the communication conditions of :mod:`pimsim.diagnose.communication` (router buffer starvation, router
  port contention, hot-spot links, interface-bound designs, scratchpad port contention from NoC
  traffic).
"""

from __future__ import annotations

from pimsim.diagnose.communication import communication_disagreements
from pimsim.model.design import bit_ns
from pimsim.model.plan import Plan
from pimsim.model.windows import BlockGeometry
from pimsim.sim.blockwork import adc_loads, share_crossbars
from pimsim.sim.compiler import compile_program


def disagreements(plan: Plan) -> list[str]:
    """One line per known condition of ``plan`` where the estimate and the simulation part."""
    hw = plan.arch.hardware
    bit = bit_ns(hw.parts)
    ghz = hw.parts.adc.frequency_ghz
    xbars = share_crossbars(plan)
    out: list[str] = []
    weights_in: dict[int, list[str]] = {}
    for name, lp in plan.layers.items():
        if lp.xset is None:
            continue
        geo = BlockGeometry(lp.layer, lp.dup)
        for s, share in enumerate(lp.shares):
            weights_in.setdefault(share.macro, []).append(name)
            group = plan.groups[share.macro]
            xb = xbars[(name, s)]
            load = adc_loads(xb, geo.full, group.adcs)
            if not load:
                continue
            busiest = max(load) / ghz
            even = sum(load) / (group.adcs * ghz)
            if busiest > 1.01 * max(bit, even):
                out.append(
                    f"ADC mux imbalance: '{name}' in macro {share.macro}: its busiest ADC needs "
                    f"{busiest:.4g} ns a bit, the estimate {max(bit, even):.4g} ns (even spread)"
                )
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
            out.append(
                f"shared macro: macro {macro} holds {', '.join(sorted(set(names)))}: the estimate "
                "has them take the whole ADC bank in turns, the hardware its wired ADCs each"
            )
    program = compile_program(plan)
    out += [f"small scratchpad: {w}" for w in program.warnings]
    return out + communication_disagreements(plan, program)
