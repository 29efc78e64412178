"""``pimsim``: inspect networks, print the arch.json schema, estimate, compile and simulate
architectures."""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pimsim.arch.check import load_architecture
from pimsim.arch.schema import Architecture
from pimsim.cli.common import (
    add_subparsers,
    entry_point,
    err_console,
    make_parser,
    model_arg,
    out_console,
    positive_float,
    positive_int,
    shape_arg,
)
from pimsim.components.library import ComponentLibrary
from pimsim.errors import InputError
from pimsim.model.estimate import estimate
from pimsim.model.plan import Plan
from pimsim.network.load import load_model
from pimsim.render.estimate import report_json, report_view
from pimsim.render.network import network_table

#: Exit code of a run stopped early by --max-cycles or --max-wall-s (its result is partial).
PARTIAL = 3


def _network(args: argparse.Namespace) -> int:
    network = load_model(args.model, args.input_shape)
    if args.json:
        print(
            json.dumps(
                {
                    **network.to_dict(),
                    "source": network.source,
                    "fingerprint": network.fingerprint(),
                },
                indent=1,
            )
        )
    else:
        out_console().print(network_table(network))
    return 0


def _schema(args: argparse.Namespace) -> int:
    model = ComponentLibrary if args.library else Architecture
    print(json.dumps(model.model_json_schema(), indent=1))
    return 0


def _estimate(args: argparse.Namespace) -> int:
    loaded = load_architecture(args.arch)
    plan = Plan(loaded.arch, loaded.network) if loaded.network is not None else None
    report = estimate(loaded.arch, plan)
    if args.json:
        print(json.dumps(report_json(report), indent=1))
    else:
        out_console().print(report_view(report))
    return 0


def _mapped(path: str) -> Plan:
    loaded = load_architecture(path)
    if loaded.network is None:
        raise InputError(
            loaded.file,
            "mapping",
            "is missing: there is no network to run",
            "map a network onto it first, e.g. `pimsyn baseline isaac MODEL` for the ISAAC preset",
        )
    return Plan(loaded.arch, loaded.network)


def _run(args: argparse.Namespace) -> int:
    from pimsim.render.sim import run_json, run_view
    from pimsim.sim import SimOptions, simulate

    plan = _mapped(args.arch)
    trace = args.trace
    scratch = None
    if args.plot and trace is None:  # the timeline is drawn from a trace
        scratch = tempfile.TemporaryDirectory(prefix="pimsim-plot-")
        trace = str(Path(scratch.name) / "run.json.gz")
    try:
        result = simulate(
            plan,
            SimOptions(
                args.images, trace, args.trace_level, args.force, args.max_cycles, args.max_wall_s
            ),
        )
        report = estimate(plan.arch, plan)
        if args.json:
            print(json.dumps(run_json(result, report), indent=1))
        else:
            out_console().print(run_view(result, report))
        if args.plot:
            from pimsim.cli.plot_sim import utilisation_timeline
            from pimsim.traceformat.reader import load_trace

            stem = Path(args.plot)
            written = utilisation_timeline(load_trace(trace), stem)
            err_console().print("wrote " + ", ".join(str(p) for p in written))
    finally:
        if scratch is not None:
            scratch.cleanup()
    return PARTIAL if result.stopped else 0


def _trace(args: argparse.Namespace) -> int:
    from pimsim.traceformat.reader import load_trace

    data = load_trace(args.file)
    if args.summary:
        from pimsim.tui.views import Filters, energy_table, header, layers_table, units_table

        console = out_console()
        console.print(header(data))
        console.print(units_table(data, Filters(), args.sort, limit=args.limit))
        console.print(layers_table(data))
        console.print(energy_table(data))
        return 0
    from pimsim.tui.app import TraceApp

    TraceApp(data).run()
    return 0


