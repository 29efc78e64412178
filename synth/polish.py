"""The last stage: a longer partition search for the best few designs of the whole run.

Each work unit evolves its candidates' macro partitions with a short EA (``Settings.ea``), whose
result on one duplication vector varies by a few percent with its random seed, and long runs of a
small population do better than short runs of a large one (AlexNet at 49 W, ratio 0.30, 256x256
crossbars, 2-bit cells, 1-bit DAC, polishing the 4 best designs: 16 + 16 x 40 generations end at
0.9711 TOPS/W, 8 + 8 x 150 at 0.9956 for 2,338 designs, 28 + 12 x 200 at 0.9956 for 5,884). Once every unit is done, the ``polish`` best distinct
(combination, duplication) designs get ``Settings.polish_ea`` generations from their best
partition: a few thousand evaluations where they count, instead of more for every candidate.
Deterministic: each design's RNG is seeded from the run's seed and the design.
"""

from __future__ import annotations

import random
from concurrent.futures import Executor

import numpy as np

from pimsim.components.library import ComponentLibrary
from pimsim.network.graph import Network
from synth.context import ComboContext
from synth.design import Partition
from synth.search import Found, designs_of, evolve_design
from synth.settings import Settings


def picked(found: list[Found], settings: Settings) -> list[Found]:
    """The designs the polish starts from: the best ``settings.polish`` distinct (combination,
    duplication) designs of ``found`` (taken best first by ``Found.key``); none in ``unified``
    mode, whose macro partition is not evolved (one macro size is searched instead)."""
    if settings.macros == "unified":
        return []
    out: list[Found] = []
    seen: set[tuple[int, tuple[int, ...]]] = set()
    for f in sorted(found, key=lambda f: f.key):
        if len(out) == settings.polish:
            break
        if (f.combo.index, f.dup) not in seen:
            seen.add((f.combo.index, f.dup))
            out.append(f)
    return out


def polish_one(
    start: Found, network: Network, library: ComponentLibrary, settings: Settings
) -> tuple[list[Found], int]:
    """The designs the longer EA found from ``start``, and how many designs it scored. Pure and
    picklable (its RNG is seeded from the run's seed and the design), so designs are polished on
    any executor with the same result."""
    evaluations = 0

    def evaluate(
        ctx: ComboContext, dups: list[np.ndarray], partitions: list[Partition]
    ) -> list[Found | None]:
        nonlocal evaluations
        evaluations += len(partitions)
        return designs_of(ctx, dups, partitions, settings)

    ctx = ComboContext.build(start.combo, network, library, settings.power_w)
    rng = random.Random(f"{settings.seed}/polish/{start.combo.index}/{start.dup}")
    out = evolve_design(ctx, start, settings, settings.polish_ea, rng, evaluate)
    return out, evaluations


def polish(
    found: list[Found],
    network: Network,
    library: ComponentLibrary,
    settings: Settings,
    executor: Executor | None = None,
) -> tuple[list[Found], int]:
    """The designs the longer EA found from the :func:`picked` designs of ``found``, and how many
    designs it scored; the designs are polished on ``executor`` side by side when one is given
    (the polish is the serial tail of a run otherwise), in this process when not."""
    starts = picked(found, settings)
    if executor is None:
        done = [polish_one(f, network, library, settings) for f in starts]
    else:
        futures = [executor.submit(polish_one, f, network, library, settings) for f in starts]
        done = [future.result() for future in futures]
    return [f for designs, _ in done for f in designs], sum(n for _, n in done)
