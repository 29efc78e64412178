"""Benchmark the analytical estimate: designs per second per core, one at a time and in batches.

    python benchmarks/bench_estimate.py [--seconds 0.5] [--designs 64]

**Designs/s** (the synthesizer's view). For each of the five paper networks at its budget, one
combination of the outer loop (ratio 0.2, or 0.3 or 0.4 if the weights need it; 256x256 crossbars, 2-bit cells, 1-bit DACs) and
``--designs`` candidate designs made the way the search makes them: duplication vectors by the
annealing's neighbour move from the proportional seed, partitions by the EA's mutations from the
default one (only designs that fit the budget). Timed, in this one process (so per core):

- ``evaluate``: :func:`~pimsim.model.evaluate.evaluate` of each design alone, without latency (the
  search's fitness needs period and energy only);
- ``batch 16`` / ``batch 64``: the search's path after stage 4, over batches of 16 or 64 designs:
  ``synth.design.design_stack`` lays the batch out from its arrays and
  :func:`~pimsim.model.evaluate.evaluate_stack` evaluates it; both are timed (the EA's
  generations are 8 to 12 new designs, the screening 30). What they read is made before the
  timed region as :func:`~synth.design.score_passes` makes it: one ``assemble_batch``,
  ``allocate_batch`` and ``inventory_batch`` call per batch, whose batch arrays
  ``design_stack`` reads as they are (laid out one design at a time, it concatenates them);
- ``score`` / ``score batch 16``: the whole candidate as the search pays for it: macro layout,
  stage-4 allocation (bisection on the period within the budget), the inventory check, the energy
  table and the evaluation, one at a time and in batches of 16.

Target: at least 10,000 designs/s per core for the batched evaluation.

**Report path**: for each network, a design from ``pimsim.arch.simple`` (every conv layer
duplicated 4x, 256-crossbar macros); the per-network tables' build time, one evaluation with and
without latency, and the full report (:func:`~pimsim.model.estimate.estimate`).

The process keeps the memory it frees for its next arrays, as the ``pimsyn`` console script does
(:func:`pimsim.heap.keep_heap`). The last line names the machine and its load average: on a shared
machine the figures are noisy.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable

import numpy as np
from bench_all import BUDGETS_W, machine
from rich.console import Console
from rich.table import Table

from pimsim.arch.simple import simple_design
from pimsim.components import load_library
from pimsim.heap import keep_heap
from pimsim.model.design import design_from_plan
from pimsim.model.estimate import estimate
from pimsim.model.evaluate import DesignArrays, NetworkTables, evaluate, evaluate_stack
from pimsim.model.plan import Plan
from pimsim.network.zoo import zoo_network
from synth.context import ComboContext
from synth.design import (
    Allocation,
    Partition,
    allocate_batch,
    assemble,
    assemble_batch,
    design_arrays,
    design_stack,
    inventory_batch,
    score,
    score_batch,
)
from synth.sample import random_candidates
from synth.settings import Combo

PAPER_NETWORKS = ("alexnet", "vgg13", "vgg16", "msra_a", "resnet18")
RATIOS = (0.2, 0.3, 0.4)


def _rate(fn: Callable[[], object], designs: int, seconds: float) -> float:
    """Designs per second of this process's CPU time (per core, whatever else runs on the
    machine): ``fn`` handles ``designs`` designs per call; repeated for ``seconds`` of CPU time."""
    fn()
    n, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        fn()
        n += 1
    return n * designs / (time.process_time() - start)


def population(
    name: str, count: int, rng: random.Random
) -> tuple[ComboContext, list[np.ndarray], list[Partition], list[DesignArrays]]:
    """``count`` feasible candidates of ``name`` as the search would make them (see the module)."""
    lib, net = load_library("pimsyn"), zoo_network(name)
    for ratio in RATIOS:  # the first whose crossbar share holds the weights
        ctx = ComboContext.build(Combo(0, ratio, 2, 256, 1), net, lib, BUDGETS_W[name])
        problem = ctx.dup_problem()
        if problem.minimum <= problem.budget:
            break
    dups, parts = random_candidates(ctx, BUDGETS_W[name], count, rng, tries=100 * count)
    arrays = []
    for dup, p in zip(dups, parts, strict=True):
        macros = assemble(ctx, dup, p)
        (alloc,) = allocate_batch(ctx, [dup], [macros], BUDGETS_W[name], False)
        assert isinstance(alloc, Allocation)
        arrays.append(design_arrays(ctx, dup, macros, alloc))
    if not dups:
        raise SystemExit(f"no candidate of {name} fits {BUDGETS_W[name]} W")
    return ctx, dups, parts, arrays


def _measure(name: str, seconds: float, count: int) -> list[str]:
    """One row of the designs/s table."""
    ctx, dups, parts, arrays = population(name, count, random.Random(0))
    t, budget, count = ctx.tables, BUDGETS_W[name], len(arrays)

    def batches(size: int, fn: Callable[[int, int], object]) -> Callable[[], None]:
        def run() -> None:
            for i in range(0, count, size):
                fn(i, min(i + size, count))

        return run

    def stacked(size: int) -> Callable[[], None]:
        # what the layout, stage 4 and the inventory check hand to design_stack, one call each
        # per batch as in the search (synth.design.score_passes; not timed)
        ready = []
        for i in range(0, count, size):
            j = min(i + size, count)
            macros = assemble_batch(ctx, dups[i:j], parts[i:j])
            allocs = allocate_batch(ctx, dups[i:j], macros, budget, False)
            ready.append((dups[i:j], macros, allocs, inventory_batch(ctx, allocs).static_w))

        def run() -> None:
            for batch in ready:
                evaluate_stack(t, design_stack(ctx, *batch))

        return run

    single = _rate(lambda: [evaluate(t, d, latency=False) for d in arrays], count, seconds)
    b16 = _rate(stacked(16), count, seconds)
    b64 = _rate(stacked(64), count, seconds)
    whole = _rate(
        lambda: [score(ctx, d, p, budget, False) for d, p in zip(dups, parts, strict=True)],
        count,
        seconds,
    )
    whole16 = _rate(
        batches(16, lambda i, j: score_batch(ctx, dups[i:j], parts[i:j], budget, False)),
        count,
        seconds,
    )
    return [
        name,
        str(len(t.names)),
        f"{np.mean([len(d.macros.adcs) for d in arrays]):.0f}",
        f"{single:,.0f}",
        f"{b16:,.0f}",
        f"{b64:,.0f}",
        f"{whole:,.0f}",
        f"{whole16:,.0f}",
        f"{b64 / single:.1f}x",
    ]


def designs_per_s(seconds: float, count: int) -> Table:
    """The synthesizer's view: designs/s per core, alone and batched."""
    table = Table(title="designs/s per core (one process)", title_justify="left")
    for col in (
        "network",
        "layers",
        "macros (mean)",
        "evaluate",
        "batch 16",
        "batch 64",
        "score",
        "score batch 16",
        "batch speed-up",
    ):
        table.add_column(col, justify="left" if col == "network" else "right")
    for name in PAPER_NETWORKS:
        table.add_row(*_measure(name, seconds, count))
    return table


