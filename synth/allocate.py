"""Stage 4, component allocation: ADCs and digital units per macro within the budgets.

Stage 4 (component allocation) is the closed form of the paper's Eq. 6 with exact rounding: for a
target period ``T`` every macro gets ``ceil(work per image / (rate * T))`` ADCs and units of each kind
it uses (at least one); the fixed costs (crossbars with their DACs, buffers, NoC) come first, and the
smallest ``T`` whose total peak power fits the budget is found by bisection, so the budget is never
exceeded. ``T`` never goes below the crossbars' own bound (blocks x bit iterations x read time of the
slowest layer) nor the off-chip interface's (one image's input and output bits / bandwidth), since
more ADCs could not help there. The budgets are peak power and, when given, area, both over the
same parts as the inventory. In ``unified`` mode all macros are identical: as in the paper, one
macro size is searched (32 to 512 crossbars in steps of 32, :func:`unified_partition`), and every
macro gets the crossbars, scratchpad, ADCs and units of the most demanding one, with the budgets
checked after that.

Many candidates are allocated at once (:func:`allocate_batch`); :func:`allocate` is a batch of one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pimsim.arch.schema import Parts
from pimsim.model.actions import Action
from pimsim.model.kernel import UNIT_COLUMNS, K
from synth.context import AreaTable, ComboContext
from synth.layout import Macros

__all__ = [
    "Allocation",
    "AreaTable",
    "Infeasible",
    "allocate",
    "allocate_batch",
    "chip_overhead_peak_w",
    "interface_bound_ns",
]


@dataclass(frozen=True)
class Allocation:
    """Stage 4's result: resources per macro and the peak power they draw."""

    adcs: np.ndarray  # (M,)
    units: np.ndarray  # (M, U)
    buffer_kib: np.ndarray  # (M,)
    crossbars: np.ndarray  # (M,) (unified mode: every macro the largest)
    target_ns: float
    peak_power_w: float
    area_mm2: float = 0.0


class Infeasible(Exception):
    """No allocation fits the budgets; ``min_power_w`` and ``min_area_mm2`` are what the cheapest
    one would need."""

    def __init__(self, reason: str, min_power_w: float, min_area_mm2: float = 0.0) -> None:
        super().__init__(reason)
        self.min_power_w = min_power_w
        self.min_area_mm2 = min_area_mm2


def _buffers(
    ctx: ComboContext, dups: list[np.ndarray], macros: list[Macros], pad: int
) -> np.ndarray:
    """(B, pad) smallest buffer per macro of each candidate that holds two blocks' input rows and
    outputs of its layers (the smallest size where a candidate has fewer macros). The bits are
    summed per macro in share order, as for the candidate alone."""
    out_w, in_h, kernel_h, stride = ctx.window.T
    dup = np.array(dups)  # (B, W)
    rows = np.ceil(dup / out_w)
    in_rows = np.minimum(in_h, kernel_h + 2 * rows * stride)
    bits = in_rows * ctx.working_bits[:, 0] + 2 * dup * ctx.working_bits[:, 1]  # (B, W)
    design = np.repeat(np.arange(len(macros)), [len(m.share_layer) for m in macros])
    weight = np.concatenate([m.share_xbars for m in macros]) > 0
    design = design[weight]
    position = np.searchsorted(ctx.weight, np.concatenate([m.share_layer for m in macros])[weight])
    need_bits = np.bincount(
        design * pad + np.concatenate([m.share_macro for m in macros])[weight],
        bits[design, position] * np.concatenate([m.share_frac for m in macros])[weight],
        len(macros) * pad,
    )
    need_kib = need_bits.reshape(len(macros), pad) / 8 / 1024
    index = np.searchsorted(ctx.buffer_kib, need_kib)
    return ctx.buffer_kib[np.minimum(index, len(ctx.buffer_kib) - 1)]


def allocate(
    ctx: ComboContext,
    dup: np.ndarray,
    macros: Macros,
    power_w: float,
    unified: bool,
    buffer_floor_kib: np.ndarray | None = None,
    area_mm2: float = math.inf,
) -> Allocation:
    """Stage 4: ADCs and units per macro for the shortest period the budgets allow (peak power
    within ``power_w`` and area within ``area_mm2``, both summed over the same parts as the
    inventory; parts of unknown area count 0). See :func:`allocate_batch`.

    ``buffer_floor_kib`` raises macros' scratchpads to at least these sizes (the simulator's
    compiler knows what a design's windows and staging need; see :func:`synth.materialize`).

    Raises:
        Infeasible: even one of each needed unit per macro exceeds a budget.
    """
    (alloc,) = allocate_batch(ctx, [dup], [macros], power_w, unified, buffer_floor_kib, area_mm2)
    if isinstance(alloc, Infeasible):
        raise alloc
    return alloc


