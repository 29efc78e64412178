"""The ADC bank of a macro: ``adcs`` converters, each wired through a mux to fixed crossbars.

Every bit iteration of a PE group brings its sampled columns; each ADC converts those of the columns
it is wired to (the mux rule of :mod:`pimsim.sim.blockwork`: a contiguous range of the macro's
columns each; ISAAC's 8 ADCs for 8 crossbars, one crossbar each) at the part's ``frequency_ghz``, so a bit takes as long as its busiest ADC:
``ceil(max_j conversions_j) / frequency_ghz``, and an ADC wired to more columns than the others
sets the pace while they idle. The job holds as many of the bank's ADCs as it uses. PE groups of
one layer, or of two layers sharing the macro, queue for the bank in arrival order (the wait is an
``adc`` stall); two shares on disjoint ADCs convert at once. One conversion is one ``adc_convert``
action; each ADC's conversions are counted (``server_work``), so an idle or overloaded ADC shows
in the result.
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
        self.server_rate = self.frequency_ghz  # conversions per ns of one ADC
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

    def timing(self, conversions: float, per_server: tuple[float, ...] = ()) -> tuple[int, int]:
        """ADCs taken and cycles for ``conversions``: on the wired ADCs (``per_server``: each
        one's conversions, rounded up to whole ones), else spread evenly over ``min(adcs, n)``."""
        n = math.ceil(conversions - 1e-9)
        if n <= 0:
            return 1, 0
        if per_server:
            used = [math.ceil(c - 1e-9) for c in per_server if c > 1e-9]
            return max(len(used), 1), self.clock.cycles(max(used) / self.frequency_ghz)
        k = min(self.adcs, n)
        return k, self.clock.cycles(math.ceil(n / k) / self.frequency_ghz)
