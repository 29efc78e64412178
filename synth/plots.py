"""Plots of an exploration (optional extra ``plot`` = matplotlib): PNG and SVG of each figure.

- ``designs``: every explored design as effective efficiency vs throughput, the Pareto front, and the
  chosen design marked;
- ``breakdown``: energy per image and peak power by component, chosen design vs the ISAAC baseline;
- ``layers``: per-layer duplication and utilisation (time per image / pipeline period).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pimsim.errors import InputError
from pimsim.fileio import save_figure
from pimsim.model.estimate import CostReport


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError(
            "plots", "", "need matplotlib, which is not installed", "pip install 'pimsyn[plot]'"
        ) from None
    return plt


def pareto(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points not dominated in both coordinates (higher is better), by increasing x."""
    front: list[tuple[float, float]] = []
    for x, y in sorted(points, key=lambda p: (-p[0], -p[1])):
        if not front or y > front[-1][1]:
            front.append((x, y))
    return sorted(front)


def _save(fig: Any, out: Path, name: str) -> list[Path]:
    return save_figure(fig, out / name)


def plot_run(run_dir: str | Path, best: CostReport, baseline: CostReport | None) -> list[Path]:
    """Write the three figures of a run folder into it; return the files written."""
    plt = _pyplot()
    out = Path(run_dir)
    log = out / "exploration.jsonl"
    if not log.exists():
        raise InputError(
            str(out), "", "holds no exploration.jsonl", "give a `pimsyn explore` output folder"
        )
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    written: list[Path] = []

    fig, ax = plt.subplots(figsize=(7, 4.5))
    points = [(r["throughput_ips"], r["tops_per_w"]) for r in records]
    if points:
        ax.scatter(*zip(*points), s=6, alpha=0.35, label=f"explored designs ({len(points):,})")
        front = pareto(points)
        ax.plot(*zip(*front), color="tab:orange", lw=1.5, marker="o", ms=3, label="Pareto front")
    ax.scatter(
        [best.throughput_ips],
        [best.tops_per_w],
        marker="*",
        s=220,
        color="tab:red",
        zorder=5,
        label="chosen design",
    )
    if baseline is not None:
        ax.scatter(
            [baseline.throughput_ips],
            [baseline.tops_per_w],
            marker="s",
            s=60,
            color="black",
            zorder=5,
            label="ISAAC baseline",
        )
    ax.set_xscale("log")
    ax.set_xlabel("throughput (images/s)")
    ax.set_ylabel("effective efficiency (TOPS/W)")
    ax.set_title(f"{best.network}: explored designs")
    ax.legend(fontsize=8)
    written += _save(fig, out, "designs")
    plt.close(fig)

    reports = [best] + ([baseline] if baseline is not None else [])
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    comps = sorted(
        {str(c) for r in reports for c in r.energy_pj}
        | {str(c) for r in reports for c in r.hardware.peak_power_w}
        | {str(c) for r in reports for c in r.hardware.area_mm2}
    )
    width = 0.8 / len(reports)
    for k, r in enumerate(reports):
        xs = [i + k * width for i in range(len(comps))]
        energy = {str(c): v for c, v in r.energy_pj.items()}
        power = {str(c): v for c, v in r.hardware.peak_power_w.items()}
        axes[0].bar(xs, [energy.get(c, 0.0) / 1e6 for c in comps], width, label=r.arch)
        axes[1].bar(xs, [power.get(c, 0.0) for c in comps], width, label=r.arch)
        area = {str(c): v for c, v in r.hardware.area_mm2.items()}
        axes[2].bar(xs, [area.get(c, 0.0) for c in comps], width, label=r.arch)
    for ax, title, unit in (
        (axes[0], "energy per image", "uJ"),
        (axes[1], "peak power", "W"),
        (axes[2], "area", "mm^2"),
    ):
        ax.set_xticks(
            [i + 0.4 - width / 2 for i in range(len(comps))], comps, rotation=45, ha="right"
        )
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.legend(fontsize=8)
    written += _save(fig, out, "breakdown")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(max(6, 0.35 * len(best.layers)), 4.5))
    weight = [l for l in best.layers if l.kind in ("conv", "fc")]
    xs = range(len(weight))
    ax.bar(xs, [l.dup for l in weight], color="tab:blue", label="duplication")
    ax.set_yscale("log")
    ax.set_ylabel("duplication")
    ax2 = ax.twinx()
    ax2.plot(
        xs,
        [l.time_per_image_ns / best.period_ns for l in weight],
        color="tab:red",
        marker="o",
        label="utilisation",
    )
    ax2.set_ylim(0, 1.05)
    ax2.set_ylabel("utilisation (time per image / period)")
    ax.set_xticks(list(xs), [l.name for l in weight], rotation=90, fontsize=7)
    ax.set_title(f"{best.arch}: per-layer duplication and utilisation")
    written += _save(fig, out, "layers")
    plt.close(fig)
    return written
