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

from pimsim.arch.schema import Hardware
from pimsim.sim.core import Clock, Pool, SimEnv


class AdcBank:
    """The bank of macro ``macro``."""

    def __init__(self, env: SimEnv, macro: int, adcs: int, hw: Hardware, clock: Clock) -> None:
        self.macro = macro
        self.adcs = adcs
        self.pool = Pool(env, "ADC bank", max(adcs, 1))
        self.frequency_ghz = hw.parts.adc.frequency_ghz
        self.clock = clock

    def job(self, conversions: float) -> tuple[int, int]:
        """ADCs taken and cycles for ``conversions`` (rounded up to whole conversions)."""
        n = math.ceil(conversions - 1e-9)
        if n <= 0:
            return 1, 0
        k = min(self.adcs, n)
        return k, self.clock.cycles(math.ceil(n / k) / self.frequency_ghz)
