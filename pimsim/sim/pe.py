"""A PE group: the crossbars of a layer share, with a DAC per row and a sample-and-hold per column.

One *mvm* applies one input bit-plane (``dac_bits`` wide) to every row of every crossbar of the
group at once and samples every column: the group is busy for one crossbar read (the crossbar part's
``latency_ns``), however many crossbars it has. Its actions per mvm are crossbar reads, DAC
conversions and samples (counted per output pixel by :func:`pimsim.model.actions.pixel_work`, times
the pixels of the block and the share's fraction). A group belongs to one share, so it never waits
for another layer; it waits for its input (the block's load) and for its sample-and-holds to be
emptied by the ADC bank.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

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
        self.read_cycles = ctx.clock.cycles(ctx.hardware.parts.crossbar.latency_ns)

    @classmethod
    def key(cls, macro: int, task: Task, spec: StageSpec) -> Hashable:
        return cls.kind, task.id

    @classmethod
    def build(cls, ctx: BuildContext, macro: int, task: Task, spec: StageSpec) -> PeGroup:
        return cls(ctx, macro, task)

    def timing(self, crossbars: float) -> tuple[int, int]:
        """Servers and cycles of one mvm: one read, whatever the number of crossbars."""
        return 1, self.read_cycles if crossbars else 0
