"""Simulated annealing as a function: pluggable energy and move, explicit RNG, an archive of the best.

``anneal(init, energy, move, rng, ...)`` runs ``chains`` Metropolis chains from ``init`` on a geometric
schedule ``T0 -> T0 * final_ratio`` (``T <- cooling * T``, ``iterations`` moves per temperature) and
returns the ``archive`` lowest-energy *distinct* states it ever visited, best first. Returning an
archive rather than the chains' last states is what makes the result a set of good candidates (the
released PIMSYN code returned the 10 end states).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Hashable
from typing import TypeVar

S = TypeVar("S", bound=Hashable)


def initial_temperature(seed_energy: float) -> float:
    """T0 = 10^floor(log10(E(seed))), as the released code does; 1 for a non-positive energy."""
    return 10.0 ** math.floor(math.log10(seed_energy)) if seed_energy > 0 else 1.0


def anneal(
    init: S,
    energy: Callable[[S], float],
    move: Callable[[S, random.Random], S],
    rng: random.Random,
    *,
    chains: int = 4,
    iterations: int = 40,
    cooling: float = 0.9,
    final_ratio: float = 1e-3,
    archive: int = 30,
    t0: float | None = None,
) -> list[tuple[float, S]]:
    """Minimise ``energy`` from ``init``; return up to ``archive`` (energy, state), best first.

    Args:
        init: the start of every chain.
        energy: what is minimised.
        move: a random neighbour of a state; must keep every invariant of the problem.
        rng: the only source of randomness.
        chains: independent chains.
        iterations: moves tried at each temperature.
        cooling: geometric cooling factor, in (0, 1).
        final_ratio: the schedule ends at t0 * final_ratio.
        archive: distinct best states kept.
        t0: start temperature; default :func:`initial_temperature` of ``energy(init)``.
    """
    if not 0 < cooling < 1:
        raise ValueError("cooling must be in (0, 1)")
    cache: dict[S, float] = {}  # every state visited, with its energy
    start = cache[init] = energy(init)
    temperature0 = initial_temperature(start) if t0 is None else t0
    uniform, exp = rng.random, math.exp
    for _ in range(chains):
        state, e = init, start
        temperature = temperature0
        while temperature > temperature0 * final_ratio:
            for _ in range(iterations):
                candidate = move(state, rng)
                ce = cache.get(candidate)
                if ce is None:
                    ce = cache[candidate] = energy(candidate)
                if ce <= e or uniform() < exp((e - ce) / temperature):
                    state, e = candidate, ce
            temperature *= cooling
    return _lowest(cache, archive)


def _lowest(energies: dict[S, float], count: int) -> list[tuple[float, S]]:
    """The ``count`` lowest-energy states, best first, ties in the order of their ``repr``. Only the
    states at or below the ``count``-th lowest energy are ranked by ``repr`` (there are 10,000 and
    more states, and ranking them all by ``repr`` cost more than the annealing's last moves)."""
    if count <= 0:
        return []
    threshold = heapq.nsmallest(count, energies.values())[-1]
    return ranked([(e, s) for s, e in energies.items() if e <= threshold], count)


def ranked(best: list[tuple[float, S]], count: int) -> list[tuple[float, S]]:
    """The first ``count`` of distinct (energy, state) pairs by energy, ties in the order of the
    states' ``repr`` (the archive's order, whatever order the states were met in)."""
    best.sort(key=lambda es: (es[0], repr(es[1])))
    return best[:count]
