"""ONNX -> :class:`Network`.

The graph is walked in node order. Every tensor is either a *constant* (weights, shapes, anything
computed only from constants: shape arithmetic costs no hardware) or an *activation*, seen as a
:class:`_View` of the layer (or network input) that produced it: layout-only operators change the view's
dims, BatchNormalization and per-channel affine operations keep it, a Pad records padding that the next
convolution or pooling absorbs, and an activation function is fused into the producing layer when no
other reader sees the value before it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import onnx
from onnx import numpy_helper

from pimsim.errors import InputError
from pimsim.network.graph import Network
from pimsim.network.layer import (
    Activation,
    EltwiseOp,
    Layer,
    LayerKind,
    PoolMethod,
    Shape,
    conv_macs,
)
from pimsim.network.onnx_check import attribute, node_place, window_attribute
from pimsim.network.onnx_io import MAX_DIM, InputShape, prepare, read_model, tensor_dims

_NO_PAD = (0, 0, 0, 0)


@dataclass(frozen=True)
class _View:
    """An activation tensor: which layer or input produced it, its dims (batch first), pending pads."""

    source: str
    dims: tuple[int, ...]
    pad: tuple[int, int, int, int] = _NO_PAD
    exclusive: bool = (
        True  # no reader other than the current chain has seen the source's raw output
    )


def load_network(
    source: str | os.PathLike[str] | onnx.ModelProto,
    input_shape: InputShape = None,
    name: str | None = None,
    label: str | None = None,
) -> Network:
    """Import a CNN from an ONNX file or ``ModelProto``.

    Args:
        source: a path to a ``.onnx`` file, or a loaded model (never modified).
        input_shape: resolves dynamic input dims: ``(N, C, H, W)``, ``(C, H, W)``, or a mapping from
            input name to either. A dynamic batch axis alone becomes 1.
        name: the network's name; defaults to the file stem or the graph name.
        label: how messages and reports name the source; defaults to the path.

    Raises:
        InputError: the file is missing or not ONNX, a dynamic dim cannot be resolved, an operator is
            not supported, or the graph is malformed. The message names the file and the node.
    """
    if isinstance(source, onnx.ModelProto):
        file = label or f"<model {source.graph.name or 'unnamed'}>"
        model = source
    else:
        file = os.fspath(source)
        model = read_model(file)
    inferred, data_inputs = prepare(model, file, input_shape)
    del model
    net_name = name or (
        Path(file).stem
        if not isinstance(source, onnx.ModelProto)
        else inferred.graph.name or "model"
    )
    return _Importer(inferred, data_inputs, file).run(net_name, source=file)


class _Importer:
    def __init__(self, model: onnx.ModelProto, data_inputs: list[str], file: str) -> None:
        self.graph = model.graph
        self.file = file
        self.dims = tensor_dims(model)
        self.uses = Counter(name for node in self.graph.node for name in node.input if name)
        self.uses.update(o.name for o in self.graph.output)
        self.views: dict[str, _View] = {}
        self.values: dict[str, onnx.TensorProto] = {i.name: i for i in self.graph.initializer}
        self.layers: dict[str, Layer] = {}
        self.inputs: dict[str, Shape] = {}
        self.node: onnx.NodeProto | None = None
        self.index = 0
        for name in data_inputs:
            dims = self._dims(name)
            self.views[name] = _View(name, dims, exclusive=False)
            self.inputs[name] = self._shape(dims, f"input '{name}'")

    # -- driver -------------------------------------------------------------------------------
    def run(self, name: str, source: str) -> Network:
        for index, node in enumerate(self.graph.node):
            self.index, self.node = index, node
            self._visit(node)
        if not self.layers:
            raise InputError(self.file, "graph", "has no layer that computes anything on the input")
        try:
            return Network(name, self.inputs, self.layers.values(), source=source)
        except ValueError as exc:
            raise InputError(self.file, "graph", str(exc)) from None

    def _visit(self, node: onnx.NodeProto) -> None:
        operands = [n for n in node.input if n]
        unknown = [n for n in operands if n not in self.views and n not in self.dims]
        if unknown:
            raise self._error(f"reads tensor '{unknown[0]}', whose shape could not be inferred")
        if node.op_type == "Constant":
            value = self._attr("value", onnx.AttributeProto.TENSOR)
            if value is not None:
                self.values[node.output[0]] = value  # type: ignore[assignment]
            return
        if node.op_type in ("Shape", "Size") or not any(n in self.views for n in operands):
            return  # shape arithmetic or constants: no hardware, outputs stay constants
        if node.domain not in ("", "ai.onnx"):
            raise self._unsupported()
        handler = _HANDLERS.get(node.op_type)
        if handler is None:
            raise self._unsupported()
        need = _OPERANDS.get(node.op_type, 1)
        if len(node.input) < need or not all(node.input[:need]) or not node.output[0]:
            raise self._error(
                f"needs {need} operand{'s' if need > 1 else ''} and an output; it has "
                f"inputs {list(node.input)} and outputs {list(node.output)}"
            )
        handler(self, node)

    # -- helpers ------------------------------------------------------------------------------
    def _place(self) -> str:
        assert self.node is not None
        return node_place(self.node, self.index)

    def _error(self, cause: str, hint: str | None = None) -> InputError:
        return InputError(self.file, self._place(), cause, hint)

    def _unsupported(self) -> InputError:
        assert self.node is not None
        domain = (
            f" of domain '{self.node.domain}'" if self.node.domain not in ("", "ai.onnx") else ""
        )
        return self._error(
            f"operator {self.node.op_type}{domain} is not supported on activations",
            "pimsyn maps Conv, Gemm/MatMul, pooling, element-wise Add/Sum/Sub/Mul, "
            "Concat and fused activations; remove or replace this operator (for example "
            "with onnx-simplifier or by exporting the model without it)",
        )

    def _dims(self, tensor: str) -> tuple[int, ...]:
        dims = self.dims.get(tensor)
        place = f"{self._place()}, tensor '{tensor}'" if self.node else f"tensor '{tensor}'"
        if dims is None:
            raise InputError(
                self.file,
                place,
                "shape could not be inferred",
                "give --input-shape, or export the model with static shapes",
            )
        if any(d <= 0 for d in dims):
            raise InputError(
                self.file,
                place,
                f"has a zero-size or negative dimension {list(dims)} "
                "(a window larger than its padded input?)",
            )
        if any(d > MAX_DIM for d in dims):
            raise InputError(self.file, place, f"has an absurd dimension {list(dims)}")
        return dims

    def _shape(self, dims: tuple[int, ...], what: str) -> Shape:
        if len(dims) == 4:
            return Shape(dims[1], dims[2], dims[3])
        if len(dims) == 3:
            return Shape(dims[1], 1, dims[2])
        if len(dims) == 2:
            return Shape(dims[1], 1, 1)
        raise InputError(
            self.file,
            f"{self._place()}, {what}" if self.node else what,
            f"has rank {len(dims)} ({list(dims)}); layers read tensors of rank 2 "
            "(N, F), 3 (N, C, L) or 4 (N, C, H, W)",
        )

    def _view(self, tensor: str) -> _View:
        view = self.views.get(tensor)
        if view is None:
            raise self._error(f"expects an activation at operand '{tensor}', which is a constant")
        return view

    def _attr(self, key: str, kind: int, default: Any = None) -> Any:
        try:
            return attribute(self.node, key, kind, default)  # type: ignore[arg-type]
        except ValueError as exc:
            raise self._error(str(exc)) from None

    def _spatial(self, key: str, rank: int, default: int, least: int) -> list[int]:
        try:
            return window_attribute(self.node, key, rank, default, least)  # type: ignore[arg-type]
        except ValueError as exc:
            raise self._error(str(exc)) from None

    def _const_ints(self, tensor: str) -> list[int] | None:
        value = self.values.get(tensor)
        if value is None:
            return None
        try:
            return [int(v) for v in numpy_helper.to_array(value).ravel()]
        except Exception:  # noqa: BLE001 - a corrupt or non-numeric constant: treated as unknown
            return None

    def _unique(self, preferred: str) -> str:
        name = preferred or f"layer{self.index}"
        base, k = name, 1
        while name in self.layers or name in self.inputs:
            k += 1
            name = f"{base}_{k}"
        return name

    def _add(self, node: onnx.NodeProto, layer: Layer) -> None:
        layer = replace(layer, name=self._unique(node.name or node.output[0]))
        self.layers[layer.name] = layer
        out = node.output[0]
        self.views[out] = _View(layer.name, self._dims(out), exclusive=self.uses[out] <= 1)

    def _alias(
        self, node: onnx.NodeProto, view: _View, pad: tuple[int, int, int, int] = _NO_PAD
    ) -> None:
        out = node.output[0]
        new_pad = tuple(a + b for a, b in zip(view.pad, pad, strict=True))
        self.views[out] = _View(
            view.source,
            self._dims(out),
            new_pad,  # type: ignore[arg-type]
            view.exclusive and self.uses[out] <= 1,
        )

    def _operand(self, view: _View, absorb_pad: bool) -> tuple[Shape, tuple[int, int, int, int]]:
        """Shape the consumer sees, and the padding it must add (when it absorbs a Pad)."""
        if view.pad == _NO_PAD:
            return self._shape(view.dims, "operand"), _NO_PAD
        if not absorb_pad:
            return self._shape(view.dims, "operand"), _NO_PAD
        top, left, bottom, right = view.pad
        c, h, w = self._shape(view.dims, "operand")
        return Shape(c, h - top - bottom, w - left - right), view.pad

    def _window(
        self, kernel: tuple[int, int], view: _View
    ) -> tuple[Shape, tuple[int, int], tuple[int, int, int, int], tuple[int, int]]:
        """Input shape, strides, pads (explicit, auto_pad and absorbed Pad) and dilation of a window op."""
        in_shape, extra = self._operand(view, absorb_pad=True)
        rank = len(view.dims) - 2
        strides = self._spatial("strides", rank, 1, 1)
        dilation = self._spatial("dilations", rank, 1, 1)
        pads = self._spatial("pads", rank, 0, 0)
        if rank == 1:  # 1-D op on (N, C, L): H is 1
            strides, dilation, pads = [1, *strides], [1, *dilation], [0, pads[0], 0, pads[1]]
        top, left, bottom, right = pads
        auto = str(self._attr("auto_pad", onnx.AttributeProto.STRING, "NOTSET"))
        out = self._shape(self._dims(self.node.output[0]), "output")  # type: ignore[union-attr]
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            total_h = max(
                (out.h - 1) * strides[0] + (kernel[0] - 1) * dilation[0] + 1 - in_shape.h, 0
            )
            total_w = max(
                (out.w - 1) * strides[1] + (kernel[1] - 1) * dilation[1] + 1 - in_shape.w, 0
            )
            small_h, small_w = total_h // 2, total_w // 2
            if auto == "SAME_UPPER":
                top, left, bottom, right = small_h, small_w, total_h - small_h, total_w - small_w
            else:
                top, left, bottom, right = total_h - small_h, total_w - small_w, small_h, small_w
        pads_all = (top + extra[0], left + extra[1], bottom + extra[2], right + extra[3])
        return (
            in_shape,
            (int(strides[0]), int(strides[1])),
            pads_all,
            (int(dilation[0]), int(dilation[1])),
        )

    # -- operators ----------------------------------------------------------------------------
    def conv(self, node: onnx.NodeProto) -> None:
        view = self._view(node.input[0])
        if node.input[1] in self.views:
            raise self._error(
                "has an activation as its weight operand, which crossbars cannot hold"
            )
        weight = self._dims(node.input[1])
        if len(weight) != len(view.dims) or len(weight) not in (3, 4):
            raise self._error(
                f"has a weight of shape {list(weight)} for an input of shape "
                f"{list(view.dims)}; 1-D and 2-D convolutions are supported"
            )
        kernel_attr = self._attr("kernel_shape", onnx.AttributeProto.INTS)
        if kernel_attr and list(kernel_attr) != list(weight[2:]):
            raise self._error(
                f"has kernel_shape {list(kernel_attr)} but its weight's kernel is "
                f"{list(weight[2:])}"
            )
        spatial = weight[2:]
        kernel = (1, int(spatial[0])) if len(spatial) == 1 else (int(spatial[0]), int(spatial[1]))
        groups = int(self._attr("group", onnx.AttributeProto.INT, 1))
        in_shape, strides, pads, dilation = self._window(kernel, view)
        out = self._shape(self._dims(node.output[0]), "output")
        if (
            groups < 1
            or in_shape.c % groups
            or out.c % groups
            or weight[0] != out.c
            or weight[1] * groups != in_shape.c
        ):
            raise self._error(
                f"has group={groups} and a weight of shape {list(weight)}, which do "
                f"not fit Cin={in_shape.c} and Cout={out.c} (groups must divide both)"
            )
        self._add(
            node,
            Layer(
                name="",
                kind=LayerKind.CONV,
                inputs=(view.source,),
                in_shapes=(in_shape,),
                out_shape=out,
                kernel=kernel,
                strides=strides,
                pads=pads,
                dilation=dilation,
                groups=groups,
                macs=conv_macs(out, kernel, in_shape.c, groups),
            ),
        )

    def fc(self, node: onnx.NodeProto) -> None:
        view = self._view(node.input[0])
        if len(node.input) > 1 and node.input[1] in self.views:
            raise self._error(
                "multiplies two activations; only activation x weight products map onto crossbars"
            )
        if node.op_type == "Gemm" and self._attr("transA", onnx.AttributeProto.INT, 0):
            raise self._error("has transA=1: the activation must be the left operand, untransposed")
        out_dims = self._dims(node.output[0])
        if len(view.dims) != 2 or len(out_dims) != 2:
            raise self._error(
                f"reads an activation of rank {len(view.dims)} ({list(view.dims)}) and "
                f"writes one of rank {len(out_dims)}; a fully connected layer maps "
                "(N, features) to (N, features): flatten first"
            )
        in_f, out_f = view.dims[1], out_dims[-1]
        self._add(
            node,
            Layer(
                name="",
                kind=LayerKind.FC,
                inputs=(view.source,),
                in_shapes=(Shape(in_f, 1, 1),),
                out_shape=Shape(out_f, 1, 1),
                macs=in_f * out_f,
            ),
        )

    def pool(self, node: onnx.NodeProto) -> None:
        view = self._view(node.input[0])
        method = PoolMethod.MAX if "Max" in node.op_type else PoolMethod.AVG
        if node.op_type.startswith("Global"):
            in_shape, _ = self._operand(view, absorb_pad=False)
            kernel, strides, pads, dilation = (in_shape.h, in_shape.w), (1, 1), _NO_PAD, (1, 1)
        else:
            spatial = self._spatial("kernel_shape", len(view.dims) - 2, 0, 1)
            kernel = (
                (1, int(spatial[0])) if len(spatial) == 1 else (int(spatial[0]), int(spatial[1]))
            )
            in_shape, strides, pads, dilation = self._window(kernel, view)
        out = self._shape(self._dims(node.output[0]), "output")
        self._add(
            node,
            Layer(
                name="",
                kind=LayerKind.POOL,
                inputs=(view.source,),
                in_shapes=(in_shape,),
                out_shape=out,
                kernel=kernel,
                strides=strides,
                pads=pads,
                dilation=dilation,
                pool=method,
            ),
        )

    def arith(self, node: onnx.NodeProto) -> None:
        operands = [n for n in node.input if n]
        live = [n for n in operands if n in self.views]
        if len(live) == 1:  # x (op) constant: a per-channel affine step, folded into the producer
            if node.op_type in ("Sub", "Div") and operands[0] != live[0]:
                raise self._error(
                    "subtracts or divides by an activation; only the form "
                    "activation (op) constant can be folded"
                )
            self._alias(node, self.views[live[0]])
            return
        if node.op_type == "Div":
            raise self._unsupported()
        op = {
            "Add": EltwiseOp.ADD,
            "Sum": EltwiseOp.ADD,
            "Sub": EltwiseOp.SUB,
            "Mul": EltwiseOp.MUL,
        }[node.op_type]
        if len(live) != len(operands):
            raise self._error("mixes activations and constants in one element-wise operation")
        views = [self.views[n] for n in live]
        self._add(
            node,
            Layer(
                name="",
                kind=LayerKind.ELTWISE,
                inputs=tuple(v.source for v in views),
                in_shapes=tuple(self._operand(v, False)[0] for v in views),
                out_shape=self._shape(self._dims(node.output[0]), "output"),
                eltwise=op,
            ),
        )

    def concat(self, node: onnx.NodeProto) -> None:
        operands = [n for n in node.input if n]
        if not all(n in self.views for n in operands):
            raise self._error("concatenates activations with constants")
        views = [self.views[n] for n in operands]
        rank = len(views[0].dims)
        axis = int(self._attr("axis", onnx.AttributeProto.INT, 1))
        if rank < 2 or axis % rank != 1:
            raise self._error(
                f"concatenates along axis {axis}; only the channel axis (1) is supported"
            )
        self._add(
            node,
            Layer(
                name="",
                kind=LayerKind.CONCAT,
                inputs=tuple(v.source for v in views),
                in_shapes=tuple(self._operand(v, False)[0] for v in views),
                out_shape=self._shape(self._dims(node.output[0]), "output"),
            ),
        )

    def activation(self, node: onnx.NodeProto) -> None:
        view = self._view(node.input[0])
        act = _ACTIVATIONS[node.op_type]
        producer = self.layers.get(view.source)
        if producer is not None and view.exclusive and producer.activation is Activation.NONE:
            self.layers[producer.name] = producer.with_activation(act)
            self._alias(node, view)
            return
        shape = self._operand(view, False)[0]
        self._add(
            node,
            Layer(
                name="",
                kind=LayerKind.ACT,
                inputs=(view.source,),
                in_shapes=(shape,),
                out_shape=self._shape(self._dims(node.output[0]), "output"),
                activation=act,
            ),
        )

    def other_layer(self, node: onnx.NodeProto) -> None:
        view = self._view(node.input[0])
        kind = LayerKind.LRN if node.op_type == "LRN" else LayerKind.SOFTMAX
        self._add(
            node,
            Layer(
                name="",
                kind=kind,
                inputs=(view.source,),
                in_shapes=(self._operand(view, False)[0],),
                out_shape=self._shape(self._dims(node.output[0]), "output"),
            ),
        )

    def passthrough(self, node: onnx.NodeProto) -> None:
        self._alias(node, self._view(node.input[0]))

    def pad(self, node: onnx.NodeProto) -> None:
        view = self._view(node.input[0])
        mode = self._attr("mode", onnx.AttributeProto.STRING, "constant")
        pads = self._attr("pads", onnx.AttributeProto.INTS) or (
            self._const_ints(node.input[1]) if len(node.input) > 1 else None
        )
        in_dims, out_dims = view.dims, self._dims(node.output[0])
        rank = len(in_dims)
        if len(out_dims) != rank:
            raise self._error(
                f"pads an activation of shape {list(in_dims)} into one of shape {list(out_dims)}"
            )
        if pads is None or len(pads) != 2 * rank:  # values unknown: split the growth evenly
            grow = [o - i for i, o in zip(in_dims, out_dims, strict=True)]
            pads = [g // 2 for g in grow] + [g - g // 2 for g in grow]
        pads = [int(p) for p in pads]
        begins, ends = pads[:rank], pads[rank:]
        if (
            rank != 4 or any(begins[:2]) or any(ends[:2]) or mode != "constant" or min(pads) < 0
        ):  # a crop is not padding a window can absorb
            self._alias(node, view)  # not a spatial zero pad: the consumer sees the padded shape
            return
        self._alias(node, view, (begins[2], begins[3], ends[2], ends[3]))


#: Operands an operator needs (the others need one).
_OPERANDS = {"Conv": 2, "Gemm": 2, "MatMul": 2}

_ACTIVATIONS = {
    "Relu": Activation.RELU,
    "Clip": Activation.RELU6,
    "Sigmoid": Activation.SIGMOID,
    "Tanh": Activation.TANH,
    "LeakyRelu": Activation.LEAKY_RELU,
    "HardSwish": Activation.HARDSWISH,
}

_HANDLERS: dict[str, Callable[[_Importer, onnx.NodeProto], None]] = {
    "Conv": _Importer.conv,
    "Gemm": _Importer.fc,
    "MatMul": _Importer.fc,
    "MaxPool": _Importer.pool,
    "AveragePool": _Importer.pool,
    "GlobalAveragePool": _Importer.pool,
    "GlobalMaxPool": _Importer.pool,
    "Add": _Importer.arith,
    "Sum": _Importer.arith,
    "Sub": _Importer.arith,
    "Mul": _Importer.arith,
    "Div": _Importer.arith,
    "Concat": _Importer.concat,
    "LRN": _Importer.other_layer,
    "Softmax": _Importer.other_layer,
    "Pad": _Importer.pad,
    **{op: _Importer.activation for op in _ACTIVATIONS},
    **{
        op: _Importer.passthrough
        for op in (
            "BatchNormalization",
            "Flatten",
            "Reshape",
            "Transpose",
            "Dropout",
            "Identity",
            "Squeeze",
            "Unsqueeze",
        )
    },
}

SUPPORTED_OPS = tuple(sorted(_HANDLERS))
