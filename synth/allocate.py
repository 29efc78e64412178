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
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pimsim.model.actions import Action
from pimsim.model.kernel import UNIT_COLUMNS, K
from synth.allocate_loops import allocate_arrays
from synth.bisect_loops import LACKING, OK, TOO_COSTLY
from synth.context import AreaTable, ComboContext
from synth.frozen import made
from synth.layout import Layouts, Macros

__all__ = [
    "Allocation",
    "Allocations",
    "batch_arrays",
    "AreaTable",
    "Infeasible",
    "allocate",
    "allocate_batch",
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


class Allocations(list):
    """:func:`allocate_batch`'s result, one :class:`Allocation` or :class:`Infeasible` per
    candidate, with each candidate's totals as Python ints (``macros``, ``adcs``,
    ``crossbars``: its macro count and its ADCs and crossbars over its macros; whole numbers,
    exact in any order; meaningless for an infeasible candidate), so that a caller that wants
    only those need not sum each allocation's arrays."""

    macros: list[int]
    adcs: list[int]
    crossbars: list[int]
    #: the batch's per-macro ADCs, units, scratchpad KiB and crossbars, candidate after
    #: candidate (what the allocations are slices of; an infeasible candidate's are not set)
    arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def batch_arrays(
    allocs: list[Allocation],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The per-macro arrays of a batch of allocations laid end to end (for the inventory and the
    kernel's view): each one's macro count (B,), then crossbars, ADCs, units (M, U) and
    scratchpad KiB per macro. An :class:`Allocations` of candidates that all fit is read from
    the arrays its allocations are slices of, not concatenated again."""
    if isinstance(allocs, Allocations):  # a whole batch that fits: its arrays as they are
        if not all(type(a) is Allocation for a in allocs):  # (an infeasible one's are unset)
            raise ValueError("a batch with an infeasible candidate (its arrays are unset)")
        if len(allocs) != len(allocs.macros):  # (a batch changed in place since it was made)
            raise ValueError("a batch whose arrays are not its allocations'")
        adcs, units, kib, crossbars = allocs.arrays
        return np.array(allocs.macros, dtype=np.int64), crossbars, adcs, units, kib
    return (
        np.array([len(a.adcs) for a in allocs], dtype=np.int64),
        np.concatenate([a.crossbars for a in allocs]),
        np.concatenate([a.adcs for a in allocs]),
        np.concatenate([a.units for a in allocs]),
        np.concatenate([a.buffer_kib for a in allocs]),
    )


class Infeasible(Exception):
    """No allocation fits the budgets; ``min_power_w`` and ``min_area_mm2`` are what the cheapest
    one would need."""

    def __init__(self, reason: str, min_power_w: float, min_area_mm2: float = 0.0) -> None:
        super().__init__(reason)
        self.min_power_w = min_power_w
        self.min_area_mm2 = min_area_mm2


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
    macros: Sequence[Macros],
    power_w: float,
    unified: bool,
    buffer_floor_kib: np.ndarray | None = None,
    area_mm2: float = math.inf,
) -> Allocations:
    """Stage 4 for many candidates at once: ADCs and units per macro for the shortest period the
    budgets allow, or why none fits (with each candidate's totals: :class:`Allocations`).

    The candidates' shares and macros are laid end to end (no padding; a :class:`Layouts` from
    :func:`synth.layout.assemble_batch` already is) and handed to the
    compiled loops of :func:`synth.allocate_loops.allocate_arrays`: the work per macro and unit
    kind, the scratchpads, the fixed costs, then per candidate the bisection on the target period.
    A unit count only falls as the period grows, so a cell whose count is the same at both ends of
    the interval is settled: it is added once to the candidate's constant counts and later rounds
    compute only the cells still open. ``buffer_floor_kib`` raises each candidate's first macros'
    scratchpads to at least these sizes (the simulator's compiler knows what a design's windows
    and staging need; see :func:`synth.materialize`); it is meant for a batch of one.
    """
    if isinstance(macros, Layouts):  # the batch as the layout laid it out
        crossbars, layer, macro, frac, xbars, macro_end, share_end = macros.arrays
    else:
        crossbars = np.concatenate([m.crossbars for m in macros])
        layer = np.concatenate([m.share_layer for m in macros])
        macro = np.concatenate([m.share_macro for m in macros])
        frac = np.concatenate([m.share_frac for m in macros])
        xbars = np.concatenate([m.share_xbars for m in macros])
        macro_end = np.cumsum([len(m.crossbars) for m in macros], dtype=np.int64)
        share_end = np.cumsum([len(m.share_layer) for m in macros], dtype=np.int64)
    count = len(macros)
    if buffer_floor_kib is None:
        floor_kib = ctx.buffer_kib[:0]
    else:
        floor = np.searchsorted(ctx.buffer_kib, buffer_floor_kib)
        floor_kib = ctx.buffer_kib[np.minimum(floor, len(ctx.buffer_kib) - 1)]
    tables = ctx.loop_tables.get("allocate")
    if tables is None:
        tables = ctx.loop_tables["allocate"] = _loop_tables(ctx)
    per_macro, per_batch, totals = allocate_arrays(
        layer,
        frac,
        xbars,
        macro,
        share_end,
        crossbars,
        macro_end,
        np.array(dups, dtype=np.int64).reshape(count, len(ctx.weight)),
        floor_kib,
        *tables,
        float(power_w),
        float(area_mm2),
        bool(unified),
    )
    adcs, units, kib, crossbars = per_macro
    target, peak, area, status, need_w, need_mm2, fixed, fixed_mm2 = per_batch
    out = Allocations()
    out.arrays = per_macro
    out.macros, out.adcs, out.crossbars = (t.tolist() for t in totals)
    ends = macro_end.tolist()
    for b, (s, e, st, target_ns, peak_w, area_b) in enumerate(
        zip(
            [0, *ends[:-1]],
            ends,
            status.tolist(),
            target.tolist(),
            peak.tolist(),
            area.tolist(),
            strict=True,
        )
    ):
        if st == OK:
            out.append(
                made(  # Allocation(...) without its __init__: one a candidate
                    Allocation,
                    {
                        "adcs": adcs[s:e],
                        "units": units[s:e],
                        "buffer_kib": kib[s:e],
                        "crossbars": crossbars[s:e],
                        "target_ns": target_ns,
                        "peak_power_w": peak_w,
                        "area_mm2": area_b,
                    },
                )
            )
        elif st == LACKING:
            out.append(Infeasible("the library lacks a unit kind the network needs", math.inf))
        else:
            assert st == TOO_COSTLY
            need, need_area = float(need_w[b]), float(need_mm2[b])
            out.append(
                Infeasible(
                    f"fixed costs {fixed[b]:.3g} W and {fixed_mm2[b]:.3g} mm^2 plus one ADC and "
                    f"unit per macro need {need:.3g} W and {need_area:.3g} mm^2",
                    need,
                    need_area,
                )
            )
    return out


def _loop_tables(ctx: ComboContext) -> tuple[np.ndarray, np.ndarray, tuple, np.ndarray]:
    """The combination's arrays :func:`synth.allocate_loops.allocate_arrays` reads: work per item
    of each unit kind (ADCs first) and items per layer, the tables, the prices."""
    t, parts, areas, io = ctx.tables, ctx.parts, ctx.areas, ctx.parts.interface
    cols = [K[Action.ADC], *UNIT_COLUMNS]
    assert len(cols) < 8  # the per-kind sums are then numpy's left-to-right sums
    tables = (
        np.concatenate([[ctx.rates.adc_ghz], ctx.rates.unit_rate]),
        np.concatenate([[parts.adc.peak_power_w], ctx.unit_peak_w]),
        areas.allocated,
        ctx.weight,
        ctx.window,
        ctx.working_bits,
        ctx.host_of,
        ctx.buffer_kib,
        ctx.buffer_peak_w,
        np.array([areas.buffers[kib] for kib in ctx.buffer_kib.tolist()]),
        t.bit_iters,
        t.weight.astype(float),
    )
    prices = np.array(
        [
            ctx.per_crossbar_w,
            parts.noc.router_power_w,
            parts.noc.chip_power_w,
            io.peak_power_w if io is not None else 0.0,
            areas.per_crossbar,
            areas.router,
            areas.interface,
            ctx.rates.read_ns,
            interface_bound_ns(ctx),
        ],
        dtype=float,
    )
    return np.ascontiguousarray(t.work[:, cols]), t.items, tables, prices


def interface_bound_ns(ctx: ComboContext) -> float:
    """Time per image the off-chip interface needs for one image's input and output bits, ns."""
    io = ctx.parts.interface
    return ctx.tables.io_bits / io.bandwidth_gbit_s if io is not None else 0.0


def per_blocks(ctx: ComboContext, dups: list[np.ndarray]) -> np.ndarray:
    """(B, L) items per block of each candidate: its dup for weight layers, 1 for the others."""
    per = np.ones((len(dups), len(ctx.tables.names)), dtype=int)
    per[:, ctx.weight] = np.array(dups)
    return per
