"""Benchmark the analytical estimate: one kernel evaluation of a design, and a full report.

    python benchmarks/bench_estimate.py

For each network, a design is made with ``pimsim.arch.simple`` (every conv layer duplicated 4x,
256-crossbar macros, 128x128 crossbars with 2-bit cells and 1-bit DACs); the per-network tables are
built once (as the synthesizer does) and :func:`evaluate` is timed over many repetitions, with and
without the latency pass (the synthesizer's fitness needs only period and energy). Target: one VGG16
evaluation well under 1 ms. Prints one table.
"""

from __future__ import annotations

import os
import sys
import time

from rich.console import Console
from rich.table import Table

from pimsim.arch.simple import simple_design
from pimsim.components import load_library
from pimsim.model.design import design_from_plan
from pimsim.model.estimate import estimate
from pimsim.model.evaluate import NetworkTables, evaluate
from pimsim.model.plan import Plan
from pimsim.network.zoo import zoo_network


def _per_call(fn, seconds: float = 1.0) -> float:  # type: ignore[no-untyped-def]
    fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return (time.perf_counter() - start) / n


def main() -> None:
    lib = load_library("pimsyn")
    table = Table(title="analytical estimate", title_justify="left")
    for col in (
        "network",
        "layers",
        "macros",
        "tables build",
        "evaluate",
        "evaluate (no latency)",
        "evaluations/s",
        "full report",
        "target",
    ):
        table.add_column(col, justify="left" if col in ("network", "target") else "right")
    for name in ("alexnet", "vgg16", "resnet18", "resnet50", "msra_a"):
        net = zoo_network(name)
        dups = {l.name: 4 for l in net.weight_layers if l.kind.value == "conv"}
        arch = simple_design(net, name, lib, dups=dups, max_crossbars=256, buffer_kib=256)
        plan = Plan(arch, net)
        hw = arch.hardware
        build = _per_call(
            lambda: NetworkTables.build(net, hw.xbar_size, hw.cell_bits, hw.dac_bits), 0.5
        )
        tables = NetworkTables.build(net, hw.xbar_size, hw.cell_bits, hw.dac_bits)
        design = design_from_plan(plan)
        full = _per_call(lambda: evaluate(tables, design))
        fast = _per_call(lambda: evaluate(tables, design, latency=False))
        report = _per_call(lambda: estimate(arch, plan), 0.5)
        table.add_row(
            name,
            str(len(net)),
            str(hw.n_macros),
            f"{build * 1e3:.2f} ms",
            f"{full * 1e3:.3f} ms",
            f"{fast * 1e3:.3f} ms",
            f"{1 / fast:,.0f}",
            f"{report * 1e3:.1f} ms",
            "< 1 ms" if name == "vgg16" else "",
        )
    Console(width=160).print(table)
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
