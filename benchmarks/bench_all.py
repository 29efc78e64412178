"""The whole job per paper network, in one table: synthesis, estimate, simulation, agreement, memory.

    python benchmarks/bench_all.py [--networks alexnet,vgg13,vgg16,msra_a,resnet18] [--jobs N]
                                   [--images 2] [--quick]

For each network, in a fresh process (so its peak memory is its own): the synthesizer runs with
default settings at the network's budget (``BUDGETS_W``) on ``--jobs`` workers; the best design's
:func:`~pimsim.model.evaluate.evaluate` is timed (evaluations/s, as the search calls it: no
latency); the best design is simulated with ``--images`` images in flight (events/s, wall time per
image) and the estimate's error against the simulation is given for throughput and energy per
image; "above floor" is the share of the design's energy per image above its compute floor (crossbar
reads, DAC and ADC conversions alone). Peak memory is the largest resident set of the process and of its worker processes. The
last line names the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

from rich.console import Console
from rich.table import Table

#: Power budgets, W: the speed targets' (AlexNet at 49 W, VGG16 at 100 W) and the default model's.
BUDGETS_W = {"alexnet": 49.0, "vgg13": 100.0, "vgg16": 100.0, "msra_a": 100.0, "resnet18": 49.0}
COLUMNS = (
    "network",
    "budget",
    "explore",
    "designs/s",
    "evaluate/s",
    "sim events/s",
    "sim s/image",
    "throughput err",
    "energy err",
    "above floor",
    "peak RSS",
)


def one(name: str, jobs: int, images: int, quick: bool) -> dict[str, float | str]:
    """Everything measured for one network (run in its own process)."""
    from pimsim.model.design import design_from_plan
    from pimsim.model.estimate import estimate
    from pimsim.model.evaluate import NetworkTables, evaluate
    from pimsim.model.plan import Plan
    from pimsim.network.zoo import zoo_network
    from pimsim.sim import SimOptions, simulate
    from synth.explore import explore
    from synth.settings import Settings

    net = zoo_network(name)
    budget = BUDGETS_W[name]
    settings = Settings(power_w=budget)
    ex = explore(net, budget, settings.quick() if quick else settings, jobs=jobs)
    plan = Plan(ex.best, net)
    hw = ex.best.hardware
    tables = NetworkTables.build(net, hw.xbar_size, hw.cell_bits, hw.dac_bits)
    design = design_from_plan(plan)
    evaluate(tables, design, latency=False)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < 1.0:
        evaluate(tables, design, latency=False)
        n += 1
    per_eval = (time.perf_counter() - start) / n
    est = estimate(ex.best, plan)
    sim = simulate(plan, SimOptions(images=images))
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "network": name,
        "budget_w": budget,
        "explore_s": ex.seconds,
        "designs_per_s": ex.evaluations_per_s,
        "evaluations_per_s": 1 / per_eval,
        "sim_events_per_s": sim.events_per_s,
        "sim_s_per_image": sim.wall_s / images,
        "throughput_err_pct": 100 * (est.throughput_ips - sim.throughput_ips) / sim.throughput_ips,
        "energy_err_pct": 100
        * (est.energy_per_image_pj - sim.energy_per_image_pj)
        / sim.energy_per_image_pj,
        "above_floor_pct": 100 * est.above_floor_share(est.floor_pj),
        "peak_rss_mb": max(own, workers) / 1024,
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        memory = f", {mem:.0f} GB RAM"
    except (ValueError, OSError):
        memory = ""
    return (
        f"machine: {cpu}, {os.cpu_count()} cores{memory}, {platform.system()} "
        f"{platform.release()}, python {sys.version.split()[0]}; "
        f"{time.strftime('%Y-%m-%d')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", default=",".join(BUDGETS_W))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="the --quick search (a smoke test)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # measure one network, print JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.jobs, args.images, args.quick)))
        return
    console = Console(width=200)
    table = Table(title="pimsyn: the whole job per network", title_justify="left")
    for col in COLUMNS:
        table.add_column(col, justify="left" if col == "network" else "right")
    for name in args.networks.split(","):
        cmd = [
            sys.executable,
            __file__,
            "--one",
            name,
            "--jobs",
            str(args.jobs),
            "--images",
            str(args.images),
        ] + (["--quick"] if args.quick else [])
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            table.add_row(name, "", f"failed: {last[:120]}", *[""] * (len(COLUMNS) - 3))
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        table.add_row(
            name,
            f"{r['budget_w']:g} W",
            f"{r['explore_s']:.0f} s",
            f"{r['designs_per_s']:,.0f}",
            f"{r['evaluations_per_s']:,.0f}",
            f"{r['sim_events_per_s']:,.0f}",
            f"{r['sim_s_per_image']:.1f}",
            f"{r['throughput_err_pct']:+.2f}%",
            f"{r['energy_err_pct']:+.2f}%",
            f"{r['above_floor_pct']:.1f}%",
            f"{r['peak_rss_mb']:,.0f} MB",
        )
        console.print(f"  {name} done", style="dim")
    console.print(table)
    print(
        f"{machine()}; --jobs {args.jobs}, --images {args.images}"
        + (", --quick" if args.quick else "")
    )


if __name__ == "__main__":
    main()
