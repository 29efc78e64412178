"""A candidate design: duplication + macro partition -> macros -> component allocation -> evaluation.

The layout of a partition on macros is :mod:`synth.layout`, stage 4 (component allocation) is
:mod:`synth.allocate`; here they are put together with the inventory and the kernel into a scored
candidate. :func:`score_batch` scores many candidates of one combination at once (the search's
path); :func:`score` is a batch of one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from pimsim.model.evaluate import DesignArrays, Evaluation, evaluate_batch
from pimsim.model.inventory import Component
from pimsim.model.kernel import UNITS, MacroArrays
from pimsim.model.plan import mesh_shape
from pimsim.model.pricing import COMPONENTS, EnergyTable
from synth.allocate import (
    Allocation,
    AreaTable,
    Infeasible,
    allocate,
    allocate_batch,
    chip_overhead_peak_w,
    interface_bound_ns,
    per_blocks,
)
from synth.context import ComboContext
from synth.dup import DupProblem, seed
from synth.layout import (
    UNIFIED_SIZES,
    Macros,
    Partition,
    allowed_counts,
    assemble,
    assemble_batch,
    default_partition,
    unified_partition,
)

__all__ = [
    "UNIFIED_SIZES",
    "Allocation",
    "AreaTable",
    "Infeasible",
    "Macros",
    "Partition",
    "Scored",
    "allocate",
    "allocate_batch",
    "allowed_counts",
    "area_dup_problem",
    "assemble",
    "chip_overhead_peak_w",
    "default_partition",
    "design_area_mm2",
    "design_arrays",
    "design_arrays_batch",
    "interface_bound_ns",
    "inventory_batch",
    "inventory_figures",
    "peak_power_w",
    "score",
    "score_batch",
    "unified_partition",
]


def area_dup_problem(
    ctx: ComboContext, problem: DupProblem, power_w: float, unified: bool, area_mm2: float
) -> DupProblem:
    """``problem`` with its crossbar budget lowered until the proportional seed, on the default
    partition, fits the area budget too (bisection over the budget; the area grows with the
    crossbars). Unchanged without an area budget or when the full budget fits."""

    def fits(budget: int) -> bool:
        dup = ctx.full_dup(seed(replace(problem, budget=budget)))
        try:
            score(ctx, dup, default_partition(ctx, dup), power_w, unified, area_mm2=area_mm2)
        except Infeasible:
            return False
        return True

    if math.isinf(area_mm2) or problem.minimum > problem.budget or fits(problem.budget):
        return problem
    lo, hi = problem.minimum, problem.budget  # lo: assumed to fit (the explore checks dup 1)
    while hi - lo > max(1, problem.minimum // 64):
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return replace(problem, budget=lo)


@dataclass(frozen=True)
class Stocked:
    """The inventory of many allocations at once (:func:`inventory_batch`)."""

    peak_power_w: np.ndarray  # (B,) every part at full activity, W
    area_mm2: np.ndarray  # (B,) unknown areas count 0
    static_w: np.ndarray  # (B, C) static power by component, W (pricing.COMPONENTS order)


def inventory_batch(ctx: ComboContext, allocs: list[Allocation]) -> Stocked:
    """Peak power, area and static power by component of each allocation through the one
    inventory (:func:`pimsim.model.inventory.stocks`), for a whole batch: its crossbars (with
    their DACs and sample-and-holds), ADCs, units, scratchpads, one router per macro, the NoC's
    chip-level part and one off-chip interface.

    The per-part figures are the inventory's own (``ctx.unit_stock``: one of every part); each is scaled
    by the batch's part counts as arrays and summed in the inventory's order (the scratchpad sizes
    in the order of their first macro), so every figure is bit for bit the one-candidate sum: a
    part a design lacks adds an exact 0.
    """
    parts, xbar, sizes = ctx.parts, ctx.combo.xbar, ctx.buffer_kib
    count, n_r = len(allocs), len(sizes)
    n_m = np.array([len(a.adcs) for a in allocs])
    starts = np.concatenate([[0], np.cumsum(n_m)[:-1]])
    xbars = np.add.reduceat(np.concatenate([a.crossbars for a in allocs]), starts).astype(float)
    adcs = np.add.reduceat(np.concatenate([a.adcs for a in allocs]), starts).astype(float)
    units = np.add.reduceat(np.concatenate([a.units for a in allocs]), starts, axis=0)
    size = np.searchsorted(sizes, np.concatenate([a.buffer_kib for a in allocs]).astype(int))
    key = np.repeat(np.arange(count), n_m) * n_r + size
    first = np.full(count * n_r, len(key))
    np.minimum.at(first, key, np.arange(len(key)))
    order = np.argsort(first.reshape(count, n_r), axis=1, kind="stable")  # first seen, first
    held = np.take_along_axis(np.bincount(key, minlength=count * n_r).reshape(count, n_r), order, 1)
    unit_of = {Component(k.value): j for j, k in enumerate(UNITS)}
    ones = np.ones(count)
    count_of = {
        Component.CROSSBAR: xbars,
        Component.DAC: xbars * xbar,
        Component.SAMPLE_HOLD: xbars * xbar,
        Component.ADC: adcs,
        Component.INTERFACE: ones,
    }
    # one row per part of the inventory, in its order: component, static W, peak W, area, count
    rows: list[tuple[int, object, object, object, np.ndarray]] = []
    buffers = []
    for s in ctx.unit_stock:
        area = s.area_mm2 or 0.0
        c = COMPONENTS.index(s.component)
        if s.component is Component.BUFFER:
            buffers.append((s.static_power_w, s.peak_power_w, area))
            if len(buffers) == n_r:  # the sizes, each design's first seen first
                per = np.array(buffers)[order]  # (B, R, 3)
                rows += [(c, *per[:, r].T, held[:, r]) for r in range(n_r)]
            continue
        if s.component is Component.NOC:
            n = n_m.astype(float) if s.name == parts.noc.name else ones
        elif s.component in count_of:
            n = count_of[s.component]
        else:
            n = units[:, unit_of[s.component]].astype(float)
        rows.append((c, s.static_power_w, s.peak_power_w, area, n))
    component, static_w, peak_w, area_mm2, n = zip(*rows, strict=True)
    n = np.array(n, dtype=float)  # (parts, B)
    # summed part by part in the inventory's order (a reduction down the rows adds them in
    # turn; np.add.at adds each part to its component in turn)
    peak = np.add.reduce(_per_design(peak_w, count) * n, axis=0)
    area = np.add.reduce(_per_design(area_mm2, count) * n, axis=0)
    static = np.zeros((len(COMPONENTS), count))
    np.add.at(static, np.array(component), _per_design(static_w, count) * n)
    static = np.ascontiguousarray(static.T)
    return Stocked(peak, area, static)


def _per_design(values: tuple[object, ...], count: int) -> np.ndarray:
    """(len(values), count): each value (a number, or one per design) for every design."""
    out = np.empty((len(values), count))
    for i, v in enumerate(values):
        out[i] = v
    return out


def design_arrays(
    ctx: ComboContext,
    dup: np.ndarray,
    macros: Macros,
    alloc: Allocation,
    static_w: np.ndarray | None = None,
) -> DesignArrays:
    """The kernel's view of the candidate (``static_w``: its static power by component from
    :func:`inventory_batch`, if known); :func:`design_arrays_batch` of one."""
    if static_w is None:
        static_w = inventory_batch(ctx, [alloc]).static_w[0]
    return design_arrays_batch(ctx, [dup], [macros], [alloc], static_w[None, :])[0]


def design_arrays_batch(
    ctx: ComboContext,
    dups: list[np.ndarray],
    macros: list[Macros],
    allocs: list[Allocation],
    static_w: np.ndarray,
) -> list[DesignArrays]:
    """The kernel's view of many candidates (``static_w``: (B, C) their static power by component
    from :func:`inventory_batch`). The per-macro figures (scratchpad energies and ports, units
    as floats) are gathered once for the batch and cut per candidate."""
    n_m = [len(a.adcs) for a in allocs]
    ends = np.cumsum(n_m).tolist()
    index = np.searchsorted(ctx.buffer_kib, np.concatenate([a.buffer_kib for a in allocs]))
    bit_pj, port = ctx.buffer_bit_pj[index], ctx.buffer_port[index]
    adcs = np.concatenate([a.adcs for a in allocs]).astype(float)
    units = np.concatenate([a.units for a in allocs]).astype(float)
    per_block = per_blocks(ctx, dups)
    noc, io = ctx.parts.noc, ctx.parts.interface
    out = []
    for b, (s, e, m) in enumerate(zip([0, *ends[:-1]], ends, macros, strict=True)):
        table = EnergyTable(
            ctx.action_pj,
            bit_pj[s:e],
            noc.hop_energy_pj,
            static_w[b],
            io.energy_per_bit_pj if io is not None else 0.0,
        )
        shape = mesh_shape(e - s)
        out.append(
            DesignArrays(
                per_block[b],
                m.share_layer,
                m.share_macro,
                m.share_frac,
                MacroArrays(adcs[s:e], units[s:e], port[s:e]),
                ctx.rates,
                ctx.router_positions(e - s, shape[1]),
                shape,
                noc.flit_bits,
                noc.flit_latency_ns,
                table,
                noc.hop_latency_ns,
                interface_gbit_s=io.bandwidth_gbit_s if io else 0.0,
                adc_wiring="weights",  # what synth.materialize writes
            )
        )
    return out


def inventory_figures(ctx: ComboContext, alloc: Allocation) -> tuple[float, float]:
    """Peak power (W) and area (mm^2, unknown areas 0) of the allocation through the one inventory:
    the budgets' ground truth (:func:`inventory_batch` of one)."""
    s = inventory_batch(ctx, [alloc])
    return float(s.peak_power_w[0]), float(s.area_mm2[0])


