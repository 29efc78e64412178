"""A PE group: the crossbars of a layer share, with a DAC per row and a sample-and-hold per column.

One *mvm* applies one input bit-plane (``dac_bits`` wide) to every row of every active crossbar of
the group at once and samples every column. Its time per bit is the slowest of three rates, each a
part's figure from the component library (with its ``source``):

- the crossbar read, the crossbar part's ``latency_ns`` (the part of the design's crossbar size);
- the DACs: each row's DAC converts one input value per bit, one per ``1 / frequency_ghz`` ns (it
  converts the next bit's value while the crossbar reads this one, so only its rate counts);
- the sample-and-holds: a sample takes the part's ``latency_ns`` (no part: part of the read).

A sample-and-hold holds its value until its ADC has converted it: the group starts its next bit
only once the ADCs have taken the previous one (the stage's single buffer to the ``adc`` stage), so
a slow ADC holds the crossbars back (an ``adc`` stall of the mvm stage). The actions per mvm are
those :mod:`pimsim.sim.blockwork` derives: a read per active crossbar, a DAC conversion per active
row, a sample per active column. A group belongs to one share, so it never waits for another layer.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

from pimsim.model.design import bit_ns
from pimsim.sim.core import Cause, Pool
from pimsim.sim.ir import StageSpec, Task
from pimsim.sim.unit import BuildContext, UnitBase


class PeGroup(UnitBase):
    """The crossbars of one share in macro ``macro``."""

    kind: ClassVar[str] = "pe"
    cause: ClassVar[str] = Cause.PE
    stages: ClassVar[frozenset[str]] = frozenset({"mvm"})

    def __init__(self, ctx: BuildContext, macro: int, task: Task) -> None:
        super().__init__(
            f"macro {macro}/PE {task.layer}", macro, Pool(ctx.env, f"PE {task.layer}", 1)
        )
        self.crossbars = task.crossbars
        self.read_cycles = ctx.clock.cycles(bit_ns(ctx.hardware.parts))

    @classmethod
    def key(cls, macro: int, task: Task, spec: StageSpec) -> Hashable:
        return cls.kind, task.id

    @classmethod
    def build(cls, ctx: BuildContext, macro: int, task: Task, spec: StageSpec) -> PeGroup:
        return cls(ctx, macro, task)

    def timing(self, crossbars: float, per_server: tuple[float, ...] = ()) -> tuple[int, int]:
        """Servers and cycles of one mvm: one bit time, whatever the number of crossbars."""
        return 1, self.read_cycles if crossbars else 0
