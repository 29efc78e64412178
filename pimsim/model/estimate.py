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
- *effective efficiency* = 2 x MACs / energy per image (TOPS/W); *peak throughput*: every crossbar busy
  on full tiles, each macro's bit iteration lasting the longer of the crossbar read and its ADC bank
  converting all of its columns; *peak efficiency* = peak TOPS / peak power (every part at full
  activity).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pimsim.arch.schema import Architecture, Hardware
from pimsim.model.actions import (Action, Counts, image_actions, other_work, pixel_work,
                                  total_actions)
from pimsim.model.mapping import bit_iterations, block_pixels
from pimsim.model.noc import link_loads
from pimsim.model.plan import LayerPlan, Plan
from pimsim.model.pricing import Component, area_mm2, peak_power_w, price
from pimsim.model.stages import (BlockTiming, adc_time_ns, buffer_time_ns, other_block,
                                  unit_time_ns, weight_block)
from pimsim.network.layer import LayerKind


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
class HardwareFigures:
    """What the hardware alone determines."""

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
class CostReport:
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

    @property
    def throughput_ips(self) -> float:
        """Images per second in steady state."""
        return 1e9 / self.period_ns if self.period_ns else 0.0

    @property
    def tops(self) -> float:
        """Effective tera-operations per second on this network."""
        return self.ops_per_image * self.throughput_ips / 1e12

    @property
    def energy_per_image_pj(self) -> float:
        return sum(self.energy_pj.values())

    @property
    def average_power_w(self) -> float:
        """Energy per image / period (pJ/ns = mW; /1e3 = W)."""
        return self.energy_per_image_pj / self.period_ns / 1e3 if self.period_ns else 0.0

    @property
    def tops_per_w(self) -> float:
        """Effective power efficiency: operations per pJ = TOPS/W."""
        return self.ops_per_image / self.energy_per_image_pj if self.energy_pj else 0.0


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
        macs_per_ns += g.crossbars * hw.xbar_size ** 2 / slices / (bits * step)
    area, unknown = area_mm2(hw)
    return HardwareFigures(peak_power_w(hw), area, tuple(unknown),
                           2 * macs_per_ns * 1e9 * hw.chips / 1e12,
                           sum(g.crossbars for g in groups) * hw.chips)


def _layer_timing(plan: Plan, lp: LayerPlan, hw: Hardware) -> tuple[BlockTiming, BlockTiming, int]:
    """Timing of a full block and of the last block in the layer's slowest macro, and that macro."""
    groups = plan.groups
    if lp.xset is None:
        work = other_work(lp, hw.activation_bits)
        rows = max(lp.layer.out_shape.h, 1)
        per_row = Counts({a: n / rows for a, n in work.items()})
        group = groups[lp.out_macro]
        timing = other_block(per_row, hw, group)
        return timing, timing, lp.out_macro
    full_px, last_px = block_pixels(lp.layer, lp.dup)
    per_pixel = pixel_work(lp, hw.activation_bits)
    worst: tuple[BlockTiming, BlockTiming, int] | None = None
    for share in lp.shares:
        group = groups[share.macro]
        full = weight_block(Counts({a: n * full_px * share.share for a, n in per_pixel.items()}),
                            hw, group, lp.bit_iters)
        last = weight_block(Counts({a: n * last_px * share.share for a, n in per_pixel.items()}),
                            hw, group, lp.bit_iters)
        if worst is None or full.period_ns > worst[0].period_ns:
            worst = (full, last, share.macro)
    assert worst is not None
    return worst


def _rows_needed(consumer: LayerPlan, producer_rows: int, seen_flat: bool) -> int:
    """Producer rows the consumer's first block needs (sliding window)."""
    layer = consumer.layer
    if layer.kind is LayerKind.FC or seen_flat:
        return producer_rows
    width = max(layer.out_shape.w, 1)
    first_block = consumer.dup if consumer.xset is not None else width
    last_row = (min(first_block, layer.out_pixels) - 1) // width
    need = last_row * layer.strides[0] + (layer.kernel[0] - 1) * layer.dilation[0] + 1 - layer.pads[0]
    return max(1, min(producer_rows, need))


