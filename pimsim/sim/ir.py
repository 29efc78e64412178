"""The IR program: what every layer share does per block and per bit, and what it waits for.

The program has the instruction kinds of PIMSYN's dataflow compiler
(Li et al., "PIMSYN", DATE 2024, arXiv 2402.18114, section III, stage 2; ``docs/simulator.md``): ``mvm`` (DACs + crossbar read +
sample-and-hold of one input bit), ``adc`` (the conversions of one bit), ``alu`` (shift-and-add per
bit; partial-sum addition, pooling, element-wise and activation per block), ``load`` / ``store``
(scratchpad <-> PE), ``transfer`` (a block of a producer's output to a consumer share's macro) and
``merge`` (a share's part of a block to the layer's output macro). Dependencies: inside a block load
-> mvm -> adc -> shift-and-add (bit by bit, pipelined) -> add -> activation -> store; bit b+1 after
bit b; block c+1 of an op after block c; single buffering (a stage starts block c+1 once the next
stage has *started* block c: field ``slot``); across layers the sliding-window rule (a load waits
for the transfer of the producer block holding the last input pixel it needs; rows and columns with
their own kernel, stride, padding and dilation; fully connected layers and reshaped inputs wait for
the whole input).

A program is stored compactly, as values: one :class:`Task` per layer share (its stages with the
work of a full and of the last block, and its input windows as per-block tables), one
:class:`FlowSpec` per producer -> consumer-share or share -> output-macro stream, and the scratchpad
partitions. :func:`pimsim.sim.expand.program_ops` expands it lazily into :class:`Instr` values, so
even a 224x224 network can be listed (``pimsim compile ARCH --json``) without holding its millions of instructions;
the simulator runs the compact form directly, with the same dependencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from pimsim.arch.schema import Hardware

Position = tuple[int, int]
Link = tuple[Position, Position]


class Op(StrEnum):
    """Instruction kinds."""

    LOAD = "load"
    MVM = "mvm"
    ADC = "adc"
    ALU = "alu"
    STORE = "store"
    TRANSFER = "transfer"
    MERGE = "merge"


#: Stage name -> instruction kind.
STAGE_OP = MappingProxyType({"load": Op.LOAD, "mvm": Op.MVM, "adc": Op.ADC, "store": Op.STORE})


@dataclass(frozen=True, slots=True)
class StageSpec:
    """One stage of a share's block pipeline.

    ``work`` is what the stage's hardware processes per item (per bit for per-bit stages, per block
    otherwise), in a full block and in the last block of an image: bits for load and store,
    crossbars read for mvm, conversions for adc, elements for the digital units. ``actions`` are the
    action counts booked per item, ``(action, full, last)``. ``per_server``: where the unit's servers
    are wired to fixed parts of the work (a macro's ADCs, :mod:`pimsim.sim.blockwork`), the work of
    each server per item in a full and in the last block; empty: any server takes any work.
    """

    name: str
    per_bit: bool
    work: tuple[float, float]
    actions: tuple[tuple[str, float, float], ...]
    per_server: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())

    @property
    def op(self) -> Op:
        return STAGE_OP.get(self.name, Op.ALU)


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One operand of a share: the producer's blocks it needs per consumer block, and its queue.

    Consumer block ``c`` of an image waits until producer blocks ``0 .. hi[c]`` of the same image
    have arrived; after loading it, producer blocks before ``lo[c + 1]`` (all of them after the last
    block) are no longer needed and their space is freed.
    """

    producer: str
    edge: int
    producer_blocks: int
    lo: tuple[int, ...]
    hi: tuple[int, ...]
    block_bits: tuple[float, float]  # a producer block (full, last) as this share receives it
    partition: str
    flows: tuple[int, ...]  # one per producer part: one, or each share of a spread producer
    local: bool = False  # the producer's output macro is this share's: read in place, no copy


@dataclass(frozen=True, slots=True)
class Task:
    """A layer's work in one macro (a share): ``frac`` of its crossbars, every block."""

    id: int
    layer: str
    kind: str
    share: int  # 0: the layer's output macro
    macro: int
    frac: float
    crossbars: int
    blocks: int
    bits: int
    items: tuple[int, int]  # output pixels (weight layers) or rows per full / last block
    stages: tuple[StageSpec, ...]
    inputs: tuple[InputSpec, ...]
    out_bits: tuple[float, float]  # its part of a block's output (full, last)
    out_partition: str


@dataclass(frozen=True, slots=True)
class FlowSpec:
    """A stream of blocks from ``src`` to ``dst`` macro: a transfer to a consumer share's input
    queue, or a merge of a share's results into its layer's output macro."""

    id: int
    op: Op
    layer: str  # the producer
    src: int
    dst: int
    task: int  # TRANSFER: the consumer task; MERGE: the share task whose results it carries
    blocks: int
    bits: tuple[float, float]
    route: tuple[Link, ...]
    partition: str  # at dst
    in_place: bool = False  # a transfer within one macro read where the producer stored it
    source_task: int | None = None  # a spread producer's share whose part this transfer carries


@dataclass(frozen=True, slots=True)
class PartitionSpec:
    """A named part of a macro's scratchpad and its size, bits."""

    macro: int
    name: str
    bits: int


@dataclass(frozen=True, slots=True)
class LayerInfo:
    """A layer in the program: its tasks (share 0 first), the flows that carry its output, and the
    merge flows that gather it."""

    name: str
    kind: str
    blocks: int
    items: int  # output pixels (weight layers) or rows per image
    macs: int
    tasks: tuple[int, ...]
    merges: tuple[int, ...]
    transfers: tuple[int, ...]
    spread: bool = False  # each share keeps its part of the output (no merges; see model.plan)


@dataclass(frozen=True, slots=True)
class Instr:
    """One instruction of the expanded program."""

    id: str
    op: Op
    layer: str
    macro: int
    image: int
    block: int
    bit: int | None
    width: float  # bits (load, store, transfer, merge), crossbars (mvm), conversions, elements
    unit: str | None = None  # ALU unit kind
    dst: int | None = None  # TRANSFER / MERGE destination macro
    hops: int | None = None
    after: tuple[str, ...] = ()  # starts after these have finished
    slot: str | None = None  # starts after this one has started (single buffering)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "op": str(self.op),
            "layer": self.layer,
            "macro": self.macro,
            "image": self.image,
            "block": self.block,
        }
        for key in ("bit", "unit", "dst", "hops", "slot"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out["width"] = round(self.width, 6)
        out["after"] = list(self.after)
        return out


@dataclass(frozen=True)
class Program:
    """A compiled design: tasks, flows, scratchpad partitions, and the hardware they run on."""

    arch: str
    network: str
    hardware: Hardware
    layers: tuple[LayerInfo, ...]
    tasks: tuple[Task, ...]
    flows: tuple[FlowSpec, ...]
    partitions: tuple[PartitionSpec, ...]
    positions: tuple[Position, ...]  # router position of every macro
    mesh: tuple[int, int]
    ops_per_image: int
    warnings: tuple[str, ...] = ()
    needs_bits: tuple[tuple[int, int], ...] = ()  # (macro, bits its partitions need), unscaled
    floor_bits: tuple[tuple[int, int], ...] = ()  # (macro, bits it needs not to deadlock)

    def header(self) -> dict[str, Any]:
        """The compact program as JSON-ready data (windows included, hardware excluded)."""
        return {
            "arch": self.arch,
            "network": self.network,
            "mesh": list(self.mesh),
            "clock_ghz": self.hardware.clock_ghz,
            "warnings": list(self.warnings),
            "layers": [
                {
                    "name": x.name,
                    "kind": x.kind,
                    "blocks": x.blocks,
                    "items": x.items,
                    "macs": x.macs,
                    "tasks": list(x.tasks),
                    "merges": list(x.merges),
                    "transfers": list(x.transfers),
                    "spread": x.spread,
                }
                for x in self.layers
            ],
            "tasks": [_task_json(t) for t in self.tasks],
            "flows": [
                {
                    "id": f.id,
                    "op": str(f.op),
                    "layer": f.layer,
                    "src": f.src,
                    "dst": f.dst,
                    "task": f.task,
                    "bits": list(f.bits),
                    "hops": len(f.route),
                    "partition": f.partition,
                    "source_task": f.source_task,
                }
                for f in self.flows
            ],
            "partitions": [
                {"macro": p.macro, "name": p.name, "bits": p.bits} for p in self.partitions
            ],
        }


def _task_json(t: Task) -> dict[str, Any]:
    return {
        "id": t.id,
        "layer": t.layer,
        "kind": t.kind,
        "share": t.share,
        "macro": t.macro,
        "frac": t.frac,
        "crossbars": t.crossbars,
        "blocks": t.blocks,
        "bits": t.bits,
        "items": list(t.items),
        "out_bits": list(t.out_bits),
        "out_partition": t.out_partition,
        "stages": [
            {
                "name": s.name,
                "per_bit": s.per_bit,
                "work": list(s.work),
                "actions": {a: [f, la] for a, f, la in s.actions},
            }
            for s in t.stages
        ],
        "inputs": [
            {
                "producer": i.producer,
                "edge": i.edge,
                "flows": list(i.flows),
                "local": i.local,
                "producer_blocks": i.producer_blocks,
                "block_bits": list(i.block_bits),
                "partition": i.partition,
                "lo": list(i.lo),
                "hi": list(i.hi),
            }
            for i in t.inputs
        ],
    }
