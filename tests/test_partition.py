"""Stage 3's EA bookkeeping: :func:`synth.partition.evolution` (its pool known by identity, each
parent's groups kept by identity, each other partition looked up once) asks for the same batches,
in the same order, and ends with the same survivors as the plain statement of the (mu + lambda)
rule below (``random.Random``'s own draws, every partition looked up by value)."""

from __future__ import annotations

import random

import pytest

from synth.layout import Partition
from synth.partition import PartitionSpace, evolution, evolve, mutate_num, mutate_share


def _fitness(p: Partition) -> float:
    """A landscape with many ties and partitions that cannot be scored."""
    value = sum((k + 1) * n * (1 if owner == k else -2) for k, (owner, n) in enumerate(p)) % 11
    return float("-inf") if value == 3 else float(value)


def _plain_evolution(
    start: Partition,
    space: PartitionSpace,
    rng: random.Random,
    population: int,
    children: int,
    generations: int,
    p_num: float,
    p_share: float,
) -> tuple[list[list[Partition]], list[tuple[float, Partition]]]:
    """The rule stated plainly: the batches it asks for and its survivors."""
    rank: dict[Partition, tuple[float, Partition]] = {}
    asked: list[list[Partition]] = []

    def child(parent: Partition) -> Partition:
        c = parent
        if rng.random() < p_num:
            c = mutate_num(c, space, rng)
        if rng.random() < p_share:
            c = mutate_share(c, space, rng)
        if c == parent:
            c = mutate_num(c, space, rng)
        return c

    def ranked(batch: list[Partition]) -> list[tuple[float, Partition]]:
        distinct = list(dict.fromkeys(batch))  # by value, in the order the batch first has them
        new = [p for p in distinct if p not in rank]
        if new:
            asked.append(new)
            rank.update((p, (-_fitness(p), p)) for p in new)
        return sorted(rank[p] for p in distinct)

    pool = [start]
    while len(pool) < population:
        pool.append(child(rng.choice(pool)))
    for _ in range(generations):
        offspring = [child(rng.choice(pool)) for _ in range(children)]
        pool = [p for _, p in ranked(pool + offspring)[:population]]
    return asked, [(-f, p) for f, p in ranked(pool)]


@pytest.mark.parametrize("seed_value", range(8))
@pytest.mark.parametrize("sharing", [True, False])
def test_the_ea_asks_and_ends_as_the_plain_rule(seed_value: int, sharing: bool) -> None:
    # a small space: children often repeat a pool member or an earlier child
    space = PartitionSpace.of([2, 4, 1, 2], [4, 2, 3, 1], [16, 24, 9, 4], cap=12, sharing=sharing)
    start = ((0, 2), (1, 2), (2, 1), (3, 1))
    params = {"population": 5, "children": 6, "generations": 15, "p_num": 0.7, "p_share": 0.4}
    asked: list[list[Partition]] = []

    def fitness(ps: list[Partition]) -> list[float]:
        asked.append(list(ps))
        return [_fitness(p) for p in ps]

    survivors = evolve(evolution(start, space, random.Random(seed_value), **params), fitness)
    plain_asked, plain_survivors = _plain_evolution(
        start, space, random.Random(seed_value), **params
    )
    assert asked == plain_asked
    assert survivors == plain_survivors
    assert len({p for ps in asked for p in ps}) == sum(map(len, asked))  # each asked once


def test_a_pickled_space_forgets_what_it_kept_by_identity() -> None:
    """A space's kept counts are keyed by the ids of its own tuples; a loaded space has other
    tuples (other ids), so it starts without them and answers as the space it was made from."""
    import pickle

    space = PartitionSpace.of([2, 4, 1, 2], [4, 2, 3, 1], [16, 24, 9, 4], cap=12, sharing=True)

    def answers(s: PartitionSpace) -> list[object]:
        asked = [(options, n) for options in s.counts for n in options]
        return [s._other_counts(o, n) for o, n in asked] + [s._nearest(o, n) for o, n in asked]

    kept = answers(space)
    assert space.others and space.near
    loaded = pickle.loads(pickle.dumps(space))
    assert not loaded.others and not loaded.near and loaded == space
    assert answers(loaded) == kept
