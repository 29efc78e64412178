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

from pimsim.arch.schema import Hardware
from pimsim.sim.core import Clock, Pool, SimEnv


class PeGroup:
    """The crossbars of one share in macro ``macro``."""

    def __init__(
        self, env: SimEnv, macro: int, layer: str, crossbars: int, hw: Hardware, clock: Clock
    ) -> None:
        self.macro = macro
        self.crossbars = crossbars
        self.pool = Pool(env, f"PE {layer}", 1)
        self.read_cycles = clock.cycles(hw.parts.crossbar.latency_ns)

    def job(self, crossbars: float) -> tuple[int, int]:
        """Servers and cycles of one mvm: one read, whatever the number of crossbars."""
        return 1, self.read_cycles if crossbars else 0
