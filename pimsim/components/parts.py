"""The kinds of hardware part, as validated data: what a part is, what one action of it costs.

Every part has a name, static power (drawn whenever the chip is on), dynamic power (drawn while it
acts), peak power, the duration of one action, an optional area, and the ``source`` its numbers come
from. Units live in the key names. The energy of one action is ``dynamic_power_w * latency_ns`` (the
released PIMSYN cost model's rule), except for buffers, whose access energies are given directly, and
fixed parts, which only draw static power, the NoC (energy per flit-hop) and the off-chip interface
(energy per bit).

A part kind is one class here plus entries in a library file under ``configs/components/``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

#: Every figure (W, ns, nJ, pJ, mm^2) is finite and below a billion; a time is at least 1e-6 ns (a
#: femtosecond) and a rate at most 1000 GHz. Figures beyond are typos, and would overflow the sums.
NonNeg = Annotated[float, Field(ge=0, le=1e9)]
Positive = Annotated[float, Field(ge=1e-6, le=1e9)]
Rate = Annotated[float, Field(ge=1e-6, le=1e3)]
#: Sizes and widths (rows, bits, lanes): positive and at most about a million.
Size = Annotated[int, Field(gt=0, le=2**20)]


class _Frozen(BaseModel):
    """Frozen, no unknown keys, and no infinite or NaN numbers (a part's figures are finite)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Part(_Frozen):
    """What every part has."""

    name: str = Field(description="Part name, unique within its kind in a library.")
    static_power_w: NonNeg = Field(description="Power drawn whenever the chip is on (leakage), W.")
    dynamic_power_w: NonNeg = Field(0.0, description="Extra power drawn while the part acts, W.")
    peak_power_w: NonNeg = Field(
        description="Power at full activity, W (counts toward the budget)."
    )
    latency_ns: Positive = Field(
        description="Duration of one action, ns; one action costs "
        "dynamic_power_w * latency_ns of energy."
    )
    area_mm2: NonNeg | None = Field(None, description="Area, mm^2, where the source gives it.")
    source: str = Field(min_length=1, description="Where the numbers come from.")

    @property
    def action_energy_pj(self) -> float:
        """Energy of one action, pJ (W x ns = nJ; x1000 = pJ)."""
        return self.dynamic_power_w * self.latency_ns * 1e3


class CrossbarPart(Part):
    """A ReRAM crossbar: ``size_rows`` x ``size_rows`` cells. One action = one analog read of one input
    bit-plane on all rows; ``latency_ns`` is the read time."""

    size_rows: Annotated[int, Field(gt=0, le=65536)] = Field(
        description="Rows (= columns) of the array."
    )
    cell_bits: list[Annotated[int, Field(gt=0, le=64)]] = Field(
        description="Cell resolutions it supports."
    )


class ConverterPart(Part):
    """An ADC or a DAC. One action = one conversion; ``frequency_ghz`` conversions per ns."""

    resolution_bits: Annotated[int, Field(gt=0, le=64)] = Field(description="Resolution, bits.")
    frequency_ghz: Rate = Field(description="Conversion rate, G conversions/s (= per ns).")


class SampleHoldPart(Part):
    """A sample-and-hold on one crossbar column; one action per converted column."""


class UnitKind(StrEnum):
    """Digital vector units of a macro."""

    SHIFT_ADD = "shift_add"  # merges bit slices and input-bit iterations
    ADD = "add"  # adds partial sums across row blocks
    ACTIVATION = "activation"  # ReLU and other cheap activations
    SIGMOID = "sigmoid"  # sigmoid / tanh / hard-swish
    POOL = "pool"
    ELTWISE = "eltwise"


class DigitalPart(Part):
    """A vector unit: ``lanes`` elements per action, ``frequency_ghz`` actions per ns."""

    kind: UnitKind = Field(description="What it computes.")
    lanes: Size = Field(description="Elements processed per action.")
    frequency_ghz: Rate = Field(description="Actions per ns when busy.")


class BufferPart(_Frozen):
    """A macro's scratchpad (SPM: eDRAM/SRAM). One action = one access of ``word_bits``."""

    name: str = Field(description="Part name.")
    size_kib: Annotated[int, Field(gt=0, le=2**30)] = Field(description="Capacity, KiB.")
    leakage_power_w: NonNeg = Field(description="Static power, W.")
    word_bits: Size = Field(description="Bits per access of one bank.")
    access_latency_ns: Positive = Field(
        description="Time of one access of one bank, ns: each bank serves one access of "
        "word_bits per access_latency_ns."
    )
    banks: Annotated[int, Field(gt=0, le=1024)] | None = Field(
        None,
        description="Banks the words are interleaved over (word i of a partition in bank "
        "i mod banks); they work in parallel, so the port moves banks x word_bits per "
        "access_latency_ns (port_bits_per_ns). None (left out): one bank, so that parts written "
        "before banks existed read and write back unchanged.",
    )
    read_energy_nj: NonNeg = Field(description="Energy of one read access, nJ.")
    write_energy_nj: NonNeg = Field(description="Energy of one write access, nJ.")
    peak_power_w: NonNeg = Field(
        description="Power counted toward the budget, W (the source's "
        "figure; the port running flat out is not an operating point)."
    )
    area_mm2: NonNeg | None = Field(None, description="Area, mm^2, where known.")
    source: str = Field(min_length=1, description="Where the numbers come from.")

    @property
    def bank_count(self) -> int:
        """Banks of the scratchpad (1 where ``banks`` is left out)."""
        return self.banks or 1

    @property
    def port_bits_per_ns(self) -> float:
        """The port's peak rate, bits/ns: every bank busy, ``banks x word_bits`` per
        ``access_latency_ns``. The one rate the estimate charges scratchpad traffic at; the
        simulator times each access in its bank (``pimsim.sim.buffer``)."""
        return self.bank_count * self.word_bits / self.access_latency_ns


class NocPart(_Frozen):
    """The network-on-chip: a 2-D mesh of routers with dimension-ordered routing.

    Energy of one flit over one hop (one link and the router at its end) =
    ``flit_hop_energy_pj`` (router traversal) + ``link_flit_energy_pj`` (the wire); a router also
    draws ``router_power_w`` whenever the chip is on (a library that takes a router's published
    power as its standing power counts its per-flit energy there and sets ``flit_hop_energy_pj`` to
    0; say so in ``source``).
    """

    name: str = Field(description="Part name.")
    flit_bits: Size = Field(description="Bits per flit.")
    hop_latency_ns: NonNeg = Field(description="Router plus link delay per hop, ns.")
    flit_latency_ns: Positive = Field(description="Serialisation time of one flit on a link, ns.")
    router_power_w: NonNeg = Field(description="Static power of one router, W.")
    chip_power_w: NonNeg = Field(
        0.0,
        description="Static power of the NoC as a whole, W, for "
        "models that price it as one constant.",
    )
    flit_hop_energy_pj: NonNeg = Field(
        0.0, description="Dynamic energy of one flit through one router, pJ."
    )
    link_flit_energy_pj: NonNeg = Field(
        0.0, description="Dynamic energy of one flit over one link between adjacent routers, pJ."
    )
    router_ports: Size = Field(
        5, description="Ports per router (4 mesh neighbours + local, or more when concentrated)."
    )
    router_area_mm2: NonNeg | None = Field(None, description="Area of one router, mm^2.")
    buffer_flits: Annotated[int, Field(gt=0, le=2**20)] | None = Field(
        None,
        description="Input buffer of each router port, flits (credit-based flow control, one "
        "virtual channel: a packet at least as long as it that waits holds the channels behind it); "
        "none: a router buffers whole packets, credits never limit a link and a waiting packet "
        "holds nothing behind it.",
    )
    router_stages: Annotated[int, Field(gt=0, le=64)] | None = Field(
        None,
        description="Router pipeline depth, flit times (none: 1): a buffer slot's credit returns "
        "router_stages + 2 flit times after its flit was sent (link, pipeline, credit link).",
    )
    source: str = Field(min_length=1, description="Where the numbers come from.")

    @property
    def hop_energy_pj(self) -> float:
        """Energy of one flit over one hop (router traversal + link), pJ."""
        return self.flit_hop_energy_pj + self.link_flit_energy_pj


class InterfacePart(_Frozen):
    """The chip's off-chip interface (to DRAM or a host): every input image streams in through it
    and every output streams out. One action = one bit crossing it."""

    name: str = Field(description="Part name.")
    bandwidth_gbit_s: Positive = Field(
        description="Bits per ns (= Gbit/s) in both directions together."
    )
    energy_per_bit_pj: NonNeg = Field(description="Dynamic energy of one bit crossing it, pJ.")
    static_power_w: NonNeg = Field(description="Power drawn whenever the chip is on, W.")
    area_mm2: NonNeg | None = Field(None, description="Area on the chip, mm^2, where known.")
    source: str = Field(min_length=1, description="Where the numbers come from.")

    @property
    def peak_power_w(self) -> float:
        """Static power + the energy of bits crossing at full bandwidth (pJ/bit x Gbit/s = mW)."""
        return self.static_power_w + self.energy_per_bit_pj * self.bandwidth_gbit_s * 1e-3


class FixedPart(_Frozen):
    """A part with a fixed power and no modelled actions (registers, buses, off-chip links)."""

    name: str = Field(description="Part name.")
    static_power_w: NonNeg = Field(description="Power, W, drawn whenever the chip is on.")
    area_mm2: NonNeg | None = Field(None, description="Area, mm^2, where known.")
    source: str = Field(min_length=1, description="Where the numbers come from.")

    @property
    def peak_power_w(self) -> float:
        """Equal to the static power."""
        return self.static_power_w
