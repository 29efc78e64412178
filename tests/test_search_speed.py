"""The whole search made faster without changing what it finds: the annealing's move draws exactly
as its plain rule does, and the polish gives the same designs on an executor as in this process."""

from __future__ import annotations

import random
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pimsim.components.library import load_library
from pimsim.network.zoo import zoo_network
from synth.dup import DupProblem, Neighbours, seed
from synth.polish import picked, polish
from synth.search import Unit, search_unit
from synth.settings import Settings, combos


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
@given(
    st.lists(
        st.tuples(st.integers(1, 400), st.integers(1, 40), st.integers(1, 99)),
        min_size=1,
        max_size=8,
    ),
    st.integers(0, 3000),
    st.integers(0, 10_000),
)
def test_the_move_draws_exactly_as_the_plain_rule(layers, extra, seed_value) -> None:  # type: ignore[no-untyped-def]
    pixels, sets, movement = (tuple(c) for c in zip(*layers, strict=True))
    problem = DupProblem(pixels, sets, movement, sum(sets) + extra)
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
