"""How far the default search is from a search with far more effort: the optimality gap in TOPS/W.

    python benchmarks/bench_search_gap.py [--networks alexnet,resnet18] [--budgets 49,100]
        [--seeds 4] [--space full|quick|winner] [--jobs N] [--log runs.jsonl] [--reuse old.jsonl]

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

``--log`` appends one JSON line per search (network, budget, space, combination, seed, TOPS/W, duplication,
designs, seconds, git commit). ``--reuse`` takes the reference searches of an earlier log instead of
running them again when network, budget, combination (``winner``: the one searched) and seed match:
the reference is a design found, whose figure depends on the estimate only, so a log made on a
commit with the same estimate stays valid when only the default search changed. The table marks
reused rows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import replace
from typing import Any

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


def commit() -> str:
    """The checkout's commit (``unknown`` outside git)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def record(
    kind: str, name: str, watts: float, space: str, seed: int, ex: Exploration, s: float
) -> dict[str, Any]:
    """One search as a JSON-ready line of the log."""
    f = ex.best_found
    return {
        "kind": kind,
        "network": name,
        "budget_w": watts,
        "space": space,
        "combo": f.combo.label,
        "seed": seed,
        "tops_per_w": f.tops_per_w,
        "dup": list(f.dup),
        "designs": ex.evaluations + ex.polish_evaluations,
        "seconds": s,
        "commit": commit(),
    }


def reusable(path: str | None) -> dict[tuple[str, float, str, str, int], dict[str, Any]]:
    """The reference searches of a ``--log`` file, by (network, budget, space, combination, seed);
    read again for every row, so a log still being written by another run is used as it grows."""
    out: dict[tuple[str, float, str, str, int], dict[str, Any]] = {}
    if path and os.path.exists(path):
        with open(path) as fh:
            for line in fh:
                r = json.loads(line)
                if r["kind"] == "reference":
                    out[(r["network"], r["budget_w"], r["space"], r["combo"], r["seed"])] = r
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", default="alexnet,vgg13,vgg16,msra_a,resnet18")
    parser.add_argument("--budgets", default="49,100", help="watts, comma-separated")
    parser.add_argument("--seeds", type=int, default=4, help="seeds of the reference search")
    parser.add_argument("--space", choices=("full", "quick", "winner"), default="full")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--log", help="append one JSON line per search to this file")
    parser.add_argument("--reuse", help="a --log file whose reference searches are reused")
    args = parser.parse_args()

    def log(line: dict[str, Any]) -> None:
        if args.log:
            with open(args.log, "a") as fh:
                fh.write(json.dumps(line) + "\n")

    console = Console(width=220)
    table = Table(
        title=f"optimality gap of the default search ({args.space} space)", title_justify="left"
    )
    for col in (
        "network",
        "budget W",
        "winner's combination",
        "default TOPS/W",
        "default s",
        "default on the combination" if args.space == "winner" else "",
        "default designs",
        f"reference (thorough, best of {args.seeds} seeds)",
        "reference s",
        "effort x",
        "gap %",
        "gap on the combination %" if args.space == "winner" else "",
    ):
        table.add_column(col, justify="left" if col == "network" else "right")
    for name in args.networks.split(","):
        for watts in (float(w) for w in args.budgets.split(",")):
            base = space(Settings(power_w=watts), args.space)
            try:
                whole, whole_s = run(name, watts, base, args.jobs)
            except InputError as exc:  # a budget too small for the network
                table.add_row(name, f"{watts:g}", exc.cause, *[""] * 9)
                continue
            log(record("default", name, watts, args.space, 0, whole, whole_s))
            c = whole.best_found.combo
            console.print(
                f"  {name} {watts:g} W default: {whole.best_found.tops_per_w:.4f} TOPS/W "
                f"({c.label}), {whole_s:.1f} s",
                style="dim",
            )
            default, on_combo = whole, ""
            if args.space == "winner":  # both efforts on the winner's combination only
                base = replace(
                    base,
                    rram_ratios=(c.rram_ratio,),
                    cell_bits=(c.cell_bits,),
                    xbars=(c.xbar,),
                    dac_bits=(c.dac_bits,),
                )
                default, default_s = run(name, watts, base, args.jobs)
                log(record("default on combination", name, watts, "winner", 0, default, default_s))
                on_combo = f"{default.best_found.tops_per_w:.4f}"
                console.print(
                    f"  {name} {watts:g} W default on {c.label}: {on_combo} TOPS/W, "
                    f"{default_s:.1f} s, {default.evaluations + default.polish_evaluations:,} designs",
                    style="dim",
                )
            designs = default.evaluations + default.polish_evaluations
            best, evaluations, seconds, marks = 0.0, 0, 0.0, ""
            where = c.label if args.space == "winner" else ""
            for seed in range(args.seeds):
                r = reusable(args.reuse).get((name, watts, args.space, where, seed))
                if r is None:
                    ref, ref_s = run(name, watts, replace(base.thorough(), seed=seed), args.jobs)
                    r = record("reference", name, watts, args.space, seed, ref, ref_s)
                    r["combo"] = where
                    log(r)
                else:
                    marks = f" (reused from {r['commit']})"
                best = max(best, r["tops_per_w"])
                evaluations += r["designs"]
                seconds += r["seconds"]
                console.print(
                    f"  {name} {watts:g} W thorough seed {seed}: {r['tops_per_w']:.4f} TOPS/W, "
                    f"{r['seconds']:.1f} s, {r['designs']:,} designs",
                    style="dim",
                )
            table.add_row(
                name,
                f"{watts:g}",
                c.label,
                f"{whole.best_found.tops_per_w:.4f}",
                f"{whole_s:.1f}",
                on_combo,
                f"{designs:,}",
                f"{best:.4f}{marks}",
                f"{seconds:.0f}",
                f"{evaluations / max(designs, 1):.0f}",
                f"{100 * (1 - whole.best_found.tops_per_w / best):.2f}",
                f"{100 * (1 - default.best_found.tops_per_w / best):.2f}" if on_combo else "",
            )
    console.print(table)
    print(
        f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"python {sys.version.split()[0]}, jobs {args.jobs} (shared machine: times are noisy)"
    )


if __name__ == "__main__":
    main()
