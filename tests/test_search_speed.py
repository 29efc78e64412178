"""The whole search made faster without changing what it finds: the annealing's move draws exactly
as its plain rule does; the polish and the winner's runnable checks give the same designs on an
executor as in this process; EAs run in lockstep end as they would one at a time; and a batch of
partitions is laid out on macros as each alone."""

from __future__ import annotations

import random
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from hypothesis import given, settings

from pimsim.components.library import load_library
from pimsim.network.zoo import zoo_network
from synth.context import ComboContext
from synth.design import Partition, assemble, assemble_batch, default_partition
from synth.dup import DupProblem, Neighbours, seed
from synth.partition import PartitionSpace, evolution, evolve, lockstep, mutate_num, mutate_share
from synth.polish import PAIR, picked, polish, polish_together, together
from synth.search import Found, Unit, designs_of, evolve_designs, search_unit
from synth.settings import Combo, Settings, combos
from synth.winner import REPAIRED, choose
from tests.dup_problems import dup_problems


def plain_move(problem: DupProblem, dup: tuple[int, ...], rng: random.Random) -> tuple[int, ...]:
    """The neighbour rule written plainly (every list rebuilt from scratch), as the search had it."""
    new, n = list(dup), len(dup)
    i = rng.randrange(n)
    spare = problem.budget - problem.used(dup)
    room = min(problem.pixels[i] - new[i], max(spare // problem.sets[i], 0) + max(1, new[i] // 4))
    if room > 0:
        new[i] += rng.randint(1, room)
    elif new[i] > 1:
        new[i] -= rng.randint(1, max(1, new[i] // 4))
    used = problem.used(tuple(new))
    while used > problem.budget:
        lowerable = [j for j in range(n) if j != i and new[j] > 1] or ([i] if new[i] > 1 else [])
        if not lowerable:
            return dup
        j = rng.choice(lowerable)
        new[j] -= 1
        used -= problem.sets[j]
    while problem.budget - used >= sum(problem.sets) / n:
        fits = [
            j
            for j in range(n)
            if problem.sets[j] <= problem.budget - used and new[j] < problem.pixels[j]
        ]
        if not fits:
            break
        j = rng.choice(fits)
        new[j] += 1
        used += problem.sets[j]
    return tuple(new)


@settings(max_examples=150, deadline=None)
@given(dup_problems())
def test_the_move_draws_exactly_as_the_plain_rule(case) -> None:  # type: ignore[no-untyped-def]
    problem, seed_value = case
    fast, plain = random.Random(seed_value), random.Random(seed_value)
    a = b = seed(problem)
    neighbours = Neighbours(problem)
    for _ in range(60):  # walks that also reach the bounds (dup 1, dup = pixels, a full budget)
        a, b = neighbours(a, fast), plain_move(problem, b, plain)
        assert a == b and problem.feasible(a)
    assert fast.random() == plain.random()  # and the two streams are at the same place


class Counting(ThreadPoolExecutor):
    """A thread pool that counts the tasks given to it."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.tasks = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.tasks += 1
        return super().submit(fn, *args, **kwargs)


def test_the_polish_on_an_executor_finds_the_same_designs() -> None:
    net, lib = zoo_network("resnet18-cifar"), load_library("pimsyn")
    quick = Settings(power_w=20).quick()
    unit = Unit(0, tuple(c for c in combos(quick) if c.rram_ratio == 0.3 and c.xbar == 128))
    found = search_unit(unit, net, lib, quick).found
    starts = picked(found, quick)
    assert len(starts) == quick.polish == 2  # two distinct (combination, dup) designs
    here = polish(found, net, lib, quick)
    with Counting() as pool:
        there = polish(found, net, lib, quick, pool)
    assert pool.tasks == 2  # one task per design
    assert [f.to_dict() for f in there[0]] == [f.to_dict() for f in here[0]]
    assert there[1] == here[1] > 0


def test_the_polish_groups_designs_of_one_combination_in_pairs() -> None:
    def design(combo: int, first: int) -> Found:
        return Found(1.0, Combo(combo, 0.2, 2, 128, 1), (first,), ((0, 1),), {})

    starts = [design(5, 1), design(3, 1), design(5, 2), design(5, 3), design(3, 2)]
    # combination 5: designs 0, 2, 3 -> (0, 2) and (3); combination 3: designs 1, 4
    assert PAIR == 2 and together(starts, PAIR) == [[0, 2], [3], [1, 4]]
    assert together(starts, len(starts)) == [[0, 2, 3], [1, 4]]
    assert together([], PAIR) == []


def test_designs_polished_together_end_as_each_alone() -> None:
    net, lib = zoo_network("resnet18-cifar"), load_library("pimsyn")
    quick = Settings(power_w=30).quick()
    starts = _three_starts(net, lib, quick)
    both, evaluations = polish_together(starts, net, lib, quick)
    alone = [polish_together([f], net, lib, quick) for f in starts]
    assert [[f.to_dict() for f in d] for d in both] == [
        [f.to_dict() for f in d] for (d,), _ in alone
    ]
    assert evaluations == sum(n for _, n in alone) > 0


def test_the_winner_checked_on_an_executor_is_the_same() -> None:
    net, lib = zoo_network("resnet18-cifar"), load_library("pimsyn")
    quick = Settings(power_w=20).quick()
    unit = Unit(0, tuple(c for c in combos(quick) if c.rram_ratio == 0.3 and c.xbar == 128))
    found = search_unit(unit, net, lib, quick).found
    assert len(found) > REPAIRED
    here = choose(found, net, lib, quick)
    with Counting() as pool:
        there = choose(found, net, lib, quick, executor=pool)
    assert pool.tasks == REPAIRED  # one task per design made runnable
    assert there[0].to_dict() == here[0].to_dict()
    assert there[1].model_dump() == here[1].model_dump()  # the winner's architecture
    for a, b in zip(there[2:], here[2:], strict=True):  # top and front
        assert [f.to_dict() for f in a] == [f.to_dict() for f in b]


def test_the_archive_ranks_ties_by_repr_and_keeps_count() -> None:
    from synth.anneal import _lowest

    energies = {(3,): 1.0, (10,): 0.5, (2,): 1.0, (1,): 2.0, (20,): 1.0}
    # 0.5 first; then the three states at 1.0 ordered by repr: "(2,)" < "(20,)" < "(3,)"
    assert _lowest(energies, 3) == [(0.5, (10,)), (1.0, (2,)), (1.0, (20,))]
    assert _lowest(energies, 9) == [
        (0.5, (10,)),
        (1.0, (2,)),
        (1.0, (20,)),
        (1.0, (3,)),
        (2.0, (1,)),
    ]
    assert _lowest(energies, 0) == []


def _toy_fitness(p: Partition) -> float:
    """Some deterministic landscape over partitions, with a partition that cannot be scored."""
    value = sum((k + 1) * n * (1 if owner == k else -2) for k, (owner, n) in enumerate(p))
    return float("-inf") if value % 7 == 0 else float(value)


def test_lockstep_ends_every_search_as_it_would_alone() -> None:
    space = PartitionSpace.of([2, 4, 1], [4, 2, 3], [16, 24, 9], cap=12, sharing=True)
    plans = [  # (start, seed, generations): the third search ends rounds before the others
        (((0, 2), (1, 2), (2, 1)), 1, 9),
        (((0, 8), (1, 4), (2, 3)), 2, 9),
        (((0, 1), (1, 1), (2, 1)), 3, 3),
    ]
    params = {"population": 4, "children": 5, "p_num": 0.7, "p_share": 0.5}
    alone, asked_alone = [], []
    for start, seed_value, generations in plans:
        asked: list[list[Partition]] = []

        def fitness(ps: list[Partition], asked: list[list[Partition]] = asked) -> list[float]:
            asked.append(list(ps))
            return [_toy_fitness(p) for p in ps]

        rng = random.Random(seed_value)
        alone.append(
            evolve(evolution(start, space, rng, generations=generations, **params), fitness)
        )
        asked_alone.append(asked)
    rounds: list[list[int]] = []
    asked_together: list[list[list[Partition]]] = [[] for _ in plans]

    def together(batches: list[tuple[int, list[Partition]]]) -> list[list[float]]:
        rounds.append([i for i, _ in batches])
        for i, ps in batches:
            asked_together[i].append(list(ps))
        return [[_toy_fitness(p) for p in ps] for _, ps in batches]

    searches = [
        evolution(start, space, random.Random(s), generations=g, **params) for start, s, g in plans
    ]
    assert lockstep(searches, together) == alone  # the same survivors with the same fitness
    assert asked_together == asked_alone  # each search asked for the same batches in turn
    # one call a round with every search that still asks (a search whose generation brings
    # nothing new asks for its next one), so search i is in the first len(asked_alone[i]) rounds
    assert len(rounds) == max(len(a) for a in asked_alone) > len(asked_alone[2])
    assert rounds == [[i for i in range(3) if r < len(asked_alone[i])] for r in range(len(rounds))]


def _three_starts(net: Any, lib: Any, quick: Settings) -> list[Found]:
    """Designs of one combination of ResNet18 for CIFAR at 30 W from three duplication vectors
    (the proportional seed, all ones, half the seed) on the default partition."""
    combo = next(c for c in combos(quick) if c.rram_ratio == 0.2 and c.xbar == 128)
    ctx = ComboContext.build(combo, net, lib, quick.power_w)
    first = seed(ctx.dup_problem())
    dups = [first, tuple(1 for _ in first), tuple(max(1, d // 2) for d in first)]
    full = [ctx.full_dup(d) for d in dups]
    starts = designs_of(ctx, full, [default_partition(ctx, d) for d in full], quick)
    assert all(isinstance(f, Found) for f in starts)
    return starts  # type: ignore[return-value]


def test_the_units_eas_in_lockstep_find_and_log_as_one_at_a_time() -> None:
    """Three EAs of one combination from three duplication vectors: scored in one batch a round,
    they end with the designs, and log the designs in the order, of the EAs run one by one."""
    net, lib = zoo_network("resnet18-cifar"), load_library("pimsyn")
    quick = Settings(power_w=30).quick()
    starts = _three_starts(net, lib, quick)
    ctx = ComboContext.build(starts[0].combo, net, lib, quick.power_w)
    calls: list[int] = []

    def evaluate(c: ComboContext, ds: list[Any], ps: list[Partition]) -> list[Found | None]:
        calls.append(len(ps))
        return designs_of(c, ds, ps, quick)

    def rngs(starts: list[Found]) -> list[random.Random]:
        return [random.Random(f"7/{f.dup}") for f in starts]

    logged: list[dict[str, Any]] = []
    together = evolve_designs(
        ctx,
        starts,
        quick,
        quick.ea,
        rngs(starts),
        evaluate,
        lambda batch: logged.extend(f.to_dict() for f in batch if f is not None),
    )
    rounds = len(calls)
    alone, logged_alone = [], []
    for f in starts:
        (found,) = evolve_designs(
            ctx,
            [f],
            quick,
            quick.ea,
            rngs([f]),
            evaluate,
            lambda batch: logged_alone.extend(d.to_dict() for d in batch if d is not None),
        )
        alone.append(found)
    assert [[f.to_dict() for f in a] for a in together] == [[f.to_dict() for f in a] for a in alone]
    assert logged == logged_alone and len(logged) > 0
    # together: one batch a generation (4 in the quick settings), at most three EAs' worth each
    assert rounds <= quick.ea.generations + 1 and sum(calls[:rounds]) == sum(calls[rounds:])


def test_a_batch_of_partitions_is_laid_out_as_each_alone() -> None:
    """Random duplication vectors and partitions (shared macros among them) of ResNet18 for CIFAR
    (layers without weights on their hosts' macros), laid out in a shuffled batch: every array of
    every candidate equal to its layout alone, in value, type and length."""
    net, lib = zoo_network("resnet18-cifar"), load_library("pimsyn")
    quick = Settings(power_w=30).quick()
    ctx = ComboContext.build(combos(quick)[0], net, lib, quick.power_w)
    problem = ctx.dup_problem()
    rng, neighbours, dup = random.Random(5), Neighbours(problem), seed(problem)
    dups, partitions = [], []
    for _ in range(24):
        dup = neighbours(dup, rng)
        full = ctx.full_dup(dup)
        space = PartitionSpace.of_combo(ctx, full, 512, True)
        p = default_partition(ctx, full)
        for _ in range(rng.randrange(8)):
            p = mutate_share(mutate_num(p, space, rng), space, rng)
        dups.append(full)
        partitions.append(p)
    assert any(len({o for o, _ in p}) < len(p) for p in partitions)  # some share macros
    order = list(range(len(dups)))
    rng.shuffle(order)
    batch = assemble_batch(ctx, [dups[i] for i in order], [partitions[i] for i in order])
    for got, i in zip(batch, order, strict=True):
        alone = assemble(ctx, dups[i], partitions[i])  # (a batch of one)
        assert got.groups == alone.groups
        for name in ("crossbars", "share_layer", "share_macro", "share_frac", "share_xbars"):
            a, b = getattr(got, name), getattr(alone, name)
            assert a.dtype == b.dtype and a.shape == b.shape and (a == b).all(), name
        assert got.crossbars.sum() == (dups[i] * ctx.sets).sum()  # every crossbar placed once
