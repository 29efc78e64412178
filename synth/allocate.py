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
from synth.allocate_cells import UnitCells
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
    "per_blocks",
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


@dataclass(frozen=True)
class _Shares:
    """A batch's shares laid end to end (candidate by candidate, each in its own order)."""

    layer: np.ndarray  # (S,) network layer
    frac: np.ndarray  # (S,) fraction of the layer's work
    xbars: np.ndarray  # (S,) crossbars (0: a layer without weights)
    design: np.ndarray  # (S,) the candidate
    macro: np.ndarray  # (S,) the macro, numbered over the batch (candidate's first + its own)

    @classmethod
    def of(cls, macros: list[Macros], starts: np.ndarray) -> _Shares:
        design = np.repeat(np.arange(len(macros)), [len(m.share_layer) for m in macros])
        return cls(
            np.concatenate([m.share_layer for m in macros]),
            np.concatenate([m.share_frac for m in macros]),
            np.concatenate([m.share_xbars for m in macros]),
            design,
            np.concatenate([m.share_macro for m in macros]) + starts[design],
        )


def _buffers(ctx: ComboContext, dups: list[np.ndarray], shares: _Shares, total: int) -> np.ndarray:
    """(total,) smallest buffer of every macro of the batch that holds two blocks' input rows and
    outputs of its layers. The bits are summed per macro in share order, as for the candidate
    alone."""
    out_w, in_h, kernel_h, stride = ctx.window.T
    dup = np.array(dups)  # (B, W)
    rows = np.ceil(dup / out_w)
    in_rows = np.minimum(in_h, kernel_h + 2 * rows * stride)
    bits = in_rows * ctx.working_bits[:, 0] + 2 * dup * ctx.working_bits[:, 1]  # (B, W)
    weight = shares.xbars > 0
    position = ctx.host_of[shares.layer[weight]]  # a weight layer's own position
    need_bits = np.bincount(
        shares.macro[weight], bits[shares.design[weight], position] * shares.frac[weight], total
    )
    need_kib = need_bits / 8 / 1024
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

    The candidates' macros are laid end to end (no padding: :class:`~synth.allocate_cells.UnitCells`)
    and the bisections on the target period run side by side, each candidate stopping at its own
    tolerance. A unit count only falls as the period grows, so a cell whose count is the same at
    both ends of its candidate's interval is settled: it is added to the candidate's constant
    counts and a round computes only the cells still open, of the candidates still bisecting.
    ``buffer_floor_kib`` raises each candidate's first macros' scratchpads to at least these sizes
    (the simulator's compiler knows what a design's windows and staging need; see
    :func:`synth.materialize`); it is meant for a batch of one.
    """
    t = ctx.tables
    count = len(macros)
    n_m = np.array([len(m.crossbars) for m in macros])
    n_list = n_m.tolist()
    starts = np.cumsum(n_m) - n_m  # each candidate's first macro in the batch
    starts_list = starts.tolist()
    total = int(n_m.sum())
    owner = np.repeat(np.arange(count), n_m)
    cols = [K[Action.ADC], *UNIT_COLUMNS]
    k = len(cols)
    rate = np.concatenate([[ctx.rates.adc_ghz], ctx.rates.unit_rate])
    peak = np.concatenate([[ctx.parts.adc.peak_power_w], ctx.unit_peak_w])
    shares = _Shares.of(macros, starts)
    work = np.take(t.work.T[cols], shares.layer, axis=1) * (t.items[shares.layer] * shares.frac)
    cell = (np.arange(k)[:, None] * total + shares.macro).ravel()  # per column and macro in
    per_macro = np.bincount(cell, work.ravel(), k * total).reshape(k, total)  # share order
    crossbars = np.concatenate([m.crossbars for m in macros])
    minimum = (per_macro > 0).astype(float)
    minimum[0] = np.maximum(minimum[0], crossbars > 0)
    demand = np.where(per_macro > 0, per_macro / np.where(rate > 0, rate, 1.0)[:, None], 0.0)
    lacking = np.zeros(count, dtype=bool)  # work for a unit kind the library does not have
    if (ctx.rates.unit_rate <= 0).any():
        short = ((per_macro[1:] > 0) & (ctx.rates.unit_rate <= 0)[:, None]).any(axis=0)
        lacking = np.bincount(owner, short, count) > 0
    xbar_bound = (
        np.ceil(t.items / np.maximum(1, per_blocks(ctx, dups)))
        * t.bit_iters
        * ctx.rates.read_ns
        * t.weight
    ).max(axis=1)
    xbar_bound = np.maximum(xbar_bound, interface_bound_ns(ctx))  # no ADC can beat the interface
    areas = ctx.areas
    if unified:
        crossbars = np.maximum.reduceat(crossbars, starts)[owner]
    kib = _buffers(ctx, dups, shares, total)
    if buffer_floor_kib is not None:
        floor = np.searchsorted(ctx.buffer_kib, buffer_floor_kib)
        floor_kib = ctx.buffer_kib[np.minimum(floor, len(ctx.buffer_kib) - 1)]
        at = np.arange(total) - starts[owner]  # each macro's place in its candidate
        raised = at < len(floor_kib)
        kib[raised] = np.maximum(kib[raised], floor_kib[at[raised]])
    if unified:
        kib = np.maximum.reduceat(kib, starts)[owner]
    size = np.searchsorted(ctx.buffer_kib, kib)  # (total,) each macro's scratchpad size
    # what every allocation has, summed as the inventory sums it: the scratchpads' peak power
    # per candidate (numpy's sum of its macros'), their areas in macro order (by bincount)
    xbar_sum = np.add.reduceat(crossbars, starts)
    buffer_w = ctx.buffer_peak_w[size]
    add = np.add.reduce
    buffers_w = [add(buffer_w[s : s + n]) for s, n in zip(starts_list, n_list, strict=True)]
    fixed = (xbar_sum * ctx.per_crossbar_w + np.array(buffers_w)) + chip_overhead_peak_w(
        ctx.parts, n_m
    )
    size_mm2 = np.array([areas.buffers[kib] for kib in ctx.buffer_kib.tolist()])
    fixed_area = (
        xbar_sum.astype(float) * areas.per_crossbar
        + np.bincount(owner, size_mm2[size], count)
        + n_m * areas.router
        + areas.interface
    )
    units = UnitCells(demand, minimum, owner, starts, n_m, unified)

    fixed_w, fixed_mm2 = fixed.tolist(), fixed_area.tolist()

    def products(full: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Peak power and area of every cell's units, macro by macro (the order of one
        candidate's sums), flat."""
        return (
            np.ascontiguousarray((full * peak[:, None]).T).ravel(),
            np.ascontiguousarray((full * areas.allocated[:, None]).T).ravel(),
        )

    def figures(watts: np.ndarray, mm2: np.ndarray, b: int) -> tuple[float, float]:
        """The budgets' figures of candidate ``b`` (W, mm^2): numpy's sums over its macros."""
        s, e = starts_list[b] * k, (starts_list[b] + n_list[b]) * k
        return fixed_w[b] + float(add(watts[s:e])), fixed_mm2[b] + float(add(mm2[s:e]))

    bounded = math.isfinite(area_mm2)  # (no area budget: every area fits)

    def sums(per_kind: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Peak power and area (None: no area budget) of every candidate by the per-kind sums,
        which differ from the budget figures only by rounding (relative 1e-12 at most for these
        few thousand positive terms)."""
        watts = fixed + (per_kind * peak).sum(axis=1)
        return watts, fixed_area + (per_kind * areas.allocated).sum(axis=1) if bounded else None

    def fits(per_kind: np.ndarray) -> np.ndarray:  # every candidate: within budgets?
        watts, mm2 = sums(per_kind)
        return watts <= power_w if mm2 is None else (watts <= power_w) & (mm2 <= area_mm2)

    def fits_exactly(c: np.ndarray, which: np.ndarray) -> np.ndarray:
        """Whether the candidates in ``which`` fit at the counts ``c`` of all cells: by the
        per-kind sums, and by the budget figures themselves where those are within 1e-9 of a
        budget."""
        watts, mm2 = sums(units.per_kind(units.fold(units.base, c, units.all[2])))
        ok, near = watts <= power_w, np.abs(watts - power_w) <= 1e-9 * power_w
        if mm2 is not None:
            ok &= mm2 <= area_mm2
            near |= np.abs(mm2 - area_mm2) <= 1e-9 * area_mm2
        close = np.flatnonzero(near & which)
        if len(close):
            watts, mm2 = products(units.full(c))
            for b in close:
                watts_b, mm2_b = figures(watts, mm2, b)
                ok[b] = watts_b <= power_w and mm2_b <= area_mm2
        return ok & which

    most = np.maximum.reduceat(demand.max(axis=0), starts)
    t_one = np.maximum(np.maximum(most, xbar_bound), 1e-9)
    cheapest = units.counts(t_one, *units.all[:2])
    lo, hi = xbar_bound.copy(), t_one.copy()
    cheap_fits = fits_exactly(cheapest, np.ones(count, dtype=bool))
    done = ~cheap_fits | lacking
    at_lo = units.counts(lo, *units.all[:2])
    at_bound = fits_exactly(at_lo, ~done)
    hi[at_bound], done[at_bound] = lo[at_bound], True
    # the open cells of the bisecting candidates: demand, owner, bin, count at lo, at hi
    open_ = (at_lo != cheapest) & ~done[units.all[1]]
    base = units.fold(units.base, np.where(open_, 0.0, cheapest), units.all[2])
    cells = [a[open_] for a in (*units.all, at_lo, cheapest)]
    for _ in range(40):  # the midpoints of all; only the candidates still bisecting move
        if done.all():
            break
        mid = np.where(lo > 0, np.sqrt(lo * hi), hi / 2)
        demand_c, owner_c, bin_c, lo_c, hi_c = cells
        c = units.counts(mid, demand_c, owner_c)
        ok = fits(units.per_kind(units.fold(base, c, bin_c)))
        moving = ~done
        hi = np.where(ok & moving, mid, hi)
        lo = np.where(moving & ~ok, mid, lo)
        done |= hi - lo <= 1e-4 * hi
        fit = ok[owner_c]  # the new count is the one at hi where mid fit, at lo where not
        cells[3], cells[4] = lo_c, hi_c = np.where(fit, lo_c, c), np.where(fit, c, hi_c)
        settled = lo_c == hi_c
        if settled.any():
            base = units.fold(base, np.where(settled, hi_c, 0.0), bin_c)
        if settled.any():  # (a finished candidate's cells go on: its figures are no longer read)
            cells = [a[~settled] for a in cells]
    chosen = units.full(units.counts(hi, *units.all[:2]))
    watts, mm2 = products(chosen)
    adcs, counts = chosen[0].astype(int), chosen[1:].T.astype(int, order="C")
    target_ns = hi.tolist()
    out: list[Allocation | Infeasible] = []
    least_w: tuple[np.ndarray, np.ndarray] | None = None  # the cheapest's figures, when asked
    for b, (s, n) in enumerate(zip(starts_list, n_list, strict=True)):
        if lacking[b]:
            out.append(Infeasible("the library lacks a unit kind the network needs", math.inf))
            continue
        if not cheap_fits[b]:
            least_w = least_w or products(units.full(cheapest))
            need, need_area = figures(*least_w, b)
            out.append(
                Infeasible(
                    f"fixed costs {fixed[b]:.3g} W and {fixed_area[b]:.3g} mm^2 plus one ADC and "
                    f"unit per macro need {need:.3g} W and {need_area:.3g} mm^2",
                    need,
                    need_area,
                )
            )
            continue
        e = s + n
        peak_b, area_b = figures(watts, mm2, b)
        out.append(
            Allocation(
                adcs[s:e], counts[s:e], kib[s:e], crossbars[s:e], target_ns[b], peak_b, area_b
            )
        )
    return out


def chip_overhead_peak_w(parts: Parts, n_macros: int | np.ndarray) -> float | np.ndarray:
    """Peak power of what a chip of ``n_macros`` macros has whatever its allocation: one router per
    macro, the NoC's chip-level power and the off-chip interface (the same parts as
    :func:`synth.design.inventory_batch` puts in the inventory), W; one figure per count when
    given an array of counts."""
    io = parts.interface.peak_power_w if parts.interface is not None else 0.0
    return n_macros * parts.noc.router_power_w + parts.noc.chip_power_w + io


def interface_bound_ns(ctx: ComboContext) -> float:
    """Time per image the off-chip interface needs for one image's input and output bits, ns."""
    io = ctx.parts.interface
    return ctx.tables.io_bits / io.bandwidth_gbit_s if io is not None else 0.0


def per_blocks(ctx: ComboContext, dups: list[np.ndarray]) -> np.ndarray:
    """(B, L) items per block of each candidate: its dup for weight layers, 1 for the others."""
    per = np.ones((len(dups), len(ctx.tables.names)), dtype=int)
    per[:, ctx.weight] = np.array(dups)
    return per
