"""The component library: parts as validated data (configs/components/*.json)."""

from pimsim.components.library import ComponentLibrary, load_library
from pimsim.components.parts import (
    BufferPart,
    ConverterPart,
    CrossbarPart,
    DigitalPart,
    FixedPart,
    InterfacePart,
    NocPart,
    Part,
    SampleHoldPart,
    UnitKind,
)

__all__ = [
    "BufferPart",
    "ComponentLibrary",
    "ConverterPart",
    "CrossbarPart",
    "DigitalPart",
    "FixedPart",
    "InterfacePart",
    "NocPart",
    "Part",
    "SampleHoldPart",
    "UnitKind",
    "load_library",
]