def design_area_mm2(ctx: ComboContext, alloc: Allocation) -> float:
    """Area of the allocation through the one inventory (the area budget's ground truth)."""
    return inventory_figures(ctx, alloc)[1]


def peak_power_w(ctx: ComboContext, alloc: Allocation) -> float:
    """Peak power of the allocation through the one inventory (the budget check's ground truth)."""
    return inventory_figures(ctx, alloc)[0]


@dataclass(frozen=True)
class Scored:
    """A fully evaluated candidate."""

    dup: tuple[int, ...]  # every weight layer
    partition: Partition
    macros: Macros
    alloc: Allocation
    evaluation: Evaluation
    tops_per_w: float


def score(
    ctx: ComboContext,
    dup: np.ndarray,
    partition: Partition,
    power_w: float,
    unified: bool,
    buffer_floor_kib: np.ndarray | None = None,
    area_mm2: float = math.inf,
) -> Scored:
    """Stages 4 and the closed-form estimate of one candidate (:func:`score_batch` of one).

    Raises:
        Infeasible: the candidate cannot fit the budgets.
    """
    (s,) = score_batch(ctx, [dup], [partition], power_w, unified, buffer_floor_kib, area_mm2)
    if isinstance(s, Infeasible):
        raise s
    return s


def score_batch(
    ctx: ComboContext,
    dups: list[np.ndarray],
    partitions: list[Partition],
    power_w: float,
    unified: bool,
    buffer_floor_kib: np.ndarray | None = None,
    area_mm2: float = math.inf,
) -> list[Scored | Infeasible]:
    """Stages 4 and the closed-form estimate of many candidates of one combination, in one batch
    (:func:`allocate_batch`, :func:`pimsim.model.evaluate.evaluate_batch`): each gets what it
    would get alone. Every allocation's peak power and area are checked through the one
    inventory."""
    macros = assemble_batch(ctx, dups, partitions)
    allocs = allocate_batch(ctx, dups, macros, power_w, unified, buffer_floor_kib, area_mm2)
    fitting = [b for b, a in enumerate(allocs) if isinstance(a, Allocation)]
    fit = [allocs[b] for b in fitting]
    arrays: list[DesignArrays] = []
    if fit:
        stocked = inventory_batch(ctx, fit)  # type: ignore[arg-type]
        for peak, area in zip(stocked.peak_power_w, stocked.area_mm2, strict=True):
            assert peak <= power_w * (1 + 1e-9), (
                f"allocation exceeds the budget: {peak} W > {power_w} W"
            )
            assert area <= area_mm2 * (1 + 1e-9), (
                f"allocation exceeds the area: {area} > {area_mm2} mm^2"
            )
        arrays = design_arrays_batch(
            ctx, [dups[b] for b in fitting], [macros[b] for b in fitting], fit, stocked.static_w
        )
    out: list[Scored | Infeasible] = list(allocs)  # type: ignore[arg-type]
    for b, ev in zip(fitting, evaluate_batch(ctx.tables, arrays), strict=True):
        alloc = allocs[b]
        assert isinstance(alloc, Allocation)
        out[b] = Scored(
            tuple(np.asarray(dups[b], dtype=int).tolist()),
            partitions[b],
            macros[b],
            alloc,
            ev,
            ctx.tables.ops / ev.energy_pj,
        )
    return out
