"""One work unit of the outer loop: a (rram_ratio, cell_bits, xbar) point and all its DAC choices.

Stage 1 depends on neither the DAC nor the ADC, so the duplication candidates are found once per unit
and tried with every DAC resolution. Each candidate is screened with the default partition (stage 3's
starting point) after stage 4; the best few per DAC get the full evolutionary partitioning. Every
design scored is logged (one JSON line per design, encoded where the unit runs) for
``exploration.jsonl``.

The function is pure and picklable, so units run on any ``concurrent.futures`` executor; its RNG is
seeded from the run's seed and the unit's coordinates, so results do not depend on the executor.
``search_units`` runs several units in one task, for executors whose per-task overhead is large
(a Dask cluster).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pimsim.components.library import ComponentLibrary
from pimsim.errors import InputError
from pimsim.network.graph import Network
from synth.context import ComboContext
from synth.design import (
    UNIFIED_SIZES,
    Partition,
    Scored,
    area_dup_problem,
    default_partition,
    score_passes,
    unified_partition,
)
from synth.dup import candidates
from synth.front import pareto_front
from synth.frozen import made
from synth.logline import head_fields, log_lines
from synth.partition import PartitionSpace, evolution, lockstep
from synth.settings import Combo, EAParams, Settings


@dataclass(frozen=True)
class Unit:
    """A work unit: one (ratio, cell bits, crossbar size) point with its combos (one per DAC)."""

    index: int
    combos: tuple[Combo, ...]


def units(combos: list[Combo]) -> list[Unit]:
    """Group the combinations that differ only in DAC resolution."""
    grouped: dict[tuple[float, int, int], list[Combo]] = {}
    for c in combos:
        grouped.setdefault((c.rram_ratio, c.cell_bits, c.xbar), []).append(c)
    return [Unit(i, tuple(cs)) for i, cs in enumerate(grouped.values())]


@dataclass(frozen=True)
class Found:
    """A scored design, small enough to ship between processes."""

    tops_per_w: float
    combo: Combo
    dup: tuple[int, ...]
    partition: Partition
    metrics: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the combination, dup, partition and metrics (a line of the log, top.json)."""
        return {
            **head_fields(self.combo),
            "dup": list(self.dup),
            "partition": [list(x) for x in self.partition],
            **self.metrics,
        }

    @property
    def key(self) -> tuple[Any, ...]:
        """Deterministic order: best first, then by where it was found."""
        return (-self.tops_per_w, self.combo.index, self.dup, self.partition)


@dataclass(frozen=True)
class UnitResult:
    """What a unit found. ``log`` holds the ``exploration.jsonl`` lines of every design it scored
    (:func:`synth.logline.log_lines`: the value of ``Found.to_dict``, a line each), as UTF-8
    bytes written on the worker, so the main process, which shares the machine with the workers,
    only writes them."""

    unit: int
    found: list[Found]
    log: bytes
    skipped: list[tuple[str, str]] = field(default_factory=list)
    evaluations: int = 0
    seconds: float = 0.0


def metrics(s: Scored, ops: int) -> dict[str, float]:
    """The figures logged for every scored design (:func:`figures` of ``s``)."""
    a, ev = s.alloc, s.evaluation
    return figures(
        s.tops_per_w,
        ev.period_ns,
        ev.energy_pj,
        a.peak_power_w,
        a.area_mm2,
        len(a.adcs),
        int(np.add.reduce(a.adcs)),  # whole numbers: exact in any order
        int(np.add.reduce(a.crossbars)),
        ops,
    )


def figures(
    tops_per_w: float,
    period_ns: float,
    energy_pj: float,
    peak_power_w: float,
    area_mm2: float,
    macros: int,
    adcs: int,
    crossbars: int,
    ops: int,
) -> dict[str, float]:
    """The figures logged for every scored design, from its efficiency (TOPS/W), period (ns),
    energy per image (pJ), peak power (W), area (mm^2), macro, ADC and crossbar counts and the
    network's operations per image."""
    return {
        "tops_per_w": tops_per_w,
        "period_ns": period_ns,
        "throughput_ips": 1e9 / period_ns,
        "tops": ops / period_ns / 1e3,
        "energy_per_image_pj": energy_pj,
        "peak_power_w": peak_power_w,
        "area_mm2": area_mm2,
        "macros": float(macros),
        "adcs": float(adcs),
        "crossbars": float(crossbars),
    }


def area_budget(settings: Settings) -> float:
    """The area budget, mm^2 (infinite when none is set)."""
    return math.inf if settings.area_mm2 is None else settings.area_mm2


Evaluate = Callable[[ComboContext, list[np.ndarray], list[Partition]], list[Found | None]]


