"""Shared macros: where two or more weight layers in one macro still make the estimate wrong
(docs/disagreements.md, "Shared macros"), for :func:`pimsim.diagnose.disagreements`.

- **One bank taken in turns** (``"slots"`` wiring, or fewer ADCs than weight layers): the estimate
  has the layers take the whole ADC bank in turns at the even spread
  (:func:`pimsim.model.kernel.interleaved_busy`); the simulator converts each layer on the ADCs its
  columns are wired to, so layers on disjoint ADCs convert at once. Flagged when the layers' ADCs
  differ (on the same ADCs they take them in turns in both models).
- **Own runs of ADCs, shared shift-and-add units** (``"weights"``): the estimate gives each layer
  its own run of ADCs, as the simulator wires them, and charges the shared units twice: their load
  in whole actions per job (a bound on the period) and, per job of another layer, what a layer's
  converted bit loses waiting for the units beyond its slack (:func:`pimsim.model.wiring.unit_turns`,
  a closed form of how the jobs meet). How they really meet over an image is queueing the
  simulator follows and the closed form does not. Flagged where that closed form charges at least
  1% of the estimated period and the units' load is below the period (when the load sets the
  period the units never idle and the order of the jobs does not matter).

The per-share figures are the simulator's own (:mod:`pimsim.sim.blockwork`: the columns its
crossbars read, its ADC wiring); the closed forms are the estimate's rules applied to them, not its
tables.
"""

from __future__ import annotations

import numpy as np

from pimsim.components.parts import UnitKind
from pimsim.model.design import bit_ns
from pimsim.model.plan import Plan
from pimsim.model.windows import BlockGeometry
from pimsim.model.wiring import unit_turns, whole_actions
from pimsim.sim.blockwork import ShareCrossbars, adc_loads

#: The share of the estimated period from which the closed-form turns are flagged.
TURNS_SHARE = 0.01


def block_shapes(geo: BlockGeometry) -> list[tuple[int, int]]:
    """(pixels, blocks per image) of each block shape of a weight layer: full, then the last."""
    return [(p, n) for p, n in ((geo.full, geo.blocks - 1), (geo.last, 1)) if n > 0]


def one_bank(plan: Plan, macro: int, weight_shares: int) -> bool:
    """Whether the estimate spreads the conversions of ``macro``'s ``weight_shares`` weight shares
    evenly over its whole ADC bank (``"slots"`` wiring, or fewer ADCs than weight shares) rather
    than timing each on its own wired ADCs (:func:`pimsim.model.wiring.wiring`)."""
    return plan.arch.hardware.adc_wiring != "weights" or plan.groups[macro].adcs < weight_shares


def active_columns(xb: ShareCrossbars, pixels: int) -> int:
    """Weight columns a share reads a bit in a block of ``pixels`` (copies ``0 .. pixels - 1``)."""
    return sum(c for q, c in zip(xb.copy, xb.cols, strict=True) if q < pixels)


def shared_macro(
    plan: Plan, macro: int, shares: dict[tuple[str, int], ShareCrossbars], period_ns: float
) -> list[str]:
    """The shared-macro line of ``macro`` holding the weight ``shares`` (two layers or more), or
    none where the estimate models the sharing (the module docstring)."""
    hw = plan.arch.hardware
    adcs = plan.groups[macro].adcs
    layers = ", ".join(sorted({name for name, _ in shares}))
    if one_bank(plan, macro, len(shares)):
        used = set()  # the ADCs each share's columns are wired to, in a full block
        for (name, _), xb in shares.items():
            lp = plan.layers[name]
            load = adc_loads(xb, BlockGeometry(lp.layer, lp.dup).full, adcs)
            used.add(frozenset(j for j, n in enumerate(load) if n > 0))
        if len(used) < 2:
            return []  # every layer on the same ADCs: they take them in turns in both models
        why = (
            "'slots' wiring"
            if hw.adc_wiring == "slots"
            else f"{adcs} ADC(s) for {len(shares)} layers: one bank"
        )
        return [
            f"shared macro: macro {macro} holds {layers}: the estimate has them take the whole "
            f"ADC bank in turns at the even spread ({why}); the simulator converts each on the "
            "ADCs its columns are wired to, at once where they are disjoint"
        ]
    turns = _units_in_turns(plan, macro, shares)
    if turns is None:
        return []
    load_ns, waits_ns = turns
    if period_ns and waits_ns >= TURNS_SHARE * period_ns and load_ns < period_ns * (1 - 1e-9):
        return [
            f"shared macro: macro {macro} holds {layers} on their own runs of its ADCs (as the "
            f"estimate has them), sharing its shift-and-add units (busy {load_ns:.4g} ns per "
            f"image, estimated period {period_ns:.4g} ns): the estimate charges {waits_ns:.4g} ns "
            "per image of bits waiting for them, a closed form of how the layers' jobs meet "
            "(unit_turns); the simulator queues the jobs as they come"
        ]
    return []


def _units_in_turns(
    plan: Plan, macro: int, shares: dict[tuple[str, int], ShareCrossbars]
) -> tuple[float, float] | None:
    """The shared shift-and-add units of ``macro``: their busy time per image (server-weighted, as
    the simulator books it) and the waiting the estimate's closed form charges the slowest share
    beyond its time alone, ns per image; None without such units. A share's bit alone takes
    ``max(read, busiest ADC, job)`` (single-buffered per-bit stages)."""
    hw = plan.arch.hardware
    part = hw.parts.unit(UnitKind.SHIFT_ADD)
    units = plan.groups[macro].units.get(UnitKind.SHIFT_ADD, 0)
    if part is None or not units:
        return None
    ghz, bit, adcs = hw.parts.adc.frequency_ghz, bit_ns(hw.parts), plan.groups[macro].adcs
    load = 0.0
    rows: list[tuple[float, float, float, float, float]] = []  # cycle, job, adc, jobs, image
    for (name, _), xb in shares.items():
        lp = plan.layers[name]
        image = 0.0
        first: tuple[float, float, float] | None = None
        for pixels, blocks in block_shapes(BlockGeometry(lp.layer, lp.dup)):
            job, pool = whole_actions(
                np.array([active_columns(xb, pixels)], dtype=float),
                np.array([float(units)]),
                part.lanes,
                part.frequency_ghz,
            )
            adc = max(adc_loads(xb, pixels, adcs), default=0.0) / ghz
            cycle = max(bit, adc, float(job[0]))
            first = first or (cycle, float(job[0]), adc)
            load += blocks * lp.bit_iters * float(pool[0])
            image += blocks * lp.bit_iters * cycle
        assert first is not None
        rows.append((*first, float(lp.blocks * lp.bit_iters), image))
    cycle, job, adc, jobs, image = (np.array(c) for c in zip(*rows, strict=True))
    n = len(rows)
    turns = unit_turns(cycle, job, adc, jobs, image, np.zeros(n, dtype=int), 1)
    return load, float(turns[0] - image.max())
