"""Exact shapes and MACs of single layers, on tiny graphs written in ONNX text."""

from __future__ import annotations

import pytest

from pimsim.network import Activation, EltwiseOp, LayerKind, PoolMethod, Shape, load_network
from tests.conftest import onnx_text


def only(graph: str, **kw):  # type: ignore[no-untyped-def]
    net = load_network(onnx_text(graph), **kw)
    return net, net.layers


def test_conv_stride_pads_dilation_non_square() -> None:
    net, (conv,) = only("""
      g (float[1,3,10,7] x, float[8,3,3,3] w) => (float y) {
        y = Conv<strides=[2,1], pads=[1,0,1,2], dilations=[1,2]>(x, w)
      }""")
    assert conv.kind is LayerKind.CONV
    assert conv.in_shape == Shape(3, 10, 7)
    # H: (10 + 1 + 1 - 3) // 2 + 1 = 5;  W: (7 + 0 + 2 - (2*(3-1)+1)) // 1 + 1 = 5
    assert conv.out_shape == Shape(8, 5, 5)
    assert conv.pads == (1, 0, 1, 2)  # top, left, bottom, right
    assert conv.strides == (2, 1) and conv.dilation == (1, 2)
    assert conv.macs == 5 * 5 * 8 * (3 * 3 * 3) == 5400
    assert (conv.weight_rows, conv.weight_cols, conv.out_pixels) == (27, 8, 25)
    assert net.inputs == {"x": Shape(3, 10, 7)}


def test_grouped_and_depthwise_conv() -> None:
    _, (grouped, depthwise) = only("""
      g (float[1,8,6,6] x, float[16,4,3,3] w1, float[16,1,3,3] w2) => (float z) {
        y = Conv<group=2, pads=[1,1,1,1]>(x, w1)
        z = Conv<group=16, pads=[1,1,1,1], strides=[2,2]>(y, w2)
      }""")
    assert grouped.groups == 2 and grouped.weight_rows == 3 * 3 * 8 // 2
    assert grouped.macs == 6 * 6 * 16 * 9 * 4
    assert depthwise.groups == 16 and depthwise.weight_rows == 9 and depthwise.weight_cols == 16
    assert depthwise.out_shape == Shape(16, 3, 3)
    assert depthwise.macs == 3 * 3 * 16 * 9
    assert depthwise.inputs == (grouped.name,)


def test_auto_pad_same_upper() -> None:
    _, (conv,) = only("""
      g (float[1,2,7,8] x, float[4,2,4,4] w) => (float y) {
        y = Conv<auto_pad="SAME_UPPER", strides=[2,2]>(x, w)
      }""")
    # out = ceil(7/2)=4, ceil(8/2)=4; total pad H = (4-1)*2+4-7 = 3 -> 1 top, 2 bottom; W: 2 -> 1, 1
    assert conv.out_shape == Shape(4, 4, 4)
    assert conv.pads == (1, 1, 2, 1)


def test_ceil_mode_pooling_and_global_pool() -> None:
    _, (maxpool, avg, gap) = only("""
      g (float[1,4,9,6] x) => (float z) {
        y = MaxPool<kernel_shape=[2,2], strides=[2,2], ceil_mode=1>(x)
        a = AveragePool<kernel_shape=[3,1], strides=[1,1], pads=[1,0,1,0]>(y)
        z = GlobalAveragePool(a)
      }""")
    assert maxpool.out_shape == Shape(4, 5, 3)  # ceil(7/2)+1 = 5 rows, 3 cols
    assert maxpool.pool is PoolMethod.MAX and maxpool.macs == 0
    assert avg.out_shape == Shape(4, 5, 3) and avg.kernel == (3, 1) and avg.pads == (1, 0, 1, 0)
    assert gap.kernel == (5, 3) and gap.out_shape == Shape(4, 1, 1) and gap.pool is PoolMethod.AVG


def test_fc_after_flatten_sees_the_flat_vector() -> None:
    net, (pool, fc) = only("""
      g (float[1,16,4,5] x, float[10,160] w, float[10] b) => (float y) {
        p = MaxPool<kernel_shape=[2,1], strides=[2,1]>(x)
        f = Flatten<axis=1>(p)
        y = Gemm<transB=1>(f, w, b)
      }""")
    assert pool.out_shape == Shape(16, 2, 5)
    assert fc.in_shape == Shape(160, 1, 1) and fc.out_shape == Shape(10, 1, 1)
    assert fc.macs == 1600 and fc.weight_rows == 160 and fc.weight_cols == 10
    assert fc.inputs == (pool.name,)
    assert [lay.name for lay in net.consumers(pool.name)] == [fc.name]


