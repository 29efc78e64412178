"""The CNN as a layer graph: the one representation every later stage reads.

A :class:`Network` holds a networkx ``DiGraph`` whose nodes are layer names (the :class:`Layer` value is
the node attribute ``layer``) and whose edges run producer -> consumer. ``layers`` lists the layers in a
deterministic topological order (the order of the source file wherever that is topological). Network
inputs are not nodes; a layer fed by an input names it in ``Layer.inputs``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from types import MappingProxyType
from typing import Any

import networkx as nx

from pimsim.errors import InputError
from pimsim.network.layer import Layer, LayerKind, Shape


class Network:
    """An immutable CNN layer graph.

    Args:
        name: the network's name (zoo name or file stem).
        inputs: network input names and their per-image shapes.
        layers: the layers, in an order in which every producer precedes its consumers.
        source: where it came from (a file path or ``"zoo:<name>"``), for messages.
    """

    __slots__ = ("_index", "graph", "inputs", "layers", "name", "source")

    def __init__(
        self, name: str, inputs: dict[str, Shape], layers: Iterable[Layer], source: str = ""
    ) -> None:
        self.name = name
        self.source = source
        self.inputs: MappingProxyType[str, Shape] = MappingProxyType(dict(inputs))
        given = list(layers)
        graph = nx.DiGraph()
        for position, layer in enumerate(given):
            if layer.name in graph or layer.name in self.inputs:
                raise ValueError(f"duplicate layer name {layer.name!r}")
            graph.add_node(layer.name, layer=layer, position=position)
        for layer in given:
            for producer in layer.inputs:
                if producer in graph:
                    graph.add_edge(producer, layer.name)
                elif producer not in self.inputs:
                    raise ValueError(
                        f"layer {layer.name!r} reads {producer!r}, which is neither a "
                        "layer nor a network input"
                    )
        if not nx.is_directed_acyclic_graph(graph):
            cycle = nx.find_cycle(graph)
            raise ValueError(f"the layer graph has a cycle through {cycle[0][0]!r}")
        order = nx.lexicographical_topological_sort(graph, key=lambda n: graph.nodes[n]["position"])
        self.layers: tuple[Layer, ...] = tuple(graph.nodes[n]["layer"] for n in order)
        self._index = {layer.name: i for i, layer in enumerate(self.layers)}
        nx.freeze(graph)
        self.graph = graph

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        """Pickle as the constructor's arguments (the graph is rebuilt), for worker processes."""
        return (Network, (self.name, dict(self.inputs), self.layers, self.source))

    # -- access ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __getitem__(self, name: str) -> Layer:
        return self.layers[self._index[name]]

    def index(self, name: str) -> int:
        """Position of a layer in ``layers``."""
        return self._index[name]

    def producers(self, name: str) -> list[Layer]:
        """The layers feeding ``name`` (network inputs excluded), in operand order."""
        return [self[p] for p in self[name].inputs if p in self._index]

    def consumers(self, name: str) -> list[Layer]:
        """The layers reading ``name``'s output, in topological order."""
        return sorted(
            (self[c] for c in self.graph.successors(name)), key=lambda lay: self._index[lay.name]
        )

    @property
    def weight_layers(self) -> tuple[Layer, ...]:
        """Conv and FC layers, in topological order."""
        return tuple(layer for layer in self.layers if layer.kind.has_weights)

    def mappable_layers(self) -> tuple[Layer, ...]:
        """The weight layers, which an accelerator maps onto crossbars; at least one.

        Raises:
            InputError: the network has no conv or FC layer, so nothing would run on crossbars
                (a synthesizer or baseline would have no macro to build).
        """
        if not self.weight_layers:
            kinds = sorted({layer.kind.value for layer in self.layers})
            raise InputError(
                self.source or self.name,
                "graph",
                f"has no convolution or fully connected layer (only {', '.join(kinds)}), "
                "so nothing would be mapped onto crossbars",
                "give a CNN with at least one Conv, Gemm or MatMul",
            )
        return self.weight_layers

    @property
    def outputs(self) -> tuple[Layer, ...]:
        """Layers whose output no layer reads."""
        return tuple(layer for layer in self.layers if self.graph.out_degree(layer.name) == 0)

    # -- totals -----------------------------------------------------------------------------------
    @property
    def macs(self) -> int:
        """Multiply-accumulates per image (conv and FC)."""
        return sum(layer.macs for layer in self.layers)

    @property
    def ops(self) -> int:
        """Operations per image as PIM papers count them: 2 x MACs."""
        return 2 * self.macs

    @property
    def weights(self) -> int:
        """Number of weights (biases not counted)."""
        return sum(layer.weights for layer in self.layers)

    def count(self, kind: LayerKind) -> int:
        """Number of layers of one kind."""
        return sum(1 for layer in self.layers if layer.kind is kind)

    # -- identity and serialisation ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: name, inputs, and every layer with all its fields."""
        return {
            "name": self.name,
            "inputs": {k: list(v) for k, v in self.inputs.items()},
            "macs": self.macs,
            "weights": self.weights,
            "layers": [_layer_dict(layer) for layer in self.layers],
        }

    def fingerprint(self) -> str:
        """A short hash of the layer list (names excluded), stable across runs and file formats.

        Two networks with the same layers in the same order, shapes and parameters have the same
        fingerprint whatever their layer names are or which format they came from; arch.json stores it
        so a mapping made for one network is never run on another.
        """
        rename = {name: f"in{i}" for i, name in enumerate(self.inputs)}
        rename.update({layer.name: f"l{i}" for i, layer in enumerate(self.layers)})
        canon = []
        for layer in self.layers:
            entry = _layer_dict(layer)
            entry["name"] = rename[layer.name]
            entry["inputs"] = [rename[p] for p in layer.inputs]
            canon.append(entry)
        blob = json.dumps(canon, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def __repr__(self) -> str:
        return (
            f"Network({self.name!r}, {len(self.layers)} layers, "
            f"{self.macs / 1e9:.3f} GMACs, {self.weights / 1e6:.2f} M weights)"
        )


def _layer_dict(layer: Layer) -> dict[str, Any]:
    data = asdict(layer)
    data["kind"] = str(layer.kind)
    data["activation"] = str(layer.activation)
    data["pool"] = str(layer.pool)
    data["eltwise"] = str(layer.eltwise)
    data["in_shapes"] = [list(s) for s in layer.in_shapes]
    data["out_shape"] = list(layer.out_shape)
    for key in ("inputs", "kernel", "strides", "pads", "dilation"):
        data[key] = list(data[key])
    return data
