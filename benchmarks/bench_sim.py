"""Benchmark the cycle-level simulator: wall time, events/s, and agreement with the estimate.

    python benchmarks/bench_sim.py                    # ResNet18 and VGG16 at 224x224, 4 images
    python benchmarks/bench_sim.py --arch runs/resnet18-49w/arch.json --min-buffer-kib 128

Default designs are made with ``pimsim.arch.simple`` as in ``bench_estimate.py`` (every conv layer
duplicated 4x, 256-crossbar macros of 8 ADCs, 128x128 crossbars with 2-bit cells and 1-bit DACs,
256 KiB scratchpads). ``--arch`` adds designs from files (a synthesized one, say);
``--min-buffer-kib`` raises their smaller scratchpads to a size of the design's library that holds
the sliding windows the simulator buffers. Targets (this machine): ResNet18 under 30 s, VGG16
under 2 minutes. Prints one table.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from rich.console import Console
from rich.table import Table

from pimsim.arch.check import load_architecture
from pimsim.arch.schema import Architecture
from pimsim.arch.simple import simple_design
from pimsim.components import load_library
from pimsim.model.estimate import estimate
from pimsim.model.plan import Plan
from pimsim.network.graph import Network
from pimsim.network.zoo import zoo_network
from pimsim.sim import SimOptions, compile_program, simulate

TARGET_S = {"resnet18": 30.0, "vgg16": 120.0}


def simple(name: str) -> tuple[Architecture, Network]:
    net = zoo_network(name)
    dups = {lay.name: 4 for lay in net.weight_layers if lay.kind.value == "conv"}
    return simple_design(
        net, name, load_library("pimsyn"), dups=dups, max_crossbars=256, buffer_kib=256
    ), net


def with_buffers(arch: Architecture, kib: int) -> Architecture:
    """``arch`` with every scratchpad smaller than ``kib`` KiB raised to it (from the library)."""
    hw = arch.hardware
    part = next(b for b in load_library("pimsyn").buffers if b.size_kib == kib)
    buffers = list(hw.parts.buffers) + ([part] if hw.parts.buffer(kib) is None else [])
    macros = [g.model_copy(update={"buffer_kib": max(g.buffer_kib, kib)}) for g in hw.macros]
    parts = hw.parts.model_copy(update={"buffers": buffers})
    return arch.model_copy(
        update={"hardware": hw.model_copy(update={"macros": macros, "parts": parts})}
    )


def pct(sim: float, est: float) -> str:
    return f"{100 * (sim - est) / est:+.2f}%" if est else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--arch", action="append", default=[], help="also an arch.json")
    parser.add_argument("--min-buffer-kib", type=int, default=0)
    parser.add_argument("--only", default="resnet18,vgg16", help="simple designs to run")
    args = parser.parse_args()
    designs: list[tuple[str, Architecture, Network]] = []
    for name in filter(None, args.only.split(",")):
        arch, net = simple(name)
        designs.append((f"{name} (simple, dup 4)", arch, net))
    for path in args.arch:
        loaded = load_architecture(path)
        assert loaded.network is not None, f"{path} has no mapping"
        arch = (
            with_buffers(loaded.arch, args.min_buffer_kib) if args.min_buffer_kib else loaded.arch
        )
        designs.append((f"{arch.name} ({path})", arch, loaded.network))
    table = Table(title=f"cycle-level simulation, {args.images} images", title_justify="left")
    for col in (
        "design",
        "macros",
        "bit items/image",
        "events",
        "wall",
        "events/s",
        "throughput",
        "energy",
        "latency",
        "target",
    ):
        table.add_column(col, justify="left" if col in ("design", "target") else "right")
    for label, arch, net in designs:
        plan = Plan(arch, net)
        program = compile_program(plan)
        bits = sum(t.blocks * t.bits for t in program.tasks if t.bits > 1)
        start = time.perf_counter()
        r = simulate(plan, SimOptions(images=args.images))
        wall = time.perf_counter() - start
        e = estimate(arch, plan)
        target = TARGET_S.get(net.name)
        table.add_row(
            label,
            str(arch.hardware.n_macros),
            f"{bits:,}",
            f"{r.events:,}",
            f"{wall:.1f} s",
            f"{r.events_per_s:,.0f}",
            pct(r.throughput_ips, e.throughput_ips),
            pct(r.energy_per_image_pj, e.energy_per_image_pj),
            pct(r.latency_ns[0], e.latency_ns),
            f"< {target:.0f} s" if target and "simple" in label else "",
        )
    table.caption = "throughput, energy, latency: simulated vs estimate (image 0 for latency)"
    Console(width=170).print(table)
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
