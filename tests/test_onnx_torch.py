"""Graphs written by torch.onnx.export (legacy exporter), with and without parameters.

The fixtures are made by tests/data/make_torch_exports.py; torch is not needed to run these tests.
"""

from __future__ import annotations

import pytest

from pimsim.errors import InputError
from pimsim.network import Activation, LayerKind, Shape, load_network
from tests.conftest import DATA

EXPECTED = [  # kind, in shapes, out shape, kernel, strides, pads, groups, activation, MACs
    (
        LayerKind.CONV,
        [Shape(3, 20, 22)],
        Shape(16, 10, 11),
        (3, 3),
        (2, 2),
        (1, 1, 1, 1),
        1,
        Activation.RELU,
        10 * 11 * 16 * 27,
    ),
    # ZeroPad2d((left 1, right 2, top 0, bottom 1)) absorbed into conv2's pads
    (
        LayerKind.CONV,
        [Shape(16, 10, 11)],
        Shape(16, 9, 12),
        (3, 3),
        (1, 1),
        (0, 1, 1, 2),
        1,
        Activation.NONE,
        9 * 12 * 16 * 144,
    ),
    (
        LayerKind.CONV,
        [Shape(16, 9, 12)],
        Shape(16, 9, 12),
        (3, 3),
        (1, 1),
        (1, 1, 1, 1),
        16,
        Activation.RELU6,
        9 * 12 * 16 * 9,
    ),
    (
        LayerKind.ELTWISE,
        [Shape(16, 9, 12)] * 2,
        Shape(16, 9, 12),
        (1, 1),
        (1, 1),
        (0, 0, 0, 0),
        1,
        Activation.NONE,
        0,
    ),
    (
        LayerKind.CONV,
        [Shape(16, 9, 12)],
        Shape(8, 9, 12),
        (1, 1),
        (1, 1),
        (0, 0, 0, 0),
        1,
        Activation.NONE,
        9 * 12 * 8 * 16,
    ),
    (
        LayerKind.CONCAT,
        [Shape(16, 9, 12), Shape(8, 9, 12)],
        Shape(24, 9, 12),
        (1, 1),
        (1, 1),
        (0, 0, 0, 0),
        1,
        Activation.NONE,
        0,
    ),
    (
        LayerKind.POOL,
        [Shape(24, 9, 12)],
        Shape(24, 5, 6),
        (2, 2),
        (2, 2),
        (0, 0, 0, 0),
        1,
        Activation.NONE,
        0,
    ),  # ceil_mode: 9 rows -> 5
    (
        LayerKind.FC,
        [Shape(720, 1, 1)],
        Shape(10, 1, 1),
        (1, 1),
        (1, 1),
        (0, 0, 0, 0),
        1,
        Activation.NONE,
        7200,
    ),
]


def _facts(net):  # type: ignore[no-untyped-def]
    return [
        (
            lay.kind,
            list(lay.in_shapes),
            lay.out_shape,
            lay.kernel,
            lay.strides,
            lay.pads,
            lay.groups,
            lay.activation,
            lay.macs,
        )
        for lay in net
    ]


def test_export_with_parameters() -> None:
    net = load_network(DATA / "torchnet_params.onnx")
    assert _facts(net) == EXPECTED
    add = net.layers[3]
    assert add.inputs == (net.layers[2].name, net.layers[1].name)


def test_export_without_parameters_needs_and_takes_the_input_shape() -> None:
    with pytest.raises(InputError, match="dynamic dimension 'height' at axis 2"):
        load_network(DATA / "torchnet_noparams.onnx")
    net = load_network(DATA / "torchnet_noparams.onnx", input_shape=(1, 3, 20, 22))
    assert _facts(net) == EXPECTED
    assert net.fingerprint() == load_network(DATA / "torchnet_params.onnx").fingerprint()


def test_an_input_size_the_weights_cannot_take_is_a_clear_error() -> None:
    """At 40x44 the classifier would see 2880 features, but its weight matrix takes 720."""
    with pytest.raises(InputError) as info:
        load_network(DATA / "torchnet_noparams.onnx", input_shape=(3, 40, 44))
    message = info.value.message
    assert "torchnet_noparams.onnx" in message and "/fc/Gemm" in message and "720" in message
