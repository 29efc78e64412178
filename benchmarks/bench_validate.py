"""Estimate vs simulation on the paper's networks: synthesized designs and ISAAC baselines.

    python benchmarks/bench_validate.py [--networks alexnet,vgg13,vgg16,msra_a,resnet18]
                                        [--images 2] [--jobs N]

For each network the ISAAC baseline is mapped (``pimsyn baseline isaac``), and a design is
synthesized at the baseline's peak power with the ``--quick`` search (the agreement, not the search,
is measured here). Both are estimated and simulated; the table gives the estimate's error against the
simulation (the truth) on throughput, energy per image and latency.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from rich.console import Console
from rich.table import Table

from pimsim.model.estimate import estimate
from pimsim.model.plan import Plan
from pimsim.network.zoo import zoo_network
from pimsim.sim import SimOptions, simulate
from synth.baseline import isaac_baseline
from synth.explore import explore
from synth.settings import Settings


def _err(est: float, sim: float) -> str:
    return f"{100 * (est - sim) / sim:+.2f}%" if sim else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", default="alexnet,vgg13,vgg16,msra_a,resnet18")
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    console = Console(width=200)
    table = Table(title="estimate vs simulation", title_justify="left")
    for col in (
        "network",
        "design",
        "images/s (sim)",
        "throughput err",
        "energy err",
        "latency err",
        "sim events",
        "sim wall s",
    ):
        table.add_column(col, justify="left" if col in ("network", "design") else "right")
    for name in args.networks.split(","):
        net = zoo_network(name)
        isaac = isaac_baseline(net)
        budget = estimate(isaac, Plan(isaac, net)).hardware.total_peak_power_w
        ex = explore(net, budget, Settings(power_w=budget).quick(), jobs=args.jobs)
        for label, arch in (("synthesized", ex.best), ("ISAAC", isaac)):
            plan = Plan(arch, net)
            est = estimate(arch, plan)
            start = time.perf_counter()
            try:
                sim = simulate(plan, SimOptions(images=args.images))
            except Exception as exc:  # noqa: BLE001 - report and go on
                table.add_row(name, label, f"failed: {str(exc)[:60]}", "", "", "", "", "")
                continue
            table.add_row(
                name,
                f"{label} ({budget:.0f} W)",
                f"{sim.throughput_ips:,.1f}",
                _err(est.throughput_ips, sim.throughput_ips),
                _err(est.energy_per_image_pj, sim.energy_per_image_pj),
                _err(est.latency_ns, sim.latency_ns[0]),
                f"{sim.events:,}",
                f"{time.perf_counter() - start:.1f}",
            )
            console.print(f"  {name} {label} done", style="dim")
    console.print(table)
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, images {args.images}")


if __name__ == "__main__":
    main()