def allocate_batch(
    ctx: ComboContext,
    dups: list[np.ndarray],
    macros: list[Macros],
    power_w: float,
    unified: bool,
    buffer_floor_kib: np.ndarray | None = None,
    area_mm2: float = math.inf,
) -> list[Allocation | Infeasible]:
    """Stage 4 for many candidates at once: ADCs and units per macro for the shortest period the
    budgets allow, or why none fits.

    The candidates' macros are padded to the largest count (padding needs nothing and costs
    nothing) and the bisections on the target period run side by side, each candidate stopping at
    its own tolerance. ``buffer_floor_kib`` raises macros' scratchpads to at least these sizes (the
    simulator's compiler knows what a design's windows and staging need; see
    :func:`synth.materialize`); it applies to a batch of one.
    """
    t = ctx.tables
    count = len(macros)
    n_m = np.array([len(m.crossbars) for m in macros])
    pad = int(n_m.max())
    cols = [K[Action.ADC], *UNIT_COLUMNS]
    rate = np.concatenate([[ctx.rates.adc_ghz], ctx.rates.unit_rate])
    peak = np.concatenate([[ctx.parts.adc.peak_power_w], ctx.unit_peak_w])
    layer = np.concatenate([m.share_layer for m in macros])
    frac = np.concatenate([m.share_frac for m in macros])
    slot = np.concatenate([b * pad + m.share_macro for b, m in enumerate(macros)])
    work = np.take(t.work[:, cols], layer, axis=0) * (t.items[layer] * frac)[:, None]
    k = len(cols)  # summed per macro and column in share order, as np.add.at would
    cell = (slot[:, None] * k + np.arange(k)).ravel()
    per_macro = np.bincount(cell, work.ravel(), count * pad * k).reshape(count, pad, k)
    crossbars = np.zeros((count, pad), dtype=int)
    for b, m in enumerate(macros):
        crossbars[b, : n_m[b]] = m.crossbars
    real = np.arange(pad)[None, :] < n_m[:, None]
    minimum = (per_macro > 0).astype(float)
    minimum[:, :, 0] = np.maximum(minimum[:, :, 0], crossbars > 0)
    demand = np.where(per_macro > 0, per_macro / np.where(rate > 0, rate, 1.0), 0.0)
    lacking = np.zeros(count, dtype=bool)  # work for a unit kind the library does not have
    if (ctx.rates.unit_rate <= 0).any():
        lacking = np.any((per_macro[:, :, 1:] > 0) & (ctx.rates.unit_rate <= 0), axis=(1, 2))
    per_block = np.ones((count, len(t.names)), dtype=int)
    per_block[:, ctx.weight] = np.array(dups)
    xbar_bound = (
        np.ceil(t.items / np.maximum(1, per_block)) * t.bit_iters * ctx.rates.read_ns * t.weight
    ).max(axis=1)
    xbar_bound = np.maximum(xbar_bound, interface_bound_ns(ctx))  # no ADC can beat the interface
    areas = ctx.areas
    if unified:
        crossbars = np.where(real, crossbars.max(axis=1)[:, None], 0)
    kib = _buffers(ctx, dups, macros, pad)
    if buffer_floor_kib is not None:
        floor = np.searchsorted(ctx.buffer_kib, buffer_floor_kib)
        floor_kib = ctx.buffer_kib[np.minimum(floor, len(ctx.buffer_kib) - 1)]
        kib[:, : len(floor_kib)] = np.maximum(kib[:, : len(floor_kib)], floor_kib)
    if unified:
        kib = np.where(real, np.where(real, kib, 0).max(axis=1)[:, None], kib)
    size = np.searchsorted(ctx.buffer_kib, kib)  # (B, pad) each macro's scratchpad size
    buffers = [kib[b, :n].copy() for b, n in enumerate(n_m.tolist())]
    # what every allocation has, summed as the inventory sums it: the scratchpads' peak power
    # per candidate (numpy's sum of its macros'), their areas in macro order (by bincount)
    xbar_sum = np.where(real, crossbars, 0).sum(axis=1)
    buffer_w = ctx.buffer_peak_w[size]
    fixed = np.array(
        [
            float(xbar_sum[b] * ctx.per_crossbar_w + buffer_w[b, :n].sum())
            + chip_overhead_peak_w(ctx.parts, n)
            for b, n in enumerate(n_m.tolist())
        ]
    )
    size_mm2 = np.array([areas.buffers[k] for k in ctx.buffer_kib.tolist()])
    fixed_area = (
        xbar_sum.astype(float) * areas.per_crossbar
        + np.bincount(np.repeat(np.arange(count), n_m), size_mm2[size[real]], count)
        + n_m * areas.router
        + areas.interface
    )

    def counts(target: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Units per macro and kind at each candidate's ``target`` period (of the candidates
        ``rows`` only, their padding cut to the largest of them, when given)."""
        d, least, r = demand, minimum, real
        if rows is not None:
            width = int(n_m[rows].max())
            d, least, r = demand[rows, :width], minimum[rows, :width], real[rows, :width]
        c = d / target[:, None, None]  # then - 1e-9, ceil, at least the minimum, in place
        c -= 1e-9
        np.maximum(np.ceil(c, out=c), least, out=c)
        if unified:
            c = np.where(r[:, :, None], c.max(axis=1)[:, None, :], 0.0)
        return c

    def power(c: np.ndarray, b: int) -> float:  # the budget's figures, one candidate
        return float(fixed[b] + float((c[b, : n_m[b]] * peak).sum()))

    def area(c: np.ndarray, b: int) -> float:
        return float(fixed_area[b] + float((c[b, : n_m[b]] * areas.allocated).sum()))

    def fits_one(c: np.ndarray, b: int) -> bool:
        return power(c, b) <= power_w and area(c, b) <= area_mm2

    bounded = math.isfinite(area_mm2)  # (no area budget: every area fits)

    def fits(c: np.ndarray, rows: np.ndarray) -> np.ndarray:  # the rows at once: within budgets?
        per_kind = np.einsum("bmk->bk", c)  # unit counts: whole numbers, exact in any order
        ok = fixed[rows] + (per_kind * peak).sum(axis=1) <= power_w
        if bounded:
            ok &= fixed_area[rows] + (per_kind * areas.allocated).sum(axis=1) <= area_mm2
        return ok

    def fits_exactly(c: np.ndarray, which: np.ndarray) -> np.ndarray:
        """:func:`fits_one` of the candidates in ``which``: :func:`fits`, whose sums differ from
        the budget figures' only by rounding (relative 1e-12 at most for these few thousand
        positive terms), and the budget figures themselves where that is within 1e-9 of a
        budget."""
        per_kind = np.einsum("bmk->bk", c)
        watts = fixed + (per_kind * peak).sum(axis=1)
        ok = watts <= power_w
        near = np.abs(watts - power_w) <= 1e-9 * power_w
        if bounded:
            mm2 = fixed_area + (per_kind * areas.allocated).sum(axis=1)
            ok &= mm2 <= area_mm2
            near |= np.abs(mm2 - area_mm2) <= 1e-9 * area_mm2
        for b in np.flatnonzero(near & which):
            ok[b] = fits_one(c, b)
        return ok & which

    t_one = np.maximum(np.maximum(demand.max(axis=(1, 2)), xbar_bound), 1e-9)
    cheapest = counts(t_one)
    lo, hi = xbar_bound.copy(), t_one.copy()
    cheap_fits = fits_exactly(cheapest, np.ones(count, dtype=bool))
    done = ~cheap_fits | lacking
    at_bound = fits_exactly(counts(lo), ~done)
    hi[at_bound], done[at_bound] = lo[at_bound], True
    for _ in range(40):  # only the candidates still bisecting (most stop within a few rounds)
        rows = np.flatnonzero(~done)
        if not len(rows):
            break
        lo_r, hi_r = lo[rows], hi[rows]
        mid = np.where(lo_r > 0, np.sqrt(lo_r * hi_r), hi_r / 2)
        ok = fits(counts(mid, rows), rows)
        hi[rows] = hi_r = np.where(ok, mid, hi_r)
        lo[rows] = lo_r = np.where(ok, lo_r, mid)
        done[rows] = hi_r - lo_r <= 1e-4 * hi_r
    chosen = counts(hi)
    out: list[Allocation | Infeasible] = []
    for b in range(count):
        if lacking[b]:
            out.append(Infeasible("the library lacks a unit kind the network needs", math.inf))
            continue
        if not cheap_fits[b]:
            need, need_area = power(cheapest, b), area(cheapest, b)
            out.append(
                Infeasible(
                    f"fixed costs {fixed[b]:.3g} W and {fixed_area[b]:.3g} mm^2 plus one ADC and "
                    f"unit per macro need {need:.3g} W and {need_area:.3g} mm^2",
                    need,
                    need_area,
                )
            )
            continue
        c = chosen[b, : n_m[b]]
        out.append(
            Allocation(
                c[:, 0].astype(int),
                c[:, 1:].astype(int),
                buffers[b],
                crossbars[b, : n_m[b]].copy(),
                float(hi[b]),
                power(chosen, b),
                area(chosen, b),
            )
        )
    return out


def chip_overhead_peak_w(parts: Parts, n_macros: int) -> float:
    """Peak power of what a chip of ``n_macros`` macros has whatever its allocation: one router per
    macro, the NoC's chip-level power and the off-chip interface (the same parts as
    :func:`synth.design.inventory_batch` puts in the inventory)."""
    io = parts.interface.peak_power_w if parts.interface is not None else 0.0
    return n_macros * parts.noc.router_power_w + parts.noc.chip_power_w + io


def interface_bound_ns(ctx: ComboContext) -> float:
    """Time per image the off-chip interface needs for one image's input and output bits, ns."""
    io = ctx.parts.interface
    return ctx.tables.io_bits / io.bandwidth_gbit_s if io is not None else 0.0


def _per_block(ctx: ComboContext, dup: np.ndarray) -> np.ndarray:
    """(L,) items per block: dup for weight layers, 1 for the others."""
    per = np.ones(len(ctx.tables.names), dtype=int)
    per[ctx.weight] = dup
    return per
