"""Stage 1 (simulated annealing) and stage 3 (evolutionary partitioning) on their own."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.anneal import anneal
from synth.dup import DupProblem, candidates, max_energy, move, paper_energy, seed
from synth.partition import (
    Groups,
    PartitionSpace,
    evolution,
    evolve,
    mutate_num,
    mutate_share,
    owners,
)
from synth.settings import SAParams


def _toy_energy(x: int) -> float:
    """A rugged 1-D landscape on 0..999: local minima every 37 steps, the global one at 740."""
    return abs(x - 740) + 40 * ((x % 37) != 0)


def _toy_move(x: int, rng: random.Random) -> int:
    return min(999, max(0, x + rng.randint(-25, 25)))


def test_sa_finds_the_known_optimum_and_too_few_iterations_do_worse() -> None:
    full = anneal(
        0,
        _toy_energy,
        _toy_move,
        random.Random(1),
        chains=4,
        iterations=200,
        cooling=0.9,
        final_ratio=1e-3,
        t0=100.0,
    )
    assert full[0] == (0, 740)
    starved = [
        anneal(
            0,
            _toy_energy,
            _toy_move,
            random.Random(s),
            chains=1,
            iterations=1,
            cooling=0.5,
            final_ratio=0.1,
            t0=100.0,
        )[0][0]
        for s in range(10)
    ]
    assert min(starved) > 0 and sum(starved) / len(starved) > 50


def test_archive_returns_distinct_states_best_first() -> None:
    found = anneal(
        0, _toy_energy, _toy_move, random.Random(3), chains=2, iterations=50, archive=12, t0=50.0
    )
    energies = [e for e, _ in found]
    states = [s for _, s in found]
    assert len(found) == 12 and len(set(states)) == 12 and energies == sorted(energies)


PROBLEM = DupProblem(
    pixels=(3136, 784, 784, 196, 49),
    sets=(8, 18, 36, 72, 144),
    movement=(640, 1280, 1280, 2560, 5120),
    budget=2000,
)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 40))
def test_moves_keep_every_invariant(seed_value: int, steps: int) -> None:
    rng = random.Random(seed_value)
    dup = seed(PROBLEM)
    assert PROBLEM.feasible(dup)
    for _ in range(steps):
        dup = move(PROBLEM, dup, rng)
        assert PROBLEM.feasible(dup), dup


def test_seed_is_proportional_and_within_budget() -> None:
    dup = seed(PROBLEM)
    assert PROBLEM.used(dup) <= PROBLEM.budget
    blocks = [p / d for p, d in zip(PROBLEM.pixels, dup, strict=True)]
    assert max(blocks) / min(blocks) < 8  # roughly balanced


def test_sa_improves_on_the_heuristic_seed() -> None:
    energy = paper_energy(PROBLEM, 0.1)
    found = candidates(PROBLEM, "sa", SAParams(), random.Random(0))
    # the seed comes first (so the search always tries what --dup heuristic tries), then the
    # archive best first by the energy: its best is better than the seed
    assert found[0] == seed(PROBLEM) and energy(found[1]) < energy(seed(PROBLEM))
    assert len(set(found)) == len(found) and all(PROBLEM.feasible(d) for d in found)
    assert SAParams().archive <= len(found) <= SAParams().archive + 1
    assert candidates(PROBLEM, "none", SAParams(), random.Random(0)) == [(1, 1, 1, 1, 1)]
    assert candidates(PROBLEM, "heuristic", SAParams(), random.Random(0)) == [seed(PROBLEM)]
    best_max = candidates(PROBLEM, "sa", SAParams(energy="max"), random.Random(0))[1]
    assert max_energy(PROBLEM)(best_max) <= max_energy(PROBLEM)(seed(PROBLEM))


SPACE = PartitionSpace.of([2, 4, 1], [4, 2, 3], [16, 24, 9], cap=12, sharing=True)


def test_partition_space_respects_the_cap_and_the_rules() -> None:
    assert SPACE.counts[0] == (2, 4, 8)  # splits of 16 crossbars into macros of at most 12
    assert all(c <= 2 * 4 for c in SPACE.counts[0])  # at most dup x row blocks macros
    assert SPACE.pair_counts(0, 1) == [4, 8]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10_000))
def test_mutations_keep_partitions_valid(seed_value: int) -> None:
    rng = random.Random(seed_value)
    p = ((0, 2), (1, 2), (2, 1))
    for _ in range(30):
        p = mutate_share(mutate_num(p, SPACE, rng), SPACE, rng)
        for owner, members in owners(p).items():
            assert len(members) <= 2 and owner == min(members)
            n = p[owner][1]
            assert all(p[k][1] == n for k in members)
            allowed = SPACE.counts[owner] if len(members) == 1 else SPACE.pair_counts(*members)
            assert n in allowed


def test_groups_of_a_partition_and_mutate_num_keeps_them() -> None:
    """Layers 0 and 1 share macros (owner 0), 2 and 3 are alone: the owners in order, the members
    by owner, the lone owners. ``mutate_num`` changes counts only, so its result has the same groups
    (the EA computes a parent's groups once and passes them on)."""
    p = ((0, 4), (0, 4), (2, 1), (3, 2))
    groups = Groups.of(p)
    assert groups.owners == (0, 2, 3)
    assert groups.members == {0: [0, 1], 2: [2], 3: [3]}
    assert groups.alone == (2, 3)
    # an owner is alone only when its one member is itself: here 0's member is layer 1 and 1's is
    # layer 0 (no move makes such a partition, but the rule holds for any)
    crossed = Groups.of(((1, 2), (0, 2), (2, 1)))
    assert crossed.owners == (0, 1, 2) and crossed.members == {1: [0], 0: [1], 2: [2]}
    assert crossed.alone == (2,)
    rng = random.Random(0)
    q = ((0, 2), (1, 2), (2, 1))
    for _ in range(200):
        moved = mutate_num(q, SPACE, rng, Groups.of(q))
        assert Groups.of(moved) == Groups.of(q)
        q = mutate_share(moved, SPACE, rng)


def test_evolution_keeps_better_children() -> None:
    """The fitness rewards more macros for layer 0; the start has the fewest. A (mu + lambda) search
    that keeps its children must end at the best count; one that threw them away could not."""

    def fitness(p):  # type: ignore[no-untyped-def]
        return float(p[0][1]) - 0.01 * p[1][1]

    start = ((0, 2), (1, 2), (2, 1))
    search = evolution(
        start,
        SPACE,
        random.Random(0),
        population=4,
        children=6,
        generations=15,
        p_num=1.0,
        p_share=0.0,
    )
    survivors = evolve(search, lambda ps: [fitness(p) for p in ps])
    assert survivors[0][1][0][1] == 8 and survivors[0][0] == max(f for f, _ in survivors)
    assert survivors[0][0] > fitness(start)


def test_paper_energy_is_dimensionless_by_hand() -> None:
    two = DupProblem(pixels=(100, 100), sets=(1, 1), movement=(10, 10), budget=10)
    # dup (1, 4): blocks 100 and 25, mean 62.5, stdev 37.5, CV 0.6; movement 10 and 40, mean 25,
    # stdev 15, CV 0.6; energy 0.6 + 0.1 x 0.6 = 0.66
    assert paper_energy(two, 0.1)((1, 4)) == pytest.approx(0.66, rel=1e-12)
    assert paper_energy(two, 0.1)((2, 2)) == 0.0  # balanced, equal movement
    # units do not matter: 7x the pixels and 1000x the words moved give the same energy
    scaled = DupProblem(pixels=(700, 700), sets=(1, 1), movement=(10_000, 10_000), budget=10)
    assert paper_energy(scaled, 0.1)((1, 4)) == pytest.approx(0.66, rel=1e-12)


def test_the_fitness_energy_anneals_the_given_fitness_from_the_seed() -> None:
    target = (40, 10, 8, 3, 1)

    def fitness(dup):  # type: ignore[no-untyped-def]
        """Highest at ``target`` (within budget: 320 + 180 + 288 + 216 + 144 = 1148 crossbars)."""
        return 10_000.0 - sum((d - t) ** 2 for d, t in zip(dup, target, strict=True))

    start = seed(PROBLEM)
    found = candidates(PROBLEM, "sa", SAParams(energy="fitness"), random.Random(0), fitness)
    assert found[0] == start and fitness(found[1]) > fitness(start)
    assert all(PROBLEM.feasible(d) for d in found)
    # a seed that cannot be built gives nothing to compare with: the seed alone
    unbuildable = candidates(
        PROBLEM, "sa", SAParams(energy="fitness"), random.Random(0), lambda d: float("-inf")
    )
    assert unbuildable == [start]
    with pytest.raises(ValueError):
        candidates(PROBLEM, "sa", SAParams(energy="fitness"), random.Random(0))
