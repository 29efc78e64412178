"""Plots of an exploration (optional extra ``plot`` = matplotlib): PNG and SVG of each figure.

- ``designs``: every explored design as effective efficiency vs throughput, the run's Pareto front
  (top.json's, over :data:`synth.front.FRONT`: efficiency, throughput, peak power, area; coloured by
  peak power, since a front over more figures seen on two axes has members below the 2-D envelope),
  and the chosen design marked;
- ``breakdown``: energy per image and peak power by component, chosen design vs the ISAAC baseline;
- ``layers``: per-layer duplication and utilisation (time per image / pipeline period).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from pimsim.errors import InputError
from pimsim.fileio import save_figure
from pimsim.model.estimate import CostReport
from synth.front import FRONT, non_dominated


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
    values = np.array(points, dtype=float).reshape(-1, 2)
    return sorted((float(x), float(y)) for x, y in values[non_dominated(values)])


def _front(out: Path) -> list[dict[str, Any]]:
    """The run's Pareto front from top.json (empty for a run written before it had one)."""
    path = out / "top.json"
    data = json.loads(path.read_text()) if path.exists() else None
    return data.get("front", []) if isinstance(data, dict) else []


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
        ax.scatter(
            *zip(*points, strict=True), s=6, alpha=0.35, label=f"explored designs ({len(points):,})"
        )
        envelope = pareto(points)
        ax.plot(
            *zip(*envelope, strict=True),
            color="tab:orange",
            lw=1,
            label="efficiency-throughput envelope",
        )
    front = _front(out)
    if front:
        marks = ax.scatter(
            [f["throughput_ips"] for f in front],
            [f["tops_per_w"] for f in front],
            c=[f["peak_power_w"] for f in front],
            cmap="viridis",
            s=24,
            edgecolors="black",
            linewidths=0.4,
            zorder=4,
            label=f"Pareto front ({len(front)}; over {', '.join(name for name, _ in FRONT)})",
        )
        fig.colorbar(marks, ax=ax, label="peak power (W)")
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
    weight = [layer for layer in best.layers if layer.kind in ("conv", "fc")]
    xs = range(len(weight))
    ax.bar(xs, [layer.dup for layer in weight], color="tab:blue", label="duplication")
    ax.set_yscale("log")
    ax.set_ylabel("duplication")
    ax2 = ax.twinx()
    ax2.plot(
        xs,
        [layer.time_per_image_ns / best.period_ns for layer in weight],
        color="tab:red",
        marker="o",
        label="utilisation",
    )
    ax2.set_ylim(0, 1.05)
    ax2.set_ylabel("utilisation (time per image / period)")
    ax.set_xticks(list(xs), [layer.name for layer in weight], rotation=90, fontsize=7)
    ax.set_title(f"{best.arch}: per-layer duplication and utilisation")
    written += _save(fig, out, "layers")
    plt.close(fig)
    return written