def _report_row(name: str) -> list[str]:
    """One row of the report-path table."""
    net = zoo_network(name)
    dups = {x.name: 4 for x in net.weight_layers if x.kind.value == "conv"}
    arch = simple_design(
        net, name, load_library("pimsyn"), dups=dups, max_crossbars=256, buffer_kib=256
    )
    plan = Plan(arch, net)
    hw = arch.hardware
    build = 1 / _rate(
        lambda: NetworkTables.build(net, hw.xbar_size, hw.cell_bits, hw.dac_bits), 1, 0.3
    )
    tables = NetworkTables.build(net, hw.xbar_size, hw.cell_bits, hw.dac_bits)
    design = design_from_plan(plan)
    full = 1 / _rate(lambda: evaluate(tables, design), 1, 0.3)
    fast = 1 / _rate(lambda: evaluate(tables, design, latency=False), 1, 0.3)
    report = 1 / _rate(lambda: estimate(arch, plan), 1, 0.3)
    return [
        name,
        str(len(net)),
        str(hw.n_macros),
        f"{build * 1e3:.2f} ms",
        f"{full * 1e3:.3f} ms",
        f"{fast * 1e3:.3f} ms",
        f"{report * 1e3:.1f} ms",
    ]


def report_path() -> Table:
    """One design per network through the report path."""
    table = Table(title="analytical estimate (report path)", title_justify="left")
    for col in ("network", "layers", "macros", "tables build", "evaluate", "no latency", "report"):
        table.add_column(col, justify="left" if col == "network" else "right")
    for name in PAPER_NETWORKS:
        table.add_row(*_report_row(name))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement")
    parser.add_argument("--designs", type=int, default=64, help="candidate designs per network")
    args = parser.parse_args()
    keep_heap()  # as the search's processes (the pimsyn console script)
    console = Console(width=160)
    console.print(designs_per_s(args.seconds, args.designs))
    console.print(report_path())
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{machine()}; load average {load} (a shared machine gives noisy figures)")


if __name__ == "__main__":
    main()
