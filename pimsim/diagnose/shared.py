"""Shared macros: where two or more weight layers in one macro still make the estimate wrong
(docs/disagreements.md, "Shared macros"), for :func:`pimsim.diagnose.disagreements`.

- **One bank taken in turns** (``"slots"`` wiring, or fewer ADCs than weight layers): the estimate
  has the layers take the whole ADC bank in turns at the even spread
  (:func:`pimsim.model.shared_jit.interleaved_busy`); the simulator converts each layer on the ADCs its
  columns are wired to, so layers on disjoint ADCs convert at once, and layers whose ranges share
  an ADC take turns, each bit holding all its ADCs. Flagged when the layers' ADCs differ (on the
  same ADCs they take them in turns in both models).
- **Own runs of ADCs, shared shift-and-add units** (``"weights"``): the estimate gives each layer
  its own run of ADCs, as the simulator wires them, and charges the shared units twice: their load
  in whole actions per job (a bound on the period) and the queue where one layer's bits lock onto
  the other's stream of jobs, waiting the same time every bit
  (:func:`pimsim.model.shared_jit.unit_turns`). Where neither layer locks (each one's bits land in
  the other's idle gaps) and their cycles differ, the phases drift and the bits meet the other's
  jobs now and then: waits the estimate leaves out (at most a random-incidence residual,
  ``J_o^2 / (2 c_o)`` a bit). Flagged where those could put a layer's time 1% past the estimated
  period and the units' load is below the period (when the load sets the period the units never
  idle and the order of the jobs does not matter).

The per-share figures are the simulator's own (:mod:`pimsim.sim.blockwork`: the columns its
crossbars read, its ADC wiring); the closed forms are the estimate's rules applied to them, not its
tables.
"""

from __future__ import annotations

import numpy as np

from pimsim.components.parts import UnitKind
from pimsim.model.design import bit_ns
from pimsim.model.plan import Plan
from pimsim.model.turns import UnitJobs, turn_times, unit_lock
from pimsim.model.windows import BlockGeometry
from pimsim.model.wiring import whole_actions
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


def one_bank_why(plan: Plan, macro: int, weight_shares: int) -> str:
    """Why the estimate spreads ``macro``'s conversions over its whole ADC bank (where
    :func:`one_bank` holds), as the diagnostic lines say it."""
    if plan.arch.hardware.adc_wiring == "slots":
        return "'slots' wiring"
    return f"{plan.groups[macro].adcs} ADC(s) for {weight_shares} weight layers: one bank"


def active_columns(xb: ShareCrossbars, pixels: int) -> int:
    """Weight columns a share reads a bit in a block of ``pixels`` (copies ``0 .. pixels - 1``)."""
    return sum(c for q, c in zip(xb.copy, xb.cols, strict=True) if q < pixels)


def shared_macro(
    plan: Plan, macro: int, shares: dict[tuple[str, int], ShareCrossbars], period_ns: float
) -> list[str]:
    """The shared-macro line of ``macro`` holding the weight ``shares`` (two layers or more), or
    none where the estimate models the sharing (the module docstring)."""
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
        return [
            f"shared macro: macro {macro} holds {layers}: the estimate has them take the whole "
            f"ADC bank in turns at the even spread ({one_bank_why(plan, macro, len(shares))}); "
            "the simulator converts each on the "
            "ADCs its columns are wired to, at once where they are disjoint, in turns where "
            "they share one"
        ]
    turns = _units_in_turns(plan, macro, shares)
    if turns is None:
        return []
    load_ns, charged_ns, left_ns, worst_ns = turns
    if period_ns and worst_ns >= period_ns * (1 + TURNS_SHARE) and load_ns < period_ns * (1 - 1e-9):
        return [
            f"shared macro: macro {macro} holds {layers} on their own runs of its ADCs (as the "
            f"estimate has them), sharing its shift-and-add units (busy {load_ns:.4g} ns per "
            f"image, estimated period {period_ns:.4g} ns): the estimate charges {charged_ns:.4g} "
            "ns per image of bits waiting for them where the layers' jobs lock (unit_turns), "
            f"none where a layer's bits drift through the other's idle gaps; there they meet its "
            f"jobs at any phase, about {left_ns:.4g} ns per image of waits left out, which can "
            "set the period"
        ]
    return []


