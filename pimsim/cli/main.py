"""``pimsim``: inspect networks and (in later commands) estimate and simulate architectures."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from pimsim.cli.common import add_subparsers, exit_with, make_parser, out_console, run, shape_arg
from pimsim.cli.render_network import network_table
from pimsim.network.load import load_model


def _network(args: argparse.Namespace) -> int:
    network = load_model(args.model, args.input_shape)
    if args.json:
        print(json.dumps({**network.to_dict(), "source": network.source,
                          "fingerprint": network.fingerprint()}, indent=1))
    else:
        out_console().print(network_table(network))
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    code = run(lambda args: args.handler(args), parser, argv)
    if argv is None:
        exit_with(code)
    return code
