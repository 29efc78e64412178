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

from pimsim.model.evaluate import DesignArrays, Evaluation, evaluate_stack
from pimsim.model.inventory import Component
from pimsim.model.kernel import UNITS, MacroArrays
from pimsim.model.plan import router_grid
from pimsim.model.pricing import COMPONENTS, BatchTables
from pimsim.model.stack import Stack, lay_out, lay_out_arrays
from synth import inventory_loops as loops
from synth.allocate import (
    Allocation,
    Allocations,
    AreaTable,
    Infeasible,
    allocate,
    allocate_batch,
    batch_arrays,
    interface_bound_ns,
    per_blocks,
)
from synth.context import ComboContext
from synth.design_loops import buffer_figures
from synth.dup import DupProblem, seed
from synth.layout import (
    UNIFIED_SIZES,
    Layouts,
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
    "Passes",
    "Scored",
    "allocate",
    "allocate_batch",
    "allowed_counts",
    "area_dup_problem",
    "assemble",
    "default_partition",
    "design_area_mm2",
    "design_arrays",
    "design_arrays_batch",
    "design_stack",
    "interface_bound_ns",
    "inventory_batch",
    "inventory_figures",
    "peak_power_w",
    "score",
    "score_batch",
    "score_passes",
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
    inventory (:func:`pimsim.model.inventory.stocks`), for a whole batch (its arrays by
    :func:`~synth.allocate.batch_arrays`): its crossbars (with their DACs and sample-and-holds),
    ADCs, units, scratchpads, one router per macro, the NoC's chip-level part and one off-chip
    interface.

    The per-part figures are the inventory's own (``ctx.unit_stock``: one of every part); each is
    scaled by the allocation's count of that part and added in the inventory's order (the
    scratchpad sizes in the order of their first macro) by the compiled loop of
    :func:`synth.inventory_loops.inventory_arrays`, so every figure is the one-candidate sum.
    """
    tables = ctx.loop_tables.get("inventory")
    if tables is None:
        tables = ctx.loop_tables["inventory"] = _part_table(ctx)
    counts, crossbars, adcs, units, kib = batch_arrays(allocs)
    peak, area, static = loops.inventory_arrays(
        counts,
        crossbars,
        adcs,
        units,
        kib,
        ctx.buffer_kib,
        *tables,
        int(ctx.combo.xbar),
        len(COMPONENTS),
    )
    return Stocked(peak, area, static)


def _part_table(ctx: ComboContext) -> tuple[np.ndarray, np.ndarray]:
    """The inventory's parts (``ctx.unit_stock``) as :func:`synth.inventory_loops.inventory_arrays`
    reads them: (P, 3) count rule, unit kind, component; (P, 3) static W, peak W, area mm^2."""
    part, figures = [], []
    unit_of = {Component(k.value): j for j, k in enumerate(UNITS)}
    rule_of = {
        Component.CROSSBAR: loops.CROSSBAR,
        Component.DAC: loops.PER_ROW,
        Component.SAMPLE_HOLD: loops.PER_ROW,
        Component.ADC: loops.ADC,
        Component.INTERFACE: loops.ONE,
        Component.BUFFER: loops.BUFFER,
    }
    for s in ctx.unit_stock:
        if s.component is Component.NOC:
            rule = loops.MACRO if s.name == ctx.parts.noc.name else loops.ONE
        else:
            rule = rule_of.get(s.component, loops.UNIT)
        kind = unit_of[s.component] if rule == loops.UNIT else 0
        part.append((rule, kind, COMPONENTS.index(s.component)))
        figures.append((s.static_power_w, s.peak_power_w, s.area_mm2 or 0.0))
    return np.array(part, dtype=np.int64), np.array(figures, dtype=float)


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
    """The kernel's view of many candidates, one :class:`DesignArrays` each (``static_w``: (B, C)
    their static power by component from :func:`inventory_batch`): the designs of
    :func:`design_stack`."""
    st = design_stack(ctx, dups, macros, allocs, static_w)
    n = len(ctx.tables.names)
    return [st.design(b, n) for b in range(st.count)]


def design_stack(
    ctx: ComboContext,
    dups: list[np.ndarray],
    macros: list[Macros],
    allocs: list[Allocation],
    static_w: np.ndarray,
) -> Stack:
    """The kernel's view of many candidates laid end to end (what
    :func:`pimsim.model.evaluate.evaluate_stack` reads; ``static_w``: (B, C) their static power
    by component from :func:`inventory_batch`). The batch's arrays
    (:func:`~synth.allocate.batch_arrays`) are handed to three compiled passes: the layout
    (:func:`pimsim.model.stack.lay_out`; a whole :class:`~synth.layout.Layouts` batch is read
    from its arrays as they are), the meshes and router snakes (one router per macro,
    :func:`pimsim.model.plan.router_grid`) and the scratchpads' energies and ports
    (:func:`synth.design_loops.buffer_figures`); what every design of the combination has is
    kept in ``ctx.loop_tables`` and sliced. The stack may share memory with the batch it is made
    from (a whole batch's share layers and fractions, the per-combination slices): nothing
    writes it, and no caller may."""
    count, n = len(allocs), len(ctx.tables.names)
    noc, io = ctx.parts.noc, ctx.parts.interface
    io_pj, io_gbit_s = (io.energy_per_bit_pj, io.bandwidth_gbit_s) if io else (0.0, 0.0)
    same = ctx.loop_tables.get("stack")
    if same is None or len(same[0]) < count:
        # what every design of the combination has (its action energies, NoC hop and interface
        # bit energies, ADCs wired to its weights (what materialize writes), no spread layer),
        # one row per design of the largest batch yet; a batch takes slices of them (not to be
        # written)
        same = ctx.loop_tables["stack"] = (
            np.repeat(ctx.action_pj[None, :], count, axis=0),
            np.full(count, noc.hop_energy_pj, dtype=float),
            np.full(count, io_pj, dtype=float),
            np.ones(count, dtype=bool),
            np.zeros(count, dtype=bool),
        )
    action_pj, hop_pj, bit_pj, wired, spread_given = (x[:count] for x in same)
    m_count, _, adcs, units, kib = batch_arrays(allocs)
    if isinstance(macros, Layouts):  # the batch as the layout laid it out: its arrays as they are
        _, layer, local, frac, _, _, share_end = macros.arrays
        lay = lay_out_arrays(n, layer, local, share_end, m_count, wired)
    else:
        frac = np.concatenate([m.share_frac for m in macros])
        lay = lay_out(
            n,
            [m.share_layer for m in macros],
            [m.share_macro for m in macros],
            m_count,
            wired,
        )
    meshes, positions = router_grid(m_count)
    port, buffer_pj = buffer_figures(
        np.ascontiguousarray(kib, dtype=np.int64),
        ctx.buffer_kib,
        ctx.buffer_port,
        ctx.buffer_bit_pj,
    )
    return Stack(
        count=count,
        **lay,
        share_frac=frac,
        per_block=per_blocks(ctx, dups).ravel(),
        macros=MacroArrays(
            adcs.astype(float),
            units.astype(float),
            port,
        ),
        positions=positions,
        meshes=meshes,
        spread=None,
        spread_given=spread_given,
        rates=ctx.rates,
        flit_bits=noc.flit_bits,
        flit_ns=noc.flit_latency_ns,
        hop_ns=noc.hop_latency_ns,
        interface_gbit_s=io_gbit_s,
        buffer_pj=buffer_pj,
        energy=BatchTables(
            action_pj,
            hop_pj,
            np.ascontiguousarray(static_w, dtype=float).reshape(count, -1),
            bit_pj,
        ),
    )


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


@dataclass(frozen=True)
class Passes:
    """What :func:`score_passes` found for a batch of candidates: their macros, their
    allocations (with each one's totals), the candidates that fit (indices into the batch, in
    order), their evaluations and their dups as tuples (a dup array's candidates share one)."""

    macros: Layouts
    allocs: Allocations
    fitting: list[int]
    evaluations: list[Evaluation]
    dups: list[tuple[int, ...]]


def score_passes(
    ctx: ComboContext,
    dups: list[np.ndarray],
    partitions: list[Partition],
    power_w: float,
    unified: bool,
    buffer_floor_kib: np.ndarray | None = None,
    area_mm2: float = math.inf,
) -> Passes:
    """Stages 4 and the closed-form estimate of many candidates of one combination, in one batch
    (:func:`allocate_batch`, :func:`design_stack`, :func:`pimsim.model.evaluate.evaluate_stack`):
    each gets what it would get alone. Every allocation's peak power and area are checked
    through the one inventory. :func:`score_batch` makes a :class:`Scored` of each candidate
    that fits; the search reads the passes themselves (``synth.search.designs_of``)."""
    macros = assemble_batch(ctx, dups, partitions)
    allocs = allocate_batch(ctx, dups, macros, power_w, unified, buffer_floor_kib, area_mm2)
    fitting = [b for b, a in enumerate(allocs) if isinstance(a, Allocation)]
    # (nearly always every candidate fits: the batch as it is, its arrays read as they are)
    fit = allocs if len(fitting) == len(allocs) else [allocs[b] for b in fitting]
    evaluations: list[Evaluation] = []
    if fit:
        stocked = inventory_batch(ctx, fit)  # type: ignore[arg-type]
        peak, area = stocked.peak_power_w, stocked.area_mm2
        over = ~(peak <= power_w * (1 + 1e-9))
        assert not over.any(), f"allocation exceeds the budget: {peak[over]} W > {power_w} W"
        over = ~(area <= area_mm2 * (1 + 1e-9))
        assert not over.any(), f"allocation exceeds the area: {area[over]} > {area_mm2} mm^2"
        fit_dups = dups if fit is allocs else [dups[b] for b in fitting]
        fit_macros = macros if fit is allocs else [macros[b] for b in fitting]
        st = design_stack(ctx, fit_dups, fit_macros, fit, stocked.static_w)
        evaluations = evaluate_stack(ctx.tables, st)
    # one tuple for the candidates of a dup array (an EA's children share theirs): made once
    as_tuple: dict[int, tuple[int, ...]] = {}
    tuples = []
    for b in fitting:
        dup = as_tuple.get(id(dups[b]))
        if dup is None:
            dup = as_tuple[id(dups[b])] = tuple(np.asarray(dups[b], dtype=int).tolist())
        tuples.append(dup)
    return Passes(macros, allocs, fitting, evaluations, tuples)


def score_batch(
    ctx: ComboContext,
    dups: list[np.ndarray],
    partitions: list[Partition],
    power_w: float,
    unified: bool,
    buffer_floor_kib: np.ndarray | None = None,
    area_mm2: float = math.inf,
) -> list[Scored | Infeasible]:
    """:func:`score_passes` of many candidates of one combination: each one's :class:`Scored`,
    or why it does not fit."""
    p = score_passes(ctx, dups, partitions, power_w, unified, buffer_floor_kib, area_mm2)
    out: list[Scored | Infeasible] = list(p.allocs)
    for b, dup, ev in zip(p.fitting, p.dups, p.evaluations, strict=True):
        alloc = p.allocs[b]
        assert isinstance(alloc, Allocation)
        out[b] = Scored(dup, partitions[b], p.macros[b], alloc, ev, ctx.tables.ops / ev.energy_pj)
    return out
