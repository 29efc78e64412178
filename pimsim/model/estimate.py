"""The analytical estimate: closed-form time, energy and power of an architecture on its network.

Definitions (the paper leaves throughput and peak efficiency undefined; these are ours):

- *block period* of a layer: the slowest of its stage times per block (:mod:`pimsim.model.stages`),
  over its macros; a layer's *time per image* is the sum of its block periods (the last block may be
  short);
- *pipeline period* (steady-state time per image, many images in flight, every layer working on some
  image): the largest of every layer's time per image, every shared resource's busy time per image (a
  macro's ADC bank, units and scratchpad port summed over the layers sharing the macro), and every NoC
  link's busy time per image (flits x flit time, X-then-Y routing);
- *throughput* = 1 / period (images/s); TOPS = 2 x MACs x images/s / 1e12;
- *latency* of one image alone on the chip: a layer starts when every producer has produced the rows
  its first block needs (sliding window: output row y needs input rows up to
  ``y*stride + (k-1)*dilation + 1 - pad_top``; a fully connected layer, or a consumer of a reshaped
  tensor, needs the whole input); it finishes after its own time per image, and no sooner than one
  block latency after its last producer finishes;
- *energy per image* = dynamic energy of the image's actions + static power x period (in steady state
  every image holds the chip for one period); *average power* = energy per image / period;
- *compute floor*: the energy per image of the crossbar reads and the DAC and ADC conversions alone
  (what no design of this network on these parts avoids); every report gives the energy above it,
  by component;
- *effective efficiency* = 2 x MACs / energy per image (TOPS/W); *peak throughput*: every crossbar busy
  on full tiles, each macro's bit iteration lasting the longer of the crossbar read and its ADC bank
  converting all of its columns; *peak efficiency* = peak TOPS / peak power (every part at full
  activity).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pimsim.arch.mapping import bit_iterations
from pimsim.arch.schema import Architecture, Hardware
from pimsim.model.actions import Action
from pimsim.model.design import design_from_plan
from pimsim.model.evaluate import NetworkTables, evaluate
from pimsim.model.figures import ImageFigures
from pimsim.model.inventory import Component, area_mm2, inventory, macro_stock, peak_power_w
from pimsim.model.kernel import STAGES, WORK, bottleneck
from pimsim.model.plan import Plan
from pimsim.model.pricing import COMPONENTS, floor_action_pj, floor_pj, price_arrays


@dataclass(frozen=True)
class LayerEstimate:
    """One layer's figures for one image."""

    name: str
    kind: str
    macros: tuple[int, ...]
    dup: int
    blocks: int
    stage_ns: dict[str, float]  # per full block, in the slowest macro
    bottleneck: str
    block_period_ns: float
    block_latency_ns: float
    time_per_image_ns: float
    start_ns: float
    finish_ns: float
    energy_pj: float  # dynamic energy of its actions


@dataclass(frozen=True)
class MacroFigures:
    """Peak power and area of one macro of a group (its share of a router included)."""

    group: str
    count: int
    peak_power_w: float
    area_mm2: float


@dataclass(frozen=True)
class HardwareFigures:
    """What the hardware alone determines."""

    macros: tuple[MacroFigures, ...]
    peak_power_w: dict[Component, float]
    area_mm2: dict[Component, float]
    area_unknown_parts: tuple[str, ...]
    peak_tops: float
    crossbars: int

    @property
    def total_peak_power_w(self) -> float:
        return sum(self.peak_power_w.values())

    @property
    def total_area_mm2(self) -> float:
        return sum(self.area_mm2.values())

    @property
    def peak_tops_per_w(self) -> float:
        return self.peak_tops / self.total_peak_power_w if self.total_peak_power_w else 0.0


@dataclass(frozen=True)
class CostReport(ImageFigures):
    """The estimate of an architecture (and, with a mapping, of its network). Times in ns."""

    arch: str
    hardware: HardwareFigures
    network: str | None = None
    ops_per_image: int = 0
    layers: tuple[LayerEstimate, ...] = ()
    period_ns: float = 0.0
    period_set_by: str = ""
    latency_ns: float = 0.0
    energy_pj: dict[Component, float] = field(default_factory=dict)
    counts: dict[str, float] = field(default_factory=dict)
    floor_pj: dict[Component, float] = field(default_factory=dict)  # the compute floor
    floor_action_pj: dict[str, float] = field(default_factory=dict)  # to price other counts

    @property
    def floor_total_pj(self) -> float:
        """The compute floor per image: crossbar reads, DAC and ADC conversions alone, pJ."""
        return sum(self.floor_pj.values())


