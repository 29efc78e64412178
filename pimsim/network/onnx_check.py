"""Structural checks of an ONNX graph before import, each failure naming the node or tensor at fault.

ONNX requires valid UTF-8 names, a graph in static single assignment form (every tensor produced once)
whose nodes are in topological order. Files written by hand or by buggy tools break these rules, and
shape inference then fails with a message that names neither node nor tensor, or not at all. The
checks here run first: :func:`check_text` finds a corrupt string, :func:`ordered_nodes` finds a tensor
produced twice, an operand nothing produces (a dangling edge) and a cycle, and returns the nodes in
topological order (the file's order wherever that is already topological). :func:`attribute` reads
a node's attribute, checking its type.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import onnx
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from onnx import helper

from pimsim.errors import InputError


def check_text(message: Message, file: str, path: str = "model") -> None:
    """Raise at the first string field that is not valid UTF-8 (protobuf hands those back as bytes).

    Only messages and strings are visited; numeric arrays and the ``raw_data`` bytes are skipped.
    """
    for field, value in message.ListFields():
        if field.type not in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_STRING):
            continue
        where = f"{path}.{field.name}"
        repeated = _repeated(field)
        items = list(enumerate(value)) if repeated else [(None, value)]
        for i, item in items:
            at = where if i is None else f"{where}[{i}]"
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                check_text(item, file, at)
            elif field.type == FieldDescriptor.TYPE_STRING and not isinstance(item, str):
                raise InputError(
                    file,
                    at,
                    f"is not valid UTF-8 text ({bytes(item)[:40]!r})",
                    "the file is corrupt",
                )


def _repeated(field: FieldDescriptor) -> bool:
    flag = getattr(field, "is_repeated", None)  # protobuf >= 5.28; ``label`` before (gone in 7)
    return bool(flag) if flag is not None else field.label == FieldDescriptor.LABEL_REPEATED


def node_label(node: onnx.NodeProto, index: int) -> str:
    """A node's name, else its first named output, else ``#index``."""
    return node.name or next((o for o in node.output if o), f"#{index}")


def node_place(node: onnx.NodeProto, index: int) -> str:
    """How messages name a node: its label, op type and position."""
    return f"node '{node_label(node, index)}' (op {node.op_type}, node #{index})"


def ordered_nodes(graph: onnx.GraphProto, file: str) -> list[onnx.NodeProto]:
    """The graph's nodes in topological order, after checking that the graph is well formed.

    Raises:
        InputError: the graph has no nodes, a node has no output, a tensor is produced twice, a node
            reads a tensor that nothing produces, or the nodes form a cycle.
    """
    nodes: Sequence[onnx.NodeProto] = graph.node
    if not nodes:
        raise InputError(file, "graph", "holds no nodes: the model is empty")
    given = {v.name for v in graph.input} | {t.name for t in graph.initializer}
    producer: dict[str, int] = {}
    for i, node in enumerate(nodes):
        if not any(node.output):
            raise InputError(file, node_place(node, i), "has no output")
        for name in node.output:
            if not name:
                continue
            if name in given:
                raise InputError(
                    file,
                    node_place(node, i),
                    f"writes tensor '{name}', which is already a graph input or initializer",
                )
            if name in producer:
                raise InputError(
                    file,
                    node_place(node, i),
                    f"writes tensor '{name}', which node "
                    f"#{producer[name]} already produces (a tensor has one producer)",
                )
            producer[name] = i
    order = nx.DiGraph()
    order.add_nodes_from(range(len(nodes)))
    for i, node in enumerate(nodes):
        for name in node.input:
            if not name or name in given:
                continue
            if name not in producer:
                raise InputError(
                    file,
                    node_place(node, i),
                    f"reads tensor '{name}', which no node, "
                    "graph input or initializer produces (a dangling edge)",
                )
            order.add_edge(producer[name], i)
    if not nx.is_directed_acyclic_graph(order):
        cycle = [u for u, _ in nx.find_cycle(order)]
        path = " -> ".join(f"'{node_label(nodes[i], i)}'" for i in [*cycle, cycle[0]])
        raise InputError(
            file,
            node_place(nodes[cycle[0]], cycle[0]),
            f"is on a cycle of nodes ({path}); an ONNX graph must be acyclic",
        )
    return [nodes[i] for i in nx.lexicographical_topological_sort(order)]


def attribute(node: onnx.NodeProto, key: str, kind: int, default: object = None) -> object:
    """Attribute ``key`` of ``node``, which must be of type ``kind`` (``AttributeProto``'s INT, INTS
    or STRING; strings are decoded); ``default`` when it is absent.

    Raises:
        ValueError: the attribute has another type (the message says which).
    """
    for attr in node.attribute:
        if attr.name != key:
            continue
        if attr.type != kind:
            names = onnx.AttributeProto.AttributeType
            have = names.Name(attr.type) if attr.type in names.values() else str(attr.type)
            raise ValueError(f"attribute '{key}' is of type {have}, not {names.Name(kind)}")
        value = helper.get_attribute_value(attr)
        return value.decode(errors="replace") if isinstance(value, bytes) else value
    return default


def window_attribute(
    node: onnx.NodeProto, key: str, rank: int, default: int, least: int
) -> list[int]:
    """An INTS window attribute of a ``rank``-D window (kernel_shape, strides, dilations: ``rank``
    values; pads: twice as many), ``default`` for each value when absent.

    Raises:
        ValueError: not a 1-D or 2-D window; wrong type, wrong length, or a value below ``least``.
    """
    if rank not in (1, 2):
        raise ValueError(
            f"slides a {rank}-D window; 1-D (N, C, L) and 2-D (N, C, H, W) windows are supported"
        )
    count = 2 * rank if key == "pads" else rank
    values = attribute(node, key, onnx.AttributeProto.INTS, [default] * count)
    assert isinstance(values, list)
    if len(values) != count or any(v < least for v in values):
        raise ValueError(
            f"attribute '{key}' is {values}; a {rank}-D window needs {count} values "
            f"of at least {least}"
        )
    return values