def designs_of(
    ctx: ComboContext, dups: list[np.ndarray], partitions: list[Partition], settings: Settings
) -> list[Found | None]:
    """Candidates of one combination scored in one batch (one pass of stage 4 and the kernel);
    ``None`` for those that cannot fit the budgets. Read from the batch's passes
    (:func:`synth.design.score_passes`: no :class:`~synth.design.Scored` a design, and the
    allocations' totals summed once for the batch)."""
    p = score_passes(
        ctx,
        dups,
        partitions,
        settings.power_w,
        settings.macros == "unified",
        area_mm2=area_budget(settings),
    )
    out: list[Found | None] = [None] * len(partitions)
    ops, combo, allocs = ctx.tables.ops, ctx.combo, p.allocs
    n_macros, adcs, crossbars = allocs.macros, allocs.adcs, allocs.crossbars
    for b, dup, ev in zip(p.fitting, p.dups, p.evaluations, strict=True):
        a = allocs[b]
        tops_per_w = ops / ev.energy_pj
        out[b] = made(  # Found(...) without its __init__: one a design
            Found,
            {
                "tops_per_w": tops_per_w,
                "combo": combo,
                "dup": dup,
                "partition": partitions[b],
                "metrics": figures(
                    tops_per_w,
                    ev.period_ns,
                    ev.energy_pj,
                    a.peak_power_w,
                    a.area_mm2,
                    n_macros[b],
                    adcs[b],
                    crossbars[b],
                    ops,
                ),
            },
        )
    return out


def evolve_designs(
    ctx: ComboContext,
    starts: list[Found],
    settings: Settings,
    ea: EAParams,
    rngs: list[random.Random],
    evaluate: Evaluate,
    record: Callable[[list[Found | None]], None] | None = None,
) -> list[list[Found]]:
    """Stage 3 from each of ``starts`` (designs of ``ctx``'s combination; each one's dup fixed,
    its partition the EA's start, ``rngs`` its random stream): the survivors of each.

    The EAs run in lockstep (:func:`synth.partition.lockstep`): each generation's new partitions
    of all of them are scored as one batch by ``evaluate`` (larger batches cost less per design),
    and each EA ends as it would alone. ``record`` then gets each EA's scored designs in turn, in
    the order that EA asked for them (the order of a log written one EA after the other)."""
    dups = [np.array(s.dup) for s in starts]
    #: each EA's scored designs by their partition's identity (the survivors are partitions the
    #: EA scored, the same objects; each entry holds its partition, so its id stays its own)
    results: list[dict[int, tuple[Partition, Found | None]]] = [{} for _ in starts]
    scored: list[list[Found | None]] = [[] for _ in starts]

    def fitness(batches: list[tuple[int, list[Partition]]]) -> list[list[float]]:
        designs = evaluate(
            ctx, [dups[i] for i, ps in batches for _ in ps], [p for _, ps in batches for p in ps]
        )
        out, at = [], 0
        for i, ps in batches:
            mine, at = designs[at : at + len(ps)], at + len(ps)
            results[i].update((id(p), (p, f)) for p, f in zip(ps, mine, strict=True))
            scored[i] += mine
            out.append([f.tops_per_w if f is not None else float("-inf") for f in mine])
        return out

    searches = [
        evolution(
            s.partition,
            PartitionSpace.of_combo(ctx, s.dup, settings.max_macro_crossbars, settings.sharing),
            rng,
            population=ea.population,
            children=ea.children,
            generations=ea.generations,
            p_num=ea.p_num,
            p_share=ea.p_share,
        )
        for s, rng in zip(starts, rngs, strict=True)
    ]
    survivors = lockstep(searches, fitness)
    if record is not None:
        for designs in scored:
            record(designs)
    return [
        [f for _, p in alive if (f := found[id(p)][1]) is not None]
        for alive, found in zip(survivors, results, strict=True)
    ]


