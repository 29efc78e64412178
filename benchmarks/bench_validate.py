"""Estimate vs simulation on the paper's networks: synthesized designs and ISAAC baselines.

    python benchmarks/bench_validate.py [--networks alexnet,vgg13,vgg16,msra_a,resnet18]
                                        [--designs synthesized,isaac] [--images 4] [--jobs N]
                                        [--quick] [--arch-dir DIR] [--markdown]

For each network a design is synthesized with the DEFAULT search settings at the network's budget
(``BUDGETS_W`` of ``bench_all.py``, the budgets every benchmark uses; ``--quick`` is a smoke run
with the quick search), and the ISAAC baseline is mapped (``pimsyn baseline isaac``, its own chip
count). Both are estimated and simulated with ``--images`` images; the table gives the estimate's
error against the simulation (the truth) on throughput, energy per image and the first image's
latency, and the conditions :func:`pimsim.diagnose.disagreements` finds in the design (the
catalogue of docs/disagreements.md), counted by kind; their full lines follow the table.
``--arch-dir`` keeps the synthesized designs (``<network>-<budget>w.json``) and reuses them on a
rerun, so that a changed estimate can be re-validated without searching again. Rows are printed as
they finish (one network at a time) with their wall times: search and simulation.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import time
from collections import Counter
from pathlib import Path

from bench_all import BUDGETS_W, machine
from rich.console import Console
from rich.table import Table

from pimsim.arch.check import load_architecture
from pimsim.arch.schema import Architecture
from pimsim.diagnose import disagreements
from pimsim.model.estimate import estimate
from pimsim.model.plan import Plan
from pimsim.network.graph import Network
from pimsim.network.zoo import zoo_network
from pimsim.sim import SimOptions, simulate
from synth.baseline import isaac_baseline
from synth.explore import explore
from synth.settings import Settings

COLUMNS = (
    "network",
    "design",
    "images/s (sim)",
    "throughput err",
    "energy err",
    "latency err",
    "flags",
    "search s",
    "sim s",
)


def err_pct(est: float, sim: float) -> float:
    """The estimate's error against the simulation (the truth), %."""
    return 100 * (est - sim) / sim


def flag_kinds(lines: list[str]) -> str:
    """The disagreement lines counted by kind (their leading words, before a name or a colon)."""
    kinds = Counter(re.split(r"[:('(]", line, maxsplit=1)[0].strip() for line in lines)
    return ", ".join(f"{k} x{n}" if n > 1 else k for k, n in kinds.items()) or "-"


def synthesized(
    net: Network, budget: float, quick: bool, jobs: int, arch_dir: Path | None
) -> tuple[Architecture, float]:
    """The synthesized design of ``net`` at ``budget`` W and the search's wall time (0: reused)."""
    file = (
        arch_dir / f"{net.name}-{budget:g}w{'-quick' if quick else ''}.json" if arch_dir else None
    )
    if file is not None and file.exists():
        return load_architecture(file).arch, 0.0
    settings = Settings(power_w=budget)
    start = time.perf_counter()
    ex = explore(net, budget, settings.quick() if quick else settings, jobs=jobs)
    wall = time.perf_counter() - start
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(ex.best.to_json(), encoding="utf-8")
    return ex.best, wall


def row(
    net: Network, label: str, arch: Architecture, images: int, search_s: float
) -> tuple[list[str], list[str]]:
    """One table row: the estimate's errors, the design's flags, the wall times."""
    plan = Plan(arch, net)
    est = estimate(arch, plan)
    flags = disagreements(plan)
    start = time.perf_counter()
    sim = simulate(plan, SimOptions(images=images))
    sim_s = time.perf_counter() - start
    power = est.hardware.total_peak_power_w
    return [
        net.name,
        f"{label} ({power:.0f} W)",
        f"{sim.throughput_ips:,.1f}",
        f"{err_pct(est.throughput_ips, sim.throughput_ips):+.2f}%",
        f"{err_pct(est.energy_per_image_pj, sim.energy_per_image_pj):+.2f}%",
        f"{err_pct(est.latency_ns, sim.latency_ns[0]):+.1f}%",
        flag_kinds(flags),
        f"{search_s:.0f}" if search_s else ("reused" if label.startswith("synth") else "-"),
        f"{sim_s:.0f}" + (f" ({sim.stopped})" if sim.stopped else ""),
    ], flags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", default=",".join(BUDGETS_W))
    parser.add_argument(
        "--designs", default="synthesized,isaac", help="synthesized, isaac, both or a comma list"
    )
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true", help="quick search (smoke run)")
    parser.add_argument("--arch-dir", type=Path, help="keep / reuse the synthesized designs here")
    parser.add_argument("--markdown", action="store_true", help="also print the rows as markdown")
    args = parser.parse_args()
    designs = {"synthesized", "isaac"} if args.designs == "both" else set(args.designs.split(","))
    if not designs <= {"synthesized", "isaac"}:
        parser.error(f"--designs {args.designs}: say synthesized, isaac or both")
    console = Console(width=220)
    table = Table(title="estimate vs simulation (error = (estimate - sim) / sim)")
    for col in COLUMNS:
        table.add_column(col, justify="left" if col in ("network", "design", "flags") else "right")
    rows: list[list[str]] = []
    details: list[str] = []
    for name in args.networks.split(","):
        net = zoo_network(name)
        todo: list[tuple[str, Architecture, float]] = []
        if "synthesized" in designs:
            arch, search_s = synthesized(net, BUDGETS_W[name], args.quick, args.jobs, args.arch_dir)
            todo.append(("synthesized" + (" quick" if args.quick else ""), arch, search_s))
        if "isaac" in designs:
            todo.append(("ISAAC", isaac_baseline(net), 0.0))
        for label, arch, search_s in todo:
            cells, flags = row(net, label, arch, args.images, search_s)
            rows.append(cells)
            table.add_row(*cells)
            details += [f"{name} {label}: {line}" for line in flags]
            console.print("  " + " | ".join(cells), style="dim", highlight=False)
    console.print(table)
    for line in details:
        console.print(f"  {line}", highlight=False, soft_wrap=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    console.print(f"{machine()}; commit {commit or '?'}; images {args.images}", highlight=False)
    if args.markdown:
        print("| " + " | ".join(COLUMNS) + " |")
        print("|" + " --- |" * len(COLUMNS))
        for cells in rows:
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
