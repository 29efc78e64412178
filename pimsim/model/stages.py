"""Closed-form stage times of the dataflow: how long each component stage takes per block.

The dataflow (which the simulator executes event by event) is, for a weight layer's block of ``d``
output pixels in a macro holding the fraction ``s`` of the layer's crossbars:

1. *load*: the input windows are read from the macro's scratchpad;
2. per input bit (``bit_iters`` times, pipelined bit by bit): *mvm* (DACs + crossbar read + sample and
   hold, one ``read_latency``), then *adc* (every active column converted by the macro's ADC bank), then
   *shift_add* (each conversion merged into its running sum);
3. *add* (partial sums across row blocks), *activation*, *store* (results written to the scratchpad).

Each stage is a resource that takes the next block as soon as it has finished the previous one and
the previous stage has handed the block over (single buffering). So in steady state a block leaves
every ``max(stage time per block)`` (the *block period*), and the first block takes the sum of the
stage times, with the three per-bit stages overlapped bit by bit (the *block latency*). Loads and
stores share the scratchpad port, so they form one *buffer* stage for the period.
"""

from __future__ import annotations

from dataclasses import dataclass

from pimsim.arch.schema import Hardware, MacroGroup
from pimsim.model.actions import UNIT_OF, Action, Counts

#: Stages in dataflow order; the first three run per input bit.
STAGES = ("load", "mvm", "adc", "shift_add", "add", "activation", "store")
PER_BIT = ("mvm", "adc", "shift_add")


@dataclass(frozen=True)
class BlockTiming:
    """Stage times of one block in one macro, ns."""

    stage_ns: dict[str, float]
    bit_iters: int

    @property
    def period_ns(self) -> float:
        """Time between block departures in steady state: the slowest stage (load+store share a port)."""
        s = self.stage_ns
        buffer = s.get("load", 0.0) + s.get("store", 0.0)
        return max([buffer] + [v for k, v in s.items() if k not in ("load", "store")])

    @property
    def bottleneck(self) -> str:
        """Name of the stage that sets the period."""
        s = self.stage_ns
        buffer = s.get("load", 0.0) + s.get("store", 0.0)
        name, value = max(((k, v) for k, v in s.items() if k not in ("load", "store")),
                          key=lambda kv: kv[1], default=("buffer", 0.0))
        return "buffer" if buffer > value else name

    @property
    def latency_ns(self) -> float:
        """Time of one block through all stages, the per-bit stages overlapped bit by bit."""
        s = self.stage_ns
        per_bit = [s.get(k, 0.0) / self.bit_iters for k in PER_BIT]
        bits = sum(per_bit) + (self.bit_iters - 1) * max(per_bit)
        rest = sum(v for k, v in s.items() if k not in PER_BIT)
        return bits + rest


def unit_time_ns(elements: float, action: Action, hw: Hardware, group: MacroGroup) -> float:
    """Time for a macro's units of the right kind to process ``elements``; inf if it has none."""
    kind = UNIT_OF[action]
    part = hw.parts.unit(kind)
    count = group.units.get(kind, 0)
    if not elements:
        return 0.0
    if part is None or count == 0:
        return float("inf")
    return elements / (count * part.lanes * part.frequency_ghz)


def buffer_time_ns(bits: float, hw: Hardware, group: MacroGroup) -> float:
    """Time for a macro's scratchpad port to move ``bits``."""
    buffer = hw.parts.buffer(group.buffer_kib)
    assert buffer is not None
    return bits / buffer.word_bits * buffer.access_latency_ns


def adc_time_ns(conversions: float, hw: Hardware, group: MacroGroup) -> float:
    """Time for a macro's ADC bank to make ``conversions``; inf without ADCs."""
    if not conversions:
        return 0.0
    if group.adcs == 0:
        return float("inf")
    return conversions / (group.adcs * hw.parts.adc.frequency_ghz)


def weight_block(work: Counts, hw: Hardware, group: MacroGroup, bit_iters: int) -> BlockTiming:
    """Stage times of one block of a weight layer whose per-block, per-macro actions are ``work``."""
    act = Action.SIGMOID if work.get(Action.SIGMOID) else Action.ACTIVATION
    stage = {
        "load": buffer_time_ns(work.get(Action.BUFFER_READ_BITS, 0.0), hw, group),
        "mvm": bit_iters * hw.parts.crossbar.latency_ns,
        "adc": adc_time_ns(work.get(Action.ADC, 0.0), hw, group),
        "shift_add": unit_time_ns(work.get(Action.SHIFT_ADD, 0.0), Action.SHIFT_ADD, hw, group),
        "add": unit_time_ns(work.get(Action.ADD, 0.0), Action.ADD, hw, group),
        "activation": unit_time_ns(work.get(act, 0.0), act, hw, group),
        "store": buffer_time_ns(work.get(Action.BUFFER_WRITE_BITS, 0.0), hw, group),
    }
    return BlockTiming(stage, bit_iters)


def other_block(work: Counts, hw: Hardware, group: MacroGroup) -> BlockTiming:
    """Stage times of a layer without weights over ``work`` (load, its unit op, activation, store)."""
    stage = {"load": buffer_time_ns(work.get(Action.BUFFER_READ_BITS, 0.0), hw, group),
             "store": buffer_time_ns(work.get(Action.BUFFER_WRITE_BITS, 0.0), hw, group)}
    for action in (Action.POOL, Action.ELTWISE, Action.ACTIVATION, Action.SIGMOID):
        if work.get(action):
            stage[action.value] = unit_time_ns(work[action], action, hw, group)
    return BlockTiming(stage, 1)
