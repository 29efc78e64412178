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
from functools import reduce
from itertools import compress
from operator import add, gt, mul, truediv

from synth.anneal import anneal
from synth.anneal_jit import MAX, PAPER, anneal_dup, exact
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


def paper_energy(problem: DupProblem, alpha: float) -> Callable[[Dup], float]:
    """CV(Ho*Wo/dup) + alpha * CV(dup * (K*K*Cin + Cout)): PIMSYN's Eq. 2 made dimensionless.

    The paper's energy is stdev(blocks) + alpha * stdev(data movement); its two terms have different
    units (blocks, and words moved per block), so alpha's meaning depends on the network: the
    movement term outweighed the balance term ~500:1 on ResNet18, and the annealing traded pipeline
    balance for movement that the pricing hardly charges. Dividing each stdev by its mean makes both
    terms relative spreads of comparable size, so alpha is what the paper means: the weight of
    unequal data movement relative to an unbalanced pipeline (alpha 0.1 = a tenth as important).

    The float sums run left to right (``functools.reduce``: the builtin ``sum`` adds floats with
    compensation from Python 3.12 on), the movement sums are exact integers. The search anneals
    this energy in :mod:`synth.anneal_jit`'s compiled loop, which does the same operations in the
    same order; this form is the rule it is tested against (and the fallback, see
    :func:`candidates`).
    """
    pixels, movement, n = problem.pixels, problem.movement, len(problem.pixels)
    sqrt = math.sqrt

    def energy(dup: Dup) -> float:
        if n < 2:
            return 0.0  # one layer: always balanced
        # the coefficients of variation (population stdev / mean; 0 when all values are equal)
        # from the sums and sums of squares: statistics.pstdev is exact but far slower
        blocks = list(map(truediv, pixels, dup))
        mean = reduce(add, blocks) / n
        if mean > 0:
            var = reduce(add, map(mul, blocks, blocks)) / n - mean * mean
            balance = (sqrt(var) if var >= 0.0 else 0.0) / mean
        else:
            balance = 0.0
        moves = list(map(mul, dup, movement))
        mean = sum(moves) / n
        if mean > 0:
            var = sum(map(mul, moves, moves)) / n - mean * mean
            spread = (sqrt(var) if var >= 0.0 else 0.0) / mean
        else:
            spread = 0.0
        return balance + alpha * spread

    return energy


