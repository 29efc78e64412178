"""Benchmark the synthesizer and reproduce the paper's comparisons.

    python benchmarks/bench_synth.py [--networks alexnet,vgg13,...] [--jobs N] [--quick]
        [--budget W] [--variants "default,heuristic dup"] [--no-speed]

For each network: the ISAAC baseline (``pimsyn baseline isaac``) is estimated; the synthesizer then
gets the baseline's peak power as its budget (comparison at equal power) and runs with default
settings, and with each ablation: ``--dup heuristic`` (SA vs the proportional seed), ``annealing
only`` (no balanced duplication vectors in the polish: what the SA alone adds), ``--macros
unified`` (specialized vs identical macros) and ``--no-sharing``. Prints one table of times, designs/s,
efficiency and throughput ratios, then the speed targets (AlexNet at 49 W, VGG16 at 100 W).
``--budget W`` gives every network that budget instead (the SA ablation of docs/search.md uses
49 W); ``--variants`` runs only some of the ablations; ``--no-speed`` skips the speed table.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace

from rich.console import Console
from rich.table import Table

from pimsim.model.estimate import estimate
from pimsim.model.plan import Plan
from pimsim.network.zoo import zoo_network
from synth.baseline import isaac_baseline
from synth.explore import explore
from synth.settings import Settings

ABLATIONS = {
    "default": {},
    "heuristic dup": {"dup": "heuristic"},
    "annealing only": {"rungs": 0},  # the duplication search without the polish's balanced vectors
    "unified macros": {"macros": "unified"},
    "no sharing": {"sharing": False},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", default="alexnet,vgg13,vgg16,msra_a,resnet18")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--budget", type=float, help="W for every network (default ISAAC's peak)")
    parser.add_argument("--variants", default=",".join(ABLATIONS), help="comma-separated")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed-target table")
    args = parser.parse_args()
    variants = {v: ABLATIONS[v] for v in args.variants.split(",")}
    console = Console(width=200)
    table = Table(title="synthesized vs ISAAC at equal power, and ablations", title_justify="left")
    for col in (
        "network",
        "budget W" if args.budget else "budget W (ISAAC peak)",
        "variant",
        "seconds",
        "designs/s",
        "TOPS/W",
        "TOPS",
        "vs ISAAC TOPS/W",
        "vs ISAAC throughput",
        "vs default TOPS/W",
        "vs default throughput",
    ):
        table.add_column(col, justify="left" if col in ("network", "variant") else "right")
    for name in args.networks.split(","):
        net = zoo_network(name)
        isaac = isaac_baseline(net)
        base = estimate(isaac, Plan(isaac, net))
        budget = args.budget or base.hardware.total_peak_power_w
        table.add_row(
            name,
            f"{budget:.1f}",
            "ISAAC baseline",
            "",
            "",
            f"{base.tops_per_w:.3f}",
            f"{base.tops:.2f}",
            "1",
            "1",
            "",
            "",
        )
        reference = None
        for variant, change in variants.items():
            settings = replace(Settings(power_w=budget), **change)
            if args.quick:
                settings = settings.quick()
            start = time.perf_counter()
            ex = explore(net, budget, settings, jobs=args.jobs)
            seconds = time.perf_counter() - start
            r = estimate(ex.best, Plan(ex.best, net))
            console.print(f"  {name} {variant}: {r.tops_per_w:.4f} TOPS/W", style="dim")
            reference = reference or r
            table.add_row(
                "",
                "",
                variant,
                f"{seconds:.1f}",
                f"{ex.evaluations_per_s:,.0f}",
                f"{r.tops_per_w:.3f}",
                f"{r.tops:.2f}",
                # at another budget than ISAAC's peak power the comparison is not fair: not shown
                "" if args.budget else f"{r.tops_per_w / base.tops_per_w:.2f}x",
                "" if args.budget else f"{r.throughput_ips / base.throughput_ips:.2f}x",
                f"{r.tops_per_w / reference.tops_per_w:.2f}x",
                f"{r.throughput_ips / reference.throughput_ips:.2f}x",
            )
            console.print(f"  {name} {variant}: {seconds:.1f} s", style="dim")
    console.print(table)
    if args.no_speed:
        print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, jobs {args.jobs}")
        return
    speed = Table(title="speed targets (default settings)", title_justify="left")
    for col in ("network", "budget W", "seconds", "designs evaluated", "designs/s", "target"):
        speed.add_column(col, justify="left" if col == "network" else "right")
    for name, watts, target in (
        ("alexnet", 49.0, "< 60 s"),
        ("vgg16", 100.0, "< 300 s"),
        ("resnet18", 49.0, ""),
    ):
        start = time.perf_counter()
        ex = explore(zoo_network(name), watts, Settings(power_w=watts), jobs=args.jobs)
        speed.add_row(
            name,
            f"{watts:g}",
            f"{time.perf_counter() - start:.1f}",
            f"{ex.evaluations:,}",
            f"{ex.evaluations_per_s:,.0f}",
            target,
        )
    console.print(speed)
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, jobs {args.jobs}")


if __name__ == "__main__":
    main()
