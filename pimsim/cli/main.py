"""``pimsim``: inspect networks, print the arch.json schema, estimate architectures."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from pimsim.cli.common import add_subparsers, entry_point, make_parser, out_console, shape_arg
from pimsim.arch.check import load_architecture
from pimsim.arch.schema import Architecture
from pimsim.cli.render_estimate import report_json, report_view
from pimsim.cli.render_network import network_table
from pimsim.components.library import ComponentLibrary
from pimsim.model.estimate import estimate
from pimsim.model.plan import Plan
from pimsim.network.load import load_model


def _network(args: argparse.Namespace) -> int:
    network = load_model(args.model, args.input_shape)
    if args.json:
        print(json.dumps({**network.to_dict(), "source": network.source,
                          "fingerprint": network.fingerprint()}, indent=1))
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


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser("pimsim", "Inspect CNNs and simulate ReRAM PIM accelerators.")
    commands = add_subparsers(parser)
    net = commands.add_parser("network", help="print a network's layer table",
                              description="Print a network's layers: kind, shapes, kernel/stride, "
                              "weights, MACs and the unrolled weight matrix (crossbar rows x cols).")
    net.add_argument("model", help="zoo name (see `pimsyn models`), ONNX file or PIMCOMP JSON file")
    net.add_argument("--input-shape", type=shape_arg, default=None,
                     help="resolve dynamic input dims, e.g. 1,3,224,224")
    net.add_argument("--json", action="store_true", help="print machine-readable JSON")
    net.set_defaults(handler=_network)

    schema = commands.add_parser("schema", help="print the JSON Schema of arch.json",
                                 description="Print the JSON Schema generated from the arch.json "
                                 "model (or, with --library, from the component-library model).")
    schema.add_argument("--library", action="store_true", help="the component library's schema")
    schema.set_defaults(handler=_schema)

    est = commands.add_parser("estimate", help="analytical estimate of an architecture",
                              description="Closed-form throughput, latency, energy, power and area "
                              "of an architecture (and of its mapped network, if it has one).")
    est.add_argument("arch", help="arch.json (or a folder holding one)")
    est.add_argument("--json", action="store_true", help="print machine-readable JSON")
    est.set_defaults(handler=_estimate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The ``pimsim`` command."""
    return entry_point(build_parser, argv)
