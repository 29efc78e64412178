"""The ONNX operators pimsyn maps onto hardware, and how each becomes layers of a :class:`Network`
(:class:`OperatorHandlers`, one method an operator family, run by the graph walk of
:mod:`pimsim.network.onnx_import`, whose helpers they use: the views of the activations, the
constants, the names and the errors).

Conv and Gemm/MatMul become weight layers, pooling a pooling layer, Add/Sum/Sub/Mul of
activations an element-wise layer, Concat a concatenation layer, LRN and Softmax layers of their
own; an activation function is fused into the layer that produced its input when no other reader
sees that input, and is a layer of its own otherwise; BatchNormalization, the layout-only
operators and the per-channel affine steps (activation Add/Sub/Mul/Div constant) keep the view;
a Pad is absorbed by the next convolution or pooling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import onnx

from pimsim.network.layer import (
    Activation,
    EltwiseOp,
    Layer,
    LayerKind,
    PoolMethod,
    Shape,
    conv_macs,
)

NO_PAD = (0, 0, 0, 0)


@dataclass(frozen=True)
class View:
    """An activation tensor: which layer or input produced it, its dims (batch first), pending pads."""

    source: str
    dims: tuple[int, ...]
    pad: tuple[int, int, int, int] = NO_PAD
    exclusive: bool = (
        True  # no reader other than the current chain has seen the source's raw output
    )


class OperatorHandlers:
    """The operators' handlers, mixed into the graph walk (``onnx_import._Importer``): each
    reads its node's operands through the walk's views and adds its layers or views."""

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
            kernel, strides, pads, dilation = (in_shape.h, in_shape.w), (1, 1), NO_PAD, (1, 1)
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
        act = ACTIVATIONS[node.op_type]
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
OPERANDS = {"Conv": 2, "Gemm": 2, "MatMul": 2}

ACTIVATIONS = {
    "Relu": Activation.RELU,
    "Clip": Activation.RELU6,
    "Sigmoid": Activation.SIGMOID,
    "Tanh": Activation.TANH,
    "LeakyRelu": Activation.LEAKY_RELU,
    "HardSwish": Activation.HARDSWISH,
}

HANDLERS: dict[str, Callable[[OperatorHandlers, onnx.NodeProto], None]] = {
    "Conv": OperatorHandlers.conv,
    "Gemm": OperatorHandlers.fc,
    "MatMul": OperatorHandlers.fc,
    "MaxPool": OperatorHandlers.pool,
    "AveragePool": OperatorHandlers.pool,
    "GlobalAveragePool": OperatorHandlers.pool,
    "GlobalMaxPool": OperatorHandlers.pool,
    "Add": OperatorHandlers.arith,
    "Sum": OperatorHandlers.arith,
    "Sub": OperatorHandlers.arith,
    "Mul": OperatorHandlers.arith,
    "Div": OperatorHandlers.arith,
    "Concat": OperatorHandlers.concat,
    "LRN": OperatorHandlers.other_layer,
    "Softmax": OperatorHandlers.other_layer,
    "Pad": OperatorHandlers.pad,
    **{op: OperatorHandlers.activation for op in ACTIVATIONS},
    **{
        op: OperatorHandlers.passthrough
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

SUPPORTED_OPS = tuple(sorted(HANDLERS))
