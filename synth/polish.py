"""The last stage: balanced duplication vectors, then a longer partition search for the best few
designs of the whole run.

Each work unit evolves its candidates' macro partitions with a short EA (``Settings.ea``), whose
result on one duplication vector varies by a few percent with its random seed, and long runs of a
small population do better than short runs of a large one (AlexNet at 49 W, ratio 0.30, 256x256
crossbars, 2-bit cells, 1-bit DAC, polishing the 4 best designs: 16 + 16 x 40 generations end at
0.9711 TOPS/W, 8 + 8 x 150 at 0.9956 for 2,338 designs, 28 + 12 x 200 at 0.9956 for 5,884). Once
every unit is done, the ``polish`` best distinct (combination, duplication) designs get
``Settings.polish_ea`` generations from their best partition: a few thousand evaluations where they
count, instead of more for every candidate. The designs are polished side by side on the run's
executor when there is one (:func:`polish_together` is pure and picklable), the EAs of designs of
one combination in lockstep (pairs of them on an executor, all of them in one process).

Before they are picked, the combinations of those designs get their **balanced** duplication
vectors (:func:`balanced`: the cheapest vector for each of the ``rungs`` shortest pipeline periods
the crossbar budget allows), each priced with the partition of the combination's best design fitted
to it (:func:`fit_partition`). The annealing's moves rarely land on such a vector, whose slowest
layers are all raised together: on AlexNet at 49 W (ratio 0.25, 256x256, 2-bit cells, 1-bit DAC)
the default's best vector (63, 16, 4, 4, 3) ends at 0.909 TOPS/W after the polish, the balanced
(63, 15, 4, 4, 4) at 0.941 with that design's partition fitted to it, as good as what 5 thorough
searches find there. They cost a few evaluations per combination and compete with the other
designs for the polish. Only in ``--dup sa`` mode: ``--dup heuristic`` stays the proportional seed
alone (the ablation of stage 1). Deterministic: each design's RNG is seeded from the run's seed and
the design.
"""

from __future__ import annotations

import random
from concurrent.futures import Executor
from fractions import Fraction

import numpy as np

from pimsim.components.library import ComponentLibrary
from pimsim.network.graph import Network
from synth.context import ComboContext
from synth.design import Partition, area_dup_problem
from synth.dup import Dup, DupProblem
from synth.partition import PartitionSpace, nearest, owners
from synth.search import Evaluate, Found, area_budget, designs_of, evolve_designs
from synth.settings import Settings

#: Designs of one combination polished in lockstep by one task of an executor.
PAIR = 2


