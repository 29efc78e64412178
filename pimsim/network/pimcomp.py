"""PIMCOMP / PIMSYN-NN JSON networks: import to and export from :class:`Network`.

The format (that of the PIMSYN-NN release, Li et al., DATE 2024; samples and their README under
``tests/data/pimcomp/``; ``docs/front-end.md``) is a JSON list of nodes with
``name``, ``operation`` (``OP_CONV``, ``OP_FC``, ``OP_POOL``, ...), NCHW ``output_dim``, ``param``,
``provider`` and ``consumer`` lists, and an optional fused activation (``with_act``/``act_type``).
Layout-only nodes (flatten, reshape, dropout) become views, stand-alone ReLUs are fused into their
producer, exactly as the ONNX importer does, so the same network from either format yields the same
layers and MACs. ``eletype`` 2 is addition (the only code the toolchain's files use); ``act_type`` 0 is
ReLU.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import networkx as nx

from pimsim.errors import InputError
from pimsim.jsonio import read_json
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

_LAYOUT_OPS = {"OP_FLATTEN", "OP_RESHAPE", "OP_DROPOUT", "OP_IDENTITY", "OP_TRANSPOSE"}
_ACT_OPS = {
    "OP_RELU": Activation.RELU,
    "OP_TANH": Activation.TANH,
    "OP_SIGMOID": Activation.SIGMOID,
}
_ELTWISE_CODES = {2: EltwiseOp.ADD}


def load_pimcomp(path: str | os.PathLike[str], name: str | None = None) -> Network:
    """Import a PIMCOMP JSON network file.

    Raises:
        InputError: the file is not JSON, a node lacks a field or names a provider that does not exist,
            an operation is unknown, or a layer's parameters contradict its input.
    """
    file = os.fspath(path)
    nodes = read_json(file)
    return _Reader(file, nodes).run(name or Path(file).stem)


#: The largest count or dimension accepted (int32): larger ones are corrupt files, not CNNs.
MAX_VALUE = 2**31 - 1


class _Reader:
    def __init__(self, file: str, nodes: object) -> None:
        self.file = file
        if not isinstance(nodes, list) or not nodes:
            raise InputError(file, "top level", "must be a non-empty JSON list of nodes")
        self.nodes: list[dict[str, Any]] = []
        for i, node in enumerate(nodes):
            if not isinstance(node, dict):
                raise InputError(file, f"node [{i}]", "is not a JSON object")
            self.nodes.append(node)
        self.views: dict[str, tuple[str, Shape]] = {}  # node name -> (source layer/input, shape)
        self.exclusive: dict[str, bool] = {}
        self.layers: dict[str, Layer] = {}
        self.inputs: dict[str, Shape] = {}
        self.uses: dict[str, int] = {}

    def _error(self, i: int, cause: str, hint: str | None = None) -> InputError:
        return InputError(self.file, self._place(i), cause, hint)

    def _place(self, i: int) -> str:
        node = self.nodes[i]
        name, op = node.get("name", "?"), node.get("operation", "?")
        return (
            f"node [{i}] '{name}' ({op})"
            if isinstance(name, str) and isinstance(op, str)
            else f"node [{i}]"
        )

    def _field(self, i: int, key: str, kind: type | tuple[type, ...]) -> Any:
        node = self.nodes[i]
        if key not in node:
            raise self._error(i, f"lacks the field '{key}'")
        value = node[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise self._error(
                i, f"field '{key}' has the wrong type ({type(value).__name__}: {str(value)[:80]})"
            )
        return value

    def _providers(self, i: int) -> list[str]:
        providers = self._field(i, "provider", list)
        if not all(isinstance(p, str) for p in providers):
            raise self._error(i, f"field 'provider' must list node names, not {providers!r}"[:200])
        return providers

    def _params(self, i: int) -> dict[str, Any]:
        params = self.nodes[i].get("param", {})
        if not isinstance(params, dict):
            raise self._error(i, "field 'param' is not an object")
        return params

    def _param(self, i: int, key: str, default: int | None = None, least: int = 0) -> int:
        params = self._params(i)
        if key not in params:
            if default is None:
                raise self._error(i, f"lacks the parameter '{key}'")
            return default
        value = params[key]
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not whole or not least <= value <= MAX_VALUE:
            raise self._error(
                i,
                f"parameter '{key}' must be a whole number from {least} to "
                f"{MAX_VALUE}, not {str(value)[:40]}",
            )
        return int(value)

    def _shape(self, i: int) -> Shape:
        dims = self._field(i, "output_dim", list)
        if not all(
            isinstance(d, int) and not isinstance(d, bool) and 0 < d <= MAX_VALUE for d in dims
        ) or len(dims) not in (2, 4):
            raise self._error(
                i, f"output_dim must be 2 or 4 positive integers (NCHW or NF), not {str(dims)[:80]}"
            )
        return Shape(dims[1], 1, 1) if len(dims) == 2 else Shape(dims[1], dims[2], dims[3])

    def _order(self) -> list[int]:
        names: dict[str, int] = {}
        graph = nx.DiGraph()
        for i in range(len(self.nodes)):
            name = self._field(i, "name", str)
            if name in names:
                raise self._error(i, f"repeats the name '{name}' of node [{names[name]}]")
            names[name] = i
            graph.add_node(i)
        for i, node in enumerate(self.nodes):
            if node.get("operation") == "OP_INPUT":
                continue
            providers = self._providers(i)
            if not providers:
                raise self._error(i, "has no provider")
            for provider in providers:
                if provider not in names:
                    raise self._error(i, f"names the provider '{provider}', which is not a node")
                graph.add_edge(names[provider], i)
                self.uses[provider] = self.uses.get(provider, 0) + 1
        try:
            return list(nx.lexicographical_topological_sort(graph))
        except nx.NetworkXUnfeasible:
            cycle = [u for u, _ in nx.find_cycle(graph)]
            path = " -> ".join(f"'{self.nodes[u]['name']}'" for u in [*cycle, cycle[0]])
            raise self._error(cycle[0], f"is on a cycle of providers ({path})") from None

    def run(self, name: str) -> Network:
        for i in self._order():
            self._visit(i, self.nodes[i])
        if not self.layers:
            raise InputError(
                self.file, "top level", "has no layer that computes anything on the input"
            )
        try:
            return Network(name, self.inputs, self.layers.values(), source=self.file)
        except ValueError as exc:
            raise InputError(self.file, "top level", str(exc)) from None

    def _visit(self, i: int, node: dict[str, Any]) -> None:
        op = self._field(i, "operation", str)
        name = node["name"]
        if op == "OP_INPUT":
            self.inputs[name] = self._shape(i)
            self.views[name] = (name, self.inputs[name])
            self.exclusive[name] = False
            return
        providers = node["provider"]
        operands = [self.views[p] for p in providers]
        out = self._shape(i)
        if op in _LAYOUT_OPS:
            if operands[0][1].size != out.size:
                raise self._error(i, f"reshapes {operands[0][1].size} values into {out.size}")
            self._alias(name, providers[0], out)
            return
        if op in _ACT_OPS:
            act = _ACT_OPS[op]
            if act is Activation.RELU and self._params(i).get("negative_slope", 0):
                act = Activation.LEAKY_RELU
            self._activation(i, act, out)
            return
        in_shape = operands[0][1]
        base = dict(
            name=name,
            inputs=tuple(s for s, _ in operands),
            in_shapes=tuple(s for _, s in operands),
            out_shape=out,
        )
        if op == "OP_CONV":
            layer = self._conv(i, base, in_shape, out)
        elif op == "OP_FC":
            in_f = self._param(i, "input_channel")
            if in_f != in_shape.size:
                raise self._error(
                    i, f"input_channel is {in_f} but its provider delivers {in_shape.size} values"
                )
            base["in_shapes"] = (Shape(in_f, 1, 1),)
            layer = Layer(kind=LayerKind.FC, macs=in_f * out.size, **base)
        elif op == "OP_POOL":
            layer = self._pool(i, base, in_shape, out)
        elif op == "OP_ELTWISE":
            code = self._param(i, "eletype", 2)
            if code not in _ELTWISE_CODES:
                raise self._error(
                    i, f"eletype {code} is not known (known: {sorted(_ELTWISE_CODES)} = addition)"
                )
            if any(shape != out for _, shape in operands):
                raise self._error(
                    i,
                    f"adds operands of shapes {[str(s) for _, s in operands]} "
                    f"into {out}; all must be equal",
                )
            layer = Layer(kind=LayerKind.ELTWISE, eltwise=_ELTWISE_CODES[code], **base)
        elif op == "OP_CONCAT":
            if (
                any(s.h != out.h or s.w != out.w for _, s in operands)
                or sum(s.c for _, s in operands) != out.c
            ):
                raise self._error(
                    i,
                    f"concatenates operands of shapes "
                    f"{[str(s) for _, s in operands]} into {out} (channels must add up)",
                )
            layer = Layer(kind=LayerKind.CONCAT, **base)
        elif op in ("OP_LRN", "OP_SOFTMAX"):
            layer = Layer(kind=LayerKind.LRN if op == "OP_LRN" else LayerKind.SOFTMAX, **base)
        else:
            raise self._error(
                i,
                f"operation '{op}' is not supported",
                "known: OP_INPUT, OP_CONV, OP_FC, OP_POOL, OP_ELTWISE, OP_CONCAT, "
                "OP_RELU, OP_TANH, OP_SIGMOID, OP_LRN, OP_SOFTMAX and layout ops",
            )
        if node.get("with_act"):
            layer = layer.with_activation(self._fused_act(i, node))
        self.layers[name] = layer
        self.views[name] = (name, out)
        self.exclusive[name] = self.uses.get(name, 0) <= 1

    def _window(
        self,
        i: int,
        in_shape: Shape,
        out: Shape,
        kernel: tuple[int, int],
        dilation: tuple[int, int],
        ceil_ok: bool,
    ) -> dict[str, Any]:
        """Strides and pads of a window layer, checked against its input and output sizes."""

        def p(key: str, default: Any = None, least: int = 0) -> Any:
            return self._param(i, key, default, least)

        strides = (p("stride_h", 1, 1), p("stride_w", 1, 1))
        pads = (p("pad_h0", 0), p("pad_w0", 0), p("pad_h1", 0), p("pad_w1", 0))
        for axis, size, got in ((0, in_shape.h, out.h), (1, in_shape.w, out.w)):
            span = size + pads[axis] + pads[axis + 2] - dilation[axis] * (kernel[axis] - 1) - 1
            sizes = {span // strides[axis] + 1, -(-span // strides[axis]) + 1 if ceil_ok else 0}
            if span < 0 or got not in sizes:
                raise self._error(
                    i,
                    f"a {kernel[0]}x{kernel[1]} window with strides {strides} and "
                    f"pads {pads} over a {in_shape} input cannot give a {out} output",
                )
        return {"strides": strides, "pads": pads}

    def _conv(self, i: int, base: dict[str, Any], in_shape: Shape, out: Shape) -> Layer:
        def p(key: str, default: Any = None, least: int = 0) -> Any:
            return self._param(i, key, default, least)

        cin, groups = p("input_channel"), max(p("group", 1), 1)
        if cin != in_shape.c:
            raise self._error(
                i, f"input_channel is {cin} but its provider delivers {in_shape.c} channels"
            )
        if p("output_channel") != out.c:
            raise self._error(
                i, f"output_channel {p('output_channel')} contradicts output_dim {out.c}"
            )
        if cin % groups or out.c % groups:
            raise self._error(
                i, f"group {groups} does not divide input_channel {cin} and output_channel {out.c}"
            )
        kernel = (p("kernel_h", None, 1), p("kernel_w", None, 1))
        dilation = (p("dilation_h", 1, 1), p("dilation_w", 1, 1))
        return Layer(
            kind=LayerKind.CONV,
            kernel=kernel,
            dilation=dilation,
            groups=groups,
            **self._window(i, in_shape, out, kernel, dilation, False),
            macs=conv_macs(out, kernel, cin, groups),
            **base,
        )

    def _pool(self, i: int, base: dict[str, Any], in_shape: Shape, out: Shape) -> Layer:
        def p(key: str, default: Any = None, least: int = 0) -> Any:
            return self._param(i, key, default, least)

        method = {0: PoolMethod.MAX, 1: PoolMethod.AVG}.get(p("pool_method", 0))
        if method is None:
            raise self._error(i, "pool_method must be 0 (max) or 1 (avg)")
        if out.c != in_shape.c:
            raise self._error(i, f"pools {in_shape.c} channels into {out.c}")
        if p("global", 0):
            return Layer(kind=LayerKind.POOL, kernel=(in_shape.h, in_shape.w), pool=method, **base)
        kernel = (p("kernel_h", None, 1), p("kernel_w", None, 1))
        return Layer(
            kind=LayerKind.POOL,
            kernel=kernel,
            pool=method,
            **self._window(i, in_shape, out, kernel, (1, 1), True),
            **base,
        )

    def _fused_act(self, i: int, node: dict[str, Any]) -> Activation:
        if node.get("with_clip"):
            return Activation.RELU6
        code = node.get("act_type", 0)
        if code != 0:
            raise self._error(i, f"act_type {str(code)[:40]} is not known (0 = ReLU)")
        return Activation.RELU

    def _alias(self, name: str, provider: str, shape: Shape) -> None:
        source, _ = self.views[provider]
        self.views[name] = (source, shape)
        self.exclusive[name] = self.exclusive[provider] and self.uses.get(name, 0) <= 1

    def _activation(self, i: int, act: Activation, out: Shape) -> None:
        name, provider = self.nodes[i]["name"], self.nodes[i]["provider"][0]
        source, shape = self.views[provider]
        if shape != out:
            raise self._error(
                i, f"maps a {shape} input to a {out} output; an activation keeps the shape"
            )
        layer = self.layers.get(source)
        if layer is not None and self.exclusive[provider] and layer.activation is Activation.NONE:
            self.layers[source] = layer.with_activation(act)
            self._alias(name, provider, out)
            return
        self.layers[name] = Layer(
            name=name,
            kind=LayerKind.ACT,
            inputs=(source,),
            in_shapes=(shape,),
            out_shape=out,
            activation=act,
        )
        self.views[name] = (name, out)
        self.exclusive[name] = self.uses.get(name, 0) <= 1
