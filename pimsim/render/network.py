"""Rich tables for networks: the per-layer table of ``pimsim network`` and the zoo of ``pimsyn models``."""

from __future__ import annotations

from rich.table import Table

from pimsim.network.graph import Network
from pimsim.network.layer import Activation, Layer, LayerKind


def _window(layer: Layer) -> str:
    if layer.kind not in (LayerKind.CONV, LayerKind.POOL):
        return ""
    (kh, kw), (sh, sw) = layer.kernel, layer.strides
    text = f"{kh}x{kw}/{sh}" if sh == sw else f"{kh}x{kw}/{sh},{sw}"
    if any(layer.pads):
        text += (
            " p" + ",".join(str(p) for p in layer.pads)
            if len(set(layer.pads)) > 1
            else f" p{layer.pads[0]}"
        )
    if layer.groups > 1:
        text += f" g{layer.groups}"
    return text


def si(value: float) -> str:
    """A count with an SI suffix: 14.1K, 2.36M, 1.84G."""
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= factor:
            return f"{value / factor:.3g}{suffix}"
    return f"{value:g}"


def _what(layer: Layer) -> str:
    text = str(layer.kind)
    if layer.kind is LayerKind.POOL:
        text += f" {layer.pool}"
    elif layer.kind is LayerKind.ELTWISE:
        text += f" {layer.eltwise}"
    if layer.activation is not Activation.NONE:
        text += f" +{layer.activation}"
    return text


def network_table(network: Network) -> Table:
    """Every layer: kind, shapes, window, weights, MACs and the unrolled weight matrix."""
    table = Table(
        title=f"{network.name}  ({network.source})",
        title_justify="left",
        caption="rows x cols: the unrolled weight matrix (kh*kw*Cin/groups x Cout) that is "
        "mapped onto crossbars",
        caption_justify="left",
    )
    for header, justify in [
        ("#", "right"),
        ("layer", "left"),
        ("kind", "left"),
        ("in", "right"),
        ("out", "right"),
        ("k/stride pad", "left"),
        ("weights", "right"),
        ("MACs", "right"),
        ("rows", "right"),
        ("cols", "right"),
    ]:
        table.add_column(
            header,
            justify=justify,
            no_wrap=header != "layer",  # type: ignore[arg-type]
            overflow="ellipsis",
            max_width=28 if header == "layer" else None,
        )
    for i, layer in enumerate(network.layers):
        table.add_row(
            str(i),
            layer.name,
            _what(layer),
            " + ".join(str(s) for s in layer.in_shapes),
            str(layer.out_shape),
            _window(layer),
            si(layer.weights) if layer.weights else "",
            si(layer.macs) if layer.macs else "",
            str(layer.weight_rows) if layer.weight_rows else "",
            str(layer.weight_cols) if layer.weight_cols else "",
        )
    table.add_section()
    table.add_row(
        "",
        "total",
        f"{len(network)} layers",
        "",
        "",
        "",
        si(network.weights),
        si(network.macs),
        "",
        "",
    )
    return table


def zoo_table(rows: list[tuple[str, str, Network]]) -> Table:
    """The built-in models: name, input, layers, weight layers, weights, GMACs and description."""
    table = Table(title="built-in models", title_justify="left")
    for header, justify in [
        ("name", "left"),
        ("input", "right"),
        ("layers", "right"),
        ("conv+fc", "right"),
        ("weights (M)", "right"),
        ("GMACs", "right"),
        ("description", "left"),
    ]:
        table.add_column(header, justify=justify, no_wrap=header != "description")  # type: ignore[arg-type]
    for name, description, net in rows:
        shape = next(iter(net.inputs.values()))
        table.add_row(
            name,
            str(shape),
            str(len(net)),
            str(len(net.weight_layers)),
            f"{net.weights / 1e6:.2f}",
            f"{net.macs / 1e9:.3f}",
            description,
        )
    return table
