"""The Network value: order, identity, invariants."""

from __future__ import annotations

import dataclasses

import pytest

from pimsim.network import Layer, LayerKind, Network, Shape
from pimsim.network.zoo import zoo_network


def conv(name: str, src: str, c: int = 4) -> Layer:
    return Layer(
        name=name,
        kind=LayerKind.CONV,
        inputs=(src,),
        in_shapes=(Shape(4, 8, 8),),
        out_shape=Shape(c, 8, 8),
        macs=64 * c * 4,
    )


def test_layers_are_topologically_ordered_whatever_the_given_order() -> None:
    net = Network("n", {"x": Shape(4, 8, 8)}, [conv("b", "a"), conv("a", "x")])
    assert [lay.name for lay in net] == ["a", "b"]
    assert net.index("b") == 1 and "a" in net and net["a"].name == "a"
    assert [lay.name for lay in net.producers("b")] == ["a"] and net.producers("a") == []
    assert [lay.name for lay in net.consumers("a")] == ["b"] and net.outputs == (net["b"],)


def test_cycles_unknown_producers_and_duplicates_are_refused() -> None:
    with pytest.raises(ValueError, match="cycle"):
        Network("n", {"x": Shape(4, 8, 8)}, [conv("a", "b"), conv("b", "a")])
    with pytest.raises(ValueError, match="neither a layer nor a network input"):
        Network("n", {"x": Shape(4, 8, 8)}, [conv("a", "ghost")])
    with pytest.raises(ValueError, match="duplicate"):
        Network("n", {"x": Shape(4, 8, 8)}, [conv("a", "x"), conv("a", "x")])


def test_layers_are_immutable_and_the_graph_is_frozen() -> None:
    net = zoo_network("vgg11-cifar")
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.layers[0].macs = 1  # type: ignore[misc]
    with pytest.raises(Exception, match="Frozen"):
        net.graph.add_node("extra")


def test_fingerprint_ignores_names_but_not_parameters() -> None:
    a = Network("n", {"x": Shape(4, 8, 8)}, [conv("a", "x"), conv("b", "a")])
    renamed = Network("m", {"img": Shape(4, 8, 8)}, [conv("p", "img"), conv("q", "p")])
    wider = Network("n", {"x": Shape(4, 8, 8)}, [conv("a", "x"), conv("b", "a", c=8)])
    assert a.fingerprint() == renamed.fingerprint() != wider.fingerprint()
    assert len(a.fingerprint()) == 16


def test_totals_and_dict() -> None:
    net = zoo_network("resnet18")
    assert net.ops == 2 * net.macs
    data = net.to_dict()
    assert data["macs"] == net.macs and len(data["layers"]) == len(net)
    assert data["layers"][0]["kind"] == "conv" and data["layers"][0]["out_shape"] == [64, 112, 112]