def max_energy(problem: DupProblem) -> Callable[[Dup], float]:
    """max ceil(Ho*Wo/dup): the bottleneck layer's block count."""
    pixels = problem.pixels

    def energy(dup: Dup) -> float:
        return float(max(-(-p // d) for p, d in zip(pixels, dup, strict=True)))

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


class Neighbours:
    """The neighbour move of ``problem``'s annealing, with the problem's constants taken once.

    A budget-tight neighbour that keeps every invariant (1 <= dup <= Ho*Wo, within budget): raise
    (or, at its bound, lower) one random layer ``i``; while over budget, lower one random other
    layer with dup > 1 by one (layer ``i`` itself once no other can go lower); while the spare is
    at least the mean set size, raise one random layer that fits by one.

    The move runs about 10,000 times per work unit, so the lists it draws from are kept up to date
    instead of rebuilt (each still holds exactly the layers, in layer order, the rule allows) and
    its random integers are drawn from the generator's bits directly (:func:`_below`, as
    ``randrange``, ``randint`` and ``choice`` draw them): every draw from the one
    ``random.Random`` is the same as in the plain form of the rule (tests/test_search_speed.py).
    """

    def __init__(self, problem: DupProblem) -> None:
        self.budget = problem.budget
        self.sets = problem.sets
        self.pixels = problem.pixels
        self.n = len(problem.sets)
        self.mean_set = sum(problem.sets) / self.n if problem.sets else 0.0
        self.n_bits = self.n.bit_length()
        self.layers, self.ones = range(self.n), (1,) * self.n

    def __call__(self, dup: Dup, rng: random.Random) -> Dup:
        budget, sets, pixels, n = self.budget, self.sets, self.pixels, self.n
        bits = rng.getrandbits
        new = list(dup)
        k = self.n_bits  # _below(bits, n), inlined here and below (the same draws)
        i = bits(k)
        while i >= n:
            i = bits(k)
        used = sum(map(mul, dup, sets))
        ni, si = new[i], sets[i]
        quarter = ni // 4 if ni >= 8 else 1  # max(1, ni // 4)
        spare = (budget - used) // si
        room = (spare if spare > 0 else 0) + quarter
        if pixels[i] - ni < room:
            room = pixels[i] - ni
        if room > 0:
            k = room.bit_length()
            r = bits(k)
            while r >= room:
                r = bits(k)
            step = 1 + r
        elif ni > 1:
            k = quarter.bit_length()
            r = bits(k)
            while r >= quarter:
                r = bits(k)
            step = -1 - r
        else:
            step = 0
        new[i] = ni + step
        used += step * si
        if used > budget:
            lowerable = list(compress(self.layers, map(gt, new, self.ones)))  # dup > 1, in order
            if new[i] > 1:
                lowerable.remove(i)  # every layer but i
            m = len(lowerable)
            k = m.bit_length()
            while used > budget:
                if m:
                    r = bits(k)
                    while r >= m:
                        r = bits(k)
                    j = lowerable[r]
                    if new[j] == 2:
                        del lowerable[r]
                        m -= 1
                        k = m.bit_length()
                elif new[i] > 1:
                    j = i
                    _below(bits, 1)  # the draw of a choice from the rule's one-element list
                else:
                    return dup
                new[j] -= 1
                used -= sets[j]
        spare = budget - used
        if spare >= self.mean_set:  # keep the use tight against the budget
            fits = [j for j in range(n) if sets[j] <= spare and new[j] < pixels[j]]
            while spare >= self.mean_set and fits:
                j = fits[_below(bits, len(fits))]
                new[j] += 1
                spare -= sets[j]
                fits = [k for k in fits if sets[k] <= spare and new[k] < pixels[k]]
        return tuple(new)


def _below(bits: Callable[[int], int], n: int) -> int:
    """A uniform integer in [0, n) from ``bits`` (a ``random.Random``'s ``getrandbits``), drawn as
    that generator's ``randrange(n)`` and ``choice`` draw it: n's bit length of random bits, again
    until below n. The same numbers from the same stream, without three Python calls a draw."""
    k = n.bit_length()
    r = bits(k)
    while r >= n:
        r = bits(k)
    return r


def move(problem: DupProblem, dup: Dup, rng: random.Random) -> Dup:
    """A budget-tight neighbour of ``dup`` (see :class:`Neighbours`; build one to make many)."""
    return Neighbours(problem)(dup, rng)


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
    kind = {"paper": PAPER, "max": MAX}.get(params.energy)
    if kind is not None and exact(
        problem.pixels, problem.sets, problem.movement, problem.budget, kind
    ):
        # the annealing below with these energies, as one compiled loop (synth.anneal_jit)
        found = anneal_dup(
            start,
            problem.pixels,
            problem.sets,
            problem.movement,
            problem.budget,
            kind,
            params.alpha,
            rng,
            chains=params.chains,
            iterations=params.iterations,
            cooling=params.cooling,
            final_ratio=params.final_ratio,
            archive=params.archive,
        )
        return [start] + [dup for _, dup in found if dup != start]
    t0 = None
    schedule = params.chains, params.iterations, params.cooling, params.final_ratio
    if params.energy == "paper":  # (numbers too large for the compiled loop)
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
        Neighbours(problem),
        rng,
        chains=chains,
        iterations=iterations,
        cooling=cooling,
        final_ratio=final_ratio,
        archive=params.archive,
        t0=t0,
    )
    return [start] + [dup for _, dup in found if dup != start]
