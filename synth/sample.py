"""Random candidates made the way the search makes them, for tests and benchmarks of the scoring.

Duplication vectors come from the annealing's neighbour move (:func:`synth.dup.move`) walking from
the proportional seed, so they stay budget-tight; partitions from a few of the EA's mutations
(:func:`synth.partition.mutate_num`, :func:`~synth.partition.mutate_share`) of the default one, so
multi-macro layers and pairs sharing macros occur. Only candidates whose stage 4 fits the budget
are kept.
"""

from __future__ import annotations

import random

import numpy as np

from synth.allocate import Infeasible, allocate_batch
from synth.context import ComboContext
from synth.design import Partition, default_partition
from synth.dup import move, seed
from synth.layout import assemble
from synth.partition import PartitionSpace, mutate_num, mutate_share


def random_candidates(
    ctx: ComboContext, power_w: float, count: int, rng: random.Random, tries: int
) -> tuple[list[np.ndarray], list[Partition]]:
    """Up to ``count`` candidates of ``ctx``'s combination that fit ``power_w`` (duplication
    vectors and partitions), from at most ``tries`` moves; deterministic for a given ``rng``."""
    problem = ctx.dup_problem()
    conv = seed(problem)
    dups: list[np.ndarray] = []
    parts: list[Partition] = []
    for _ in range(tries):
        if len(dups) == count:
            break
        conv = move(problem, conv, rng)
        dup = ctx.full_dup(conv)
        space = PartitionSpace.of_combo(ctx, dup, 128, True)
        p = default_partition(ctx, dup)
        for _ in range(rng.randrange(4)):
            p = mutate_share(mutate_num(p, space, rng), space, rng)
        (alloc,) = allocate_batch(ctx, [dup], [assemble(ctx, dup, p)], power_w, False)
        if isinstance(alloc, Infeasible):
            continue
        dups.append(dup)
        parts.append(p)
    return dups, parts
