"""``pimsyn explore``: its options, the run folder (new or ``--resume``d), the search, the end.

Order matters for a user's time: the model, the budget and the output folder (or the run to resume)
are checked before connecting to a Dask scheduler, which can take up to 10 s to fail. SIGTERM is
an interruption (exit 143) from the start of the command to its end; SIGINT one with exit 130.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
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
from pimsim.errors import InputError
from pimsim.model.estimate import CostReport, estimate
from pimsim.model.plan import Plan
from pimsim.network.load import load_model
from synth.baseline import isaac_baseline
from synth.executors import Runner, open_runner
from synth.explore import Exploration, check_budget, explore
from synth.outputs import prepare_dir, write_results, write_unfinished
from synth.plots import plot_run
from synth.report import final_view, validation_table
from synth.resume import (
    Session,
    Stopped,
    best_so_far,
    exit_code,
    new_session,
    resume_session,
    terminate_as_interrupt,
)
from synth.settings import Settings
from synth.spread import spread_architectures
from synth.validate import validate

DEFAULT_MODEL, DEFAULT_POWER_W = "resnet18", 49.0

#: What ``--resume`` takes from run.json and refuses on the command line (the model and the search),
#: with the defaults of a new run. The parser's defaults are None, so an option given on the command
#: line is told apart from one left out even when its value is the default.
_SEARCH_OPTIONS: dict[str, Any] = {
    "model": None,
    "power_w": None,
    "out": None,
    "seed": 0,
    "quick": False,
    "thorough": False,
    "rram_ratios": None,
    "cell_bits": None,
    "xbars": None,
    "dac_bits": None,
    "dup": "sa",
    "macros": "specialized",
    "no_sharing": False,
    "sa_energy": "paper",
    "objective": "efficiency",
    "alpha": 0.1,
    "library": "pimsyn",
}
#: The finishing options, stored in run.json too; on resume, one given on the command line wins.
_FINISH_OPTIONS: dict[str, Any] = {
    "no_baseline": False,
    "plot": False,
    "validate": False,
    "top_k": 3,
    "images": 4,
    "tolerance": 5.0,
    "strict": False,
}


def estimate_of(arch, network) -> CostReport:  # type: ignore[no-untyped-def]
    """The analytical estimate of a design mapping ``network``."""
    return estimate(arch, Plan(arch, network))


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


def _settings(args: argparse.Namespace, power_w: float) -> Settings:
    s = Settings(
        power_w=power_w,
        seed=args.seed,
        library=args.library,
        dup=args.dup,
        macros=args.macros,
        sharing=not args.no_sharing,
        objective=args.objective,
    )
    if args.quick:
        s = s.quick()
    if args.thorough:
        s = s.thorough()
    for field, value in (
        ("rram_ratios", args.rram_ratios),
        ("cell_bits", args.cell_bits),
        ("xbars", args.xbars),
        ("dac_bits", args.dac_bits),
    ):
        if value is not None:
            s = replace(s, **{field: value})
    return replace(s, sa=replace(s.sa, energy=args.sa_energy, alpha=args.alpha))


def _fill(args: argparse.Namespace, values: dict[str, Any]) -> None:
    """Give the options left out on the command line (None) these values."""
    for key, value in values.items():
        if getattr(args, key) is None:
            setattr(args, key, value)


def _prepare(args: argparse.Namespace) -> Session | Callable[[], Session]:
    """Check everything the run needs but the executor. The run ``--resume`` names is reopened
    (with its stored finishing options unless given on the command line); a new run is returned as
    the call that starts it, since nothing is written before the executor is known to work."""
    if args.resume is not None:
        given = [k for k in _SEARCH_OPTIONS if getattr(args, k) is not None]
        if given:
            flags = ", ".join(
                "MODEL" if k == "model" else f"--{k.replace('_', '-')}" for k in given
            )
            raise InputError(
                "command line",
                "--resume",
                f"takes the model and the search "
                f"settings from {Path(args.resume) / 'run.json'}, so {flags} cannot "
                "be given with it",
                "leave them out, or start a new run",
            )
        session = resume_session(args.resume)
        stored = session.record.options
        _fill(args, {k: stored.get(k, default) for k, default in _FINISH_OPTIONS.items()})
        return session
    _fill(args, _SEARCH_OPTIONS | _FINISH_OPTIONS)
    if args.model is None and args.power_w is None:
        args.model, args.power_w = DEFAULT_MODEL, DEFAULT_POWER_W
    if args.power_w is None:
        raise InputError("command line", "--power-w", "give the power budget in watts")
    model = args.model or DEFAULT_MODEL
    network = load_model(model)
    settings = check_budget(network, args.power_w, _settings(args, args.power_w))
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(model).stem if os.path.exists(model) else model)
    out = Path(args.out or Path("runs") / f"{slug}-{args.power_w:g}w")
    if out.exists():
        prepare_dir(out, args.force)  # refuses a previous run now; creates nothing
    options = {k: getattr(args, k) for k in _FINISH_OPTIONS}
    return lambda: new_session(prepare_dir(out, args.force), model, network, settings, options)


def run_explore(args: argparse.Namespace) -> int:
    """``pimsyn explore``: 0, 1 (--strict and a design beyond the tolerance), 2 (bad input), 130
    or 143 (interrupted by SIGINT or SIGTERM)."""
    try:
        with terminate_as_interrupt():
            prepared = _prepare(args)
            try:
                with open_runner(args.executor, args.jobs) as runner:
                    session = prepared if isinstance(prepared, Session) else prepared()
                    return _search(args, session, runner)
            finally:
                if isinstance(prepared, Session):  # open_runner failed (else _search closed it)
                    prepared.log.close()
    except Stopped as stop:  # before the search started (later, _search saves what it found)
        err_console().print(f"[yellow]interrupted[/] ({stop}) before the search started")
        return exit_code(stop)


def _search(args: argparse.Namespace, session: Session, runner: Runner) -> int:
    console = err_console()
    for warning in session.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    if runner.remote:
        console.print(f"running on {runner.description}")
    todo = len(session.work) - len(session.done)
    if session.done:
        console.print(
            f"resuming {session.folder}: {len(session.done)} of "
            f"{len(session.work)} work units done, {todo} to go"
        )
    network, settings, model = session.network, session.settings, session.record.model
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} combinations"),
        TextColumn("{task.fields[rate]}"),
        TextColumn("{task.fields[best]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    task = progress.add_task(
        f"exploring {network.name} at {settings.power_w:g} W", total=None, rate="", best=""
    )

    def on_unit(result, state) -> None:  # type: ignore[no-untyped-def]
        session.log.record(result)
        best = f"best {state.best_tops_per_w:.4g} TOPS/W" if state.best_tops_per_w > 0 else ""
        progress.update(
            task,
            total=state.combos_total,
            completed=state.combos_done,
            rate=f"{state.evaluations_per_s:,.0f} designs/s",
            best=best,
        )

    ex = None
    try:
        try:
            with progress:
                ex = explore(
                    network,
                    settings.power_w,
                    settings,
                    network_source=model,
                    executor=runner.executor,
                    batch=runner.batch_size(todo),
                    done=session.done,
                    on_unit=on_unit,
                )
            session.log.close()
            return _finish(args, session.folder, ex, network, model, runner)
        except KeyboardInterrupt:
            runner.close(abort=True)  # stop the workers before saving
            raise
    except KeyboardInterrupt as stop:
        return _stopped(args, session, ex, stop)
    finally:
        session.log.close()


def _extra(args: argparse.Namespace, model: str, ex: Exploration | None) -> dict[str, Any]:
    """report.json's fields besides the exploration's own."""
    extra: dict[str, Any] = {"model": model, "jobs": args.jobs, "executor": args.executor}
    if ex is not None:
        extra |= {"session_evaluations": ex.session_evaluations, "unit_seconds": ex.unit_seconds}
    return extra


def _stopped(
    args: argparse.Namespace, session: Session, ex: Exploration | None, stop: KeyboardInterrupt
) -> int:
    """Save what an interrupted run found, say how to go on; 130 (SIGINT) or 143 (SIGTERM)."""
    out, total = session.folder, len(session.work)
    if ex is None:
        ex, done = best_so_far(session)
        extra = _extra(args, session.record.model, ex)
        if ex is not None:
            write_results(out, ex, estimate_of(ex.best, session.network), None, extra)
            saved = f"best design so far in {out}/arch.json"
        else:
            write_unfinished(out, session.network.name, session.settings, done, total, extra)
            saved = "no design found yet"
        where = f"after {done} of {total} work units ({saved})"
    else:
        where = f"after the search, while finishing {out}"
    err_console().print(
        f"[yellow]interrupted[/] {where}; resume with: pimsyn explore --resume {out}",
        highlight=False,
    )
    return exit_code(stop)


def _finish(
    args: argparse.Namespace,
    out: Path,
    ex,
    network,
    model: str,  # type: ignore[no-untyped-def]
    runner: Runner,
) -> int:
    """Report, write, and optionally validate and plot a finished exploration."""
    console = err_console()
    best = estimate_of(ex.best, network)
    baseline = None
    if not args.no_baseline:
        try:
            isaac = isaac_baseline(network, model)
            baseline = estimate_of(isaac, network)
        except InputError as exc:
            console.print(f"[yellow]ISAAC baseline skipped:[/] {exc.message}")
    write_results(out, ex, best, baseline, _extra(args, model, ex))
    out_console().print(final_view(ex, best, baseline))
    out_console().print(
        f"wrote {out}/arch.json, top.json, exploration.jsonl, report.json "
        "(run.json and units.jsonl: for --resume)"
    )
    if args.plot:
        written = plot_run(out, best, baseline)
        out_console().print(f"wrote {len(written)} plots to {out}")
    if args.validate:
        designs = [arch for _, arch in spread_architectures(ex, network, args.top_k, model)]
        console.print(
            f"simulating {len(designs)} designs spread along the Pareto front, the winner first "
            f"({args.images} images each)..."
        )
        report = validate(
            designs,
            network,
            images=args.images,
            tolerance_pct=args.tolerance,
            out=out,
            executor=runner.executor,
            remote=runner.remote,
        )
        out_console().print(validation_table(report))
        out_console().print(
            f"wrote {out}/validation.json and {len(designs)} traces in {out}/traces/"
        )
        if report.flagged and args.strict:
            return 1
    return 0


def add_explore(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The ``explore`` sub-command and its options."""
    flag = {"action": "store_true", "default": None}  # None: not given (see _SEARCH_OPTIONS)
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
    ex.add_argument("--out", help="output folder (default runs/<model>-<W>w)")
    ex.add_argument("--force", action="store_true", help="reuse a non-empty output folder")
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
        "--alpha",
        type=non_negative_float,
        help="weight of the paper energy's 2nd term (default 0.1)",
    )
    ex.add_argument(
        "--objective",
        choices=("efficiency", "throughput", "edp"),
        help="what chooses the winner: TOPS/W (default, as in the paper), images/s, or the "
        "energy-delay product per image (energy x latency, lowest on the Pareto front)",
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
    ex.set_defaults(handler=run_explore)
