"""PIMCOMP JSON: the five reference networks, equality with the zoo, round trips, and bad files."""

from __future__ import annotations

import json

import pytest

from pimsim.errors import InputError
from pimsim.network import Activation, LayerKind, Shape
from pimsim.network.load import load_model
from pimsim.network.pimcomp import load_pimcomp
from pimsim.network.pimcomp_export import to_pimcomp
from pimsim.network.zoo import ZOO, zoo_network
from tests.conftest import PIMCOMP

PAIRS = {
    "alexnet": "alexnet",
    "vgg13": "vgg13",
    "vgg16": "vgg16",
    "msra_A": "msra_a",
    "resnet18": "resnet18",
}


@pytest.mark.parametrize("stem,zoo", sorted(PAIRS.items()))
def test_reference_file_matches_the_zoo_network(stem: str, zoo: str) -> None:
    net = load_model(PIMCOMP / f"{stem}.json")
    assert net.macs == zoo_network(zoo).macs
    assert net.weights == zoo_network(zoo).weights
    assert [lay.weight_rows for lay in net.weight_layers] == [
        lay.weight_rows for lay in zoo_network(zoo).weight_layers
    ]


@pytest.mark.parametrize("stem", ["alexnet", "vgg16", "msra_A", "resnet18"])
def test_same_layers_as_the_zoo(stem: str) -> None:
    """Layer for layer the same (names aside), hence the same fingerprint."""
    assert (
        load_model(PIMCOMP / f"{stem}.json").fingerprint() == zoo_network(PAIRS[stem]).fingerprint()
    )


def test_msra_spatial_pyramid_pooling_is_not_square() -> None:
    net = load_model(PIMCOMP / "msra_A.json")
    pools = [
        lay for lay in net if lay.kind is LayerKind.POOL and lay.in_shape == Shape(512, 14, 14)
    ]
    assert [p.out_shape for p in pools] == [
        Shape(512, 7, 7),
        Shape(512, 2, 3),
        Shape(512, 2, 2),
        Shape(512, 1, 1),
    ]
    assert pools[1].pads == (0, 1, 0, 0) and pools[1].kernel == (5, 5)
    concat = next(lay for lay in net if lay.kind is LayerKind.CONCAT)
    assert concat.out_shape == Shape(30720, 1, 1)
    assert [s.c for s in concat.in_shapes] == [25088, 3072, 2048, 512]
    # conv1 112^2*96*147 + 96->256 at 56^2 + 4 x 256->256 at 56^2 + 256->512 at 28^2
    # + 4 x 512->512 at 28^2 + 5 x 512->512 at 14^2 + FCs 30720x4096, 4096x4096, 4096x1000
    by_hand = (
        112**2 * 96 * 147
        + 56**2 * 256 * 864
        + 4 * 56**2 * 256 * 2304
        + 28**2 * 512 * 2304
        + 4 * 28**2 * 512 * 4608
        + 5 * 14**2 * 512 * 4608
        + 30720 * 4096
        + 4096 * 4096
        + 4096 * 1000
    )
    assert net.macs == by_hand == 19_051_814_912
    fc = net.consumers(concat.name)[0]
    assert fc.in_shape == Shape(30720, 1, 1) and fc.macs == 30720 * 4096


def test_standalone_relus_are_fused() -> None:
    net = load_model(PIMCOMP / "vgg13.json")
    assert net.count(LayerKind.ACT) == 0
    assert all(lay.activation is Activation.RELU for lay in net.weight_layers[:-1])
    assert net.weight_layers[-1].activation is Activation.NONE


@pytest.mark.parametrize("name", list(ZOO))
def test_export_reads_back_identically(name: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    net = zoo_network(name)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(to_pimcomp(net)))
    back = load_pimcomp(path)
    assert back.fingerprint() == net.fingerprint()
    assert back.macs == net.macs


def test_export_of_a_reference_file_is_stable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    net = load_model(PIMCOMP / "resnet18.json")
    nodes = to_pimcomp(net)
    assert sum(n["operation"] == "OP_CONV" for n in nodes) == 20
    by_name = {n["name"]: n for n in nodes}
    for node in nodes:
        for consumer in node["consumer"]:
            assert node["name"] in by_name[consumer]["provider"]


def _nodes() -> list[dict]:
    return json.loads((PIMCOMP / "vgg13.json").read_text())


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda n: n[3].pop("provider"), "lacks the field 'provider'"),
        (
            lambda n: n[3].__setitem__("provider", ["ghost"]),
            "provider 'ghost', which is not a node",
        ),
        (lambda n: n[1]["param"].pop("kernel_h"), "lacks the parameter 'kernel_h'"),
        (lambda n: n[1].__setitem__("output_dim", [1, -64, 224, 224]), "output_dim must be"),
        (lambda n: n[1]["param"].__setitem__("input_channel", 4), "input_channel is 4"),
        (
            lambda n: n[1].__setitem__("operation", "OP_WARP"),
            "operation 'OP_WARP' is not supported",
        ),
        (lambda n: n[2].__setitem__("name", n[1]["name"]), "repeats the name"),
        (lambda n: n[0].update(operation="OP_POOL", provider=[]), "has no provider"),
    ],
)
def test_bad_files_name_the_node_and_the_problem(tmp_path, mutate, message) -> None:  # type: ignore[no-untyped-def]
    nodes = _nodes()
    mutate(nodes)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(nodes))
    with pytest.raises(InputError) as info:
        load_pimcomp(path)
    assert message in info.value.message and str(path) in info.value.message


def test_not_json_names_line_and_column(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.json"
    path.write_text('[\n {"name": "x",\n  oops}\n]')
    with pytest.raises(InputError, match="line 3, column 3"):
        load_pimcomp(path)
