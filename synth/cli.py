"""``pimsyn``: synthesize accelerators (``explore``), map baselines, list and export models."""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from pimsim.arch.check import load_architecture
from pimsim.cli.common import (add_subparsers, entry_point, err_console, make_parser, model_arg,
                               non_negative_float, out_console, positive_float, positive_int)
from pimsim.cli.render_estimate import report_view
from pimsim.cli.render_network import zoo_table
from pimsim.errors import InputError
from pimsim.fileio import write_atomic
from pimsim.jsonio import read_json
from pimsim.model.estimate import CostReport, estimate
from pimsim.model.plan import Plan
from pimsim.network.load import load_model
from pimsim.network.pimcomp_export import to_pimcomp
from pimsim.network.zoo import ZOO, zoo_model, zoo_name, zoo_network
from synth.baseline import isaac_baseline
from synth.executors import Runner, open_runner
from synth.explore import Exploration, check_budget, explore, top_architectures
from synth.outputs import prepare_dir, write_results, write_unfinished
from synth.plots import plot_run
from synth.report import final_view, validation_table
from synth.resume import (Session, best_so_far, exit_code, new_session, resume_session,
                          terminate_as_interrupt)
from synth.settings import Settings
from synth.validate import validate

DEFAULT_MODEL, DEFAULT_POWER_W = "resnet18", 49.0


def _models(args: argparse.Namespace) -> int:
    if args.action == "export":
        return _export(args)
    rows = [(name, entry.description, zoo_network(name)) for name, entry in ZOO.items()]
    if args.json:
        print(json.dumps([{"name": n, "description": d, "input": list(next(iter(net.inputs.values()))),
                           "layers": len(net), "weight_layers": len(net.weight_layers),
                           "weights": net.weights, "macs": net.macs} for n, d, net in rows], indent=1))
    else:
        out_console().print(zoo_table(rows))
    return 0


def _export(args: argparse.Namespace) -> int:
    name = zoo_name(args.name)
    if name is None:
        raise InputError(args.name, "", "is not a zoo model", f"zoo models: {', '.join(ZOO)}")
    out: str = args.output
    if out.lower().endswith(".json"):
        data: bytes | str = json.dumps(to_pimcomp(zoo_network(name)), indent=1)
    elif out.lower().endswith(".onnx"):
        data = zoo_model(name).SerializeToString()
    else:
        raise InputError(out, "", "has an unknown extension", "use .onnx (ONNX) or .json (PIMCOMP JSON)")
    write_atomic(out, data, force=args.force)
    out_console().print(f"wrote {name} to {out}")
    return 0


def _estimate(arch, network) -> CostReport:  # type: ignore[no-untyped-def]
    return estimate(arch, Plan(arch, network))