def search_unit(
    unit: Unit, network: Network, library: ComponentLibrary, settings: Settings
) -> UnitResult:
    """Stages 1-4 for every combo of ``unit``."""
    start = time.perf_counter()
    rng = random.Random(
        f"{settings.seed}/{unit.combos[0].rram_ratio}/{unit.combos[0].cell_bits}/"
        f"{unit.combos[0].xbar}"
    )
    contexts: list[ComboContext] = []
    skipped: list[tuple[str, str]] = []
    for combo in unit.combos:
        try:
            contexts.append(ComboContext.build(combo, network, library, settings.power_w))
        except InputError as exc:
            skipped.append((combo.label, exc.cause))
    log: list[bytes] = []  # the lines of each batch scored
    found: list[Found] = []
    if not contexts:
        return UnitResult(unit.index, found, b"", skipped, 0, time.perf_counter() - start)
    problem = contexts[0].dup_problem()
    unified = settings.macros == "unified"
    problem = area_dup_problem(  # an area budget bounds the crossbars too
        contexts[0], problem, settings.power_w, unified, area_budget(settings)
    )
    if problem.minimum > problem.budget:
        reason = (
            f"the weights need {problem.minimum + int(contexts[0].sets[~contexts[0].conv].sum())}"
            f" crossbars, the crossbar share of the budget buys {contexts[0].n_xbar}"
        )
        return UnitResult(
            unit.index,
            found,
            b"",
            skipped + [(c.combo.label, reason) for c in contexts],
            0,
            time.perf_counter() - start,
        )
    evaluations = 0
    explored: list[Found] = []

    def score_designs(
        ctx: ComboContext, dups: list[np.ndarray], partitions: list[Partition]
    ) -> list[Found | None]:
        nonlocal evaluations
        evaluations += len(partitions)
        return designs_of(ctx, dups, partitions, settings)

    def record(batch: list[Found | None]) -> None:
        scored = [f for f in batch if f is not None]
        log.append(log_lines(scored))
        explored.extend(scored)

    def evaluate_designs(
        ctx: ComboContext, dups: list[np.ndarray], partitions: list[Partition]
    ) -> list[Found | None]:
        batch = score_designs(ctx, dups, partitions)
        record(batch)
        return batch

    # every duplication candidate's design with the default partition, per combo (computed once:
    # the fitness energy of stage 1 and the screening below both read it)
    screens: list[dict[tuple[int, ...], Found | None]] = [{} for _ in contexts]

    def screen_all(k: int, conv_dups: list[tuple[int, ...]]) -> None:
        todo = [d for d in dict.fromkeys(conv_dups) if d not in screens[k]]
        if todo:
            full = [contexts[k].full_dup(d) for d in todo]
            partitions = [default_partition(contexts[k], d) for d in full]
            screens[k].update(
                zip(todo, evaluate_designs(contexts[k], full, partitions), strict=True)
            )

    def screen(k: int, conv_dup: tuple[int, ...]) -> Found | None:
        screen_all(k, [conv_dup])
        return screens[k][conv_dup]

    def fitness(conv_dup: tuple[int, ...]) -> float:
        """Stage 1's true fitness: the best screened efficiency over the unit's DAC choices."""
        scored = [f.tops_per_w for k in range(len(contexts)) if (f := screen(k, conv_dup))]
        return max(scored, default=float("-inf"))

    dups = candidates(problem, settings.dup, settings.sa, rng, fitness)
    seed_dup = dups[0]  # the proportional seed (or all ones): always evolved, see below
    for k, ctx in enumerate(contexts):
        screen_all(k, dups)  # one batch for the candidates the annealing did not score
        screened = [f for conv_dup in dups if (f := screens[k][conv_dup]) is not None]
        ones = tuple(1 for _ in problem.pixels)
        if not screened and ones not in dups:
            # A budget just above the fixed costs: the candidates fill the crossbar share, and the
            # converters and units of the extra copies overrun the budget. Every dup at 1 is the
            # design minimum_budget_w promised (it prices exactly that one).
            if (f := screen(k, ones)) is not None:
                screened.append(f)
        if not screened:
            skipped.append(
                (
                    ctx.combo.label,
                    "no duplication candidate fits the power budget after "
                    "the fixed costs (crossbars, DACs, buffers, NoC)",
                )
            )
            continue
        screened.sort(key=lambda f: f.key)
        found.extend(screened[: settings.keep])
        # the seed and the best others by the screened fitness, ``candidates`` in all: what
        # --dup heuristic evolves is evolved here too, at no extra cost
        seed_design = screens[k][seed_dup]
        evolved = [seed_design] if seed_design is not None else []
        evolved += [f for f in screened if f != seed_design][: settings.candidates - len(evolved)]
        if unified:  # the paper's identical macros: one macro size searched, no EA
            for best in evolved:
                dup = np.array(best.dup)
                sizes = sorted({unified_partition(ctx, dup, size) for size in UNIFIED_SIZES})
                batch = evaluate_designs(ctx, [dup] * len(sizes), sizes)
                found.extend(f for f in batch if f is not None)
            continue
        # one RNG per (combo, candidate): the EA of a candidate does not depend on which other
        # candidates were found (nor on the lockstep), so the seed evolves as under --dup heuristic
        rngs = [random.Random(f"{settings.seed}/{ctx.combo.index}/{f.dup}") for f in evolved]
        for survivors in evolve_designs(
            ctx, evolved, settings, settings.ea, rngs, score_designs, record
        ):
            found += survivors
    unique = {(f.combo.index, f.dup, f.partition): f for f in found}
    best_first = sorted(unique.values(), key=lambda f: f.key)[: settings.keep]
    # and the unit's Pareto front (the run's front is the front of the units' fronts), in the
    # run's order of designs whatever the order they were logged in
    kept = {(f.combo.index, f.dup, f.partition) for f in best_first}
    front = sorted(pareto_front(explored, key=lambda f: f.key), key=lambda f: f.key)
    best_first += [f for f in front if (f.combo.index, f.dup, f.partition) not in kept]
    return UnitResult(
        unit.index, best_first, b"".join(log), skipped, evaluations, time.perf_counter() - start
    )


def search_units(
    batch: tuple[Unit, ...], network: Network, library: ComponentLibrary, settings: Settings
) -> list[UnitResult]:
    """``search_unit`` for each unit of ``batch``, in order (one task of an executor)."""
    return [search_unit(u, network, library, settings) for u in batch]
