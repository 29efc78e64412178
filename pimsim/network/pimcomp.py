"""PIMCOMP / PIMSYN-NN JSON networks: import to and export from :class:`Network`.

The format (see ``shared/reference/pimcomp-networks/README.md``) is a JSON list of nodes with
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
from pimsim.network.layer import (Activation, EltwiseOp, Layer, LayerKind, PoolMethod, Shape,
                                  conv_macs)

_LAYOUT_OPS = {"OP_FLATTEN", "OP_RESHAPE", "OP_DROPOUT", "OP_IDENTITY", "OP_TRANSPOSE"}
_ACT_OPS = {"OP_RELU": Activation.RELU, "OP_TANH": Activation.TANH, "OP_SIGMOID": Activation.SIGMOID}
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

    def _field(self, i: int, node: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
        if key not in node:
            raise InputError(self.file, self._place(i, node), f"lacks the field '{key}'")
        value = node[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise InputError(self.file, self._place(i, node), f"field '{key}' has the wrong type "
                             f"({type(value).__name__}: {value!r})")
        return value

    def _place(self, i: int, node: dict[str, Any]) -> str:
        return f"node [{i}] '{node.get('name', '?')}' ({node.get('operation', '?')})"

    def _param(self, i: int, node: dict[str, Any], key: str, default: int | None = None) -> int:
        params = node.get("param", {})
        if not isinstance(params, dict):
            raise InputError(self.file, self._place(i, node), "field 'param' is not an object")
        if key not in params:
            if default is None:
                raise InputError(self.file, self._place(i, node), f"lacks the parameter '{key}'")
            return default
        value = params[key]
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise InputError(self.file, self._place(i, node), f"parameter '{key}' must be a "
                             f"non-negative number, not {value!r}")
        return int(value)

    def _shape(self, i: int, node: dict[str, Any]) -> Shape:
        dims = self._field(i, node, "output_dim", list)
        if not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims) \
                or len(dims) not in (2, 4):
            raise InputError(self.file, self._place(i, node), f"output_dim must be 2 or 4 positive "
                             f"integers (NCHW or NF), not {dims!r}")
        return Shape(dims[1], 1, 1) if len(dims) == 2 else Shape(dims[1], dims[2], dims[3])

    def _order(self) -> list[int]:
        names: dict[str, int] = {}
        graph = nx.DiGraph()
        for i, node in enumerate(self.nodes):
            name = self._field(i, node, "name", str)
            if name in names:
                raise InputError(self.file, self._place(i, node), f"repeats the name '{name}'")
            names[name] = i
            graph.add_node(i)
        for i, node in enumerate(self.nodes):
            if node.get("operation") == "OP_INPUT":
                continue
            providers = self._field(i, node, "provider", list)
            if not providers:
                raise InputError(self.file, self._place(i, node), "has no provider")
            for provider in providers:
                if provider not in names:
                    raise InputError(self.file, self._place(i, node),
                                     f"names the provider '{provider}', which is not a node")
                graph.add_edge(names[provider], i)
                self.uses[provider] = self.uses.get(provider, 0) + 1
        try:
            return list(nx.lexicographical_topological_sort(graph))
        except nx.NetworkXUnfeasible:
            i = nx.find_cycle(graph)[0][0]
            raise InputError(self.file, self._place(i, self.nodes[i]),
                             "is on a cycle of providers") from None

    def run(self, name: str) -> Network:
        for i in self._order():
            self._visit(i, self.nodes[i])
        return Network(name, self.inputs, self.layers.values(), source=self.file)

    def _visit(self, i: int, node: dict[str, Any]) -> None:
        op = self._field(i, node, "operation", str)
        name = node["name"]
        if op == "OP_INPUT":
            self.inputs[name] = self._shape(i, node)
            self.views[name] = (name, self.inputs[name])
            self.exclusive[name] = False
            return
        operands = [self.views[p] for p in node["provider"]]
        out = self._shape(i, node)
        if op in _LAYOUT_OPS:
            self._alias(name, node["provider"][0], out)
            return
        if op in _ACT_OPS:
            act = _ACT_OPS[op]
            if act is Activation.RELU and node.get("param", {}).get("negative_slope", 0):
                act = Activation.LEAKY_RELU
            self._activation(i, node, act, out)
            return
        source, in_shape = operands[0]
        base = dict(name=name, inputs=tuple(s for s, _ in operands),
                    in_shapes=tuple(s for _, s in operands), out_shape=out)
        if op == "OP_CONV":
            layer = self._conv(i, node, base, in_shape, out)
        elif op == "OP_FC":
            in_f = self._param(i, node, "input_channel")
            if in_f != in_shape.size:
                raise InputError(self.file, self._place(i, node), f"input_channel is {in_f} but "
                                 f"its provider delivers {in_shape.size} values")
            base["in_shapes"] = (Shape(in_f, 1, 1),)
            layer = Layer(kind=LayerKind.FC, macs=in_f * out.size, **base)
        elif op == "OP_POOL":
            layer = self._pool(i, node, base, in_shape)
        elif op == "OP_ELTWISE":
            code = node.get("param", {}).get("eletype", 2)
            if code not in _ELTWISE_CODES:
                raise InputError(self.file, self._place(i, node), f"eletype {code!r} is not known "
                                 f"(known: {sorted(_ELTWISE_CODES)} = addition)")
            layer = Layer(kind=LayerKind.ELTWISE, eltwise=_ELTWISE_CODES[code], **base)
        elif op == "OP_CONCAT":
            layer = Layer(kind=LayerKind.CONCAT, **base)
        elif op in ("OP_LRN", "OP_SOFTMAX"):
            layer = Layer(kind=LayerKind.LRN if op == "OP_LRN" else LayerKind.SOFTMAX, **base)
        else:
            raise InputError(self.file, self._place(i, node), f"operation '{op}' is not supported",
                             "known: OP_INPUT, OP_CONV, OP_FC, OP_POOL, OP_ELTWISE, OP_CONCAT, "
                             "OP_RELU, OP_TANH, OP_SIGMOID, OP_LRN, OP_SOFTMAX and layout ops")
        if node.get("with_act"):
            layer = layer.with_activation(self._fused_act(i, node))
        self.layers[name] = layer
        self.views[name] = (name, out)
        self.exclusive[name] = self.uses.get(name, 0) <= 1

    def _conv(self, i: int, node: dict[str, Any], base: dict[str, Any], in_shape: Shape,
              out: Shape) -> Layer:
        p = lambda key, default=None: self._param(i, node, key, default)  # noqa: E731
        cin, groups = p("input_channel"), max(p("group", 1), 1)
        if cin != in_shape.c:
            raise InputError(self.file, self._place(i, node), f"input_channel is {cin} but its "
                             f"provider delivers {in_shape.c} channels")
        if p("output_channel") != out.c:
            raise InputError(self.file, self._place(i, node), f"output_channel {p('output_channel')}"
                             f" contradicts output_dim {out.c}")
        kernel = (p("kernel_h"), p("kernel_w"))
        return Layer(kind=LayerKind.CONV, kernel=kernel, strides=(p("stride_h", 1), p("stride_w", 1)),
                     pads=(p("pad_h0", 0), p("pad_w0", 0), p("pad_h1", 0), p("pad_w1", 0)),
                     dilation=(p("dilation_h", 1), p("dilation_w", 1)), groups=groups,
                     macs=conv_macs(out, kernel, cin, groups), **base)

    def _pool(self, i: int, node: dict[str, Any], base: dict[str, Any], in_shape: Shape) -> Layer:
        p = lambda key, default=None: self._param(i, node, key, default)  # noqa: E731
        method = {0: PoolMethod.MAX, 1: PoolMethod.AVG}.get(p("pool_method", 0))
        if method is None:
            raise InputError(self.file, self._place(i, node), "pool_method must be 0 (max) or 1 (avg)")
        if p("global", 0):
            return Layer(kind=LayerKind.POOL, kernel=(in_shape.h, in_shape.w), pool=method, **base)
        return Layer(kind=LayerKind.POOL, kernel=(p("kernel_h"), p("kernel_w")),
                     strides=(p("stride_h", 1), p("stride_w", 1)),
                     pads=(p("pad_h0", 0), p("pad_w0", 0), p("pad_h1", 0), p("pad_w1", 0)),
                     pool=method, **base)

    def _fused_act(self, i: int, node: dict[str, Any]) -> Activation:
        if node.get("with_clip"):
            return Activation.RELU6
        code = node.get("act_type", 0)
        if code != 0:
            raise InputError(self.file, self._place(i, node), f"act_type {code!r} is not known "
                             "(0 = ReLU)")
        return Activation.RELU

    def _alias(self, name: str, provider: str, shape: Shape) -> None:
        source, _ = self.views[provider]
        self.views[name] = (source, shape)
        self.exclusive[name] = self.exclusive[provider] and self.uses.get(name, 0) <= 1

    def _activation(self, i: int, node: dict[str, Any], act: Activation, out: Shape) -> None:
        provider = node["provider"][0]
        source, shape = self.views[provider]
        layer = self.layers.get(source)
        if layer is not None and self.exclusive[provider] and layer.activation is Activation.NONE:
            self.layers[source] = layer.with_activation(act)
            self._alias(node["name"], provider, out)
            return
        self.layers[node["name"]] = Layer(name=node["name"], kind=LayerKind.ACT, inputs=(source,),
                                          in_shapes=(shape,), out_shape=out, activation=act)
        self.views[node["name"]] = (node["name"], out)
        self.exclusive[node["name"]] = self.uses.get(node["name"], 0) <= 1