def hardware_figures(hw: Hardware) -> HardwareFigures:
    """Peak power, area and peak throughput of the hardware."""
    groups = hw.macro_groups()
    slices = math.ceil(hw.weight_bits / hw.cell_bits)
    bits = bit_iterations(hw.activation_bits, hw.dac_bits)
    read = hw.parts.crossbar.latency_ns
    macs_per_ns = 0.0
    for g in groups:
        if not g.crossbars or not g.adcs:
            continue
        columns = g.crossbars * hw.xbar_size
        step = max(read, columns / (g.adcs * hw.parts.adc.frequency_ghz))
        macs_per_ns += g.crossbars * hw.xbar_size**2 / slices / (bits * step)
    stocks = inventory(hw)
    area, unknown = area_mm2(stocks)
    macros = []
    for g in hw.macros:
        mine = macro_stock(hw, g)
        macros.append(
            MacroFigures(
                g.name, g.count, sum(peak_power_w(mine).values()), sum(area_mm2(mine)[0].values())
            )
        )
    return HardwareFigures(
        tuple(macros),
        peak_power_w(stocks),
        area,
        tuple(unknown),
        2 * macs_per_ns * 1e9 * hw.chips / 1e12,
        sum(g.crossbars for g in groups) * hw.chips,
    )


def estimate(arch: Architecture, plan: Plan | None = None) -> CostReport:
    """Estimate ``arch``; with a mapping, ``plan`` (its network placed on it) is required."""
    hw = arch.hardware
    figures = hardware_figures(hw)
    if plan is None:
        return CostReport(arch.name, figures)
    tables = NetworkTables.build(
        plan.network, hw.xbar_size, hw.cell_bits, hw.dac_bits, hw.weight_bits, hw.activation_bits
    )
    design = design_from_plan(plan)
    ev = evaluate(tables, design)
    names = bottleneck(ev.stages)
    energy = {c: float(e) for c, e in zip(COMPONENTS, ev.energy_by_component_pj, strict=True) if e}
    table = design.energy
    layers = []
    for i, layer in enumerate(plan.network.layers):
        lp = plan.layers[layer.name]
        rows = design.share_layer == i
        dynamic = price_arrays(ev.share_work[rows], design.share_macro[rows], 0.0, 0.0, table)
        stage = {
            n: float(v)
            for n, v in zip(STAGES, ev.stages[i], strict=True)
            if v or n in _ALWAYS[lp.xset is not None]
        }
        layers.append(
            LayerEstimate(
                layer.name,
                str(layer.kind),
                tuple(s.macro for s in lp.shares),
                lp.dup,
                int(ev.blocks[i]),
                stage,
                names[i],
                float(ev.block_period_ns[i]),
                float(ev.block_latency_ns[i]),
                float(ev.per_image_ns[i]),
                float(ev.start_ns[i]),
                float(ev.finish_ns[i]),
                float(dynamic.sum()),
            )
        )
    counts = {
        str(a): float(n)
        for a, n in zip(WORK, ev.action_counts, strict=True)
        if n and (a is not Action.SAMPLE_HOLD or hw.parts.sample_hold is not None)
    }
    if ev.flit_hops:
        counts[str(Action.NOC_FLIT_HOPS)] = ev.flit_hops
    if ev.noc_buffer_bits is not None and ev.noc_buffer_bits.any():
        read, written = ev.noc_buffer_bits.sum(axis=0)
        counts[str(Action.NOC_BUFFER_READ_BITS)] = float(read)
        counts[str(Action.NOC_BUFFER_WRITE_BITS)] = float(written)
    if ev.interface_bits:
        counts[str(Action.INTERFACE_BITS)] = ev.interface_bits
    per_action = floor_action_pj(hw.parts)
    return CostReport(
        arch.name,
        figures,
        plan.network.name,
        plan.network.ops,
        tuple(layers),
        ev.period_ns,
        ev.period_set_by,
        ev.latency_ns,
        energy,
        counts,
        floor_pj(counts, per_action),
        per_action,
    )


#: Stages always listed for weight layers (True) and other layers (False), even when 0.
_ALWAYS = {
    True: ("load", "mvm", "adc", "shift_add", "add", "activation", "store"),
    False: ("load", "store"),
}
