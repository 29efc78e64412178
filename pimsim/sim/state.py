"""The state of a finished (or stopped) run: what result collection and deadlock reports read.

:class:`RunState` is a frozen value the engine hands out once the run has ended; its parts (the
shares with their stages, the flows, the units) are the run's own objects, no longer changing.
Nothing outside the engine needs the engine's internals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pimsim.sim.core import Clock
from pimsim.sim.ir import Program

if TYPE_CHECKING:
    from pimsim.sim.buffer import Scratchpad
    from pimsim.sim.noc import FlowRun
    from pimsim.sim.share import ShareRun
    from pimsim.sim.unit import Unit


@dataclass(frozen=True)
class RunState:
    """One run after it ended.

    ``now``: the cycle it ended at; ``events``: SimPy events scheduled; ``units``: every unit built,
    stage-serving and channels (NoC links, router ports, the off-chip interface), in the registry's
    listing order (:data:`pimsim.sim.registry.LISTING_RANK`), each kind's in build order;
    ``layer_finish`` / ``image_finish``: the
    cycle each image finished at each layer / at the network's outputs (``None``: unfinished).
    """

    program: Program
    images: int
    clock: Clock
    now: int
    events: int
    shares: tuple[ShareRun, ...]
    flows: tuple[FlowRun, ...]
    units: tuple[Unit, ...]
    scratchpads: Mapping[int, Scratchpad]
    layer_finish: Mapping[str, tuple[int | None, ...]]
    image_finish: tuple[int | None, ...]
