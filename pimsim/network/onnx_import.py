"""ONNX -> :class:`Network`.

The graph is walked in node order. Every tensor is either a *constant* (weights, shapes, anything
computed only from constants: shape arithmetic costs no hardware) or an *activation*, seen as a
:class:`~pimsim.network.onnx_ops.View` of the layer (or network input) that produced it:
layout-only operators change the view's dims, BatchNormalization and per-channel affine operations
keep it, a Pad records padding that the next convolution or pooling absorbs, and an activation
function is fused into the producing layer when no other reader sees the value before it. This
module is the walk (the views, the constants, the layers' names, the errors); what each operator
becomes is :mod:`pimsim.network.onnx_ops`.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import onnx
from onnx import numpy_helper

from pimsim.errors import InputError
from pimsim.network.graph import Network
from pimsim.network.layer import Layer, Shape
from pimsim.network.onnx_check import attribute, node_place, window_attribute
from pimsim.network.onnx_io import MAX_DIM, InputShape, prepare, read_model, tensor_dims
from pimsim.network.onnx_ops import HANDLERS, NO_PAD, OPERANDS, OperatorHandlers, View
from pimsim.network.onnx_ops import SUPPORTED_OPS as SUPPORTED_OPS  # (its name here before)


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


class _Importer(OperatorHandlers):
    def __init__(self, model: onnx.ModelProto, data_inputs: list[str], file: str) -> None:
        self.graph = model.graph
        self.file = file
        self.dims = tensor_dims(model)
        self.uses = Counter(name for node in self.graph.node for name in node.input if name)
        self.uses.update(o.name for o in self.graph.output)
        self.views: dict[str, View] = {}
        self.values: dict[str, onnx.TensorProto] = {i.name: i for i in self.graph.initializer}
        self.layers: dict[str, Layer] = {}
        self.inputs: dict[str, Shape] = {}
        self.node: onnx.NodeProto | None = None
        self.index = 0
        for name in data_inputs:
            dims = self._dims(name)
            self.views[name] = View(name, dims, exclusive=False)
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
        handler = HANDLERS.get(node.op_type)
        if handler is None:
            raise self._unsupported()
        need = OPERANDS.get(node.op_type, 1)
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

    def _view(self, tensor: str) -> View:
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
        self.views[out] = View(layer.name, self._dims(out), exclusive=self.uses[out] <= 1)

    def _alias(
        self, node: onnx.NodeProto, view: View, pad: tuple[int, int, int, int] = NO_PAD
    ) -> None:
        out = node.output[0]
        new_pad = tuple(a + b for a, b in zip(view.pad, pad, strict=True))
        self.views[out] = View(
            view.source,
            self._dims(out),
            new_pad,  # type: ignore[arg-type]
            view.exclusive and self.uses[out] <= 1,
        )

    def _operand(self, view: View, absorb_pad: bool) -> tuple[Shape, tuple[int, int, int, int]]:
        """Shape the consumer sees, and the padding it must add (when it absorbs a Pad)."""
        if view.pad == NO_PAD:
            return self._shape(view.dims, "operand"), NO_PAD
        if not absorb_pad:
            return self._shape(view.dims, "operand"), NO_PAD
        top, left, bottom, right = view.pad
        c, h, w = self._shape(view.dims, "operand")
        return Shape(c, h - top - bottom, w - left - right), view.pad

    def _window(
        self, kernel: tuple[int, int], view: View
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
