"""How far the default search is from a search with far more effort: the optimality gap in TOPS/W.

    python benchmarks/bench_search_gap.py [--networks alexnet,resnet18] [--budgets 49,100]
        [--seeds 3] [--space full|quick|winner] [--jobs N]

For each network and budget: the default search (seed 0), then the reference: ``--thorough``
settings (the released code's effort: SA 10 chains x 100 iterations at cooling 0.95, EA 28 + 12 x
200 generations, 10 candidates evolved, 10 designs polished with that EA) run with ``--seeds``
seeds, best of all. The gap is ``1 - default / reference`` in TOPS/W (0 when the default finds the
reference's design; negative if the default is better); the effort is the ratio of designs
evaluated (the units' and the polish's). ``--space quick`` searches
only the quick preset's corner of the outer loop (2 ratios, 2-bit cells, 128/256 crossbars,
1/2-bit DACs) with the default and thorough efforts. ``--space winner`` runs the default search on
the whole space, then both efforts again on the combination of its winner only (ratio, cell bits,
crossbar, DAC): the gap of the inner search (duplication, partition, allocation) where it matters,
in minutes; the outer loop is enumerated exhaustively by both efforts anyway. The full reference
takes tens of minutes per network on two cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import replace

from rich.console import Console
from rich.table import Table

from pimsim.errors import InputError
from pimsim.network.zoo import zoo_network
from synth.explore import Exploration, explore
from synth.settings import Settings


def space(settings: Settings, which: str) -> Settings:
    """The settings' search effort on the whole outer loop, or on the quick preset's corner."""
    if which in ("full", "winner"):
        return settings
    corner = settings.quick()
    return replace(
        settings,
        rram_ratios=corner.rram_ratios,
        cell_bits=corner.cell_bits,
        xbars=corner.xbars,
        dac_bits=corner.dac_bits,
    )


def run(network: str, watts: float, settings: Settings, jobs: int) -> tuple[Exploration, float]:
    """One search and its wall time, s."""
    start = time.perf_counter()
    ex = explore(zoo_network(network), watts, settings, jobs=jobs)
    return ex, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", default="alexnet,vgg13,vgg16,msra_a,resnet18")
    parser.add_argument("--budgets", default="49,100", help="watts, comma-separated")
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the reference search")
    parser.add_argument("--space", choices=("full", "quick", "winner"), default="full")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    console = Console(width=200)
    table = Table(
        title=f"optimality gap of the default search ({args.space} space)", title_justify="left"
    )
    for col in (
        "network",
        "budget W",
        "default TOPS/W",
        "default s",
        "default designs",
        f"reference TOPS/W (thorough, best of {args.seeds} seeds)",
        "reference s",
        "effort x",
        "gap %",
    ):
        table.add_column(col, justify="left" if col == "network" else "right")
    for name in args.networks.split(","):
        for watts in (float(w) for w in args.budgets.split(",")):
            base = space(Settings(power_w=watts), args.space)
            try:
                default, default_s = run(name, watts, base, args.jobs)
            except InputError as exc:  # a budget too small for the network
                table.add_row(name, f"{watts:g}", exc.cause, *[""] * 6)
                continue
            console.print(
                f"  {name} {watts:g} W default: {default.best_found.tops_per_w:.4f} TOPS/W, "
                f"{default_s:.1f} s",
                style="dim",
            )
            if args.space == "winner":  # both efforts on the winner's combination only
                c = default.best_found.combo
                base = replace(
                    base,
                    rram_ratios=(c.rram_ratio,),
                    cell_bits=(c.cell_bits,),
                    xbars=(c.xbar,),
                    dac_bits=(c.dac_bits,),
                )
                default, default_s = run(name, watts, base, args.jobs)
                console.print(
                    f"  {name} {watts:g} W default on {c.label}: "
                    f"{default.best_found.tops_per_w:.4f} TOPS/W, {default_s:.1f} s, "
                    f"{default.evaluations + default.polish_evaluations:,} designs",
                    style="dim",
                )
            best, evaluations, seconds = 0.0, 0, 0.0
            for seed in range(args.seeds):
                ref, ref_s = run(name, watts, replace(base.thorough(), seed=seed), args.jobs)
                best = max(best, ref.best_found.tops_per_w)
                evaluations += ref.evaluations + ref.polish_evaluations
                seconds += ref_s
                console.print(
                    f"  {name} {watts:g} W thorough seed {seed}: "
                    f"{ref.best_found.tops_per_w:.4f} TOPS/W, {ref_s:.1f} s, "
                    f"{ref.evaluations + ref.polish_evaluations:,} designs",
                    style="dim",
                )
            gap = 1 - default.best_found.tops_per_w / best
            table.add_row(
                name,
                f"{watts:g}",
                f"{default.best_found.tops_per_w:.4f}",
                f"{default_s:.1f}",
                f"{default.evaluations + default.polish_evaluations:,}",
                f"{best:.4f}",
                f"{seconds:.0f}",
                f"{evaluations / max(default.evaluations + default.polish_evaluations, 1):.0f}",
                f"{100 * gap:.2f}",
            )
    console.print(table)
    print(
        f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"python {sys.version.split()[0]}, jobs {args.jobs} (shared machine: times are noisy)"
    )


if __name__ == "__main__":
    main()
