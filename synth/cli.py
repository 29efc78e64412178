"""``pimsyn``: the synthesizer's command line (``models`` now; ``explore`` in a later step)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from pimsim.cli.common import add_subparsers, entry_point, make_parser, out_console
from pimsim.cli.render_network import zoo_table
from pimsim.errors import InputError
from pimsim.fileio import write_atomic
from pimsim.network.pimcomp_export import to_pimcomp
from pimsim.network.zoo import ZOO, zoo_model, zoo_name, zoo_network


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


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser("pimsyn", "Synthesize ReRAM PIM CNN accelerators (the PIMSYN flow).")
    commands = add_subparsers(parser)
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
