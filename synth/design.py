"""A candidate design: duplication + macro partition -> macros -> component allocation -> evaluation.

The layout of a partition on macros is :mod:`synth.layout`, stage 4 (component allocation) is
:mod:`synth.allocate`; here they are put together with the inventory and the kernel into a scored
candidate. :func:`score_batch` scores many candidates of one combination at once (the search's
path); :func:`score` is a batch of one.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from pimsim.model.evaluate import DesignArrays, Evaluation, evaluate_batch
from pimsim.model.inventory import PartCounts, stocks
from pimsim.model.kernel import UNITS, MacroArrays
from pimsim.model.plan import mesh_shape
from pimsim.model.pricing import energy_table
from synth.allocate import (
    Allocation,
    AreaTable,
    Infeasible,
    _per_block,
    allocate,
    allocate_batch,
    chip_overhead_peak_w,
    interface_bound_ns,
)
from synth.context import ComboContext
from synth.dup import DupProblem, seed
from synth.layout import (
    UNIFIED_SIZES,
    Macros,
    Partition,
    allowed_counts,
    assemble,
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
    "interface_bound_ns",
    "inventory_figures",
    "part_counts",
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


def part_counts(ctx: ComboContext, alloc: Allocation) -> PartCounts:
    """The allocation as part counts (for the one inventory and energy table); scratchpad sizes
    in the order of their first macro."""
    units = alloc.units.sum(axis=0).tolist()
    return PartCounts(
        float(alloc.crossbars.sum()),
        float(alloc.adcs.sum()),
        {k: float(units[j]) for j, k in enumerate(UNITS)},
        dict(Counter(alloc.buffer_kib.astype(int).tolist())),  # first seen, first
        float(len(alloc.adcs)),
        {},
        chip_noc=True,
        interfaces=1.0,
    )


def design_arrays(
    ctx: ComboContext,
    dup: np.ndarray,
    macros: Macros,
    alloc: Allocation,
    counts: PartCounts | None = None,
) -> DesignArrays:
    """The kernel's view of the candidate (``counts``: its :func:`part_counts`, if known)."""
    n_m = len(alloc.adcs)
    port = ctx.buffer_port[np.searchsorted(ctx.buffer_kib, alloc.buffer_kib)]
    table = energy_table(
        ctx.parts,
        ctx.combo.xbar,
        counts or part_counts(ctx, alloc),
        alloc.buffer_kib.astype(int).tolist(),
    )
    return DesignArrays(
        _per_block(ctx, dup),
        macros.share_layer,
        macros.share_macro,
        macros.share_frac,
        MacroArrays(alloc.adcs.astype(float), alloc.units.astype(float), port),
        ctx.rates,
        ctx.router_positions(n_m),
        mesh_shape(n_m),
        ctx.parts.noc.flit_bits,
        ctx.parts.noc.flit_latency_ns,
        table,
        ctx.parts.noc.hop_latency_ns,
        interface_gbit_s=ctx.parts.interface.bandwidth_gbit_s if ctx.parts.interface else 0.0,
    )


def inventory_figures(
    ctx: ComboContext, alloc: Allocation, counts: PartCounts | None = None
) -> tuple[float, float]:
    """Peak power (W) and area (mm^2, unknown areas 0) of the allocation through the one inventory:
    the budgets' ground truth. ``counts``: its :func:`part_counts`, if known."""
    stock = stocks(ctx.parts, ctx.combo.xbar, counts or part_counts(ctx, alloc))
    return (
        sum(s.peak_power_w * s.count for s in stock),
        sum((s.area_mm2 or 0.0) * s.count for s in stock),
    )


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
    macros = [assemble(ctx, d, p) for d, p in zip(dups, partitions, strict=True)]
    allocs = allocate_batch(ctx, dups, macros, power_w, unified, buffer_floor_kib, area_mm2)
    fitting = [b for b, a in enumerate(allocs) if isinstance(a, Allocation)]
    arrays = []
    for b in fitting:
        alloc = allocs[b]
        assert isinstance(alloc, Allocation)
        counts = part_counts(ctx, alloc)
        peak, area = inventory_figures(ctx, alloc, counts)
        assert peak <= power_w * (1 + 1e-9), (
            f"allocation exceeds the budget: {peak} W > {power_w} W"
        )
        assert area <= area_mm2 * (1 + 1e-9), (
            f"allocation exceeds the area: {area} > {area_mm2} mm^2"
        )
        arrays.append(design_arrays(ctx, dups[b], macros[b], alloc, counts))
    out: list[Scored | Infeasible] = list(allocs)  # type: ignore[arg-type]
    for b, ev in zip(fitting, evaluate_batch(ctx.tables, arrays), strict=True):
        alloc = allocs[b]
        assert isinstance(alloc, Allocation)
        out[b] = Scored(
            tuple(int(d) for d in dups[b]),
            partitions[b],
            macros[b],
            alloc,
            ev,
            ctx.tables.ops / ev.energy_pj,
        )
    return out
