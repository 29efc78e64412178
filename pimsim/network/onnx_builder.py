"""A small writer of ONNX CNN graphs with onnx's helper API, used by the built-in zoo.

Weights are typed graph inputs without values (as in an export with ``export_params=False``), so a
zoo model is a real ``ModelProto`` that goes through the same import path as a user's file, yet weighs
a few kilobytes. :meth:`GraphWriter.model` can also attach random initializer values, which the
benchmarks use to write a full-size file.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


class GraphWriter:
    """Appends nodes to a graph under construction; each method returns the new output tensor name."""

    def __init__(
        self, name: str, input_shape: tuple[int, int, int], input_name: str = "input"
    ) -> None:
        self.name = name
        self.nodes: list[onnx.NodeProto] = []
        self.params: list[tuple[str, tuple[int, ...]]] = []
        self.consts: list[onnx.TensorProto] = []
        self.input = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [1, *input_shape])
        self.channels: dict[str, int] = {input_name: input_shape[0]}
        self._count = 0
        self.output = input_name  # the model's output tensor; builders set it last

    def _name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def _param(self, name: str, dims: tuple[int, ...]) -> str:
        self.params.append((name, dims))
        return name

    def _node(self, op: str, inputs: list[str], channels: int, prefix: str, **attrs: object) -> str:
        out = self._name(prefix)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        self.channels[out] = channels
        return out

    # -- layers ---------------------------------------------------------------------------------
    def conv(
        self,
        x: str,
        cout: int,
        k: int | tuple[int, int],
        stride: int = 1,
        pad: int | tuple[int, int, int, int] = 0,
        groups: int = 1,
        bias: bool = False,
    ) -> str:
        """Conv; ``pad`` is symmetric or ``(top, left, bottom, right)``."""
        kh, kw = (k, k) if isinstance(k, int) else k
        top, left, bottom, right = (pad,) * 4 if isinstance(pad, int) else pad
        cin = self.channels[x]
        base = self._name("conv")
        inputs = [x, self._param(f"{base}.weight", (cout, cin // groups, kh, kw))]
        if bias:
            inputs.append(self._param(f"{base}.bias", (cout,)))
        return self._node(
            "Conv",
            inputs,
            cout,
            "conv",
            kernel_shape=[kh, kw],
            strides=[stride, stride],
            pads=[top, left, bottom, right],
            group=groups,
        )

    def bn(self, x: str) -> str:
        c = self.channels[x]
        base = self._name("bn")
        inputs = [x] + [self._param(f"{base}.{p}", (c,)) for p in ("scale", "bias", "mean", "var")]
        return self._node("BatchNormalization", inputs, c, "bn")

    def relu(self, x: str) -> str:
        return self._node("Relu", [x], self.channels[x], "relu")

    def relu6(self, x: str) -> str:
        lo, hi = self._const("clip_min", 0.0), self._const("clip_max", 6.0)
        return self._node("Clip", [x, lo, hi], self.channels[x], "clip")

    def maxpool(
        self,
        x: str,
        k: int,
        stride: int,
        pad: int | tuple[int, int, int, int] = 0,
        ceil: bool = False,
    ) -> str:
        return self._pool("MaxPool", x, k, stride, pad, ceil)

    def avgpool(self, x: str, k: int, stride: int, pad: int = 0) -> str:
        return self._pool("AveragePool", x, k, stride, pad, False)

    def _pool(
        self, op: str, x: str, k: int, stride: int, pad: int | tuple[int, int, int, int], ceil: bool
    ) -> str:
        top, left, bottom, right = (pad,) * 4 if isinstance(pad, int) else pad
        return self._node(
            op,
            [x],
            self.channels[x],
            "pool",
            kernel_shape=[k, k],
            strides=[stride, stride],
            pads=[top, left, bottom, right],
            ceil_mode=int(ceil),
        )

    def global_avgpool(self, x: str) -> str:
        return self._node("GlobalAveragePool", [x], self.channels[x], "gap")

    def flatten(self, x: str, features: int) -> str:
        return self._node("Flatten", [x], features, "flatten", axis=1)

    def dropout(self, x: str) -> str:
        return self._node("Dropout", [x], self.channels[x], "dropout")

    def fc(self, x: str, out_features: int) -> str:
        base = self._name("fc")
        weight = self._param(f"{base}.weight", (out_features, self.channels[x]))
        bias = self._param(f"{base}.bias", (out_features,))
        return self._node("Gemm", [x, weight, bias], out_features, "fc", transB=1)

    def add(self, a: str, b: str) -> str:
        return self._node("Add", [a, b], self.channels[a], "add")

    def concat(self, xs: list[str]) -> str:
        return self._node("Concat", xs, sum(self.channels[x] for x in xs), "concat", axis=1)

    def _const(self, prefix: str, value: float) -> str:
        name = self._name(prefix)
        self.consts.append(numpy_helper.from_array(np.array(value, dtype=np.float32), name))
        return name

    # -- result ---------------------------------------------------------------------------------
    def model(self, output: str, rng: np.random.Generator | None = None) -> onnx.ModelProto:
        """The finished model; with ``rng``, weights are random initializers instead of typed inputs."""
        out = helper.make_tensor_value_info(output, TensorProto.FLOAT, [1, self.channels[output]])
        inputs = [self.input]
        inits = list(self.consts)
        for name, dims in self.params:
            if rng is None:
                inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(dims)))
            else:
                values = rng.standard_normal(dims, dtype=np.float32)
                inits.append(numpy_helper.from_array(values, name))
        graph = helper.make_graph(self.nodes, self.name, inputs, [out], initializer=inits)
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="pimsyn-zoo"
        )
        model.ir_version = 8
        return model
