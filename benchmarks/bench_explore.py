"""Benchmark the whole search as a user runs it, and where its time goes.

    python benchmarks/bench_explore.py [--runs "alexnet:49;resnet18:49;resnet18:49:--thorough"]
        [--jobs 2] [--seeds 0] [--stages]

Each run is the command a user types, ``pimsyn explore NET --power-w W --jobs J --seed S FLAGS``
(a new process: start-up, the search, the polish, the runnable check, the ISAAC baseline and the
outputs), in a temporary folder. The table gives its wall time, its CPU time (user + system of the
command and its worker processes, from ``resource.getrusage(RUSAGE_CHILDREN)``), the designs it
evaluated (the work units' and the polish's, from ``report.json``) and the winner's effective
TOPS/W as the search scored it. On a shared machine the wall time depends on the other jobs; the
CPU time less so.

``--stages`` runs the search in this process instead (one worker, so every stage's time is
measured where it is spent) and splits its CPU time by stage: the duplication annealing (stage 1,
without the design evaluations of the ``fitness`` energy), the screening of its candidates with the
default partition, the units' evolutionary partitioning (stage 3 and 4 of every candidate), the
polish, and the choice of the winner (the runnable check of the best designs). The stages are timed
by wrapping the functions that run them (``synth.search.candidates``, ``designs_of``,
``evolve_designs``, ``synth.explore.polish``, ``synth.explore.choose``); nothing else changes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

DEFAULT_RUNS = "alexnet:49;resnet18:49"


def _cpu_children_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_command(network: str, power_w: float, flags: list[str], jobs: int, seed: int) -> dict:
    """One ``pimsyn explore`` as a user runs it: wall s, CPU s, designs, TOPS/W."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = [
            sys.executable,
            "-c",
            "from synth.cli import main; raise SystemExit(main())",
            "explore",
            network,
            "--power-w",
            f"{power_w:g}",
            "--jobs",
            str(jobs),
            "--seed",
            str(seed),
            "--out",
            str(out),
            *flags,
        ]
        cpu, start = _cpu_children_s(), time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=tmp)  # PYTHONPATH rules
        wall, cpu = time.perf_counter() - start, _cpu_children_s() - cpu
        report = json.loads((out / "report.json").read_text())
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "designs": report["evaluations"] + report["polish_evaluations"],
        "tops_per_w": report["best"]["tops_per_w"],
    }


def _timed(
    module: Any,
    name: str,
    spent: dict[str, float],
    stack: list[str],
    stage: str,
    inside: tuple[str, ...] = (),
) -> Callable[[], None]:
    """Wrap ``module.name`` so its CPU time is added to ``spent[stage]`` (and taken from the
    stage of the wrapped call that made it), unless called from a stage of ``inside``, which keeps
    it; return the function that unwraps it."""
    original = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if stack and stack[-1] in inside:  # part of the caller's stage
            return original(*args, **kwargs)
        stack.append(stage)
        start = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            elapsed = time.process_time() - start
            stack.pop()
            spent[stage] += elapsed
            if stack:  # the caller's stage does not count this call
                spent[stack[-1]] -= elapsed

    setattr(module, name, wrapper)
    return lambda: setattr(module, name, original)


def stages(network: str, power_w: float, flags: list[str], seed: int) -> dict[str, float]:
    """The search of ``pimsyn explore`` in this process, its CPU time split by stage, s."""
    from pimsim.network.load import load_model
    from synth.explore import explore
    from synth.settings import Settings

    # the modules (``synth.explore`` the attribute is the function the package re-exports)
    search_module, explore_module = sys.modules["synth.search"], sys.modules["synth.explore"]

    settings = Settings(power_w=power_w, seed=seed)
    if "--thorough" in flags:
        settings = settings.thorough()
    if "--quick" in flags:
        settings = settings.quick()
    spent: dict[str, float] = defaultdict(float)
    stack: list[str] = []
    # screening = the scoring outside the EA (the polish's own calls are bound in synth.polish)
    undo = [
        _timed(search_module, "designs_of", spent, stack, "screening", inside=("units' EA",)),
        _timed(search_module, "candidates", spent, stack, "annealing"),
        _timed(search_module, "evolve_designs", spent, stack, "units' EA"),
        _timed(explore_module, "polish", spent, stack, "polish"),
        _timed(explore_module, "choose", spent, stack, "winner (runnable check)"),
    ]
    try:
        start = time.process_time()
        explore(load_model(network), power_w, settings)
        total = time.process_time() - start
    finally:
        for u in undo:
            u()
    spent["other (contexts, budget check, merging)"] = total - sum(spent.values())
    spent["total"] = total
    return dict(spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=DEFAULT_RUNS, help="NET:W[:FLAGS];... (FLAGS: spaces)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seeds", default="0", help="comma-separated")
    parser.add_argument("--stages", action="store_true", help="split one worker's time by stage")
    args = parser.parse_args()
    console = Console(width=160)
    runs = []
    for spec in args.runs.split(";"):
        net, watts, *rest = spec.split(":")
        runs.append((net, float(watts), rest[0].split() if rest else []))
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.stages:
        for net, watts, flags in runs:
            for seed in seeds:
                spent = stages(net, watts, flags, seed)
                table = Table(
                    title=f"{net} at {watts:g} W {' '.join(flags)} seed {seed}: one worker's "
                    "CPU time by stage",
                    title_justify="left",
                )
                table.add_column("stage")
                table.add_column("CPU s", justify="right")
                table.add_column("%", justify="right")
                for stage, seconds in spent.items():
                    share = 100 * seconds / spent["total"]
                    table.add_row(stage, f"{seconds:.2f}", f"{share:.0f}")
                console.print(table)
        return
    table = Table(
        title=f"pimsyn explore, --jobs {args.jobs} (one command each, start-up included)",
        title_justify="left",
    )
    for col in ("network", "budget W", "flags", "seed", "wall s", "CPU s", "designs", "TOPS/W"):
        table.add_column(col, justify="left" if col in ("network", "flags") else "right")
    for net, watts, flags in runs:
        for seed in seeds:
            r = run_command(net, watts, flags, args.jobs, seed)
            table.add_row(
                net,
                f"{watts:g}",
                " ".join(flags) or "default",
                str(seed),
                f"{r['wall_s']:.1f}",
                f"{r['cpu_s']:.1f}",
                f"{r['designs']:,}",
                f"{r['tops_per_w']:.4f}",
            )
    console.print(table)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    console.print(f"load average after the runs (1, 5, 15 min): {load}")


if __name__ == "__main__":
    main()
