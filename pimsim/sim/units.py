"""The digital units of a macro: shift-and-add, add, activation, sigmoid, pooling, element-wise.

A macro has ``count`` units of each kind it uses; each unit processes ``lanes`` elements per action
and performs ``frequency_ghz`` actions per ns. A job of ``e`` elements needs ``ceil(e / lanes)``
actions, spread over ``k = min(count, actions)`` units: ``ceil(actions / k)`` action times. Every
share of the macro (two layers when they share it) queues for the units of a kind; waiting is booked
as a ``units`` stall. Each element is one action of the kind's name (``shift_add``, ``add``, ...).
"""

from __future__ import annotations

import math

from pimsim.components.parts import DigitalPart
from pimsim.sim.core import Clock, Pool, SimEnv


class UnitPool:
    """The units of one kind in one macro."""

    def __init__(
        self, env: SimEnv, macro: int, kind: str, count: int, part: DigitalPart, clock: Clock
    ) -> None:
        self.macro = macro
        self.kind = kind
        self.count = count
        self.pool = Pool(env, f"{kind} units", max(count, 1))
        self.lanes = part.lanes
        self.frequency_ghz = part.frequency_ghz
        self.clock = clock

    def job(self, elements: float) -> tuple[int, int]:
        """Units taken and cycles for ``elements``."""
        actions = math.ceil(elements / self.lanes - 1e-9)
        if actions <= 0:
            return 1, 0
        k = min(self.count, actions)
        return k, self.clock.cycles(math.ceil(actions / k) / self.frequency_ghz)
