"""A candidate design: duplication + macro partition -> macros -> component allocation -> evaluation.

A *partition* gives every weight layer ``(owner, n)``: ``owner`` is the layer itself, or an earlier
layer whose ``n`` macros it shares (the paper's genome ``owner * 1000 + n``). A layer's crossbars are
split as evenly as possible over its macros; a shared pair's macros hold both layers' crossbars and
use one ADC bank and one set of units in turn. Other layers run on the first macro of their first
producer's macros.

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from pimsim.arch.schema import Parts
from pimsim.model.actions import Action
from pimsim.model.evaluate import DesignArrays, Evaluation, evaluate
from pimsim.model.kernel import UNIT_COLUMNS, UNITS, K, MacroArrays
from pimsim.model.plan import mesh_shape, snake_position
from pimsim.model.pricing import PartCounts, energy_table, stocks
from synth.context import ComboContext
from synth.dup import DupProblem, seed

Partition = tuple[tuple[int, int], ...]


def allowed_counts(row_blocks: int, dup: int) -> list[int]:
    """Macro counts that split a layer evenly: products of divisors of row blocks and of dup."""

    def divisors(n: int) -> list[int]:
        small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
        return sorted(set(small + [n // d for d in small]))

    return sorted({a * b for a in divisors(row_blocks) for b in divisors(dup)})


def default_partition(ctx: ComboContext, dup: np.ndarray, cap: int = 128) -> Partition:
    """No sharing; each layer on the fewest allowed macros of at most ``cap`` crossbars (the EA's
    starting point)."""
    out = []
    for k in range(len(ctx.weight)):
        need = int(dup[k] * ctx.sets[k])
        counts = allowed_counts(int(ctx.row_blocks[k]), int(dup[k]))
        n = next((c for c in counts if need / c <= cap), counts[-1])
        out.append((k, n))
    return tuple(out)


#: Unified mode's macro sizes (crossbars per macro): 32 to 512 in steps of 32, as the paper and the
#: released code draw them.
UNIFIED_SIZES = tuple(range(32, 513, 32))


def unified_partition(ctx: ComboContext, dup: np.ndarray, size: int) -> Partition:
    """Identical macros of at most ``size`` crossbars, no sharing: each layer on the fewest macros
    of an even split that holds at most ``size`` crossbars each (or its finest even split, when even
    that is larger: the macros are then as large as that split)."""
    out = []
    for k in range(len(ctx.weight)):
        need = int(dup[k] * ctx.sets[k])
        counts = allowed_counts(int(ctx.row_blocks[k]), int(dup[k]))
        out.append((k, next((c for c in counts if need / c <= size), counts[-1])))
    return tuple(out)


@dataclass(frozen=True)
class Macros:
    """The macros of a design, and where each layer's crossbars are."""

    crossbars: np.ndarray  # (M,)
    share_layer: np.ndarray  # (S,) network layer index, sorted
    share_macro: np.ndarray  # (S,)
    share_frac: np.ndarray  # (S,)
    share_xbars: np.ndarray  # (S,) crossbars of the share (0 for layers without weights)
    groups: tuple[tuple[tuple[int, ...], int, int], ...]  # (weight positions, first macro, n)


def assemble(ctx: ComboContext, dup: np.ndarray, partition: Partition) -> Macros:
    """Lay out the macros of a partition."""
    first: dict[int, int] = {}
    groups = []
    m = 0
    members: dict[int, list[int]] = {}
    for k, (owner, _) in enumerate(partition):
        members.setdefault(owner, []).append(k)
    for owner in sorted(members):
        n = partition[owner][1]
        groups.append((tuple(members[owner]), m, n))
        for k in members[owner]:
            first[k] = m
        m += n
    crossbars = np.zeros(m, dtype=int)
    per_layer: dict[int, list[tuple[int, int]]] = {}
    for layers, start, n in groups:
        for k in layers:
            need = int(dup[k] * ctx.sets[k])
            q, r = divmod(need, n)
            split = [(start + i, q + (1 if i < r else 0)) for i in range(n)]
            per_layer[k] = [(mm, c) for mm, c in split if c]
            for mm, c in split:
                crossbars[mm] += c
    s_layer, s_macro, s_frac, s_xbars = [], [], [], []
    position = {int(w): k for k, w in enumerate(ctx.weight)}
    for i in range(len(ctx.tables.names)):
        if i in position:
            k = position[i]
            total = dup[k] * ctx.sets[k]
            for mm, c in per_layer[k]:
                s_layer.append(i)
                s_macro.append(mm)
                s_frac.append(c / total)
                s_xbars.append(c)
        else:
            s_layer.append(i)
            s_macro.append(first[int(ctx.host_of[i])])
            s_frac.append(1.0)
            s_xbars.append(0)
    return Macros(
        crossbars,
        np.array(s_layer),
        np.array(s_macro),
        np.array(s_frac),
        np.array(s_xbars),
        tuple(groups),
    )


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


