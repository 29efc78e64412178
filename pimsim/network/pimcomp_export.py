"""Writing a :class:`Network` as a PIMCOMP JSON node list (the reverse of :mod:`pimcomp`).

Where a consumer sees its input in another shape than its producer made it (a classifier after a
flatten), an ``OP_FLATTEN`` node is inserted, so the file reads back into the same layers. Fused ReLU
(and clipped ReLU) is written as ``with_act``; other fused activations become their own node, which the
reader fuses again.
"""

from __future__ import annotations

from typing import Any

from pimsim.errors import InputError
from pimsim.network.graph import Network
from pimsim.network.layer import Activation, EltwiseOp, Layer, LayerKind, PoolMethod, Shape

_OPS = {
    LayerKind.CONV: "OP_CONV",
    LayerKind.FC: "OP_FC",
    LayerKind.POOL: "OP_POOL",
    LayerKind.ELTWISE: "OP_ELTWISE",
    LayerKind.CONCAT: "OP_CONCAT",
    LayerKind.LRN: "OP_LRN",
    LayerKind.SOFTMAX: "OP_SOFTMAX",
}
_ACT_NODES = {
    Activation.RELU: "OP_RELU",
    Activation.LEAKY_RELU: "OP_RELU",
    Activation.TANH: "OP_TANH",
    Activation.SIGMOID: "OP_SIGMOID",
}


def _dims(shape: Shape) -> list[int]:
    return [1, shape.c, shape.h, shape.w]


def to_pimcomp(network: Network) -> list[dict[str, Any]]:
    """The network as a PIMCOMP node list (JSON-ready).

    Raises:
        InputError: the network holds something the format cannot say (a hard-swish activation, or an
            element-wise operation other than addition).
    """
    nodes: list[dict[str, Any]] = []
    out_name: dict[str, str] = {}  # layer/input -> name of the node that carries its final value
    shapes: dict[str, Shape] = dict(network.inputs)

    def emit(name: str, op: str, providers: list[str], out: Shape, **extra: Any) -> None:
        nodes.append(
            {
                "name": name,
                "operation": op,
                "bitwidth": 16,
                "index": len(nodes),
                "provider": providers,
                "provider_num": len(providers),
                "consumer": [],
                "output_dim": _dims(out),
                "output_dim_num": 4,
                **extra,
            }
        )

    for name, shape in network.inputs.items():
        emit(name, "OP_INPUT", [], shape)
        out_name[name] = name
    for layer in network.layers:
        providers = []
        for source, seen in zip(layer.inputs, layer.in_shapes, strict=True):
            node = out_name[source]
            if shapes[source] != seen:
                flat = f"{node}__as_{seen.c}x{seen.h}x{seen.w}"
                if not any(n["name"] == flat for n in nodes):
                    emit(flat, "OP_FLATTEN", [node], seen, param={"axis": 1, "end_axis": 3})
                node = flat
            providers.append(node)
        _emit_layer(network, layer, providers, emit)
        out_name[layer.name] = layer.name
        shapes[layer.name] = layer.out_shape
        if layer.activation is not Activation.NONE and not _fusable(layer.activation):
            act = f"{layer.name}__{layer.activation}"
            emit(
                act,
                _act_node(network, layer),
                [layer.name],
                layer.out_shape,
                param={
                    "negative_slope": 0.01 if layer.activation is Activation.LEAKY_RELU else 0.0
                },
            )
            out_name[layer.name] = act
    by_name = {n["name"]: n for n in nodes}
    for node in nodes:
        for provider in node["provider"]:
            by_name[provider]["consumer"].append(node["name"])
    for node in nodes:
        node["consumer_num"] = len(node["consumer"])
    return nodes


def _fusable(act: Activation) -> bool:
    return act in (Activation.RELU, Activation.RELU6)


def _act_node(network: Network, layer: Layer) -> str:
    op = _ACT_NODES.get(layer.activation)
    if op is None:
        raise InputError(
            network.source or network.name,
            f"layer '{layer.name}'",
            f"activation {layer.activation} cannot be written in PIMCOMP JSON",
        )
    return op


def _emit_layer(network: Network, layer: Layer, providers: list[str], emit: Any) -> None:
    extra: dict[str, Any] = {}
    kind = layer.kind
    if kind is LayerKind.ACT:
        emit(
            layer.name,
            _act_node(network, layer),
            providers,
            layer.out_shape,
            param={"negative_slope": 0.01 if layer.activation is Activation.LEAKY_RELU else 0.0},
        )
        return
    kh, kw = layer.kernel
    (sh, sw), (top, left, bottom, right) = layer.strides, layer.pads
    window = {
        "kernel_h": kh,
        "kernel_w": kw,
        "stride_h": sh,
        "stride_w": sw,
        "pad_h0": top,
        "pad_h1": bottom,
        "pad_w0": left,
        "pad_w1": right,
    }
    if kind is LayerKind.CONV:
        extra["param"] = {
            "input_channel": layer.in_shape.c,
            "output_channel": layer.out_shape.c,
            "group": layer.groups,
            "dilation_h": layer.dilation[0],
            "dilation_w": layer.dilation[1],
            **window,
        }
    elif kind is LayerKind.FC:
        extra["param"] = {"input_channel": layer.in_shape.size, "output_channel": layer.out_shape.c}
    elif kind is LayerKind.POOL:
        is_global = (
            layer.kernel == (layer.in_shape.h, layer.in_shape.w)
            and layer.out_pixels == 1
            and layer.pads == (0, 0, 0, 0)
            and layer.strides == (1, 1)
        )
        extra["param"] = {
            "pool_method": 0 if layer.pool is PoolMethod.MAX else 1,
            "global": int(is_global),
            **window,
        }
    elif kind is LayerKind.ELTWISE:
        if layer.eltwise is not EltwiseOp.ADD:
            raise InputError(
                network.source or network.name,
                f"layer '{layer.name}'",
                f"element-wise {layer.eltwise} cannot be written in PIMCOMP JSON "
                "(only addition has a known code)",
            )
        extra["param"] = {"eletype": 2}
    elif kind is LayerKind.CONCAT:
        extra["param"] = {"axis": 1}
    fused = _fusable(layer.activation)
    extra.update(
        with_act=int(fused),
        act_type=0 if fused else -1,
        with_clip=int(layer.activation is Activation.RELU6),
    )
    if layer.activation is Activation.RELU6:
        extra.update(clip_min=0, clip_max=6)
    emit(layer.name, _OPS[kind], providers, layer.out_shape, **extra)
