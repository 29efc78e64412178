"""A component library: every part a design may use, loaded from JSON under ``configs/components/``.

``pimsyn-released.json`` holds the released PIMSYN-NN ``config.json`` as it is (typo fixed): its
model prices the NoC as one flat 0.104 W and has no areas, no router power and no interface.
``pimsyn.json`` (the default) completes it: routers, links, an off-chip interface and the area of
every part, each with its source (docs/cost-model.md gives every rule). ``isaac.json`` holds ISAAC's
published components. A user can write their own file in the same schema
(``pimsim schema --library`` prints it) and point any command at it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field

from pimsim.components.parts import (
    BufferPart,
    ConverterPart,
    CrossbarPart,
    DigitalPart,
    FixedPart,
    InterfacePart,
    NocPart,
    SampleHoldPart,
    UnitKind,
    _Frozen,
)
from pimsim.errors import InputError
from pimsim.jsonio import read_json, validate

CONFIGS = Path(__file__).resolve().parent.parent.parent / "configs"
LIBRARIES = CONFIGS / "components"


class ComponentLibrary(_Frozen):
    """Every part available to designs, by kind."""

    schema_version: Literal[1] = Field(description="Version of this schema.")
    name: str = Field(description="Library name.")
    description: str = Field("", description="What the library is.")
    crossbars: list[CrossbarPart] = Field(
        min_length=1, description="Crossbar arrays, one per size."
    )
    adcs: list[ConverterPart] = Field(min_length=1, description="ADCs, one per resolution.")
    dacs: list[ConverterPart] = Field(min_length=1, description="DACs, one per resolution.")
    sample_holds: list[SampleHoldPart] = Field(
        [], description="Sample-and-hold circuits, if modelled separately from the crossbar."
    )
    units: list[DigitalPart] = Field(
        min_length=1, description="Digital vector units, one per kind."
    )
    buffers: list[BufferPart] = Field(min_length=1, description="Scratchpad buffers, one per size.")
    nocs: list[NocPart] = Field(min_length=1, description="Network-on-chip options.")
    fixed: list[FixedPart] = Field(
        [], description="Parts with fixed power: registers, buses, links."
    )
    interfaces: list[InterfacePart] = Field(
        [], description="Off-chip interfaces (DRAM or host links); a design uses the first."
    )

    def crossbar(self, size_rows: int) -> CrossbarPart | None:
        """The crossbar of a size, if the library has it."""
        return next((p for p in self.crossbars if p.size_rows == size_rows), None)

    def adc(self, bits: int) -> ConverterPart | None:
        """The ADC of a resolution, if the library has it."""
        return next((p for p in self.adcs if p.resolution_bits == bits), None)

    def dac(self, bits: int) -> ConverterPart | None:
        """The DAC of a resolution, if the library has it."""
        return next((p for p in self.dacs if p.resolution_bits == bits), None)

    def unit(self, kind: UnitKind) -> DigitalPart | None:
        """The digital unit of a kind, if the library has it."""
        return next((p for p in self.units if p.kind is kind), None)

    def buffer(self, size_kib: int) -> BufferPart | None:
        """The buffer of a size, if the library has it."""
        return next((p for p in self.buffers if p.size_kib == size_kib), None)

    def fixed_part(self, name: str) -> FixedPart | None:
        """A fixed part by name."""
        return next((p for p in self.fixed if p.name == name), None)


def load_library(spec: str | os.PathLike[str]) -> ComponentLibrary:
    """Load a library by name (``pimsyn``, ``isaac``) or path; every problem is reported with its path.

    Raises:
        InputError: the file is missing or malformed, or a value is missing, mistyped or negative.
    """
    text = os.fspath(spec)
    builtin = LIBRARIES / f"{text}.json"
    file = str(builtin) if not os.path.exists(text) and builtin.exists() else text
    if not os.path.exists(file):
        names = ", ".join(sorted(p.stem for p in LIBRARIES.glob("*.json")))
        raise InputError(
            text,
            "",
            "is neither a built-in component library nor a file",
            f"built-in libraries: {names}",
        )
    library = validate(ComponentLibrary, read_json(file), file, "component library")
    for kind in ("crossbars", "adcs", "dacs", "units", "buffers", "nocs", "interfaces"):
        parts = getattr(library, kind)
        keys = [_key(part) for part in parts]
        for i, key in enumerate(keys):
            if keys.index(key) != i:
                raise InputError(
                    file, f"{kind}[{i}]", f"repeats {key} of {kind}[{keys.index(key)}]"
                )
    return library


def _key(part: object) -> str:
    for field in ("size_rows", "resolution_bits", "kind", "size_kib"):
        if hasattr(part, field):
            return f"{field}={getattr(part, field)}"
    return f"name={part.name}"
