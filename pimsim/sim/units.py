"""The digital units of a macro: shift-and-add, add, activation, sigmoid, pooling, element-wise.

A macro has ``count`` units of each kind it uses; each unit processes ``lanes`` elements per action
and performs ``frequency_ghz`` actions per ns. A job of ``e`` elements needs ``ceil(e / lanes)``
actions, spread over ``k = min(count, actions)`` units: ``ceil(actions / k)`` action times. Every
share of the macro (two layers when they share it) queues for the units of a kind; waiting is booked
as a ``units`` stall. Each element is one action of the kind's name (``shift_add``, ``add``, ...).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import ClassVar

from pimsim.components.parts import UnitKind
from pimsim.errors import InputError
from pimsim.sim.core import Cause, Pool
from pimsim.sim.ir import StageSpec, Task
from pimsim.sim.unit import BuildContext, UnitBase, need


class UnitPool(UnitBase):
    """The units of one kind (a stage's name, e.g. ``shift_add``) in one macro."""

    kind: ClassVar[str] = "units"
    cause: ClassVar[str] = Cause.UNITS
    stages: ClassVar[frozenset[str]] = frozenset(str(k) for k in UnitKind)

    def __init__(self, ctx: BuildContext, macro: int, unit_kind: str) -> None:
        part = ctx.hardware.parts.unit(UnitKind(unit_kind))
        if part is None:
            raise InputError(
                ctx.arch,
                "hardware.parts.units",
                f"has no '{unit_kind}' unit but macro {macro} needs one",
            )
        self.unit_kind = unit_kind
        self.count = ctx.groups[macro].units.get(UnitKind(unit_kind), 0)
        pool = Pool(ctx.env, f"{unit_kind} units", max(self.count, 1))
        super().__init__(f"macro {macro}/{pool.name}", macro, pool)
        self.lanes = part.lanes
        self.frequency_ghz = part.frequency_ghz
        self.clock = ctx.clock

    @classmethod
    def key(cls, macro: int, task: Task, spec: StageSpec) -> Hashable:
        return cls.kind, macro, spec.name

    @classmethod
    def build(cls, ctx: BuildContext, macro: int, task: Task, spec: StageSpec) -> UnitPool:
        return cls(ctx, macro, spec.name)

    def admit(self, ctx: BuildContext, task: Task, spec: StageSpec) -> None:
        """Every share using the units needs at least one."""
        need(ctx, self.count, max(spec.work), task.macro, task.layer, f"'{spec.name}' unit")

    def timing(self, elements: float, per_server: tuple[float, ...] = ()) -> tuple[int, int]:
        """Units taken and cycles for ``elements``."""
        actions = math.ceil(elements / self.lanes - 1e-9)
        if actions <= 0:
            return 1, 0
        k = min(self.count, actions)
        return k, self.clock.cycles(math.ceil(actions / k) / self.frequency_ghz)
