"""Stage 1: how many copies of each layer's weights (duplication) fit the crossbar budget.

Crossbar budget ``n_xbar = power_w * rram_ratio / P_crossbar``. FC layers keep dup = 1 and their sets
are reserved first; every conv layer gets ``dup >= 1`` with ``sum(dup_i * set_i) <= n_xbar`` and
``dup_i <= Ho*Wo_i`` (more copies than output pixels would idle).

- the proportional seed (also the ``heuristic`` baseline): crossbars in proportion to
  ``Ho*Wo_i * set_i``, i.e. ``dup_i = ceil(N * share_i / set_i)``, trimmed until within budget;
- the neighbour move: raise one layer's dup to use spare budget, then lower random others until the
  use is back within budget; then fill any spare larger than the mean set size again;
- the energies of :class:`synth.settings.SAParams`: ``paper`` and ``max`` here, ``fitness`` (the
  true efficiency of a candidate) given by the caller, who can evaluate designs.

The candidates always include the proportional seed, so a search that anneals can only add designs
to the ones ``heuristic`` would try (the final pick is by the true fitness).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from synth.anneal import anneal
from synth.settings import SAParams

Dup = tuple[int, ...]


@dataclass(frozen=True)
class DupProblem:
    """The conv layers' facts the duplication search needs (FC layers are fixed at 1)."""

    pixels: tuple[int, ...]  # Ho*Wo per conv layer
    sets: tuple[int, ...]  # crossbars per copy
    movement: tuple[int, ...]  # K*K*Cin + Cout (the data-movement weight of a copy)
    budget: int  # crossbars available to conv layers

    @property
    def minimum(self) -> int:
        """Crossbars with every dup at 1."""
        return sum(self.sets)

    def used(self, dup: Dup) -> int:
        return sum(d * s for d, s in zip(dup, self.sets, strict=True))

    def feasible(self, dup: Dup) -> bool:
        return (
            all(1 <= d <= p for d, p in zip(dup, self.pixels, strict=True))
            and self.used(dup) <= self.budget
        )


def _cv(values: list[float]) -> float:
    """Coefficient of variation: population standard deviation / mean (dimensionless; 0 when all
    values are equal). statistics.pstdev is exact but far slower."""
    n = len(values)
    mean = sum(values) / n
    if mean <= 0:
        return 0.0
    return math.sqrt(max(sum(v * v for v in values) / n - mean * mean, 0.0)) / mean


def paper_energy(problem: DupProblem, alpha: float) -> Callable[[Dup], float]:
    """CV(Ho*Wo/dup) + alpha * CV(dup * (K*K*Cin + Cout)): PIMSYN's Eq. 2 made dimensionless.

    The paper's energy is stdev(blocks) + alpha * stdev(data movement); its two terms have different
    units (blocks, and words moved per block), so alpha's meaning depends on the network: the
    movement term outweighed the balance term ~500:1 on ResNet18, and the annealing traded pipeline
    balance for movement that the pricing hardly charges. Dividing each stdev by its mean makes both
    terms relative spreads of comparable size, so alpha is what the paper means: the weight of
    unequal data movement relative to an unbalanced pipeline (alpha 0.1 = a tenth as important).
    """

    def energy(dup: Dup) -> float:
        if len(dup) < 2:
            return 0.0  # one layer: always balanced
        blocks = [p / d for p, d in zip(problem.pixels, dup, strict=True)]
        moves = [d * m for d, m in zip(dup, problem.movement, strict=True)]
        return _cv(blocks) + alpha * _cv(moves)

    return energy


def max_energy(problem: DupProblem) -> Callable[[Dup], float]:
    """max ceil(Ho*Wo/dup): the bottleneck layer's block count."""

    def energy(dup: Dup) -> float:
        return float(max(math.ceil(p / d) for p, d in zip(problem.pixels, dup, strict=True)))

    return energy


def seed(problem: DupProblem) -> Dup:
    """The proportional seed, trimmed to the budget (the heuristic baseline)."""
    weights = [p * s for p, s in zip(problem.pixels, problem.sets, strict=True)]
    total = sum(weights) or 1
    dup = [
        max(1, min(p, math.ceil(problem.budget * w / total / s)))
        for p, s, w in zip(problem.pixels, problem.sets, weights, strict=True)
    ]
    while problem.used(tuple(dup)) > problem.budget:
        # trim the most over-served layer: the one with the fewest blocks among those with dup > 1
        i = min(
            (i for i, d in enumerate(dup) if d > 1), key=lambda i: (problem.pixels[i] / dup[i], i)
        )
        dup[i] -= 1
    return tuple(dup)


def move(problem: DupProblem, dup: Dup, rng: random.Random) -> Dup:
    """A budget-tight neighbour that keeps every invariant (1 <= dup <= Ho*Wo, within budget)."""
    new = list(dup)
    n = len(new)
    i = rng.randrange(n)
    spare = problem.budget - problem.used(dup)
    room = min(problem.pixels[i] - new[i], max(spare // problem.sets[i], 0) + max(1, new[i] // 4))
    if room > 0:
        new[i] += rng.randint(1, room)
    elif new[i] > 1:
        new[i] -= rng.randint(1, max(1, new[i] // 4))
    used = problem.used(tuple(new))
    others = [j for j in range(n) if j != i]
    while used > problem.budget:
        lowerable = [j for j in others if new[j] > 1] or ([i] if new[i] > 1 else [])
        if not lowerable:
            return dup
        j = rng.choice(lowerable)
        new[j] -= 1
        used -= problem.sets[j]
    mean_set = sum(problem.sets) / n
    while problem.budget - used >= mean_set:  # keep the use tight against the budget
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


def candidates(
    problem: DupProblem,
    mode: str,
    params: SAParams,
    rng: random.Random,
    fitness: Callable[[Dup], float] | None = None,
) -> list[Dup]:
    """Duplication candidates: the seed alone, all ones, or the seed then the SA archive (best
    first by the SA energy; the seed is not repeated).

    ``fitness`` (higher is better; ``-inf`` for a candidate that cannot be built) is what the
    ``fitness`` energy anneals: its energy is ``-fitness(dup) / fitness(seed)`` (-1 at the seed),
    and its start temperature ``params.fitness_t0`` is a relative loss of fitness. A network
    without conv layers (FC only) has nothing to duplicate: one empty vector.
    """
    if mode == "none" or not problem.pixels:
        return [tuple(1 for _ in problem.pixels)]
    start = seed(problem)
    if mode == "heuristic":
        return [start]
    t0 = None
    schedule = params.chains, params.iterations, params.cooling, params.final_ratio
    if params.energy == "paper":
        energy = paper_energy(problem, params.alpha)
    elif params.energy == "max":
        energy = max_energy(problem)
    else:
        if fitness is None:
            raise ValueError("the fitness energy needs a fitness function")
        reference = fitness(start)
        if not math.isfinite(reference) or reference <= 0:
            return [start]  # nothing to compare with: the seed itself cannot be built

        def energy(dup: Dup) -> float:
            return -fitness(dup) / reference

        t0 = params.fitness_t0
        schedule = params.fitness_schedule
    chains, iterations, cooling, final_ratio = schedule
    found = anneal(
        start,
        energy,
        lambda d, r: move(problem, d, r),
        rng,
        chains=chains,
        iterations=iterations,
        cooling=cooling,
        final_ratio=final_ratio,
        archive=params.archive,
        t0=t0,
    )
    return [start] + [dup for _, dup in found if dup != start]
