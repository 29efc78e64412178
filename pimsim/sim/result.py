"""What a simulation run found: frozen values with units in their names, and their JSON form.

Definitions:

- *period*: the time per image between image completions after the first,
  ``(finish[N-1] - finish[0]) / (N - 1)``; with one image, its latency. The last gaps include the
  pipeline's drain (the last image meets no later traffic), so a short run can read a little
  fast: run enough images for the steady state;
- *throughput* = 1 / period; TOPS = 2 x MACs x images/s / 1e12;
- *latency* of image i: from the moment the first layer started it to its completion (the last block
  of every output layer stored and gathered);
- *energy per image*: the actions the run's units counted as they happened, divided by the number
  of images, priced by :func:`pimsim.model.pricing.price` (the one pricing function) with static
  power over the simulated period; *average power* = energy per image / period;
- *busy* time of a unit: server-weighted (a job holding k of n ADCs for d ns adds d x k / n);
  *queued* time: what jobs spent in line for it; *stall* time of a stage: time it had work but
  waited, by cause (``input``, ``noc``, ``buffer``, ``adc``, ``units``, ``port``, ``pe``, ``io``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pimsim.model.figures import ImageFigures
from pimsim.model.inventory import Component


@dataclass(frozen=True)
class StageSim:
    """One stage of one share."""

    name: str
    macro: int
    busy_ns: float
    stall_ns: dict[str, float]
    items: int  # items processed: bits for per-bit stages, blocks otherwise


@dataclass(frozen=True)
class LayerSim:
    """One layer over the run. ``busy_ns`` per stage is the largest over its shares (load and store
    together as ``buffer``); ``stall_ns`` by cause sums its shares' stages and incoming flows."""

    name: str
    kind: str
    macros: tuple[int, ...]
    blocks: int
    start_ns: tuple[float, ...]  # per image
    finish_ns: tuple[float, ...]  # per image
    busy_ns: dict[str, float]
    stall_ns: dict[str, float]
    bottleneck: str
    utilisation: float  # bottleneck busy / simulated time
    items: int = 0  # output pixels (weight layers) or rows computed, summed over shares
    macs: float = 0.0  # multiply-accumulates performed: each share's pixels x its fraction
    stages: tuple[StageSim, ...] = ()


@dataclass(frozen=True)
class UnitSim:
    """A hardware unit: a PE group, an ADC bank, the units of a kind, a scratchpad port, a link."""

    name: str  # "macro 3/ADC bank", "NoC/link (0,0)->(0,1)"
    kind: str  # pe, adc, units, port, link
    macro: int | None
    busy_ns: float
    queued_ns: float
    jobs: int
    stall_ns: dict[str, float]  # stalls of the stages running on it, by cause
    # where its servers are wired to fixed work (a macro's ADCs) or are banks (a scratchpad port
    # of several banks): each one's busy time
    server_busy_ns: tuple[float, ...] = ()
    # a banked scratchpad port: jobs that waited for a bank another job held
    conflicts: int = 0


@dataclass(frozen=True)
class FlowSim:
    """One flow: its data moved and why it waited. ``flits``: whole flits sent; ``flit_hops``:
    flits x links; ``router_flits``: flits x routers crossed (links + 1); ``read_bits`` /
    ``written_bits``: scratchpad bits read at the source and written at the destination."""

    name: str
    src: int
    dst: int
    hops: int
    flit_hops: float
    stall_ns: dict[str, float]
    flits: int = 0
    router_flits: int = 0
    read_bits: float = 0.0
    written_bits: float = 0.0


@dataclass(frozen=True)
class SimResult(ImageFigures):
    """A simulation run of one architecture on its network."""

    arch: str
    network: str
    images: int
    clock_ghz: float
    ops_per_image: int
    time_ns: float  # the whole run
    period_ns: float
    image_start_ns: tuple[float, ...]
    image_finish_ns: tuple[float, ...]
    latency_ns: tuple[float, ...]
    energy_pj: dict[Component, float]  # per image
    counts: dict[str, float]  # actions over the whole run
    layers: tuple[LayerSim, ...]
    units: tuple[UnitSim, ...]
    flows: tuple[FlowSim, ...]
    peak_buffer_bits: dict[int, int]  # by macro
    events: int
    wall_s: float
    warnings: tuple[str, ...] = ()
    trace_file: str | None = None
    summary_file: str | None = None
    stopped: str | None = None  # why a guard (cycles, wall clock) ended the run early: partial

    @property
    def events_per_s(self) -> float:
        return self.events / self.wall_s if self.wall_s else 0.0

    def stall_ns(self) -> dict[str, float]:
        """Stall time of every stage and flow, by cause."""
        out: dict[str, float] = {}
        for layer in self.layers:
            for cause, ns in layer.stall_ns.items():
                out[cause] = out.get(cause, 0.0) + ns
        return out


def result_json(r: SimResult, brief: bool = False) -> dict[str, Any]:
    """JSON-ready data with the derived figures; ``brief`` leaves out per-stage and per-flow
    detail (the summary written beside a trace)."""
    data = asdict(r)
    data["energy_pj"] = {str(k): v for k, v in r.energy_pj.items()}
    data["peak_buffer_bits"] = {str(k): v for k, v in r.peak_buffer_bits.items()}
    data.update(
        throughput_ips=r.throughput_ips,
        tops=r.tops,
        energy_per_image_pj=r.energy_per_image_pj,
        average_power_w=r.average_power_w,
        tops_per_w=r.tops_per_w,
        events_per_s=r.events_per_s,
        stall_ns=r.stall_ns(),
    )
    if brief:
        data.pop("flows")
        for layer in data["layers"]:
            layer.pop("stages")
    return data
