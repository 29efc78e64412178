"""``pimsyn``: synthesize accelerators (``explore``), map baselines, list and export models.

What only another sub-command needs (the model table, the PIMCOMP export, the plots) is imported
by its handler, so that ``pimsyn explore`` does not load it (``tests/test_startup.py``)."""

from __future__ import annotations

import argparse
import gc
import json
from collections.abc import Sequence
from pathlib import Path

from pimsim.arch.check import load_architecture
from pimsim.cli.common import add_subparsers, entry_point, make_parser, model_arg, out_console
from pimsim.errors import InputError
from pimsim.fileio import write_atomic
from pimsim.heap import few_full_collections, keep_heap
from pimsim.jsonio import read_json
from pimsim.network.load import load_model, model_reference
from pimsim.network.zoo import ZOO, zoo_model, zoo_name, zoo_network
from pimsim.render.estimate import report_view
from synth.baseline import isaac_baseline
from synth.cli_explore import add_explore
from synth.workflow import estimate_of


def _models(args: argparse.Namespace) -> int:
    if args.action == "export":
        return _export(args)
    from pimsim.render.network import zoo_table

    rows = [(name, entry.description, zoo_network(name)) for name, entry in ZOO.items()]
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": n,
                        "description": d,
                        "input": list(next(iter(net.inputs.values()))),
                        "layers": len(net),
                        "weight_layers": len(net.weight_layers),
                        "weights": net.weights,
                        "macs": net.macs,
                    }
                    for n, d, net in rows
                ],
                indent=1,
            )
        )
    else:
        out_console().print(zoo_table(rows))
    return 0


def _export(args: argparse.Namespace) -> int:
    name = zoo_name(args.name)
    if name is None:
        raise InputError(args.name, "", "is not a zoo model", f"zoo models: {', '.join(ZOO)}")
    from pimsim.network.pimcomp_export import to_pimcomp

    out: str = args.output
    if out.lower().endswith(".json"):
        data: bytes | str = json.dumps(to_pimcomp(zoo_network(name)), indent=1)
    elif out.lower().endswith(".onnx"):
        data = zoo_model(name).SerializeToString()
    else:
        raise InputError(
            out, "", "has an unknown extension", "use .onnx (ONNX) or .json (PIMCOMP JSON)"
        )
    write_atomic(out, data, force=args.force)
    out_console().print(f"wrote {name} to {out}")
    return 0


def _plot(args: argparse.Namespace) -> int:
    from synth.plots import plot_run

    run = Path(args.run_dir)
    report_file = run / "report.json"
    if not report_file.exists():
        raise InputError(
            str(run), "", "holds no report.json", "give a `pimsyn explore` output folder"
        )
    report = read_json(report_file)
    model = report.get("model") if isinstance(report, dict) else None
    loaded = load_architecture(run / "arch.json")
    if loaded.network is None:
        raise InputError(loaded.file, "mapping", "is missing: a run's design maps its network")
    best = estimate_of(loaded.arch, loaded.network)
    baseline = None
    if isinstance(model, str) and model:
        try:
            baseline = estimate_of(isaac_baseline(loaded.network, model), loaded.network)
        except InputError:
            baseline = None
    written = plot_run(run, best, baseline)
    out_console().print("\n".join(f"wrote {p}" for p in written))
    return 0


def _baseline(args: argparse.Namespace) -> int:
    network = load_model(args.model)
    out = Path(args.output or Path("runs") / f"isaac-{network.name}" / "arch.json")
    arch = isaac_baseline(network, model_reference(args.model, out.parent))
    write_atomic(out, arch.to_json(), force=args.force)
    report = estimate_of(arch, network)
    if not args.quiet:
        out_console().print(report_view(report))
    out_console().print(f"wrote {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser("pimsyn", "Synthesize ReRAM PIM CNN accelerators (the PIMSYN flow).")
    commands = add_subparsers(parser)
    add_explore(commands)

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

    models = commands.add_parser(
        "models",
        help="list or export the built-in models",
        description="List the built-in models (layers, weights, GMACs), or "
        "export one: `pimsyn models export NAME -o FILE.onnx|FILE.json`.",
    )
    models.add_argument("--json", action="store_true", help="print machine-readable JSON")
    actions = models.add_subparsers(dest="action", metavar="ACTION")
    export = actions.add_parser("export", help="write a zoo model as ONNX or PIMCOMP JSON")
    export.add_argument("name", help="zoo model name")
    export.add_argument("-o", "--output", required=True, help="FILE.onnx or FILE.json")
    export.add_argument("--force", action="store_true", help="overwrite an existing file")
    models.set_defaults(handler=_models, action=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The ``pimsyn`` command.

    As the console script (``argv`` None) the process holds what it imported until it ends, and
    ends with the command; Python's full garbage collections walk every object there is (some
    130,000 after the imports, 150,000 after a default AlexNet search). So the objects alive
    before the command and those left after it are frozen (``gc.freeze``: no collection looks at
    them again; nothing else changes). Before: one full collection during the search took 0.47 s
    in each worker process (forked after this, they inherit the frozen set: 0.11 s), and the exit
    walked everything three times (0.4-1 s added to the command's time; with the freeze 0.07-0.2
    s), on a shared machine at load 3-4. The console script also keeps the memory it frees for
    its next arrays (:func:`pimsim.heap.keep_heap`: a batch's pages are not faulted in again)
    and lets many more young collections pass between two full ones
    (:func:`pimsim.heap.few_full_collections`: a search unit's records are not walked again and
    again). Called from Python (a list), nothing is frozen or set."""
    if argv is not None:
        return entry_point(build_parser, argv)
    keep_heap()
    few_full_collections()
    gc.freeze()
    try:
        return entry_point(build_parser, argv)  # raises SystemExit with the command's code
    finally:
        gc.freeze()
