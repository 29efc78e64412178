"""Whole networks: the onnx wheel's light model-zoo files, the built-in zoo, and known MAC totals."""

from __future__ import annotations

import onnx
import pytest
from onnx import shape_inference

from pimsim.network import LayerKind, Shape, load_network
from pimsim.network.zoo import ZOO, zoo_network
from tests.conftest import LIGHT

LIGHT_FILES = sorted(p.name for p in LIGHT.glob("light_*.onnx"))


def reference_macs(path) -> int:  # type: ignore[no-untyped-def]
    """MACs straight from onnx's own shape inference of the file, without our importer."""
    model = shape_inference.infer_shapes(onnx.load(path), data_prop=True)
    dims = {
        v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
        for v in [*model.graph.value_info, *model.graph.input, *model.graph.output]
    }
    total = 0
    for node in model.graph.node:
        if node.op_type == "Conv":
            out, weight = dims[node.output[0]], dims[node.input[1]]
            total += out[1] * out[2] * out[3] * weight[1] * weight[2] * weight[3]
        elif node.op_type == "Gemm":
            total += dims[node.input[0]][1] * dims[node.output[0]][1]
    return total


def test_the_wheel_ships_the_nine_light_cnns() -> None:
    assert LIGHT_FILES == sorted(
        f"light_{n}.onnx"
        for n in (
            "bvlc_alexnet",
            "densenet121",
            "inception_v1",
            "inception_v2",
            "resnet50",
            "shufflenet",
            "squeezenet",
            "vgg19",
            "zfnet512",
        )
    )


@pytest.mark.parametrize("name", LIGHT_FILES)
def test_light_model_macs_and_layer_counts(name: str) -> None:
    path = LIGHT / name
    net = load_network(path)
    ops = [n.op_type for n in onnx.load(path).graph.node]
    assert net.count(LayerKind.CONV) == ops.count("Conv")
    assert net.count(LayerKind.FC) == ops.count("Gemm")
    assert net.macs == reference_macs(path)
    for layer in net:
        assert min(layer.out_shape) > 0 and all(min(s) > 0 for s in layer.in_shapes)


def test_bvlc_alexnet_by_hand() -> None:
    """Caffe AlexNet at 224x224 with its two-tower (groups=2) convolutions, worked out by hand."""
    convs = load_network(LIGHT / "light_bvlc_alexnet.onnx").weight_layers
    expected = [  # (out shape, groups, MACs)
        (Shape(96, 54, 54), 1, 54 * 54 * 96 * 11 * 11 * 3),
        (Shape(256, 26, 26), 2, 26 * 26 * 256 * 5 * 5 * 48),
        (Shape(384, 12, 12), 1, 12 * 12 * 384 * 3 * 3 * 256),
        (Shape(384, 12, 12), 2, 12 * 12 * 384 * 3 * 3 * 192),
        (Shape(256, 12, 12), 2, 12 * 12 * 256 * 3 * 3 * 192),
        (Shape(4096, 1, 1), 1, 9216 * 4096),
        (Shape(4096, 1, 1), 1, 4096 * 4096),
        (Shape(1000, 1, 1), 1, 4096 * 1000),
    ]
    assert [(lay.out_shape, lay.groups, lay.macs) for lay in convs] == expected
    assert sum(m for *_, m in expected) == 654_560_384


def vgg_macs(cfg: list[int | str], size: int = 224) -> int:
    total, cin = 0, 3
    for item in cfg:
        if item == "M":
            size //= 2
        else:
            total += size * size * int(item) * 9 * cin
            cin = int(item)
    return total + 512 * 7 * 7 * 4096 + 4096 * 4096 + 4096 * 1000


def test_vgg19_light_and_zoo_agree_with_the_formula() -> None:
    cfg = [64, 64, "M", 128, 128, "M"] + [256] * 4 + ["M"] + ([512] * 4 + ["M"]) * 2
    assert load_network(LIGHT / "light_vgg19.onnx").macs == vgg_macs(cfg)
    assert zoo_network("vgg19").macs == vgg_macs(cfg)
    assert round(vgg_macs(cfg) / 1e9, 1) == 19.6


def test_vgg16_is_15_47_gmacs() -> None:
    cfg = [64, 64, "M", 128, 128, "M"] + [256] * 3 + ["M"] + ([512] * 3 + ["M"]) * 2
    assert zoo_network("vgg16").macs == vgg_macs(cfg) == 15_470_264_320


@pytest.mark.parametrize(
    "name,gmacs",
    [
        ("alexnet", 0.714),
        ("vgg11", 7.609),
        ("vgg13", 11.308),
        ("vgg16", 15.470),
        ("vgg19", 19.632),
        ("resnet18", 1.814),
        ("resnet34", 3.664),
        ("resnet50", 4.089),
        ("mobilenetv2", 0.301),
        ("squeezenet", 0.349),
        ("resnet18-cifar", 0.556),
        ("vgg16-cifar", 0.313),
    ],
)
def test_zoo_known_totals(name: str, gmacs: float) -> None:
    """Published totals (torchvision / the papers) at three significant decimals."""
    assert zoo_network(name).macs / 1e9 == pytest.approx(gmacs, abs=0.0015)


def test_resnet50_light_matches_the_published_total() -> None:
    assert load_network(LIGHT / "light_resnet50.onnx").macs / 1e9 == pytest.approx(4.09, abs=0.01)


@pytest.mark.parametrize("name", list(ZOO))
def test_every_zoo_model_is_a_valid_onnx_model(name: str) -> None:
    from pimsim.network.zoo import zoo_model

    onnx.checker.check_model(zoo_model(name), full_check=True)
    net = zoo_network(name)
    assert net.source == f"zoo:{name}" and net.layers[-1].kind in (LayerKind.FC, LayerKind.POOL)
    expected_input = (3, 32, 32) if name.endswith("-cifar") else (3, 224, 224)
    assert tuple(next(iter(net.inputs.values()))) == expected_input


def test_resnet18_structure() -> None:
    net = zoo_network("resnet18")
    assert net.count(LayerKind.CONV) == 20 and net.count(LayerKind.FC) == 1
    assert net.count(LayerKind.ELTWISE) == 8
    adds = [lay for lay in net if lay.kind is LayerKind.ELTWISE]
    assert all(len(lay.inputs) == 2 and lay.activation.value == "relu" for lay in adds)
    assert net.layers[0].out_shape == Shape(64, 112, 112) and net.layers[1].out_shape == Shape(
        64, 56, 56
    )
