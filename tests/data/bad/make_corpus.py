"""Write the bad-input corpus: malformed ONNX, PIMCOMP JSON, arch.json and component-library files.

Run from anywhere: ``python tests/data/bad/make_corpus.py``. The output is deterministic (fixed random
seed, no timestamps). ONNX files are tiny graphs built here; arch.json files are the shipped example
``configs/arch/examples/vgg11-cifar-simple.json`` with one thing broken; libraries are
``configs/components/pimsyn.json`` with one thing broken. ``tests/test_bad_input.py`` holds what each
file must make the command-line tools say; ``README.md`` here lists the cases.
"""

from __future__ import annotations

import copy
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import onnx
from onnx import TensorProto, helper, parser

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
ARCH_EXAMPLE = ROOT / "configs" / "arch" / "examples" / "vgg11-cifar-simple.json"
LIBRARY = ROOT / "configs" / "components" / "pimsyn.json"

#: A small valid CNN: conv + relu, max pool, conv, global pool, flatten, fully connected.
GOOD_ONNX = """
  g (float[1,3,8,8] x, float[4,3,3,3] w1, float[4] b1, float[8,4,3,3] w2, float[10,8] w3)
    => (float[1,10] y) {
    c1 = Conv<pads=[1,1,1,1]>(x, w1, b1)
    r1 = Relu(c1)
    p1 = MaxPool<kernel_shape=[2,2], strides=[2,2]>(r1)
    c2 = Conv<pads=[1,1,1,1]>(p1, w2)
    g = GlobalAveragePool(c2)
    f = Flatten(g)
    y = Gemm<transB=1>(f, w3)
  }"""

CONV = "g ({x}, float[4,3,3,3] w) => (float y) {{\n  y = Conv{attrs}(x, w)\n}}"


def model(text: str, opset: int = 13) -> onnx.ModelProto:
    """A model from onnx's text syntax (initializers without values stay typed graph inputs)."""
    return parser.parse_model(f'<ir_version: 8, opset_import: ["" : {opset}]>\n{text}')


def good_model() -> onnx.ModelProto:
    """:data:`GOOD_ONNX` with its weights as initializers holding values (all 0.5)."""
    m = model(GOOD_ONNX)
    weights = [i for i in m.graph.input if i.name != "x"]
    for value in weights:
        dims = [d.dim_value for d in value.type.tensor_type.shape.dim]
        count = 1
        for d in dims:
            count *= d
        m.graph.initializer.append(
            helper.make_tensor(value.name, TensorProto.FLOAT, dims, [0.5] * count)
        )
        m.graph.input.remove(value)
    return m


def conv(x: str = "float[1,3,8,8] x", attrs: str = "") -> onnx.ModelProto:
    return model(CONV.format(x=x, attrs=attrs))


def _bytes(m: onnx.ModelProto) -> bytes:
    return m.SerializeToString(deterministic=True)


