"""The files an exploration writes: arch.json, top.json, report.json (logs: :mod:`synth.runlog`).

Every file is written atomically (a reader never sees half a file; an interruption leaves the old
one); the logs are appended unit by unit, so an interrupted run keeps what it had found and
``report.json`` says whether the run is complete. An existing output folder is never reused
silently.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pimsim.errors import InputError
from pimsim.fileio import write_atomic
from pimsim.model.estimate import CostReport
from synth.explore import Exploration
from synth.front import FRONT
from synth.settings import Settings


def prepare_dir(path: str | Path, force: bool) -> Path:
    """Create the output folder; refuse a non-empty one unless ``force``."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "", "exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not force:
        run = (out / "run.json").exists()
        resume = f"resume it with `pimsyn explore --resume {out}`, " if run else ""
        raise InputError(
            str(out),
            "",
            "already holds a previous run and would be overwritten",
            f"{resume}choose another --out, or pass --force to start over",
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a parent that is a file, no permission, a read-only file system
        raise InputError(
            str(out), "", f"cannot be created ({exc.strerror or exc})", "choose another --out"
        ) from None
    return out


def summary(r: CostReport) -> dict[str, float]:
    """The headline figures of an estimate."""
    return {
        "throughput_ips": r.throughput_ips,
        "tops": r.tops,
        "latency_ns": r.latency_ns,
        "energy_per_image_pj": r.energy_per_image_pj,
        "average_power_w": r.average_power_w,
        "peak_power_w": r.hardware.total_peak_power_w,
        "tops_per_w": r.tops_per_w,
        "peak_tops_per_w": r.hardware.peak_tops_per_w,
        "area_mm2": r.hardware.total_area_mm2,
        "compute_floor_pj": r.floor_total_pj,
        "above_floor_share": r.above_floor_share(r.floor_pj),
    }


def write_results(
    out: Path, ex: Exploration, best: CostReport, baseline: CostReport | None, extra: dict[str, Any]
) -> None:
    """arch.json, top.json (the best designs by the objective, and the Pareto front) and
    report.json."""
    write_atomic(out / "arch.json", ex.best.to_json(), force=True)
    top = {
        "objective": ex.settings.objective,
        "front_objectives": {name: "max" if sense > 0 else "min" for name, sense in FRONT},
        "top": [f.to_dict() for f in ex.top],
        "front": [f.to_dict() for f in ex.front],
    }
    write_atomic(out / "top.json", json.dumps(top, indent=1) + "\n", force=True)
    report: dict[str, Any] = {
        "network": ex.network,
        "settings": ex.settings.to_dict(),
        "seed": ex.settings.seed,
        "evaluations": ex.evaluations,
        "polish_evaluations": ex.polish_evaluations,
        "seconds": ex.seconds,
        "evaluations_per_s": ex.evaluations_per_s,
        "complete": ex.complete,
        "units_done": ex.units_done,
        "units_total": ex.units_total,
        "objective": ex.settings.objective,
        "best": ex.best_found.to_dict(),
        "front_size": len(ex.front),
        "estimate": summary(best),
        "skipped": [list(s) for s in ex.skipped],
        **extra,
    }
    if baseline is not None:
        report["isaac_baseline"] = summary(baseline)
        report["versus_isaac"] = {
            "tops_per_w": best.tops_per_w / baseline.tops_per_w if baseline.tops_per_w else None,
            "throughput": best.throughput_ips / baseline.throughput_ips
            if baseline.throughput_ips
            else None,
        }
    write_atomic(out / "report.json", json.dumps(report, indent=1) + "\n", force=True)


def write_unfinished(
    out: Path,
    network: str,
    settings: Settings,
    units_done: int,
    units_total: int,
    extra: dict[str, Any],
) -> None:
    """report.json of a run interrupted before any design was found."""
    report = {
        "network": network,
        "settings": settings.to_dict(),
        "seed": settings.seed,
        "complete": False,
        "units_done": units_done,
        "units_total": units_total,
        "best": None,
        **extra,
    }
    write_atomic(out / "report.json", json.dumps(report, indent=1) + "\n", force=True)
