"""The arch.json schema: one architecture, self-contained, optionally with a network mapped onto it.

An architecture embeds every part it uses (copied from a component library when it is made), so it
stays valid when a library file changes. It has two parts:

- ``hardware``: precision, crossbar/cell/DAC/ADC parameters, the parts, the macros, the NoC, clocks;
- ``mapping`` (optional; needed to estimate or run a network): the network, and per weight layer its
  duplication, its macros and how its crossbars split across them, and whom it shares macros with.

Macros are written in groups (``count`` identical macros); the instances are numbered in order, group
after group, from 0; the mapping refers to macro instances by that number. ``pimsim schema`` prints the
generated JSON Schema. Consistency with the network and between the parts is checked on loading
(:mod:`pimsim.arch.check`).
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
)

SCHEMA_VERSION = 1

#: The largest count of anything (macros, crossbars or ADCs per macro, units, duplication): about a
#: million, far beyond any chip; a larger number is a typo that would make the tools allocate without
#: end. The same bound applies to the total number of macro instances.
MAX_COUNT = 2**20

PosInt = Annotated[int, Field(gt=0, le=MAX_COUNT)]
NonNegInt = Annotated[int, Field(ge=0, le=MAX_COUNT)]
#: Bits of a value, a cell or a converter: 64 at most.
Bits = Annotated[int, Field(gt=0, le=64)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def lossless_adc_bits(xbar_size: int, dac_bits: int, cell_bits: int) -> int:
    """ADC resolution that loses no information (ISAAC's rule, as PIMSYN uses it).

    ``log2(xbar) + dac_bits + cell_bits - 1`` when both DAC and cell hold more than one bit, otherwise
    ``log2(xbar) + dac_bits + cell_bits - 2``.
    """
    base = int(math.log2(xbar_size)) + dac_bits + cell_bits
    return base - 1 if dac_bits > 1 and cell_bits > 1 else base - 2


class Parts(_Frozen):
    """The parts the design uses, embedded so the file is self-contained."""

    crossbar: CrossbarPart = Field(description="The crossbar array of every PE.")
    dac: ConverterPart = Field(description="The DAC on every crossbar row.")
    adc: ConverterPart = Field(description="The ADC of the macros' shared ADC banks.")
    sample_hold: SampleHoldPart | None = Field(
        None, description="Per-column sample-and-hold, if modelled apart from the crossbar."
    )
    units: list[DigitalPart] = Field(description="Digital units, one entry per kind used.")
    buffers: list[BufferPart] = Field(description="Buffer parts, one per size used by a macro.")
    noc: NocPart = Field(description="The network-on-chip part.")
    fixed: list[FixedPart] = Field([], description="Fixed-power parts used by macros or the chip.")
    interface: InterfacePart | None = Field(
        None,
        description="The off-chip interface, one per chip: input images stream in and outputs "
        "stream out through it (none: they appear and leave for free, as in the released model).",
    )

    def unit(self, kind: UnitKind) -> DigitalPart | None:
        """The unit part of a kind, if present."""
        return next((u for u in self.units if u.kind is kind), None)

    def buffer(self, size_kib: int) -> BufferPart | None:
        """The buffer part of a size, if present."""
        return next((b for b in self.buffers if b.size_kib == size_kib), None)

    def fixed_part(self, name: str) -> FixedPart | None:
        """A fixed part by name."""
        return next((f for f in self.fixed if f.name == name), None)


class MacroGroup(_Frozen):
    """``count`` identical macros: PEs (crossbars with their DACs), a shared ADC bank, digital units,
    a scratchpad buffer, and fixed parts."""

    name: str = Field(description="Group name (instances are named name[i]).")
    count: PosInt = Field(1, description="Number of identical macros.")
    crossbars: NonNegInt = Field(description="Crossbars (PEs) per macro; each has one DAC per row.")
    adcs: NonNegInt = Field(description="ADCs in the macro's shared bank.")
    units: dict[UnitKind, NonNegInt] = Field({}, description="Digital units per macro, by kind.")
    buffer_kib: Annotated[int, Field(gt=0, le=2**30)] = Field(
        description="Scratchpad size per macro, KiB (a buffer part)."
    )
    fixed: dict[str, PosInt] = Field({}, description="Fixed parts per macro, by part name.")


class Noc(_Frozen):
    """The mesh: routers on a grid, macros attached along a snake (boustrophedon) path."""

    macros_per_router: PosInt = Field(
        1, description="Concentration: macros sharing one router (ISAAC: 4)."
    )
    mesh_rows: PosInt | None = Field(None, description="Router rows; default ceil(sqrt(routers)).")
    mesh_cols: PosInt | None = Field(
        None, description="Router columns; default ceil(routers / rows)."
    )
    placement: Literal["snake"] = Field(
        "snake",
        description="Macro instance k attaches to router "
        "k // macros_per_router; routers are laid along a snake "
        "path, row by row, alternating direction.",
    )


class Hardware(_Frozen):
    """Everything physical about the chip."""

    weight_bits: Bits = Field(16, description="Weight precision, bits.")
    activation_bits: Bits = Field(16, description="Activation precision, bits.")
    xbar_size: Annotated[int, Field(gt=0, le=65536)] = Field(
        description="Crossbar rows (= columns)."
    )
    cell_bits: Bits = Field(description="Bits stored per ReRAM cell.")
    dac_bits: Bits = Field(description="DAC resolution, bits (input bits applied per read).")
    adc_bits: Bits = Field(description="ADC resolution, bits; must equal the lossless rule.")
    parts: Parts = Field(description="The parts used, embedded.")
    macros: list[MacroGroup] = Field(min_length=1, description="The macros, in groups.")
    noc: Noc = Field(Noc(), description="The network-on-chip.")
    chip_fixed: dict[str, PosInt] = Field({}, description="Fixed parts per chip, by part name.")
    chips: PosInt = Field(1, description="Identical chips (a design too big for one chip).")
    interfaces: PosInt | None = Field(
        None,
        description="Off-chip interfaces of each of the chips (default 1); more when several chips "
        "are modelled as one larger mesh, each with its own interface (the ISAAC baseline).",
    )
    adc_wiring: Literal["slots", "weights"] = Field(
        "slots",
        description="How each macro's ADC muxes are wired to its crossbar columns. 'slots': the "
        "columns of all the macro's crossbar slots (crossbars x xbar_size, slot by slot, used or "
        "not) are split into as many contiguous ranges as the macro has ADCs, one per ADC "
        "(ISAAC's IMA: 8 ADCs for 8 crossbars). 'weights': only the columns that hold weights are "
        "wired: the macro's crossbars in slot order, each with its active columns, split into as "
        "many contiguous ranges as the macro has ADCs, as evenly as whole columns allow (the "
        "synthesizer wires the muxes for the mapping it chose). The wiring is fixed: an ADC whose "
        "columns are idle in a block idles.",
    )
    clock_ghz: float = Field(
        1.0,
        ge=1e-3,
        le=1e3,
        description="Base clock of the simulator, GHz: "
        "time advances in integer cycles of 1/clock_ghz ns.",
    )

    @model_validator(mode="after")
    def _bounded(self) -> Hardware:
        if self.n_macros > MAX_COUNT:
            raise ValueError(
                f"the macro groups add up to {self.n_macros} macros; at most "
                f"{MAX_COUNT} are supported"
            )
        return self

    @property
    def n_macros(self) -> int:
        """Macro instances."""
        return sum(group.count for group in self.macros)

    def macro_groups(self) -> list[MacroGroup]:
        """The group of every macro instance, by instance number."""
        return [group for group in self.macros for _ in range(group.count)]


class LayerMapping(_Frozen):
    """Where one weight layer lives."""

    layer: str = Field(description="Layer name in the network.")
    dup: PosInt = Field(description="Weight duplication: copies of the layer's crossbar set.")
    macros: list[NonNegInt] = Field(min_length=1, description="Macro instances holding it.")
    crossbars: list[PosInt] = Field(
        min_length=1,
        description="Crossbars in each of those macros; they add up to dup x the crossbar set.",
    )
    shares_with: str | None = Field(
        None,
        description="An earlier layer whose macros this one "
        "shares (both use the same macros and their ADCs in turn).",
    )


class Mapping(_Frozen):
    """A network mapped onto the hardware."""

    network: str = Field(description="Zoo name, or a file path (relative to the arch.json).")
    fingerprint: str = Field(
        description="Network.fingerprint() of that network, to catch a mismatch."
    )
    layers: list[LayerMapping] = Field(description="Every conv and FC layer.")
    hosts: dict[str, NonNegInt | list[NonNegInt]] = Field(
        {},
        description="Macro instance(s) that run each non-weight layer; a list spreads the layer "
        "evenly over those macros; default: the first macro of its first producer.",
    )
    spread: list[str] | None = Field(
        None,
        description="Layers on several macros whose output is not gathered in their first "
        "macro: each macro keeps its part and sends it to every consumer itself (for outputs too "
        "large for one scratchpad).",
    )

    def host(
        self, layer: str, producers: tuple[str, ...], first_macro: dict[str, int]
    ) -> list[int]:
        """The macros of a non-weight layer: as given, else its first placed producer's first macro
        (``first_macro`` maps layers placed so far to theirs), else macro 0."""
        given = self.hosts.get(layer)
        if given is not None:
            return list(given) if isinstance(given, list) else [given]
        return [next((first_macro[p] for p in producers if p in first_macro), 0)]


class Architecture(_Frozen):
    """One accelerator (arch.json)."""

    schema_version: Literal[1] = Field(description="Version of the arch.json schema.")
    name: str = Field(description="Design name.")
    description: str = Field("", description="Free text.")
    hardware: Hardware = Field(description="The chip.")
    mapping: Mapping | None = Field(None, description="A network mapped onto the chip.")

    def to_json(self) -> str:
        """The arch.json text (unset optional fields left out)."""
        return json.dumps(self.model_dump(mode="json", exclude_none=True), indent=1) + "\n"