def onnx_cases() -> dict[str, bytes]:
    good = _bytes(good_model())
    rng = random.Random(7)
    no_nodes = good_model()
    del no_nodes.graph.node[:]
    missing_input = good_model()
    del missing_input.graph.input[0]
    bad_bias = good_model()
    bias = next(t for t in bad_bias.graph.initializer if t.name == "b1")
    del bias.float_data[1:]  # 1 value for dims [4]
    bad_name = good.replace(b"r1", b"\xff\xfe")
    return {
        "onnx/not_onnx_text.onnx": b"This is a text file, not an ONNX model.\n",
        "onnx/random_bytes.onnx": bytes(rng.randrange(256) for _ in range(512)),
        "onnx/truncated.onnx": good[: len(good) // 2],
        "onnx/empty_file.onnx": b"",
        "onnx/empty_graph.onnx": _bytes(no_nodes),
        "onnx/unknown_op.onnx": _bytes(
            model("""g (float[1,3,8,8] x, float[4,3,3,3] w) => (float z) {
          y = Conv(x, w)
          z = LpNormalization(y)
        }""")
        ),
        "onnx/custom_domain_op.onnx": _bytes(
            parser.parse_model(
                '<ir_version: 8, opset_import: ["" : 13, "com.example" : 1]>\n'
                "g (float[1,3,8,8] x) => (float y) {\n  y = com.example.Frobnicate(x)\n}"
            )
        ),
        "onnx/dynamic_shape.onnx": _bytes(conv("float[N,3,H,W] x")),
        "onnx/zero_dim.onnx": _bytes(conv("float[1,0,8,8] x")),
        "onnx/negative_dim.onnx": _bytes(conv("float[1,3,-8,8] x")),
        "onnx/huge_dim.onnx": _bytes(conv("float[1,3,8,4000000000] x")),
        "onnx/rank5_input.onnx": _bytes(
            model("""g (float[1,3,4,8,8] x) => (float y) {
          y = Relu(x)
        }""")
        ),
        "onnx/cycle.onnx": _bytes(
            model("""g (float[1,3,8,8] x) => (float z) {
          y = Add(x, z)
          z = Relu(y)
        }""")
        ),
        "onnx/dangling_edge.onnx": _bytes(
            model("""g (float[1,3,8,8] x, float[4,3,3,3] w) => (float z) {
          y = Conv(x, w)
          z = Add(y, ghost)
        }""")
        ),
        "onnx/missing_graph_input.onnx": _bytes(missing_input),
        "onnx/tensor_written_twice.onnx": _bytes(
            model("""g (float[1,3,8,8] x) => (float y) {
          y = Relu(x)
          y = Sigmoid(x)
        }""")
        ),
        "onnx/group_zero.onnx": _bytes(conv(attrs="<group=0>")),
        "onnx/weight_mismatch.onnx": _bytes(
            model("""g (float[1,3,8,8] x, float[4,5,3,3] w) => (float y) {
          y = Conv(x, w)
        }""")
        ),
        "onnx/window_too_big.onnx": _bytes(
            model("""g (float[1,3,8,8] x) => (float y) {
          y = MaxPool<kernel_shape=[12,12]>(x)
        }""")
        ),
        "onnx/kernel_shape_mismatch.onnx": _bytes(conv(attrs="<kernel_shape=[5,5]>")),
        "onnx/attribute_wrong_type.onnx": _bytes(
            model("""g (float[1,3,8,8] x) => (float y) {
          a = Relu(x)
          b = Sigmoid(x)
          y = Concat<axis="channels">(a, b)
        }""")
        ),
        "onnx/corrupt_initializer.onnx": _bytes(bad_bias),
        "onnx/bad_utf8_name.onnx": bad_name,
    }


#: A tiny valid PIMCOMP network: input, conv (fused ReLU), max pool, flatten, FC.
def pimcomp_nodes() -> list[dict[str, Any]]:
    def node(
        name: str, op: str, providers: list[str], dims: list[int], **extra: Any
    ) -> dict[str, Any]:
        return {"name": name, "operation": op, "provider": providers, "output_dim": dims, **extra}

    return [
        node("x", "OP_INPUT", [], [1, 3, 8, 8]),
        node(
            "conv1",
            "OP_CONV",
            ["x"],
            [1, 4, 8, 8],
            with_act=1,
            act_type=0,
            param={
                "input_channel": 3,
                "output_channel": 4,
                "kernel_h": 3,
                "kernel_w": 3,
                "stride_h": 1,
                "stride_w": 1,
                "pad_h0": 1,
                "pad_h1": 1,
                "pad_w0": 1,
                "pad_w1": 1,
                "group": 1,
            },
        ),
        node(
            "pool1",
            "OP_POOL",
            ["conv1"],
            [1, 4, 4, 4],
            param={"pool_method": 0, "kernel_h": 2, "kernel_w": 2, "stride_h": 2, "stride_w": 2},
        ),
        node("flat", "OP_FLATTEN", ["pool1"], [1, 64]),
        node("fc", "OP_FC", ["flat"], [1, 10], param={"input_channel": 64, "output_channel": 10}),
    ]


def _edit(base: Any, change: Callable[[Any], object]) -> Any:
    data = copy.deepcopy(base)
    change(data)
    return data


def pimcomp_cases() -> dict[str, Any]:
    good = pimcomp_nodes()
    conv, pool = 1, 2
    return {
        "pimcomp/empty_list.json": [],
        "pimcomp/object_not_list.json": {"nodes": good},
        "pimcomp/missing_output_dim.json": _edit(good, lambda d: d[conv].pop("output_dim")),
        "pimcomp/missing_kernel.json": _edit(good, lambda d: d[conv]["param"].pop("kernel_h")),
        "pimcomp/provider_wrong_type.json": _edit(good, lambda d: d[conv].update(provider="x")),
        "pimcomp/provider_not_names.json": _edit(good, lambda d: d[conv].update(provider=[["x"]])),
        "pimcomp/dangling_provider.json": _edit(good, lambda d: d[pool].update(provider=["ghost"])),
        "pimcomp/cycle.json": _edit(good, lambda d: d[conv].update(provider=["fc"])),
        "pimcomp/duplicate_name.json": _edit(good, lambda d: d[pool].update(name="conv1")),
        "pimcomp/nan_parameter.json": _edit(
            good, lambda d: d[conv]["param"].update(kernel_h=float("nan"))
        ),
        "pimcomp/param_not_object.json": _edit(good, lambda d: d[pool].update(param=[2, 2])),
        "pimcomp/zero_dim.json": _edit(good, lambda d: d[pool].update(output_dim=[1, 4, 0, 4])),
        "pimcomp/unknown_operation.json": _edit(good, lambda d: d[pool].update(operation="OP_FOO")),
        "pimcomp/window_mismatch.json": _edit(good, lambda d: d[conv]["param"].update(stride_h=2)),
        "pimcomp/channel_mismatch.json": _edit(
            good, lambda d: d[conv]["param"].update(input_channel=5)
        ),
        "pimcomp/only_input.json": good[:1],
    }


def arch_cases() -> dict[str, Any]:
    good = json.loads(ARCH_EXAMPLE.read_text())

    def hw(doc: Any) -> Any:
        return doc["hardware"]

    def first(doc: Any) -> Any:
        return doc["mapping"]["layers"][0]

    return {
        "arch/list.json": [good["hardware"]["xbar_size"]],
        "arch/missing_fields.json": _edit(
            good, lambda d: [hw(d).pop("xbar_size"), hw(d)["parts"].pop("adc")]
        ),
        "arch/wrong_types.json": _edit(good, lambda d: hw(d).update(cell_bits="two")),
        "arch/negative_count.json": _edit(good, lambda d: hw(d)["macros"][0].update(adcs=-4)),
        "arch/absurd_crossbars.json": _edit(
            good, lambda d: hw(d)["macros"][0].update(crossbars=10**12)
        ),
        "arch/absurd_macro_count.json": _edit(
            good, lambda d: [g.update(count=2**20) for g in hw(d)["macros"][:3]]
        ),
        "arch/nan_clock.json": _edit(good, lambda d: hw(d).update(clock_ghz=float("nan"))),
        "arch/unknown_network.json": _edit(good, lambda d: d["mapping"].update(network="vgg99")),
        "arch/layer_over_macro.json": _edit(
            good, lambda d: hw(d)["macros"][0].update(crossbars=16)
        ),
        "arch/nonexistent_macro.json": _edit(good, lambda d: first(d).update(macros=[999])),
        "arch/host_nonexistent_macro.json": _edit(
            good, lambda d: d["mapping"]["hosts"].update(pool4=[0, 5000])
        ),
        "arch/adc_bits_mismatch.json": _edit(good, lambda d: hw(d).update(adc_bits=9)),
        "arch/unknown_schema_version.json": _edit(good, lambda d: d.update(schema_version=2)),
        "arch/wrong_fingerprint.json": _edit(
            good, lambda d: d["mapping"].update(fingerprint="0123456789abcdef")
        ),
        "arch/unknown_key.json": _edit(good, lambda d: hw(d).update(xbar_sise=128)),
    }


def library_cases() -> dict[str, Any]:
    good = json.loads(LIBRARY.read_text())
    return {
        "library/missing_value.json": _edit(good, lambda d: d["adcs"][0].pop("static_power_w")),
        "library/negative_value.json": _edit(
            good, lambda d: d["dacs"][0].update(static_power_w=-0.1)
        ),
        "library/no_lossless_adc.json": _edit(
            good, lambda d: d.update(adcs=[a for a in d["adcs"] if a["resolution_bits"] != 8])
        ),
        "library/wrong_unit.json": _edit(
            good, lambda d: d["crossbars"][0].update(latency_ns="100 ns")
        ),
        "library/missing_source.json": _edit(good, lambda d: d["buffers"][0].pop("source")),
        "library/no_nocs.json": _edit(good, lambda d: d.update(nocs=[])),
        "library/duplicate_part.json": _edit(good, lambda d: d["adcs"].append(d["adcs"][0])),
        "library/infinite_power.json": _edit(
            good, lambda d: d["units"][0].update(peak_power_w=float("inf"))
        ),
    }


def write(out: Path = HERE) -> list[Path]:
    """Write every corpus file under ``out``; return the paths written."""
    files: dict[str, bytes] = dict(onnx_cases())
    files["pimcomp/not_json.json"] = b'[{"name": "x", "operation": "OP_INPUT",\n'
    files["pimcomp/deep_nesting.json"] = b"[" * 5000 + b"]" * 5000
    files["arch/not_json.json"] = b"schema_version = 1\nname = 'toml is not json'\n"
    files["arch/empty_file.json"] = b""
    files["library/not_json.json"] = b"\xff\xfe{}"
    for name, data in {**pimcomp_cases(), **arch_cases(), **library_cases()}.items():
        files[name] = (json.dumps(data, indent=1) + "\n").encode()
    written = []
    for name, data in sorted(files.items()):
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


if __name__ == "__main__":
    paths = write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
    print(f"wrote {len(paths)} files")
