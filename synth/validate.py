"""``pimsyn explore --validate``: simulate the best designs and set the estimate beside the truth.

Each of the K best designs is written as arch.json, simulated cycle by cycle (``pimsim.sim``) with
several images in flight and a trace, and compared with its closed-form estimate on throughput,
latency, energy per image and average power. A design whose simulation disagrees by more than the
tolerance on any figure is flagged, with the stall causes that dominated its simulation. The
simulations run on the same executor as the search; on a cluster (``remote``) the workers write each
trace into a temporary folder of their own and send the files back, so traces land in the run
folder even when the workers do not share its file system.
"""

from __future__ import annotations

import json
import tempfile
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from pimsim.arch.schema import Architecture
from pimsim.diagnose import disagreements
from pimsim.fileio import write_atomic
from pimsim.model.estimate import estimate
from pimsim.model.plan import Plan
from pimsim.network.graph import Network
from pimsim.sim import SimDeadlock, SimOptions, simulate

FIGURES = ("throughput_ips", "latency_ns", "energy_per_image_pj", "average_power_w")


@dataclass(frozen=True)
class ValidationRow:
    """One design: estimated and simulated figures, their errors in %, and the verdict."""

    rank: int
    design: str
    estimate: dict[str, float]
    simulated: dict[str, float]
    error_pct: dict[str, float]
    flagged: bool
    stalls: tuple[tuple[str, float], ...]  # dominant stall causes, ns (largest first)
    trace: str | None
    events: int
    wall_s: float
    deadlock: str | None = None  # the simulator's deadlock report, when the run could not finish
    # conditions where the estimate is knowingly wrong (pimsim.diagnose; docs/disagreements.md)
    disagreements: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValidationReport:
    """All validated designs."""

    rows: tuple[ValidationRow, ...]
    tolerance_pct: float
    images: int

    @property
    def flagged(self) -> tuple[ValidationRow, ...]:
        return tuple(r for r in self.rows if r.flagged)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tolerance_pct": self.tolerance_pct,
            "images": self.images,
            "rows": [asdict(r) for r in self.rows],
        }


def validate_design(
    rank: int,
    arch_data: dict[str, Any],
    network: Network,
    images: int,
    tolerance_pct: float,
    trace: str | None,
) -> ValidationRow:
    """Estimate and simulate one design (picklable, for executors)."""
    arch = Architecture.model_validate(arch_data)
    plan = Plan(arch, network)
    est = estimate(arch, plan)
    try:
        sim = simulate(plan, SimOptions(images=images, trace=trace, overwrite=True))
    except SimDeadlock as exc:
        nan = float("nan")
        e = {
            "throughput_ips": est.throughput_ips,
            "latency_ns": est.latency_ns,
            "energy_per_image_pj": est.energy_per_image_pj,
            "average_power_w": est.average_power_w,
        }
        return ValidationRow(
            rank,
            arch.name,
            e,
            {k: nan for k in FIGURES},
            {k: nan for k in FIGURES},
            True,
            tuple((w, 0.0) for w in exc.waits[:3]),
            None,
            0,
            0.0,
            deadlock=exc.cause,
        )
    e = {
        "throughput_ips": est.throughput_ips,
        "latency_ns": est.latency_ns,
        "energy_per_image_pj": est.energy_per_image_pj,
        "average_power_w": est.average_power_w,
    }
    s = {
        "throughput_ips": sim.throughput_ips,
        "latency_ns": sim.latency_ns[0],
        "energy_per_image_pj": sim.energy_per_image_pj,
        "average_power_w": sim.average_power_w,
    }
    error = {k: 100 * (e[k] - s[k]) / s[k] if s[k] else 0.0 for k in FIGURES}
    flagged = any(abs(v) > tolerance_pct for v in error.values())
    stalls = tuple(sorted(sim.stall_ns().items(), key=lambda kv: -kv[1])[:3])
    return ValidationRow(
        rank,
        arch.name,
        e,
        s,
        error,
        flagged,
        stalls,
        sim.trace_file,
        sim.events,
        sim.wall_s,
        disagreements=tuple(disagreements(plan)),
    )


def validate_design_shipped(
    rank: int,
    arch_data: dict[str, Any],
    network: Network,
    images: int,
    tolerance_pct: float,
    trace_name: str | None,
) -> tuple[ValidationRow, dict[str, bytes]]:
    """:func:`validate_design` on a remote worker: the trace files come back as bytes by name."""
    with tempfile.TemporaryDirectory(prefix="pimsyn-validate-") as folder:
        trace = str(Path(folder) / trace_name) if trace_name is not None else None
        row = validate_design(rank, arch_data, network, images, tolerance_pct, trace)
        return row, {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir())}


def _land(shipped: tuple[ValidationRow, dict[str, bytes]], traces: Path | None) -> ValidationRow:
    """Write the files a remote worker sent back; the row then names the local trace."""
    row, files = shipped
    if traces is None or row.trace is None:
        return row
    for name, data in files.items():
        write_atomic(traces / name, data, force=True)
    return replace(row, trace=str(traces / Path(row.trace).name))


def validate(
    designs: list[Architecture],
    network: Network,
    *,
    images: int = 4,
    tolerance_pct: float = 5.0,
    out: Path | None = None,
    executor: Executor | None = None,
    remote: bool = False,
) -> ValidationReport:
    """Simulate ``designs`` (best first); traces go to ``out/traces/`` when ``out`` is given.

    ``remote``: the executor's workers may be other machines (their trace files are sent back).
    """
    traces = out / "traces" if out is not None else None
    rows: list[ValidationRow] = []
    if executor is None:
        for rank, arch in enumerate(designs):
            trace = str(traces / f"design{rank}.json.gz") if traces is not None else None
            rows.append(
                validate_design(
                    rank, arch.model_dump(mode="json"), network, images, tolerance_pct, trace
                )
            )
    elif remote:
        shipped = [
            executor.submit(
                validate_design_shipped,
                rank,
                arch.model_dump(mode="json"),
                network,
                images,
                tolerance_pct,
                f"design{rank}.json.gz" if traces is not None else None,
            )
            for rank, arch in enumerate(designs)
        ]
        rows = [_land(job.result(), traces) for job in shipped]
    else:
        jobs = [
            executor.submit(
                validate_design,
                rank,
                arch.model_dump(mode="json"),
                network,
                images,
                tolerance_pct,
                None if traces is None else str(traces / f"design{rank}.json.gz"),
            )
            for rank, arch in enumerate(designs)
        ]
        rows = [job.result() for job in jobs]
    report = ValidationReport(tuple(rows), tolerance_pct, images)
    if out is not None:
        write_atomic(
            out / "validation.json", json.dumps(report.to_dict(), indent=1) + "\n", force=True
        )
    return report
