"""``pimsyn explore``: its options, parsed into a :class:`~synth.workflow.ExploreRequest`, the
workflow called (:func:`synth.workflow.run_explore`), its progress and result rendered.

SIGTERM is an interruption (exit 143) from the start of the command to its end; SIGINT one with exit
130. The options' defaults are None ("not given", see :data:`synth.workflow.SEARCH_OPTIONS`), so
``--resume`` can tell an option given from one left out.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from pimsim.cli.common import (
    err_console,
    model_arg,
    non_negative_float,
    out_console,
    positive_float,
    positive_int,
)
from synth.report import final_view, validation_table
from synth.resume import Stopped, exit_code, terminate_as_interrupt
from synth.workflow import ExploreRequest, ExploreResult, Observer, run_explore

__all__ = ["add_explore", "explore_command"]


def _floats(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a comma-separated list of numbers"
        ) from None
    if not values or any(not 0 < v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"'{text}': every ratio must be between 0 and 1")
    return values


def _ints(allowed: set[int]):  # type: ignore[no-untyped-def]
    def parse(text: str) -> tuple[int, ...]:
        try:
            values = tuple(int(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"'{text}' is not a comma-separated list of integers"
            ) from None
        if not values or not set(values) <= allowed:
            raise argparse.ArgumentTypeError(f"'{text}': values must be among {sorted(allowed)}")
        return values

    return parse


class _ConsoleObserver(Observer):
    """Shows a run as it goes: notes and warnings on stderr, a progress bar over the search, the
    winner (on stdout) as soon as it is written."""

    def __init__(self) -> None:
        self.console = err_console()
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} combinations"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[best]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self.task: Any = None

    def message(self, text: str) -> None:
        self.console.print(text, highlight=False)

    def warning(self, text: str) -> None:
        self.console.print(f"[yellow]warning:[/] {text}", highlight=False)

    @contextmanager
    def searching(self, description: str) -> Iterator[None]:
        self.task = self.progress.add_task(description, total=None, rate="", best="")
        with self.progress:
            yield

    def unit_done(self, state: Any) -> None:
        best = f"best {state.best_tops_per_w:.4g} TOPS/W" if state.best_tops_per_w > 0 else ""
        self.progress.update(
            self.task,
            total=state.combos_total,
            completed=state.combos_done,
            rate=f"{state.evaluations_per_s:,.0f} designs/s",
            best=best,
        )

    def explored(self, result: ExploreResult) -> None:
        assert result.exploration is not None and result.best is not None
        out = result.folder
        out_console().print(final_view(result.exploration, result.best, result.baseline))
        out_console().print(
            f"wrote {out}/arch.json, top.json, exploration.jsonl, report.json "
            "(run.json and units.jsonl: for --resume)"
        )


def explore_command(args: argparse.Namespace) -> int:
    """``pimsyn explore``: 0, 1 (--strict and a design beyond the tolerance), 2 (bad input), 130
    or 143 (interrupted by SIGINT or SIGTERM)."""
    try:
        with terminate_as_interrupt():
            result = run_explore(ExploreRequest.of(args), _ConsoleObserver())
    except Stopped as stop:  # before the search started (later, the workflow saves what it found)
        err_console().print(f"[yellow]interrupted[/] ({stop}) before the search started")
        return exit_code(stop)
    _render_end(result)
    return result.exit_code


def _render_end(result: ExploreResult) -> None:
    """What the observer has not shown: plots, validation, or how to go on after an interruption."""
    out = result.folder
    if result.interrupted is not None:
        err_console().print(
            f"[yellow]interrupted[/] {result.interrupted}; "
            f"resume with: pimsyn explore --resume {out}",
            highlight=False,
        )
        return
    if result.plots:
        out_console().print(f"wrote {len(result.plots)} plots to {out}")
    if result.validation is not None:
        out_console().print(validation_table(result.validation))
        out_console().print(
            f"wrote {out}/validation.json and {len(result.validation.rows)} traces in {out}/traces/"
        )


def add_explore(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The ``explore`` sub-command and its options."""
    flag = {"action": "store_true", "default": None}  # None: not given (see SEARCH_OPTIONS)
    switch = {"action": argparse.BooleanOptionalAction, "default": None}
    ex = commands.add_parser(
        "explore",
        help="synthesize the most power-efficient accelerator",
        description="Synthesize the accelerator with the highest effective "
        "power efficiency for MODEL within --power-w watts. Without MODEL and "
        "--power-w: ResNet18 at 49 W.",
    )
    ex.add_argument(
        "model", nargs="?", type=model_arg, help="zoo name, ONNX file or PIMCOMP JSON file"
    )
    ex.add_argument("--power-w", type=positive_float, help="power budget (peak power), W")
    ex.add_argument(
        "--area-mm2",
        type=positive_float,
        help="area budget (every part, at the library's node), mm^2; default: no bound",
    )
    ex.add_argument(
        "--out",
        help="output folder (default: a new runs/<model>-<W>w, -2, -3, ... named in the output)",
    )
    ex.add_argument("--force", action="store_true", help="reuse a non-empty --out folder")
    ex.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="finish an interrupted run (its model and settings come from RUN_DIR/run.json)",
    )
    ex.add_argument(
        "--executor",
        default="local",
        metavar="local|dask://HOST:PORT",
        help="where the work runs: a local pool of --jobs processes (default), or a Dask "
        "scheduler (extra 'cluster')",
    )
    ex.add_argument(
        "--jobs",
        type=positive_int,
        default=os.cpu_count() or 1,
        help="worker processes (default: all cores)",
    )
    ex.add_argument("--seed", type=int, help="random seed (default 0)")
    ex.add_argument("--quick", help="a small search for tests and demos", **flag)
    ex.add_argument("--thorough", help="the released code's search effort", **flag)
    ex.add_argument("--rram-ratios", type=_floats, help="e.g. 0.1,0.2,0.3")
    ex.add_argument("--cell-bits", type=_ints({1, 2, 4}), help="e.g. 1,2,4")
    ex.add_argument("--xbars", type=_ints({128, 256, 512}), help="e.g. 128,256")
    ex.add_argument("--dac-bits", type=_ints({1, 2, 4}), help="e.g. 1,2")
    ex.add_argument(
        "--dup",
        choices=("sa", "heuristic", "none"),
        help="weight duplication: simulated annealing (default), the proportional heuristic, none",
    )
    ex.add_argument("--macros", choices=("specialized", "unified"), help="default specialized")
    ex.add_argument("--no-sharing", help="no inter-layer macro sharing", **flag)
    ex.add_argument(
        "--sa-energy",
        choices=("paper", "max", "fitness"),
        help="what stage 1 anneals: the paper's energy (dimensionless), the bottleneck, or the "
        "true efficiency (default paper)",
    )
    ex.add_argument(
        "--objective",
        choices=("efficiency", "throughput", "edp"),
        help="what chooses the winner: TOPS/W (default, as in the paper), images/s, or the "
        "energy-delay product per image (energy x latency, lowest on the Pareto front)",
    )
    ex.add_argument(
        "--alpha",
        type=non_negative_float,
        help="weight of the paper energy's 2nd term (default 0.1)",
    )
    ex.add_argument("--library", help="component library (name or file; default pimsyn)")
    ex.add_argument("--no-baseline", help="skip the ISAAC comparison", **flag)
    ex.add_argument(
        "--baseline",
        dest="no_baseline",
        action="store_false",
        default=None,
        help="compare with ISAAC (the default; overrides a --no-baseline stored by "
        "a run given to --resume)",
    )
    ex.add_argument("--plot", help="also write PNG/SVG plots (extra 'plot')", **switch)
    ex.add_argument(
        "--validate", help="simulate the best designs and compare with the estimate", **switch
    )
    ex.add_argument(
        "--top-k",
        type=positive_int,
        help="designs to validate, spread along the Pareto front (default 3)",
    )
    ex.add_argument(
        "--images", type=positive_int, help="images in flight per validation run (default 4)"
    )
    ex.add_argument(
        "--tolerance",
        type=non_negative_float,
        help="flag estimate errors beyond this, in %% (default 5)",
    )
    ex.add_argument(
        "--strict", help="exit with 1 when a validated design is beyond the tolerance", **switch
    )
    ex.set_defaults(handler=explore_command)
