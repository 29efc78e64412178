"""What the end-of-run readers (:mod:`~pimsim.sim.collect`, :mod:`~pimsim.sim.waits`) see of a run's
machine: a typing protocol, so they need not import the engine that calls them (no import circle).
The engine's ``_Machine`` (:mod:`pimsim.sim.engine`) is the one implementation.
"""

from __future__ import annotations

from typing import Protocol

from pimsim.sim.buffer import Scratchpad
from pimsim.sim.core import Clock, SimEnv
from pimsim.sim.ir import Program
from pimsim.sim.noc import FlowRun, Mesh
from pimsim.sim.share import ShareRun


class Machine(Protocol):
    """The hardware and processes of one run, as built and run by the engine."""

    program: Program
    images: int
    env: SimEnv
    clock: Clock
    events: int  # SimPy events scheduled in the run
    shares: list[ShareRun]
    flows: list[FlowRun]
    spms: dict[int, Scratchpad]
    mesh: Mesh
    layer_finish: dict[str, list[int | None]]  # per layer, the cycle each image finished
    image_finish: list[int | None]  # the cycle each image finished (None: not finished)
