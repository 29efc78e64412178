"""The unit kinds the simulator knows: which kind serves each stage of a share, and which class
builds each kind of channel the flows use.

A new unit kind is a module with a class following :class:`~pimsim.sim.unit.UnitKindSpec` plus one
entry in :data:`UNIT_CLASSES`; a new channel kind one following
:class:`~pimsim.sim.unit.ChannelKindSpec` plus one entry in :data:`CHANNEL_CLASSES`. The engine
looks kinds up here and builds none by hand. The registry is an immutable table built once at
import (no run state).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pimsim.sim.adc import AdcBank
from pimsim.sim.interface import Interface
from pimsim.sim.noc import NocLink, RouterPort
from pimsim.sim.pe import PeGroup
from pimsim.sim.port import SpmPort
from pimsim.sim.unit import ChannelKindSpec, UnitKindSpec
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


#: Every channel class (flow-serving units), in the order their units are listed in a result
#: (after the stage-serving units).
CHANNEL_CLASSES: tuple[type[ChannelKindSpec], ...] = (NocLink, RouterPort, Interface)

#: The channel class of each channel kind (``UnitSim.kind``).
CHANNEL_KINDS: Mapping[str, type[ChannelKindSpec]] = MappingProxyType(
    {kind: c for c in CHANNEL_CLASSES for kind in c.kinds}
)

#: Where the units of each kind are listed in a result: stage-serving units first, in build order,
#: then each channel class's units, in build order.
LISTING_RANK: Mapping[str, int] = MappingProxyType(
    {c.kind: 0 for c in UNIT_CLASSES}
    | {kind: 1 + i for i, c in enumerate(CHANNEL_CLASSES) for kind in c.kinds}
)


def channel_class(kind: str) -> type[ChannelKindSpec]:
    """The class that builds channels of kind ``kind`` (a KeyError names an unregistered kind)."""
    return CHANNEL_KINDS[kind]