def _buffers(ctx: ComboContext, dup: np.ndarray, macros: Macros) -> np.ndarray:
    """Smallest buffer per macro that holds two blocks' input rows and outputs of its layers."""
    need_bits = np.zeros(len(macros.crossbars))
    layers = ctx.network.layers
    position = {int(w): k for k, w in enumerate(ctx.weight)}
    for i, m, frac in zip(macros.share_layer, macros.share_macro, macros.share_frac, strict=True):
        k = position.get(int(i))
        if k is None:
            continue
        layer = layers[int(i)]
        rows = math.ceil(dup[k] / max(layer.out_shape.w, 1))
        in_rows = min(layer.in_shape.h, layer.kernel[0] + 2 * rows * layer.strides[0])
        bits = in_rows * ctx.working_bits[k, 0] + 2 * dup[k] * ctx.working_bits[k, 1]
        need_bits[m] += bits * frac
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
    inventory; parts of unknown area count 0).

    ``buffer_floor_kib`` raises macros' scratchpads to at least these sizes (the simulator's
    compiler knows what a design's windows and staging need; see :func:`synth.materialize`).

    Raises:
        Infeasible: even one of each needed unit per macro exceeds a budget.
    """
    t = ctx.tables
    n_m = len(macros.crossbars)
    work = t.work[macros.share_layer] * (t.items[macros.share_layer] * macros.share_frac)[:, None]
    cols = [K[Action.ADC], *UNIT_COLUMNS]
    per_macro = np.zeros((n_m, len(cols)))
    np.add.at(per_macro, macros.share_macro, work[:, cols])
    rate = np.concatenate([[ctx.rates.adc_ghz], ctx.rates.unit_rate])
    if np.any((per_macro[:, 1:] > 0) & (ctx.rates.unit_rate[None, :] <= 0)):
        raise Infeasible("the library lacks a unit kind the network needs", math.inf)
    minimum = (per_macro > 0).astype(float)
    minimum[:, 0] = np.maximum(minimum[:, 0], macros.crossbars > 0)
    peak = np.concatenate([[ctx.parts.adc.peak_power_w], ctx.unit_peak_w])
    buffer_kib = _buffers(ctx, dup, macros)
    if buffer_floor_kib is not None:
        floor = np.minimum(
            np.searchsorted(ctx.buffer_kib, buffer_floor_kib), len(ctx.buffer_kib) - 1
        )
        buffer_kib = np.maximum(buffer_kib, ctx.buffer_kib[floor])
    crossbars = macros.crossbars.copy()
    if unified:
        crossbars[:] = crossbars.max()
        buffer_kib[:] = buffer_kib.max()
    buffer_w = ctx.buffer_peak_w[np.searchsorted(ctx.buffer_kib, buffer_kib)]
    fixed = float(crossbars.sum() * ctx.per_crossbar_w + buffer_w.sum()) + chip_overhead_peak_w(
        ctx.parts, n_m
    )
    areas = AreaTable.of(ctx.parts, ctx.combo.xbar)
    fixed_area = areas.fixed_mm2(crossbars, buffer_kib, n_m)
    with np.errstate(divide="ignore", invalid="ignore"):
        demand = np.where(per_macro > 0, per_macro / np.where(rate > 0, rate, 1.0), 0.0)

    def counts(target: float) -> np.ndarray:
        c = np.maximum(np.ceil(demand / target - 1e-9), minimum)
        if unified:
            c[:] = c.max(axis=0)
        return c

    def power(c: np.ndarray) -> float:
        return fixed + float((c * peak).sum())

    def area(c: np.ndarray) -> float:
        return fixed_area + float((c * areas.allocated).sum())

    def fits(c: np.ndarray) -> bool:
        return power(c) <= power_w and area(c) <= area_mm2

    xbar_bound = float(
        (
            np.ceil(t.items / np.maximum(1, _per_block(ctx, dup)))
            * t.bit_iters
            * ctx.rates.read_ns
            * t.weight
        ).max()
    )
    xbar_bound = max(xbar_bound, interface_bound_ns(ctx))  # no ADC can beat the interface
    t_one = max(float(demand.max()), xbar_bound, 1e-9)
    cheapest = counts(t_one)
    if not fits(cheapest):
        raise Infeasible(
            f"fixed costs {fixed:.3g} W and {fixed_area:.3g} mm^2 plus one ADC and unit per macro "
            f"need {power(cheapest):.3g} W and {area(cheapest):.3g} mm^2",
            power(cheapest),
            area(cheapest),
        )
    lo, hi = xbar_bound, t_one
    if fits(counts(lo)):
        hi = lo
    else:
        for _ in range(40):
            mid = math.sqrt(lo * hi) if lo > 0 else hi / 2
            if fits(counts(mid)):
                hi = mid
            else:
                lo = mid
            if hi - lo <= 1e-4 * hi:
                break
    chosen = counts(hi)
    return Allocation(
        chosen[:, 0].astype(int),
        chosen[:, 1:].astype(int),
        buffer_kib,
        crossbars,
        hi,
        power(chosen),
        area(chosen),
    )


@dataclass(frozen=True)
class AreaTable:
    """Area of the parts an allocation is made of, mm^2 (unknown areas count 0)."""

    per_crossbar: float  # a crossbar with its DACs (and sample-and-holds)
    allocated: np.ndarray  # (1 + U,) an ADC, then a unit of each kind in UNITS order
    buffers: dict[int, float]  # KiB -> area
    router: float
    interface: float

    @classmethod
    def of(cls, parts: Parts, xbar: int) -> AreaTable:
        def a(part: object) -> float:
            return float(getattr(part, "area_mm2", None) or 0.0)

        sh = a(parts.sample_hold) if parts.sample_hold is not None else 0.0
        return cls(
            a(parts.crossbar) + xbar * (a(parts.dac) + sh),
            np.array([a(parts.adc), *(a(parts.unit(k)) for k in UNITS)]),
            {b.size_kib: a(b) for b in parts.buffers},
            parts.noc.router_area_mm2 or 0.0,
            a(parts.interface) if parts.interface is not None else 0.0,
        )

    def fixed_mm2(self, crossbars: np.ndarray, buffer_kib: np.ndarray, n_macros: int) -> float:
        """Crossbars with DACs, scratchpads, one router per macro and the interface."""
        return (
            float(crossbars.sum()) * self.per_crossbar
            + sum(self.buffers[int(k)] for k in buffer_kib)
            + n_macros * self.router
            + self.interface
        )


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


def chip_overhead_peak_w(parts: Parts, n_macros: int) -> float:
    """Peak power of what a chip of ``n_macros`` macros has whatever its allocation: one router per
    macro, the NoC's chip-level power and the off-chip interface (the same parts as
    :func:`part_counts` puts in the inventory)."""
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


def part_counts(ctx: ComboContext, alloc: Allocation) -> PartCounts:
    """The allocation as part counts (for the one inventory and energy table)."""
    buffers: dict[int, float] = {}
    for kib in alloc.buffer_kib:
        buffers[int(kib)] = buffers.get(int(kib), 0) + 1
    return PartCounts(
        float(alloc.crossbars.sum()),
        float(alloc.adcs.sum()),
        {k: float(alloc.units[:, j].sum()) for j, k in enumerate(UNITS)},
        buffers,
        float(len(alloc.adcs)),
        {},
        chip_noc=True,
        interfaces=1.0,
    )


def design_arrays(
    ctx: ComboContext, dup: np.ndarray, macros: Macros, alloc: Allocation
) -> DesignArrays:
    """The kernel's view of the candidate."""
    n_m = len(alloc.adcs)
    mesh = mesh_shape(n_m)
    positions = np.array([snake_position(m, mesh[1]) for m in range(n_m)], dtype=int).reshape(-1, 2)
    port = ctx.buffer_port[np.searchsorted(ctx.buffer_kib, alloc.buffer_kib)]
    table = energy_table(
        ctx.parts, ctx.combo.xbar, part_counts(ctx, alloc), [int(k) for k in alloc.buffer_kib]
    )
    return DesignArrays(
        _per_block(ctx, dup),
        macros.share_layer,
        macros.share_macro,
        macros.share_frac,
        MacroArrays(alloc.adcs.astype(float), alloc.units.astype(float), port),
        ctx.rates,
        positions,
        mesh,
        ctx.parts.noc.flit_bits,
        ctx.parts.noc.flit_latency_ns,
        table,
        ctx.parts.noc.hop_latency_ns,
        interface_gbit_s=ctx.parts.interface.bandwidth_gbit_s if ctx.parts.interface else 0.0,
    )