def test_matmul_is_fc_and_bn_relu_fold_into_conv() -> None:
    _, (conv, fc) = only("""
      g (float[N,3,4,4] x, float[6,3,1,1] w, float[6] s, float[6] b, float[6] m, float[6] v,
         float[96,5] k) => (float y) {
        shape = Constant<value=int64[2] {-1, 96}>()
        c = Conv(x, w)
        n = BatchNormalization(c, s, b, m, v)
        r = Relu(n)
        f = Reshape(r, shape)
        y = MatMul(f, k)
      }""")
    assert conv.activation is Activation.RELU and conv.out_shape == Shape(6, 4, 4)
    assert fc.kind is LayerKind.FC and fc.in_shape == Shape(96, 1, 1) and fc.macs == 96 * 5


def test_eltwise_concat_and_unfusable_activation() -> None:
    net, layers = only("""
      g (float[1,4,6,6] x, float[4,4,3,3] w, float[2,4,1,1] w2) => (float z) {
        a = Conv<pads=[1,1,1,1]>(x, w)
        r = Relu(a)
        s = Add(r, x)
        b = Conv(s, w2)
        t = Sigmoid(a)
        z = Concat<axis=1>(s, b, t)
      }""")
    # `a` is read by Relu and by Sigmoid: neither can be fused without hiding `a` from the other.
    assert [lay.kind for lay in layers] == [
        LayerKind.CONV,
        LayerKind.ACT,
        LayerKind.ELTWISE,
        LayerKind.CONV,
        LayerKind.ACT,
        LayerKind.CONCAT,
    ]
    conv, relu, add, conv2, sigmoid, concat = layers
    assert conv.activation is Activation.NONE
    assert relu.activation is Activation.RELU and sigmoid.activation is Activation.SIGMOID
    assert add.eltwise is EltwiseOp.ADD and add.inputs == (relu.name, "x")
    assert concat.inputs == (add.name, conv2.name, sigmoid.name)
    assert concat.out_shape == Shape(4 + 2 + 4, 6, 6)
    assert [s.c for s in concat.in_shapes] == [4, 2, 4]
    assert net.outputs == (concat,)


def test_affine_mul_add_with_constants_fold_away() -> None:
    net, layers = only("""
      g (float[1,3,4,4] x, float[5,3,1,1] w, float[5,1,1] sc, float[5,1,1] sh) => (float y) {
        c = Conv(x, w)
        m = Mul(c, sc)
        a = Add(m, sh)
        y = Relu(a)
      }""")
    assert len(layers) == 1 and layers[0].activation is Activation.RELU


@pytest.mark.parametrize(
    "act,expected",
    [
        ("Clip", Activation.RELU6),
        ("Tanh", Activation.TANH),
        ("LeakyRelu", Activation.LEAKY_RELU),
        ("HardSwish", Activation.HARDSWISH),
    ],
)
def test_fused_activation_kinds(act: str, expected: Activation) -> None:
    opset = 14 if act == "HardSwish" else 13
    net = load_network(
        onnx_text(
            f"""
      g (float[1,3,4,4] x, float[5,3,1,1] w) => (float y) {{
        c = Conv(x, w)
        y = {act}(c)
      }}""",
            opset=opset,
        )
    )
    assert net.layers[0].activation is expected


def test_pad_is_absorbed_by_the_next_conv() -> None:
    _, (conv,) = only(
        """
      g (float[1,2,5,5] x, float[3,2,3,3] w) => (float y) {
        p = Pad(x, pads)
        y = Conv(p, w)
      }
      """.replace(
            "p = Pad(x, pads)",
            "pads = Constant<value=int64[8] {0,0,1,0,0,0,2,3}>()\n        p = Pad(x, pads)",
        )
    )
    assert conv.in_shape == Shape(2, 5, 5)
    assert conv.pads == (1, 0, 2, 3)
    assert conv.out_shape == Shape(3, 6, 6)


def test_dynamic_batch_becomes_one_and_input_shape_resolves_the_rest() -> None:
    graph = """
      g (float[N,3,H,W] x, float[4,3,3,3] w) => (float y) {
        y = Conv(x, w)
      }"""
    net = load_network(onnx_text(graph), input_shape=(3, 9, 11))
    assert net.layers[0].out_shape == Shape(4, 7, 9)
    net = load_network(onnx_text(graph), input_shape={"x": (1, 3, 5, 5)})
    assert net.layers[0].out_shape == Shape(4, 3, 3)