def _compile(args: argparse.Namespace) -> int:
    from pimsim.render.sim import program_view
    from pimsim.sim import compile_program
    from pimsim.sim.expand import program_ops

    program = compile_program(_mapped(args.arch))
    if not args.json:
        out_console().print(program_view(program))
        return 0
    header = json.dumps(program.header(), indent=1)
    print(f'{{"program": {header},\n"ops": [', end="")
    for i, op in enumerate(
        program_ops(program, args.images, args.level)
    ):  # streamed: never all in memory
        print(("\n" if i == 0 else ",\n") + json.dumps(op.to_json()), end="")
    print("\n]}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser("pimsim", "Inspect CNNs and simulate ReRAM PIM accelerators.")
    commands = add_subparsers(parser)
    net = commands.add_parser(
        "network",
        help="print a network's layer table",
        description="Print a network's layers: kind, shapes, kernel/stride, "
        "weights, MACs and the unrolled weight matrix (crossbar rows x cols).",
    )
    net.add_argument(
        "model",
        type=model_arg,
        help="zoo name (see `pimsyn models`), ONNX file or PIMCOMP JSON file",
    )
    net.add_argument(
        "--input-shape",
        type=shape_arg,
        default=None,
        help="resolve dynamic input dims, e.g. 1,3,224,224",
    )
    net.add_argument("--json", action="store_true", help="print machine-readable JSON")
    net.set_defaults(handler=_network)

    schema = commands.add_parser(
        "schema",
        help="print the JSON Schema of arch.json",
        description="Print the JSON Schema generated from the arch.json "
        "model (or, with --library, from the component-library model).",
    )
    schema.add_argument("--library", action="store_true", help="the component library's schema")
    schema.set_defaults(handler=_schema)

    est = commands.add_parser(
        "estimate",
        help="analytical estimate of an architecture",
        description="Closed-form throughput, latency, energy, power and area "
        "of an architecture (and of its mapped network, if it has one).",
    )
    est.add_argument("arch", help="arch.json (or a folder holding one)")
    est.add_argument("--json", action="store_true", help="print machine-readable JSON")
    est.set_defaults(handler=_estimate)

    run = commands.add_parser(
        "run",
        help="simulate an architecture cycle by cycle",
        description="Simulate the mapped network on the architecture with the "
        "cycle-level SimPy simulator; print the simulated figures beside the "
        "analytical estimate, per-layer utilisation and stalls, the busiest "
        "units and the energy breakdown.",
    )
    run.add_argument("arch", help="arch.json with a mapping (or a folder holding one)")
    run.add_argument(
        "--images",
        type=positive_int,
        default=4,
        help="images fed back to back (pipelined; default 4)",
    )
    run.add_argument(
        "--trace",
        metavar="FILE",
        default=None,
        help="write a Chrome trace (Perfetto); .gz to compress; FILE's summary "
        "goes to NAME.summary.json beside it",
    )
    run.add_argument(
        "--trace-level",
        choices=("layer", "block", "bit"),
        default="block",
        help="trace granularity (default block)",
    )
    run.add_argument("--force", action="store_true", help="overwrite an existing trace")
    run.add_argument(
        "--max-cycles",
        type=positive_int,
        default=None,
        help="stop at this simulated cycle with a partial result (exit code 3)",
    )
    run.add_argument(
        "--max-wall-s",
        type=positive_float,
        default=None,
        help="stop after this many seconds of wall-clock time with a partial result (exit code 3)",
    )
    run.add_argument("--json", action="store_true", help="print machine-readable JSON")
    run.add_argument(
        "--plot",
        metavar="STEM",
        default=None,
        help="write a utilisation timeline to STEM.png and STEM.svg (extra 'plot')",
    )
    run.set_defaults(handler=_run)

    tr = commands.add_parser(
        "trace",
        help="inspect a simulation trace (interactive, or --summary)",
        description="Open a trace written by `pimsim run --trace` in an "
        "interactive terminal UI (timeline, units, layers, energy; filters, "
        "zoom, scroll; press ? for keys), or print its summary.",
    )
    tr.add_argument("file", help="trace file (.json or .json.gz)")
    tr.add_argument("--summary", action="store_true", help="print the summary tables and exit")
    tr.add_argument(
        "--sort",
        choices=("utilisation", "busy", "stall", "name"),
        default="utilisation",
        help="order of the units table (--summary)",
    )
    tr.add_argument("--limit", type=positive_int, default=40, help="units shown (--summary)")
    tr.set_defaults(handler=_trace)

    comp = commands.add_parser(
        "compile",
        help="compile an architecture's mapping to IR",
        description="Compile the mapped network into the simulator's IR "
        "program: per layer share its blocks, bits and stages, the flows "
        "between macros, the scratchpad partitions; with --json the program "
        "and every instruction with its dependencies (streamed).",
    )
    comp.add_argument("arch", help="arch.json with a mapping (or a folder holding one)")
    comp.add_argument("--json", action="store_true", help="print the program and its instructions")
    comp.add_argument(
        "--images",
        type=positive_int,
        default=1,
        help="images whose instructions are listed (default 1)",
    )
    comp.add_argument(
        "--level",
        choices=("block", "bit"),
        default="bit",
        help="one mvm/adc/shift-and-add instruction per bit (default) or per block",
    )
    comp.set_defaults(handler=_compile)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The ``pimsim`` command."""
    return entry_point(build_parser, argv)
