"""The designs ``--validate --top-k K`` simulates: K designs spread along the run's Pareto front."""

from __future__ import annotations

import math

import numpy as np

from pimsim.arch.schema import Architecture
from pimsim.components.library import load_library
from pimsim.network.graph import Network
from synth.explore import Exploration
from synth.front import matrix, near_copy, objective_value, spread
from synth.materialize import runnable
from synth.search import Found, area_budget


def spread_architectures(
    ex: Exploration, network: Network, k: int, network_source: str | None = None
) -> list[tuple[Found, Architecture]]:
    """Up to ``k`` runnable designs spread along the Pareto front, the winner first.

    Candidates are the winner and the front's designs, visited in :func:`synth.front.spread`'s
    order (each the farthest from those before it); a candidate is taken once runnable, unless its
    figures (on every objective of the front) are all within 1% of a design already taken, so no
    two of the designs returned are near-copies.
    """
    library = load_library(ex.settings.library)
    unified = ex.settings.macros == "unified"
    where = (ex.best_found.combo.index, ex.best_found.dup, ex.best_found.partition)
    pool = [ex.best_found] + [f for f in ex.front if (f.combo.index, f.dup, f.partition) != where]
    ranking = np.array(
        [math.inf] + [objective_value(f.metrics, ex.settings.objective) for f in pool[1:]]
    )
    taken: list[tuple[Found, Architecture]] = []
    for i in spread(matrix([f.metrics for f in pool]), ranking, min(len(pool), 4 * k + 4)):
        if len(taken) == k:
            break
        made = (
            (ex.best, ex.best_found)
            if i == 0
            else runnable(
                pool[i],
                network,
                library,
                ex.settings.power_w,
                unified,
                f"{network.name}-{ex.settings.power_w:g}w-{len(taken)}",
                network_source or network.name,
                pool[i].combo.label,
                area_budget(ex.settings),
            )
        )
        if made is None:
            continue
        arch, found = made
        figures = matrix([found.metrics])
        if taken and near_copy(figures[0], matrix([f.metrics for f, _ in taken])):
            continue
        taken.append((found, arch))
    return taken
