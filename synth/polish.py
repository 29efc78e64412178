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

import numpy as np

from pimsim.components.library import ComponentLibrary
from pimsim.network.graph import Network
from synth.context import ComboContext
from synth.design import Partition
from synth.search import Found, designs_of, evolve_design
from synth.settings import Settings


def polish(
    found: list[Found], network: Network, library: ComponentLibrary, settings: Settings
) -> tuple[list[Found], int]:
    """The designs the longer EA found from the best ``settings.polish`` distinct (combination,
    duplication) designs of ``found`` (taken best first by ``Found.key``), and how many designs it
    scored. Nothing in ``unified`` mode, whose macro partition is not evolved (one macro size is
    searched instead)."""
    picked: list[Found] = []
    if settings.macros == "unified":
        return [], 0
    seen: set[tuple[int, tuple[int, ...]]] = set()
    for f in sorted(found, key=lambda f: f.key):
        if len(picked) == settings.polish:
            break
        if (f.combo.index, f.dup) not in seen:
            seen.add((f.combo.index, f.dup))
            picked.append(f)
    contexts: dict[int, ComboContext] = {}
    evaluations = 0

    def evaluate(
        ctx: ComboContext, dups: list[np.ndarray], partitions: list[Partition]
    ) -> list[Found | None]:
        nonlocal evaluations
        evaluations += len(partitions)
        return designs_of(ctx, dups, partitions, settings)

    out: list[Found] = []
    for f in picked:
        if f.combo.index not in contexts:
            contexts[f.combo.index] = ComboContext.build(
                f.combo, network, library, settings.power_w
            )
        rng = random.Random(f"{settings.seed}/polish/{f.combo.index}/{f.dup}")
        out += evolve_design(
            contexts[f.combo.index], f, settings, settings.polish_ea, rng, evaluate
        )
    return out, evaluations
