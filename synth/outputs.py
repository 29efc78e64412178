"""The files an exploration writes: arch.json, top.json, exploration.jsonl, report.json.

Every file is written atomically; the log is appended line by line as work units finish, so an
interrupted run keeps what it had found. An existing output folder is never reused silently.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from pimsim.errors import InputError
from pimsim.fileio import write_atomic
from pimsim.model.estimate import CostReport
from synth.explore import Exploration


def prepare_dir(path: str | Path, force: bool) -> Path:
    """Create the output folder; refuse a non-empty one unless ``force``."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "", "exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not force:
        raise InputError(str(out), "", "already holds a previous run and would be overwritten",
                         "choose another --out, or pass --force")
    out.mkdir(parents=True, exist_ok=True)
    return out


class Log:
    """``exploration.jsonl``: one line per fully evaluated design, flushed as units finish."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] = open(path, "w", encoding="utf-8")  # noqa: SIM115

    def write(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            self._handle.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


def summary(r: CostReport) -> dict[str, float]:
    """The headline figures of an estimate."""
    return {"throughput_ips": r.throughput_ips, "tops": r.tops, "latency_ns": r.latency_ns,
            "energy_per_image_pj": r.energy_per_image_pj, "average_power_w": r.average_power_w,
            "peak_power_w": r.hardware.total_peak_power_w, "tops_per_w": r.tops_per_w,
            "peak_tops_per_w": r.hardware.peak_tops_per_w, "area_mm2": r.hardware.total_area_mm2}


def write_results(out: Path, ex: Exploration, best: CostReport, baseline: CostReport | None,
                  extra: dict[str, Any]) -> None:
    """arch.json, top.json and report.json."""
    write_atomic(out / "arch.json", ex.best.to_json(), force=True)
    write_atomic(out / "top.json", json.dumps([f.to_dict() for f in ex.top], indent=1) + "\n",
                 force=True)
    report: dict[str, Any] = {
        "network": ex.network, "settings": ex.settings.to_dict(), "seed": ex.settings.seed,
        "evaluations": ex.evaluations, "seconds": ex.seconds,
        "evaluations_per_s": ex.evaluations_per_s, "best": ex.best_found.to_dict(),
        "estimate": summary(best), "skipped": [list(s) for s in ex.skipped], **extra}
    if baseline is not None:
        report["isaac_baseline"] = summary(baseline)
        report["versus_isaac"] = {
            "tops_per_w": best.tops_per_w / baseline.tops_per_w if baseline.tops_per_w else None,
            "throughput": best.throughput_ips / baseline.throughput_ips
            if baseline.throughput_ips else None}
    write_atomic(out / "report.json", json.dumps(report, indent=1) + "\n", force=True)
