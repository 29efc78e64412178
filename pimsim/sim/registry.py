"""The unit kinds the simulator knows, and which kind serves each stage of a share.

A new unit kind is a module with a class following :class:`~pimsim.sim.unit.UnitKindSpec` plus one
entry in :data:`UNIT_CLASSES`; the engine looks kinds up here and names none. The registry is an
immutable table built once at import (no run state).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pimsim.sim.adc import AdcBank
from pimsim.sim.pe import PeGroup
from pimsim.sim.port import SpmPort
from pimsim.sim.unit import UnitKindSpec
from pimsim.sim.units import UnitPool

#: Every unit class, in the order their units are listed in a result.
UNIT_CLASSES: tuple[type[UnitKindSpec], ...] = (SpmPort, PeGroup, AdcBank, UnitPool)

#: The unit class of each kind (``UnitSim.kind``).
UNIT_KINDS: Mapping[str, type[UnitKindSpec]] = MappingProxyType({c.kind: c for c in UNIT_CLASSES})


#: The unit class serving each stage name of a share (a kind claims its stages; two kinds must not
#: claim one stage: tests/test_sim_units.py checks it).
STAGE_UNITS: Mapping[str, type[UnitKindSpec]] = MappingProxyType(
    {stage: cls for cls in UNIT_CLASSES for stage in cls.stages}
)


def unit_class(stage: str) -> type[UnitKindSpec]:
    """The unit class that serves stage ``stage`` (a KeyError names an unregistered stage)."""
    return STAGE_UNITS[stage]