def balanced(problem: DupProblem, rungs: int, span: float = 1.0) -> list[Dup]:
    """The cheapest duplication vectors of ``rungs`` pipeline periods from the shortest that fits
    the crossbar budget, shortest first (fewer when several periods give the same vector).

    A vector's period is its slowest layer's block count, max_i Ho*Wo_i / dup_i; the cheapest
    vector whose period is at most P has dup_i = ceil(Ho*Wo_i / P), and fewer crossbars as P grows.
    The shortest feasible P is found by bisection. With ``span`` 1 the next rungs are the next
    periods at which some dup drops by one (exact, rational); with ``span`` s > 1 the periods are
    spread geometrically from the shortest P0 to s * P0 (a wider ladder for the same count)."""
    pixels = problem.pixels
    if not pixels or problem.minimum > problem.budget:
        return []

    def at(period: Fraction) -> Dup:
        return tuple(max(1, -(-p * period.denominator // period.numerator)) for p in pixels)

    def fits(period: Fraction) -> bool:
        return problem.used(at(period)) <= problem.budget

    if fits(Fraction(1)):  # every dup at Ho*Wo
        shortest = Fraction(1)
    else:  # bisection: lo does not fit, hi does
        lo, hi = 1.0, float(max(pixels))
        for _ in range(64):
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if fits(Fraction(mid)) else (mid, hi)
        shortest = Fraction(hi)
    dup = at(shortest)
    out = [dup]
    if span > 1:
        for k in range(1, rungs):
            nxt = at(shortest * Fraction(span ** (k / max(rungs - 1, 1))))
            if nxt not in out:
                out.append(nxt)
        return out
    while len(out) < rungs and any(d > 1 for d in dup):
        # the next period at which a layer needs one copy fewer
        period = min(Fraction(p, d - 1) for p, d in zip(pixels, dup, strict=True) if d > 1)
        dup = at(period)
        out.append(dup)
    return out


def fit_partition(partition: Partition, space: PartitionSpace) -> Partition:
    """``partition`` made valid for another duplication vector (``space``): each layer or shared
    pair keeps its macro count if still allowed, else takes the nearest allowed one; a pair with no
    common count left is split."""

    out = list(partition)
    for owner, members in owners(partition).items():
        n = partition[owner][1]
        common = space.counts[owner] if len(members) == 1 else space.pair_counts(*members)
        for k in members:
            out[k] = (owner, nearest(common, n)) if common else (k, nearest(space.counts[k], n))
    return tuple(out)


def balanced_designs(
    ctx: ComboContext, best: Found, settings: Settings, evaluate: Evaluate
) -> list[Found]:
    """The combination's balanced duplication vectors (:func:`balanced`, ``settings.rungs`` of
    them, within the crossbars stage 1 had) priced with ``best``'s partition fitted to each;
    those that fit the budgets. Not macros-unified (the polish skips that mode)."""
    # the crossbar budget that the search's stage 1 had (lowered under an area budget)
    problem = area_dup_problem(
        ctx, ctx.dup_problem(), settings.power_w, False, area_budget(settings)
    )
    vectors = [ctx.full_dup(d) for d in balanced(problem, settings.rungs, settings.rung_span)]
    vectors = [d for d in vectors if tuple(int(x) for x in d) != best.dup]
    partitions = [
        fit_partition(
            best.partition,
            PartitionSpace.of_combo(ctx, d, settings.max_macro_crossbars, settings.sharing),
        )
        for d in vectors
    ]
    return [f for f in evaluate(ctx, vectors, partitions) if f is not None] if vectors else []


def _best_distinct(found: list[Found], n: int) -> list[Found]:
    """The best design of each of the ``n`` best distinct (combination, duplication) pairs."""
    out: list[Found] = []
    seen: set[tuple[int, tuple[int, ...]]] = set()
    for f in sorted(found, key=lambda f: f.key):
        if len(out) == n:
            break
        if (f.combo.index, f.dup) not in seen:
            seen.add((f.combo.index, f.dup))
            out.append(f)
    return out


def picked(found: list[Found], settings: Settings) -> list[Found]:
    """The units' designs the polish considers: the best ``settings.polish`` distinct
    (combination, duplication) designs of ``found`` (taken best first by ``Found.key``); none in
    ``unified`` mode, whose macro partition is not evolved (one macro size is searched instead)."""
    return [] if settings.macros == "unified" else _best_distinct(found, settings.polish)


def polish_together(
    starts: list[Found], network: Network, library: ComponentLibrary, settings: Settings
) -> tuple[list[list[Found]], int]:
    """The designs the longer EA found from each of ``starts`` (designs of one combination), and
    how many designs it scored. The EAs run in lockstep (:func:`synth.search.evolve_designs`:
    one batch a generation for all of them; the polish's generations bring few new partitions
    each, so alone its batches were small). Pure and picklable (each EA's RNG is seeded from the
    run's seed and its design), so designs are polished on any executor, alone or together, with
    the same result."""
    evaluate = _Counted(settings)
    ctx = ComboContext.build(starts[0].combo, network, library, settings.power_w)
    rngs = [random.Random(f"{settings.seed}/polish/{f.combo.index}/{f.dup}") for f in starts]
    out = evolve_designs(ctx, starts, settings, settings.polish_ea, rngs, evaluate)
    return out, evaluate.evaluations


def together(starts: list[Found], size: int) -> list[list[int]]:
    """The indices of ``starts`` in groups of at most ``size`` designs of one combination, each
    group in the order of ``starts``, the groups in the order of their first design."""
    by_combo: dict[int, list[int]] = {}
    for i, f in enumerate(starts):
        by_combo.setdefault(f.combo.index, []).append(i)
    return [g[k : k + size] for g in by_combo.values() for k in range(0, len(g), size)]


class _Counted:
    """:func:`synth.search.designs_of` under ``settings`` (an :data:`synth.search.Evaluate`),
    counting the designs it scores."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.evaluations = 0

    def __call__(
        self, ctx: ComboContext, dups: list[np.ndarray], partitions: list[Partition]
    ) -> list[Found | None]:
        self.evaluations += len(partitions)
        return designs_of(ctx, dups, partitions, self.settings)


def polish(
    found: list[Found],
    network: Network,
    library: ComponentLibrary,
    settings: Settings,
    executor: Executor | None = None,
) -> tuple[list[Found], int]:
    """The designs the polish found (the balanced vectors' and the longer EA's) from the
    :func:`picked` designs of ``found``, and how many designs it scored. The balanced vectors of
    the picked designs' combinations are priced here (a few evaluations); half the designs
    polished are the best of them, half the best picked. The designs are polished on ``executor``
    side by side when one is given (the polish is the serial tail of a run otherwise), in this
    process when not, with the same result."""
    starts = picked(found, settings)
    out: list[Found] = []
    evaluate = _Counted(settings)
    if starts and settings.dup == "sa" and settings.rungs > 0:
        best_of_combo: dict[int, Found] = {}
        for f in starts:  # best first: the first of each combination is its best
            best_of_combo.setdefault(f.combo.index, f)
        for f in best_of_combo.values():
            ctx = ComboContext.build(f.combo, network, library, settings.power_w)
            out += balanced_designs(ctx, f, settings, evaluate)
        # half the polish for the best balanced designs, half for the units' best: the balanced
        # vectors' figures (with a fitted partition) do not crowd out designs that polish better
        ladder = _best_distinct(out, settings.polish // 2)
        starts = _best_distinct(starts, settings.polish - len(ladder)) + ladder
    # in this process, one lockstep per combination; on an executor, pairs of designs of one
    # combination (twice the batch, and still a task per pair for the workers)
    groups = together(starts, max(1, len(starts)) if executor is None else PAIR)
    tasks = [([starts[i] for i in g], network, library, settings) for g in groups]
    if executor is None:
        done = [polish_together(*task) for task in tasks]
    else:
        futures = [executor.submit(polish_together, *task) for task in tasks]
        done = [future.result() for future in futures]
    designs: dict[int, list[Found]] = {}
    for g, (found_each, _) in zip(groups, done, strict=True):
        designs.update(zip(g, found_each, strict=True))
    polished = [f for i in range(len(starts)) for f in designs[i]]
    return out + polished, evaluate.evaluations + sum(n for _, n in done)
