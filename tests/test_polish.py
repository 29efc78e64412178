"""The polish stage's balanced duplication vectors and the partition fitted to them (worked by hand)."""

from __future__ import annotations

from pimsim.components.library import load_library
from pimsim.network.zoo import zoo_network
from synth.context import ComboContext
from synth.design import default_partition
from synth.dup import DupProblem, seed
from synth.partition import PartitionSpace
from synth.polish import balanced, balanced_designs, fit_partition
from synth.search import designs_of
from synth.settings import Combo, Settings

# three conv layers of 12, 6 and 4 output pixels, 1, 2 and 3 crossbars per copy
PIXELS, SETS = (12, 6, 4), (1, 2, 3)


def problem(budget: int) -> DupProblem:
    return DupProblem(PIXELS, SETS, (0, 0, 0), budget)


def test_balanced_vectors_are_the_cheapest_of_the_shortest_periods_that_fit() -> None:
    # budget 20 crossbars. Period 2 (the slowest layer's blocks): ceil(12/2), ceil(6/2), ceil(4/2)
    # = (6, 3, 2), 6 + 6 + 6 = 18 crossbars. Every shorter period needs more than 20: just below
    # 2 the vector is (7, 4, 3) = 24 (no breakpoint 12/d, 6/d, 4/d lies strictly between 1.71
    # and 2). Next rungs: the next period at which a layer needs one copy fewer is
    # min(12/5, 6/2, 4/1) = 2.4 -> (5, 3, 2) = 17; then min(12/4, 6/2, 4/1) = 3 -> (4, 2, 2) = 14;
    # then min(12/3, 6/1, 4/1) = 4 -> (3, 2, 1) = 10.
    assert balanced(problem(20), 4) == [(6, 3, 2), (5, 3, 2), (4, 2, 2), (3, 2, 1)]
    assert balanced(problem(20), 1) == [(6, 3, 2)]
    # 36 crossbars hold every layer at one copy per pixel (period 1): 12 + 12 + 12
    assert balanced(problem(36), 2) == [(12, 6, 4), (11, 6, 4)]
    # the ladder ends at every dup 1 (period 12): from (2, 1, 1) the only layer left is the first
    assert balanced(problem(6), 5) == [(1, 1, 1)]
    # 8 crossbars: any period below 6 needs 2 copies of the second layer and at least 3 of the
    # first (3 + 4 + 3 = 10); at period 6 the cheapest is (2, 1, 1), then period 12, (1, 1, 1)
    assert balanced(problem(8), 5) == [(2, 1, 1), (1, 1, 1)]
    assert balanced(problem(5), 3) == []  # below the 1 + 2 + 3 crossbars of every dup at 1
    # spread over 4x the shortest period: periods 2, 2 * 4^(1/2) = 4 and 8 -> (6, 3, 2),
    # (ceil(12/4), ceil(6/4), ceil(4/4)) = (3, 2, 1) and (ceil(1.5), 1, 1) = (2, 1, 1)
    assert balanced(problem(20), 3, span=4.0) == [(6, 3, 2), (3, 2, 1), (2, 1, 1)]


def test_fitted_partition_keeps_allowed_counts_and_takes_the_nearest_others() -> None:
    space = PartitionSpace(((1, 2, 4), (1, 5), (1, 2, 4)), (4, 5, 4), 512, True)
    # layer 1's 3 macros are not allowed: 1 and 5 are as near, the smaller wins; the shared pair
    # (0, 2) keeps its 4 macros, allowed for both
    assert fit_partition(((0, 4), (1, 3), (0, 4)), space) == ((0, 4), (1, 1), (0, 4))
    # a pair with no common count left is split, each member taking its own nearest count
    space = PartitionSpace(((1, 3), (1,), (2, 4)), (3, 1, 4), 512, True)
    assert fit_partition(((0, 3), (1, 1), (0, 3)), space) == ((0, 3), (1, 1), (2, 2))


def test_balanced_designs_price_the_ladder_with_the_best_partition_fitted() -> None:
    ctx = ComboContext.build(
        Combo(0, 0.25, 2, 256, 1), zoo_network("alexnet"), load_library("pimsyn"), 49
    )
    settings = Settings(power_w=49, rungs=4, rung_span=1.0)
    problem = ctx.dup_problem()
    # the best design: the proportional seed on its default partition
    dup = ctx.full_dup(seed(problem))
    (best,) = designs_of(ctx, [dup], [default_partition(ctx, dup)], settings)
    assert best is not None
    calls: list[int] = []

    def evaluate(c, dups, partitions):  # type: ignore[no-untyped-def]
        calls.append(len(partitions))
        return designs_of(c, dups, partitions, settings)

    out = balanced_designs(ctx, best, settings, evaluate)
    ladder = balanced(problem, settings.rungs)
    assert best.dup[: len(ladder[0])] not in ladder  # the seed is not balanced here: 4 priced
    assert calls == [4]  # one batch, one design per rung
    assert [f.dup[: len(ladder[0])] for f in out] == ladder  # all four fit the budget
    for f in out:
        space = PartitionSpace.of(
            [int(r) for r in ctx.row_blocks],
            list(f.dup),
            [int(d * s) for d, s in zip(f.dup, ctx.sets, strict=True)],
            settings.max_macro_crossbars,
            settings.sharing,
        )
        assert f.partition == fit_partition(best.partition, space)
        assert all(n in space.counts[k] for k, (_, n) in enumerate(f.partition))
