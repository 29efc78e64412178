"""One layer of a CNN, as the hardware sees it.

A :class:`Layer` is an immutable value. Layout-only operators (Flatten, Reshape, Transpose, Dropout,
Identity, Squeeze, Unsqueeze, shape arithmetic) never become layers: they only change how the next layer
sees its input, so a consumer's ``in_shapes`` may differ from its producer's ``out_shape`` (a fully
connected layer after a Flatten sees ``(C*H*W, 1, 1)``). Batch normalisation and per-channel affine
operations are folded into their producer; activations are fused into the layer that produces their
input wherever that is possible.

Shapes are per image, ``(C, H, W)``, with height and width kept apart: maps are not always square
(MSRA model A's spatial-pyramid pooling makes a 2x3 map). A flat vector of ``F`` features is
``(F, 1, 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import NamedTuple


class Shape(NamedTuple):
    """A per-image activation shape: channels, height, width."""

    c: int
    h: int
    w: int

    @property
    def size(self) -> int:
        """Number of elements."""
        return self.c * self.h * self.w

    def __str__(self) -> str:
        return f"{self.c}x{self.h}x{self.w}"


class LayerKind(StrEnum):
    """What a layer computes.

    ``CONV`` and ``FC`` hold weights and run on crossbars; ``POOL``, ``ELTWISE`` and ``CONCAT`` run on the
    macros' digital units or only move data. ``LRN``, ``SOFTMAX`` and ``ACT`` (an activation that could
    not be fused into a producer) are pass-through kinds: kept so the graph is faithful, costed by the
    digital units only.
    """

    CONV = "conv"
    FC = "fc"
    POOL = "pool"
    ELTWISE = "eltwise"
    CONCAT = "concat"
    LRN = "lrn"
    SOFTMAX = "softmax"
    ACT = "act"

    @property
    def has_weights(self) -> bool:
        """True for the kinds whose weights live in crossbars."""
        return self in (LayerKind.CONV, LayerKind.FC)


class Activation(StrEnum):
    """An activation function applied to a layer's output (fused)."""

    NONE = "none"
    RELU = "relu"
    RELU6 = "relu6"  # Clip(0, 6) and other clips
    SIGMOID = "sigmoid"
    TANH = "tanh"
    LEAKY_RELU = "leaky-relu"
    HARDSWISH = "hardswish"


class PoolMethod(StrEnum):
    """Pooling method; ``NONE`` for layers that do not pool."""

    NONE = "none"
    MAX = "max"
    AVG = "avg"


class EltwiseOp(StrEnum):
    """Element-wise operation between two or more activation tensors; ``NONE`` elsewhere."""

    NONE = "none"
    ADD = "add"
    SUB = "sub"
    MUL = "mul"


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer of the network.

    Attributes:
        name: unique name (the ONNX output tensor or PIMCOMP node name it came from).
        kind: what it computes.
        inputs: names of the producers, in operand order: layers, or network inputs.
        in_shapes: the shape of each operand as this layer sees it (after layout-only ops).
        out_shape: the shape it produces.
        kernel: (kh, kw); (1, 1) for FC; (H, W) of the input for global pooling.
        strides: (sh, sw).
        pads: (top, left, bottom, right).
        dilation: (dh, dw).
        groups: convolution groups (Cin for depthwise).
        activation: fused activation.
        pool: pooling method (pool layers only).
        eltwise: element-wise operation (eltwise layers only).
        macs: exact multiply-accumulates per image (conv and FC; 0 for the others).
    """

    name: str
    kind: LayerKind
    inputs: tuple[str, ...]
    in_shapes: tuple[Shape, ...]
    out_shape: Shape
    kernel: tuple[int, int] = (1, 1)
    strides: tuple[int, int] = (1, 1)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1
    activation: Activation = Activation.NONE
    pool: PoolMethod = PoolMethod.NONE
    eltwise: EltwiseOp = EltwiseOp.NONE
    macs: int = 0

    @property
    def in_shape(self) -> Shape:
        """The first operand's shape (the only one for conv, FC and pool)."""
        return self.in_shapes[0]

    @property
    def weight_rows(self) -> int:
        """Rows of the unrolled weight matrix, ``kh*kw*Cin/groups``; 0 without weights."""
        if not self.kind.has_weights:
            return 0
        return self.kernel[0] * self.kernel[1] * self.in_shape.c // self.groups

    @property
    def weight_cols(self) -> int:
        """Columns of the unrolled weight matrix, ``Cout``; 0 without weights."""
        return self.out_shape.c if self.kind.has_weights else 0

    @property
    def weights(self) -> int:
        """Number of weights (biases not counted): ``weight_rows * Cout``."""
        return self.weight_rows * self.weight_cols

    @property
    def out_pixels(self) -> int:
        """Output pixels per image, ``Ho*Wo``."""
        return self.out_shape.h * self.out_shape.w

    def with_activation(self, activation: Activation) -> Layer:
        """This layer with ``activation`` fused into it."""
        return replace(self, activation=activation)


def conv_macs(out: Shape, kernel: tuple[int, int], cin: int, groups: int) -> int:
    """Multiply-accumulates of a convolution: ``Ho*Wo*Cout * kh*kw*Cin/groups``."""
    return out.h * out.w * out.c * kernel[0] * kernel[1] * (cin // groups)