def design_area_mm2(ctx: ComboContext, alloc: Allocation) -> float:
    """Area of the allocation through the one inventory (the area budget's ground truth)."""
    return sum(
        (s.area_mm2 or 0.0) * s.count
        for s in stocks(ctx.parts, ctx.combo.xbar, part_counts(ctx, alloc))
    )


def peak_power_w(ctx: ComboContext, alloc: Allocation) -> float:
    """Peak power of the allocation through the one inventory (the budget check's ground truth)."""
    return sum(
        s.peak_power_w * s.count for s in stocks(ctx.parts, ctx.combo.xbar, part_counts(ctx, alloc))
    )


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
    """Stages 4 and the closed-form estimate of one candidate.

    Raises:
        Infeasible: the candidate cannot fit the budgets.
    """
    macros = assemble(ctx, dup, partition)
    alloc = allocate(ctx, dup, macros, power_w, unified, buffer_floor_kib, area_mm2)
    peak = peak_power_w(ctx, alloc)
    assert peak <= power_w * (1 + 1e-9), f"allocation exceeds the budget: {peak} W > {power_w} W"
    area = design_area_mm2(ctx, alloc)
    assert area <= area_mm2 * (1 + 1e-9), f"allocation exceeds the area: {area} > {area_mm2} mm^2"
    ev = evaluate(ctx.tables, design_arrays(ctx, dup, macros, alloc), latency=False)
    return Scored(
        tuple(int(d) for d in dup), partition, macros, alloc, ev, ctx.tables.ops / ev.energy_pj
    )