def _units_in_turns(
    plan: Plan, macro: int, shares: dict[tuple[str, int], ShareCrossbars]
) -> tuple[float, float, float, float] | None:
    """The shared shift-and-add units of ``macro``: their busy time per image (server-weighted, as
    the simulator books it); what the estimate's locked queue adds to the macro's time (the
    slowest share with its waits against the slowest alone, :func:`pimsim.model.shared_jit.unit_turns`
    applied to these figures); the waits it leaves out on the share where they
    weigh most, and that share's time per image with them, ns per image; None without such
    units. A share's bit alone takes ``max(read, busiest ADC, job)`` (single-buffered per-bit
    stages).

    Left out: where a share's bits drift through a partner's idle gaps
    (:func:`pimsim.model.turns.unit_lock`) they arrive at every phase of the partner's ``c_o``
    cycle, find its job of ``J_o`` with probability ``J_o / c_o`` and then wait its residual,
    ``J_o / 2`` on average (random incidence): ``J_o^2 / (2 c_o)`` a bit, for each of the share's
    bits an image (an upper bound: not all of them overlap the partner's stream)."""
    got = share_rows(plan, macro, shares)
    if got is None:
        return None
    load, rows = got
    cycle, job, adc, hold, jobs, blocks, image = (
        np.array(c) for c in zip(*rows.values(), strict=True)
    )
    n = len(rows)
    times = turn_times(UnitJobs(cycle, job, adc, hold, jobs, blocks, image), np.zeros(n, dtype=int))
    s, o = (a.ravel() for a in np.nonzero(~np.eye(n, dtype=bool)))  # every ordered pair
    wait, _, drift, _ = unit_lock(adc[s], job[s], hold[s] + hold[o], job[o], cycle[o])
    # a pair leaves waits out where both drift and their phases move (different cycles): where one
    # of them locks, the other meets the partner's jobs always at the same idle phase
    locked = np.zeros((n, n), dtype=bool)
    locked[s, o] = wait > 0
    drift &= ~locked[o, s] & (np.abs(cycle[s] - cycle[o]) > 1e-9)
    left = np.zeros(n)
    np.add.at(left, s, np.where(drift, jobs[s] * job[o] ** 2 / (2 * cycle[o]), 0.0))
    worst = int(np.argmax(times + left))
    return (
        load,
        float(times.max() - image.max()),
        float(left[worst]),
        float(times[worst] + left[worst]),
    )


def share_rows(
    plan: Plan, macro: int, shares: dict[tuple[str, int], ShareCrossbars]
) -> tuple[float, dict[tuple[str, int], tuple[float, ...]]] | None:
    """The shared shift-and-add units' busy time per image in ``macro`` (server-weighted), and per
    weight share its figures in a full block: bit cycle alone ``max(read, busiest ADC, job)``, its
    shift-and-add job, its busiest ADC's conversions a bit (ns), the fraction of the units a job
    holds, bits and blocks per image, time per image alone (ns); None without such units."""
    hw = plan.arch.hardware
    part = hw.parts.unit(UnitKind.SHIFT_ADD)
    units = plan.groups[macro].units.get(UnitKind.SHIFT_ADD, 0)
    if part is None or not units:
        return None
    ghz, bit, adcs = hw.parts.adc.frequency_ghz, bit_ns(hw.parts), plan.groups[macro].adcs
    load = 0.0
    rows: dict[tuple[str, int], tuple[float, ...]] = {}
    for key, xb in shares.items():
        lp = plan.layers[key[0]]
        image = 0.0
        first: tuple[float, float, float, float] | None = None
        for pixels, blocks in block_shapes(BlockGeometry(lp.layer, lp.dup)):
            job, pool = whole_actions(
                np.array([active_columns(xb, pixels)], dtype=float),
                np.array([float(units)]),
                part.lanes,
                part.frequency_ghz,
            )
            adc = max(adc_loads(xb, pixels, adcs), default=0.0) / ghz
            cycle = max(bit, adc, float(job[0]))
            hold = float(pool[0] / job[0]) if job[0] > 0 else 0.0
            first = first or (cycle, float(job[0]), adc, hold)
            load += blocks * lp.bit_iters * float(pool[0])
            image += blocks * lp.bit_iters * cycle
        assert first is not None
        rows[key] = (*first, float(lp.blocks * lp.bit_iters), float(lp.blocks), image)
    return load, rows
