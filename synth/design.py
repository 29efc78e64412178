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
slowest layer), since more ADCs could not help there. In ``unified`` mode all macros are made
identical (the largest of everything), and the budget is checked after that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pimsim.model.actions import Action
from pimsim.model.evaluate import DesignArrays, Evaluation, evaluate_batch
from pimsim.model.kernel import UNIT_COLUMNS, UNITS, K, MacroArrays
from pimsim.model.plan import mesh_shape
from pimsim.model.pricing import PartCounts, energy_table, stocks
from synth.context import ComboContext

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
    """Lay out the macros of a partition: each group (an owner and the layers sharing its macros)
    gets the next ``n`` macros; a layer's crossbars are split over its group's macros as evenly as
    possible (the first ``need % n`` get one more); a layer without weights sits on the first macro
    of its host weight layer's group."""
    owner = np.array([o for o, _ in partition], dtype=int)
    owners = np.unique(owner)
    group_n = np.array([partition[o][1] for o in owners], dtype=int)
    group_start = np.cumsum(group_n) - group_n
    gi = np.searchsorted(owners, owner)
    first, n = group_start[gi], group_n[gi]  # (W,) per weight layer
    need = dup * ctx.sets
    q, r = np.divmod(need, n)
    rep = np.repeat(np.arange(len(owner)), n)
    i = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    size = q[rep] + (i < r[rep])
    macro = first[rep] + i
    crossbars = np.bincount(macro, weights=size, minlength=int(group_n.sum())).astype(int)
    keep = size > 0
    rep, macro, size = rep[keep], macro[keep], size[keep]
    others = ctx.others
    layer = np.concatenate([ctx.weight[rep], others])
    order = np.argsort(layer, kind="stable")
    zeros = np.zeros(len(others), dtype=int)
    members: dict[int, list[int]] = {}
    for k, (o, _) in enumerate(partition):
        members.setdefault(o, []).append(k)
    groups = tuple(
        (tuple(members[o]), int(st), int(c))
        for o, st, c in zip(owners.tolist(), group_start, group_n, strict=True)
    )
    return Macros(
        crossbars,
        layer[order],
        np.concatenate([macro, first[ctx.host_of[others]]])[order],
        np.concatenate([size / need[rep], np.ones(len(others))])[order],
        np.concatenate([size, zeros])[order],
        groups,
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


class Infeasible(Exception):
    """No allocation fits the budget; ``min_power_w`` is what the cheapest one would need."""

    def __init__(self, reason: str, min_power_w: float) -> None:
        super().__init__(reason)
        self.min_power_w = min_power_w


def _buffers(ctx: ComboContext, dup: np.ndarray, macros: Macros) -> np.ndarray:
    """Smallest buffer per macro that holds two blocks' input rows and outputs of its layers."""
    out_w, in_h, kernel_h, stride = ctx.window.T
    rows = np.ceil(dup / out_w)
    in_rows = np.minimum(in_h, kernel_h + 2 * rows * stride)
    bits = in_rows * ctx.working_bits[:, 0] + 2 * dup * ctx.working_bits[:, 1]  # (W,)
    weight = macros.share_xbars > 0
    position = np.searchsorted(ctx.weight, macros.share_layer[weight])
    need_bits = np.bincount(
        macros.share_macro[weight],
        bits[position] * macros.share_frac[weight],
        len(macros.crossbars),
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
) -> Allocation:
    """Stage 4: ADCs and units per macro for the shortest period the budget allows (see
    :func:`allocate_batch`).

    Raises:
        Infeasible: even one of each needed unit per macro exceeds the budget.
    """
    (alloc,) = allocate_batch(ctx, [dup], [macros], power_w, unified, buffer_floor_kib)
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
) -> list[Allocation | Infeasible]:
    """Stage 4 for many candidates at once: ADCs and units per macro for the shortest period the
    budget allows, or why none fits.

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
    work = t.work[layer][:, cols] * (t.items[layer] * frac)[:, None]
    per_macro = np.zeros((count * pad, len(cols)))
    np.add.at(per_macro, slot, work)
    per_macro = per_macro.reshape(count, pad, len(cols))
    crossbars = np.zeros((count, pad), dtype=int)
    for b, m in enumerate(macros):
        crossbars[b, : n_m[b]] = m.crossbars
    real = np.arange(pad)[None, :] < n_m[:, None]
    minimum = (per_macro > 0).astype(float)
    minimum[:, :, 0] = np.maximum(minimum[:, :, 0], crossbars > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        demand = np.where(per_macro > 0, per_macro / np.where(rate > 0, rate, 1.0), 0.0)
    lacking = np.any((per_macro[:, :, 1:] > 0) & (ctx.rates.unit_rate <= 0), axis=(1, 2))
    per_block = np.ones((count, len(t.names)), dtype=int)
    per_block[:, ctx.weight] = np.array(dups)
    xbar_bound = (
        np.ceil(t.items / np.maximum(1, per_block)) * t.bit_iters * ctx.rates.read_ns * t.weight
    ).max(axis=1)
    if unified:
        crossbars = np.where(real, crossbars.max(axis=1)[:, None], 0)
    fixed = np.zeros(count)
    buffers = []
    for b, m in enumerate(macros):
        kib = _buffers(ctx, dups[b], m)
        if buffer_floor_kib is not None:
            floor = np.searchsorted(ctx.buffer_kib, buffer_floor_kib)
            kib = np.maximum(kib, ctx.buffer_kib[np.minimum(floor, len(ctx.buffer_kib) - 1)])
        if unified:
            kib[:] = kib.max()
        buffers.append(kib)
        buffer_w = ctx.buffer_peak_w[np.searchsorted(ctx.buffer_kib, kib)]
        fixed[b] = float(
            crossbars[b].sum() * ctx.per_crossbar_w
            + buffer_w.sum()
            + n_m[b] * ctx.parts.noc.router_power_w  # one router per macro
            + ctx.parts.noc.chip_power_w
        )

    def counts(target: np.ndarray) -> np.ndarray:
        c = np.maximum(np.ceil(demand / target[:, None, None] - 1e-9), minimum)
        if unified:
            c = np.where(real[:, :, None], c.max(axis=1)[:, None, :], 0.0)
        return c

    def power(c: np.ndarray, b: int) -> float:  # the budget's figure, one candidate
        return float(fixed[b] + float((c[b, : n_m[b]] * peak).sum()))

    def fits(c: np.ndarray) -> np.ndarray:  # every candidate: within the budget?
        return fixed + (c.sum(axis=1) * peak).sum(axis=1) <= power_w

    t_one = np.maximum(np.maximum(demand.max(axis=(1, 2)), xbar_bound), 1e-9)
    cheapest = counts(t_one)
    lo, hi = xbar_bound.copy(), t_one.copy()
    done = np.array([power(cheapest, b) > power_w for b in range(count)]) | lacking
    at_bound = counts(lo)
    for b in np.nonzero(~done)[0]:
        if power(at_bound, b) <= power_w:
            hi[b], done[b] = lo[b], True
    for _ in range(40):
        if done.all():
            break
        mid = np.where(lo > 0, np.sqrt(lo * hi), hi / 2)
        ok = fits(counts(mid))
        hi = np.where(~done & ok, mid, hi)
        lo = np.where(~done & ~ok, mid, lo)
        done |= hi - lo <= 1e-4 * hi
    chosen = counts(hi)
    out: list[Allocation | Infeasible] = []
    for b in range(count):
        if lacking[b]:
            out.append(Infeasible("the library lacks a unit kind the network needs", math.inf))
            continue
        need = power(cheapest, b)
        if need > power_w:
            out.append(
                Infeasible(
                    f"fixed costs {fixed[b]:.3g} W plus one ADC and unit per macro need "
                    f"{need:.3g} W",
                    need,
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
            )
        )
    return out


def _per_block(ctx: ComboContext, dup: np.ndarray) -> np.ndarray:
    """(L,) items per block: dup for weight layers, 1 for the others."""
    per = np.ones(len(ctx.tables.names), dtype=int)
    per[ctx.weight] = dup
    return per


def part_counts(ctx: ComboContext, alloc: Allocation) -> PartCounts:
    """The allocation as part counts (for the one inventory and energy table); scratchpad sizes
    in the order of their first macro."""
    kib, first, n = np.unique(alloc.buffer_kib, return_index=True, return_counts=True)
    order = np.argsort(first)
    units = alloc.units.sum(axis=0).tolist()
    return PartCounts(
        float(alloc.crossbars.sum()),
        float(alloc.adcs.sum()),
        {k: float(units[j]) for j, k in enumerate(UNITS)},
        dict(zip(kib[order].astype(int).tolist(), n[order].tolist(), strict=True)),
        float(len(alloc.adcs)),
        {},
        chip_noc=True,
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
    )


def peak_power_w(ctx: ComboContext, alloc: Allocation, counts: PartCounts | None = None) -> float:
    """Peak power of the allocation through the one inventory (the budget check's ground truth)."""
    return sum(
        s.peak_power_w * s.count
        for s in stocks(ctx.parts, ctx.combo.xbar, counts or part_counts(ctx, alloc))
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
) -> Scored:
    """Stages 4 and the closed-form estimate of one candidate (:func:`score_batch` of one).

    Raises:
        Infeasible: the candidate cannot fit the budget.
    """
    (s,) = score_batch(ctx, [dup], [partition], power_w, unified, buffer_floor_kib)
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
) -> list[Scored | Infeasible]:
    """Stages 4 and the closed-form estimate of many candidates of one combination, in one batch
    (:func:`allocate_batch`, :func:`pimsim.model.evaluate.evaluate_batch`): each gets what it
    would get alone. Every allocation's peak power is checked through the one inventory."""
    macros = [assemble(ctx, d, p) for d, p in zip(dups, partitions, strict=True)]
    allocs = allocate_batch(ctx, dups, macros, power_w, unified, buffer_floor_kib)
    fitting = [b for b, a in enumerate(allocs) if isinstance(a, Allocation)]
    arrays = []
    for b in fitting:
        alloc = allocs[b]
        assert isinstance(alloc, Allocation)
        counts = part_counts(ctx, alloc)
        peak = peak_power_w(ctx, alloc, counts)
        assert peak <= power_w * (1 + 1e-9), (
            f"allocation exceeds the budget: {peak} W > {power_w} W"
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