def estimate(arch: Architecture, plan: Plan | None = None) -> CostReport:
    """Estimate ``arch``; with a mapping, ``plan`` (its network placed on it) is required."""
    hw = arch.hardware
    figures = hardware_figures(hw)
    if plan is None:
        return CostReport(arch.name, figures)
    actions = image_actions(plan)
    timings = {name: _layer_timing(plan, lp, hw) for name, lp in plan.layers.items()}
    per_image: dict[str, float] = {}
    for name, lp in plan.layers.items():
        full, last, _ = timings[name]
        n_blocks = lp.blocks if lp.xset is not None else max(lp.layer.out_shape.h, 1)
        per_image[name] = (n_blocks - 1) * full.period_ns + last.period_ns
    period, set_by = max((t, f"layer {n}") for n, t in per_image.items())
    for label, busy in _shared_resources(plan, actions, hw).items():
        if busy > period:
            period, set_by = busy, label
    for link, busy in link_loads(plan).items():
        if busy > period:
            period, set_by = busy, f"NoC link {link[0]}->{link[1]}"
    starts, finishes = _latency(plan, timings, per_image)
    estimates = []
    for name, lp in plan.layers.items():
        full, _, _ = timings[name]
        dynamic = price(actions[name], hw, 0.0)
        estimates.append(LayerEstimate(
            name, str(lp.layer.kind), tuple(s.macro for s in lp.shares), lp.dup, lp.blocks,
            full.stage_ns, full.bottleneck, full.period_ns, full.latency_ns, per_image[name],
            starts[name], finishes[name], sum(dynamic.values())))
    by_macro: dict[int, Counts] = {}
    for per_macro in actions.values():
        for macro, counts in per_macro.items():
            by_macro.setdefault(macro, Counts()).update(counts)
    return CostReport(arch.name, figures, plan.network.name, plan.network.ops, tuple(estimates),
                      period, set_by, max(finishes.values()), price(by_macro, hw, period),
                      {str(a): n for a, n in total_actions(actions).items()})


def _shared_resources(plan: Plan, actions: dict[str, dict[int, Counts]], hw: Hardware
                      ) -> dict[str, float]:
    """Busy time per image of each macro resource used by more than one layer."""
    out: dict[str, float] = {}
    for macro, names in plan.residents.items():
        if len(names) < 2:
            continue
        group = plan.groups[macro]
        total = Counts()
        for name in names:
            total.update(actions[name].get(macro, Counts()))
        out[f"ADC bank of macro {macro}"] = adc_time_ns(total.get(Action.ADC, 0.0), hw, group)
        out[f"scratchpad of macro {macro}"] = buffer_time_ns(
            total.get(Action.BUFFER_READ_BITS, 0.0) + total.get(Action.BUFFER_WRITE_BITS, 0.0),
            hw, group)
        for action in (Action.SHIFT_ADD, Action.ADD, Action.ACTIVATION, Action.SIGMOID, Action.POOL,
                       Action.ELTWISE):
            if total.get(action):
                out[f"{action} units of macro {macro}"] = unit_time_ns(total[action], action, hw,
                                                                         group)
    return out


def _latency(plan: Plan, timings: dict[str, tuple[BlockTiming, BlockTiming, int]],
             per_image: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    starts: dict[str, float] = {}
    finishes: dict[str, float] = {}
    for layer in plan.network.layers:
        lp = plan.layers[layer.name]
        full = timings[layer.name][0]
        start = 0.0
        last_producer = 0.0
        for source, seen in zip(layer.inputs, layer.in_shapes, strict=True):
            if source not in plan.layers:
                continue
            prod = plan.layers[source]
            out = prod.layer.out_shape
            flat = seen != out
            rows = _rows_needed(lp, out.h, flat)
            pixels = rows * out.w
            per_block = prod.dup if prod.xset is not None else out.w
            k = math.ceil(pixels / per_block)
            pfull = timings[source][0]
            ready = starts[source] + pfull.latency_ns + (k - 1) * pfull.period_ns
            start = max(start, min(ready, finishes[source]))
            last_producer = max(last_producer, finishes[source])
        starts[layer.name] = start
        finishes[layer.name] = max(start + full.latency_ns - full.period_ns + per_image[layer.name],
                                   last_producer + full.latency_ns)
    return starts, finishes