def _floats(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of numbers")
    if not values or any(not 0 < v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"'{text}': every ratio must be between 0 and 1")
    return values


def _ints(allowed: set[int]):  # type: ignore[no-untyped-def]
    def parse(text: str) -> tuple[int, ...]:
        try:
            values = tuple(int(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of integers")
        if not values or not set(values) <= allowed:
            raise argparse.ArgumentTypeError(f"'{text}': values must be among {sorted(allowed)}")
        return values
    return parse


def _settings(args: argparse.Namespace, power_w: float) -> Settings:
    s = Settings(power_w=power_w, seed=args.seed, library=args.library, dup=args.dup,
                 macros=args.macros, sharing=not args.no_sharing)
    if args.quick:
        s = s.quick()
    if args.thorough:
        s = s.thorough()
    for field, value in (("rram_ratios", args.rram_ratios), ("cell_bits", args.cell_bits),
                         ("xbars", args.xbars), ("dac_bits", args.dac_bits)):
        if value is not None:
            s = replace(s, **{field: value})
    return replace(s, sa=replace(s.sa, energy=args.sa_energy, alpha=args.alpha))


#: What ``--resume`` takes from run.json and refuses on the command line: the model and the search.
_SEARCH_OPTIONS = ("model", "power_w", "out", "seed", "quick", "thorough", "rram_ratios",
                   "cell_bits", "xbars", "dac_bits", "dup", "macros", "no_sharing", "sa_energy",
                   "alpha", "library")
#: The finishing options, stored in run.json too; on resume, one given on the command line wins.
_FINISH_OPTIONS = ("no_baseline", "plot", "validate", "top_k", "images", "tolerance", "strict")


def _session(args: argparse.Namespace) -> Session:
    """A new run folder, or the run ``--resume`` names (with its stored finishing options)."""
    defaults = vars(build_parser().parse_args(["explore"]))
    if args.resume is not None:
        given = [k for k in _SEARCH_OPTIONS if getattr(args, k, None) != defaults.get(k)]
        if given:
            flags = ", ".join("MODEL" if k == "model" else f"--{k.replace('_', '-')}"
                              for k in given)
            raise InputError("command line", "--resume", f"takes the model and the search "
                             f"settings from {Path(args.resume) / 'run.json'}, so {flags} cannot "
                             "be given with it", "leave them out, or start a new run")
        session = resume_session(args.resume)
        for key, value in session.record.options.items():
            if key in _FINISH_OPTIONS and getattr(args, key) == defaults.get(key):
                setattr(args, key, value)
        return session
    if args.model is None and args.power_w is None:
        args.model, args.power_w = DEFAULT_MODEL, DEFAULT_POWER_W
    if args.power_w is None:
        raise InputError("command line", "--power-w", "give the power budget in watts")
    model = args.model or DEFAULT_MODEL
    network = load_model(model)
    settings = check_budget(network, args.power_w, _settings(args, args.power_w))
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(model).stem if os.path.exists(model) else model)
    out = prepare_dir(args.out or Path("runs") / f"{slug}-{args.power_w:g}w", args.force)
    options = {k: getattr(args, k) for k in _FINISH_OPTIONS}
    return new_session(out, model, network, settings, options)


def _explore(args: argparse.Namespace) -> int:
    console = err_console()
    with terminate_as_interrupt(), open_runner(args.executor, args.jobs) as runner:
        session = _session(args)
        for warning in session.warnings:
            console.print(f"[yellow]warning:[/] {warning}")
        if runner.remote:
            console.print(f"running on {runner.description}")
        todo = len(session.work) - len(session.done)
        if session.done:
            console.print(f"resuming {session.folder}: {len(session.done)} of "
                          f"{len(session.work)} work units done, {todo} to go")
        network, settings, model = session.network, session.settings, session.record.model
        progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                            TextColumn("{task.completed}/{task.total} combinations"),
                            TextColumn("{task.fields[rate]}"), TextColumn("{task.fields[best]}"),
                            TimeElapsedColumn(), console=console, transient=False)
        task = progress.add_task(f"exploring {network.name} at {settings.power_w:g} W", total=None,
                                 rate="", best="")

        def on_unit(result, state) -> None:  # type: ignore[no-untyped-def]
            session.log.record(result)
            best = f"best {state.best_tops_per_w:.4g} TOPS/W" if state.best_tops_per_w > 0 else ""
            progress.update(task, total=state.combos_total, completed=state.combos_done,
                            rate=f"{state.evaluations / max(state.seconds, 1e-9):,.0f} designs/s",
                            best=best)

        ex = None
        try:
            try:
                with progress:
                    ex = explore(network, settings.power_w, settings, network_source=model,
                                 executor=runner.executor, batch=runner.batch_size(todo),
                                 done=session.done, on_unit=on_unit)
                session.log.close()
                return _finish(args, session.folder, ex, network, model, runner)
            except KeyboardInterrupt:
                runner.close(abort=True)  # stop the workers before saving
                raise
        except KeyboardInterrupt as stop:
            return _stopped(args, session, ex, stop)
        finally:
            session.log.close()


def _stopped(args: argparse.Namespace, session: Session, ex: Exploration | None,
             stop: KeyboardInterrupt) -> int:
    """Save what an interrupted run found, say how to go on; 130 (SIGINT) or 143 (SIGTERM)."""
    out, total = session.folder, len(session.work)
    if ex is None:
        ex, done = best_so_far(session)
        extra = {"model": session.record.model, "jobs": args.jobs, "executor": args.executor}
        if ex is not None:
            write_results(out, ex, _estimate(ex.best, session.network), None, extra)
            saved = f"best design so far in {out}/arch.json"
        else:
            write_unfinished(out, session.network.name, session.settings, done, total, extra)
            saved = "no design found yet"
        where = f"after {done} of {total} work units ({saved})"
    else:
        where = f"after the search, while finishing {out}"
    err_console().print(f"[yellow]interrupted[/] {where}; resume with: pimsyn explore --resume "
                        f"{out}", highlight=False)
    return exit_code(stop)


def _finish(args: argparse.Namespace, out: Path, ex, network, model: str,  # type: ignore[no-untyped-def]
            runner: Runner) -> int:
    """Report, write, and optionally validate and plot a finished exploration."""
    console = err_console()
    best = _estimate(ex.best, network)
    baseline = None
    if not args.no_baseline:
        try:
            isaac = isaac_baseline(network, model)
            baseline = _estimate(isaac, network)
        except InputError as exc:
            console.print(f"[yellow]ISAAC baseline skipped:[/] {exc.message}")
    write_results(out, ex, best, baseline, {"model": model, "jobs": args.jobs,
                                            "executor": args.executor})
    out_console().print(final_view(ex, best, baseline))
    out_console().print(f"wrote {out}/arch.json, top.json, exploration.jsonl, report.json "
                        "(run.json and units.jsonl: for --resume)")
    if args.plot:
        written = plot_run(out, best, baseline)
        out_console().print(f"wrote {len(written)} plots to {out}")
    if args.validate:
        designs = top_architectures(ex, network, args.top_k, model)
        console.print(f"simulating the {len(designs)} best designs ({args.images} images each)...")
        report = validate(designs, network, images=args.images, tolerance_pct=args.tolerance,
                          out=out, executor=runner.executor, remote=runner.remote)
        out_console().print(validation_table(report))
        out_console().print(f"wrote {out}/validation.json and {len(designs)} traces in "
                            f"{out}/traces/")
        if report.flagged and args.strict:
            return 1
    return 0


def _plot(args: argparse.Namespace) -> int:
    run = Path(args.run_dir)
    report_file = run / "report.json"
    if not report_file.exists():
        raise InputError(str(run), "", "holds no report.json", "give a `pimsyn explore` output folder")
    report = read_json(report_file)
    model = report.get("model") if isinstance(report, dict) else None
    loaded = load_architecture(run / "arch.json")
    if loaded.network is None:
        raise InputError(loaded.file, "mapping", "is missing: a run's design maps its network")
    best = _estimate(loaded.arch, loaded.network)
    baseline = None
    if isinstance(model, str) and model:
        try:
            baseline = _estimate(isaac_baseline(loaded.network, model), loaded.network)
        except InputError:
            baseline = None
    written = plot_run(run, best, baseline)
    out_console().print("\n".join(f"wrote {p}" for p in written))
    return 0


def _baseline(args: argparse.Namespace) -> int:
    network = load_model(args.model)
    arch = isaac_baseline(network, args.model)
    out = Path(args.output or Path("runs") / f"isaac-{network.name}" / "arch.json")
    write_atomic(out, arch.to_json(), force=args.force)
    report = _estimate(arch, network)
    if not args.quiet:
        out_console().print(report_view(report))
    out_console().print(f"wrote {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser("pimsyn", "Synthesize ReRAM PIM CNN accelerators (the PIMSYN flow).")
    commands = add_subparsers(parser)
    ex = commands.add_parser("explore", help="synthesize the most power-efficient accelerator",
                             description="Synthesize the accelerator with the highest effective "
                             "power efficiency for MODEL within --power-w watts. Without MODEL and "
                             "--power-w: ResNet18 at 49 W.")
    ex.add_argument("model", nargs="?", type=model_arg,
                    help="zoo name, ONNX file or PIMCOMP JSON file")
    ex.add_argument("--power-w", type=positive_float, help="power budget (peak power), W")
    ex.add_argument("--out", help="output folder (default runs/<model>-<W>w)")
    ex.add_argument("--force", action="store_true", help="reuse a non-empty output folder")
    ex.add_argument("--resume", metavar="RUN_DIR",
                    help="finish an interrupted run (its model and settings come from RUN_DIR/run.json)")
    ex.add_argument("--executor", default="local", metavar="local|dask://HOST:PORT",
                    help="where the work runs: a local pool of --jobs processes (default), or a Dask "
                    "scheduler (extra 'cluster')")
    ex.add_argument("--jobs", type=positive_int, default=os.cpu_count() or 1,
                    help="worker processes (default: all cores)")
    ex.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ex.add_argument("--quick", action="store_true", help="a small search for tests and demos")
    ex.add_argument("--thorough", action="store_true", help="the released code's search effort")
    ex.add_argument("--rram-ratios", type=_floats, help="e.g. 0.1,0.2,0.3")
    ex.add_argument("--cell-bits", type=_ints({1, 2, 4}), help="e.g. 1,2,4")
    ex.add_argument("--xbars", type=_ints({128, 256, 512}), help="e.g. 128,256")
    ex.add_argument("--dac-bits", type=_ints({1, 2, 4}), help="e.g. 1,2")
    ex.add_argument("--dup", choices=("sa", "heuristic", "none"), default="sa",
                    help="weight duplication: simulated annealing, the proportional heuristic, none")
    ex.add_argument("--macros", choices=("specialized", "unified"), default="specialized")
    ex.add_argument("--no-sharing", action="store_true", help="no inter-layer macro sharing")
    ex.add_argument("--sa-energy", choices=("paper", "max"), default="paper")
    ex.add_argument("--alpha", type=non_negative_float, default=0.1,
                    help="weight of the paper energy's 2nd term")
    ex.add_argument("--library", default="pimsyn", help="component library (name or file)")
    ex.add_argument("--no-baseline", action="store_true", help="skip the ISAAC comparison")
    ex.add_argument("--plot", action="store_true", help="also write PNG/SVG plots (extra 'plot')")
    ex.add_argument("--validate", action="store_true",
                    help="simulate the best designs and compare with the estimate")
    ex.add_argument("--top-k", type=positive_int, default=3, help="designs to validate (default 3)")
    ex.add_argument("--images", type=positive_int, default=4,
                    help="images in flight per validation run (default 4)")
    ex.add_argument("--tolerance", type=non_negative_float, default=5.0,
                    help="flag estimate errors beyond this, in %% (default 5)")
    ex.add_argument("--strict", action="store_true",
                    help="exit with 1 when a validated design is beyond the tolerance")
    ex.set_defaults(handler=_explore)

    plot = commands.add_parser("plot", help="plot a finished exploration (PNG and SVG)")
    plot.add_argument("run_dir", help="a `pimsyn explore` output folder")
    plot.set_defaults(handler=_plot)

    base = commands.add_parser("baseline", help="map a network onto a baseline accelerator")
    base.add_argument("kind", choices=("isaac",))
    base.add_argument("model", type=model_arg, help="zoo name, ONNX file or PIMCOMP JSON file")
    base.add_argument("-o", "--output", help="arch.json to write (default runs/isaac-<model>/)")
    base.add_argument("--force", action="store_true", help="overwrite an existing file")
    base.add_argument("--quiet", action="store_true", help="print only where it was written")
    base.set_defaults(handler=_baseline)

    models = commands.add_parser("models", help="list or export the built-in models",
                                 description="List the built-in models (layers, weights, GMACs), or "
                                 "export one: `pimsyn models export NAME -o FILE.onnx|FILE.json`.")
    models.add_argument("--json", action="store_true", help="print machine-readable JSON")
    actions = models.add_subparsers(dest="action", metavar="ACTION")
    export = actions.add_parser("export", help="write a zoo model as ONNX or PIMCOMP JSON")
    export.add_argument("name", help="zoo model name")
    export.add_argument("-o", "--output", required=True, help="FILE.onnx or FILE.json")
    export.add_argument("--force", action="store_true", help="overwrite an existing file")
    models.set_defaults(handler=_models, action=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The ``pimsyn`` command."""
    return entry_point(build_parser, argv)
