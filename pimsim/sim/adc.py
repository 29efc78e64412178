"""The ADC bank of a macro: ``adcs`` converters shared by every PE of every layer in the macro.

Picture a row of cashiers: every bit iteration of a PE group brings its sampled columns (every
active column of every crossbar of the group) and they are converted by as many ADCs as are free and
useful, ``min(adcs, columns)``, each converting ``ceil(columns / k)`` of them at the part's
``frequency_ghz``. PE groups of one layer, or of two layers sharing the macro, queue for the bank in
arrival order; the time a bit iteration waits is booked as an ``adc`` stall. One conversion is one
``adc_convert`` action.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import ClassVar

from pimsim.sim.core import Cause, Pool
from pimsim.sim.ir import StageSpec, Task
from pimsim.sim.unit import BuildContext, UnitBase, need


class AdcBank(UnitBase):
    """The bank of macro ``macro``."""

    kind: ClassVar[str] = "adc"
    cause: ClassVar[str] = Cause.ADC
    stages: ClassVar[frozenset[str]] = frozenset({"adc"})

    def __init__(self, ctx: BuildContext, macro: int) -> None:
        self.adcs = ctx.groups[macro].adcs
        super().__init__(
            f"macro {macro}/ADC bank", macro, Pool(ctx.env, "ADC bank", max(self.adcs, 1))
        )
        self.frequency_ghz = ctx.hardware.parts.adc.frequency_ghz
        self.clock = ctx.clock

    @classmethod
    def key(cls, macro: int, task: Task, spec: StageSpec) -> Hashable:
        return cls.kind, macro

    @classmethod
    def build(cls, ctx: BuildContext, macro: int, task: Task, spec: StageSpec) -> AdcBank:
        return cls(ctx, macro)

    def admit(self, ctx: BuildContext, task: Task, spec: StageSpec) -> None:
        """Every share using the bank needs at least one ADC."""
        need(ctx, self.adcs, max(spec.work), task.macro, task.layer, "ADC")

    def timing(self, conversions: float) -> tuple[int, int]:
        """ADCs taken and cycles for ``conversions`` (rounded up to whole conversions)."""
        n = math.ceil(conversions - 1e-9)
        if n <= 0:
            return 1, 0
        k = min(self.adcs, n)
        return k, self.clock.cycles(math.ceil(n / k) / self.frequency_ghz)
