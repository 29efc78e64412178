"""Fuzzing the loaders: a mutated input either loads or raises :class:`InputError`, nothing else.

Valid documents (the example arch.json, the PIMSYN component library, a small PIMCOMP network) lose
keys, get values of the wrong type, negative, zero, huge, NaN or infinite, have lists reordered, or
have their text cut short; a small valid ONNX model gets bytes flipped, inserted or cut, or is mutated
at the protobuf level (op types, attributes, dims, edges, nodes, versions). Every run is the same
(``derandomize``). A smaller number goes through the command line, which must exit with 0 or 2 and
print no traceback.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from onnx import helper, numpy_helper

from pimsim.arch.check import load_architecture
from pimsim.cli.main import main as pimsim_main
from pimsim.components.library import LIBRARIES, load_library
from pimsim.errors import InputError
from pimsim.model.estimate import estimate
from pimsim.model.plan import Plan
from pimsim.network.load import load_model
from pimsim.network.onnx_import import load_network
from pimsim.network.pimcomp_export import to_pimcomp
from pimsim.network.zoo import zoo_network
from pimsim.sim import compile_program
from tests.conftest import ROOT, onnx_text

ARCH = json.loads((ROOT / "configs" / "arch" / "examples" / "vgg11-cifar-simple.json").read_text())
LIBRARY = json.loads((LIBRARIES / "pimsyn.json").read_text())
PIMCOMP = to_pimcomp(zoo_network("resnet18-cifar"))


def _onnx_base() -> onnx.ModelProto:
    model = onnx_text("""
      g (float[1,3,8,8] x) => (float[1,10] y) <int64[2] shape = {1, 8}> {
        c1 = Conv<pads=[1,1,1,1]>(x, w1, b1)
        r1 = Relu(c1)
        p1 = MaxPool<kernel_shape=[2,2], strides=[2,2]>(r1)
        c2 = Conv<strides=[2,2], pads=[1,1,1,1]>(p1, w2)
        a = Add(c2, c2)
        r2 = Relu(a)
        k = Concat<axis=1>(r2, r2)
        g = AveragePool<kernel_shape=[2,2], strides=[2,2]>(k)
        f = Reshape(g, shape)
        y = Gemm<transB=1>(f, w3)
      }""")
    for name, dims in (("w1", (4, 3, 3, 3)), ("b1", (4,)), ("w2", (4, 4, 3, 3)), ("w3", (10, 8))):
        model.graph.initializer.append(
            numpy_helper.from_array(np.full(dims, 0.5, np.float32), name)
        )
    return model


ONNX = _onnx_base()
ONNX_BYTES = ONNX.SerializeToString()
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def fuzz(examples: int) -> settings:
    """The fuzz settings with this many examples."""
    return settings(FUZZ, max_examples=examples)


# -- JSON documents ---------------------------------------------------------------------------------
ODD_VALUES = st.one_of(
    st.sampled_from(
        [
            None,
            True,
            False,
            0,
            1,
            -1,
            -7,
            2**20 + 1,
            10**12,
            2**63,
            10**400,
            1e-300,
            1e300,
            math.nan,
            math.inf,
            -math.inf,
            -0.5,
            "",
            "x",
            "128",
            [],
            {},
            [1, 2],
            {"a": 1},
        ]
    ),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
)


def _paths(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _paths(value, (*path, i))


def _mutate(doc: Any, data: st.DataObject) -> Any:
    """Apply one to three mutations to a copy of ``doc``."""
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        path = data.draw(st.sampled_from(list(_paths(doc))), label="path")
        op = data.draw(
            st.sampled_from(["delete", "replace", "replace", "swap", "copy"]), label="op"
        )
        if not path:
            doc = data.draw(ODD_VALUES) if op == "replace" else doc
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = data.draw(ODD_VALUES, label="value")
        elif op == "swap" and isinstance(parent[key], list) and len(parent[key]) > 1:
            items = parent[key]
            i, j = data.draw(st.tuples(*[st.integers(0, len(items) - 1)] * 2), label="swap")
            items[i], items[j] = items[j], items[i]
        elif op == "copy" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))  # a duplicated entry
    return doc


def _text(doc: Any, data: st.DataObject) -> str:
    text = json.dumps(doc, indent=1)
    if data.draw(st.integers(0, 9), label="truncate?") == 0:
        text = text[: data.draw(st.integers(0, len(text)), label="cut")]
    return text


def _loads_or_input_error(load: Callable[[Path], object], path: Path) -> None:
    """``load(path)`` returns, or raises an InputError whose one-line message names ``path``."""
    try:
        load(path)
    except InputError as exc:
        assert "\n" not in exc.message and str(path) in exc.message, exc.message
        event("input error")
    else:
        event("loads")


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="pimsyn-fuzz-") as folder:
        yield Path(folder)


@fuzz(1000)
@given(data=st.data())
def test_mutated_arch_json_loads_or_is_an_input_error(scratch: Path, data: st.DataObject) -> None:
    path = scratch / "arch.json"
    path.write_text(_text(_mutate(ARCH, data), data))
    _loads_or_input_error(_load_and_compile, path)


def _load_and_compile(path: Path) -> None:
    """What `pimsim estimate` and `pimsim run` do before the run: load, estimate, compile."""
    loaded = load_architecture(path)
    if loaded.network is not None and loaded.arch.mapping is not None:
        plan = Plan(loaded.arch, loaded.network)
        estimate(loaded.arch, plan)
        compile_program(plan)


@fuzz(500)
@given(data=st.data())
def test_mutated_library_loads_or_is_an_input_error(scratch: Path, data: st.DataObject) -> None:
    path = scratch / "library.json"
    path.write_text(_text(_mutate(LIBRARY, data), data))
    _loads_or_input_error(load_library, path)


@fuzz(1200)
@given(data=st.data())
def test_mutated_pimcomp_json_loads_or_is_an_input_error(
    scratch: Path, data: st.DataObject
) -> None:
    path = scratch / "network.json"
    nodes = _mutate(PIMCOMP, data)
    names = [n["name"] for n in PIMCOMP]  # rewire an edge to an existing, missing or own node
    if (
        data.draw(st.booleans(), label="rewire?")
        and isinstance(nodes, list)
        and nodes
        and isinstance(nodes[-1], dict)
    ):
        nodes[-1]["provider"] = [data.draw(st.sampled_from([*names, "ghost"]), label="provider")]
    path.write_text(_text(nodes, data))
    _loads_or_input_error(load_model, path)


# -- ONNX -------------------------------------------------------------------------------------------
@fuzz(1200)
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(ONNX_BYTES) - 1),
            st.integers(0, 255),
            st.sampled_from(["set", "insert", "delete"]),
        ),
        min_size=1,
        max_size=6,
    ),
    cut=st.one_of(st.none(), st.integers(0, len(ONNX_BYTES))),
)
def test_damaged_onnx_bytes_load_or_are_an_input_error(
    scratch: Path, edits: list[tuple[int, int, str]], cut: int | None
) -> None:
    data = bytearray(ONNX_BYTES)
    for pos, value, how in edits:
        pos = min(pos, len(data) - 1)
        if how == "set":
            data[pos] = value
        elif how == "insert":
            data[pos:pos] = bytes([value])
        elif len(data) > 1:
            del data[pos]
    path = scratch / "model.onnx"
    path.write_bytes(bytes(data[:cut]))
    _loads_or_input_error(load_network, path)


OPS = [
    "Conv",
    "Relu",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "Add",
    "Sub",
    "Div",
    "Mul",
    "Sum",
    "Gemm",
    "MatMul",
    "Concat",
    "Reshape",
    "Flatten",
    "Pad",
    "Clip",
    "Softmax",
    "LRN",
    "BatchNormalization",
    "Transpose",
    "Squeeze",
    "Identity",
    "Shape",
    "Constant",
    "Loop",
    "Foo",
]
ATTRS = [
    "pads",
    "strides",
    "kernel_shape",
    "dilations",
    "group",
    "axis",
    "auto_pad",
    "transA",
    "transB",
    "mode",
    "value",
]
ATTR_VALUES = st.one_of(
    st.integers(-3, 5),
    st.sampled_from([2**40, -(2**40)]),
    st.lists(st.integers(-2, 4), min_size=1, max_size=5),
    st.sampled_from(["SAME_UPPER", "VALID", "reflect", "x", 1.5, [1.0, 2.0]]),
)
DIMS = st.one_of(st.integers(-3, 40), st.sampled_from([2**31, 2**62]), st.sampled_from(["N", ""]))


def _mutate_onnx(model: onnx.ModelProto, data: st.DataObject) -> None:
    g = model.graph
    what = data.draw(
        st.sampled_from(["op", "attr", "dim", "edge", "node", "init", "version"]), label="what"
    )
    node = g.node[data.draw(st.integers(0, len(g.node) - 1), label="node")] if g.node else None
    if what == "op" and node is not None:
        node.op_type = data.draw(st.sampled_from(OPS), label="op")
    elif what == "attr" and node is not None:
        name = data.draw(st.sampled_from(ATTRS), label="attr")
        for old in [a for a in node.attribute if a.name == name]:
            node.attribute.remove(old)
        if data.draw(st.booleans(), label="set attr?"):
            node.attribute.append(helper.make_attribute(name, data.draw(ATTR_VALUES, label="v")))
    elif what == "dim":
        value = data.draw(st.sampled_from([*g.input, *g.output]), label="value")
        dims = value.type.tensor_type.shape.dim
        if dims:
            dim = dims[data.draw(st.integers(0, len(dims) - 1), label="axis")]
            new = data.draw(DIMS, label="dim")
            if isinstance(new, str):
                dim.dim_param = new
            else:
                dim.dim_value = new
    elif what == "edge" and node is not None and node.input:
        names = [
            "",
            "ghost",
            *(i.name for i in g.input),
            *(t.name for t in g.initializer),
            *(o for n in g.node for o in n.output),
        ]
        slot = data.draw(st.integers(0, len(node.input) - 1), label="slot")
        node.input[slot] = data.draw(st.sampled_from(names), label="tensor")
    elif what == "node" and node is not None:
        how = data.draw(st.sampled_from(["delete", "duplicate", "move"]), label="how")
        i = list(g.node).index(node)
        copy_ = onnx.NodeProto()
        copy_.CopyFrom(node)
        del g.node[i]
        if how != "delete":
            g.node.insert(data.draw(st.integers(0, len(g.node)), label="to"), copy_)
        if how == "duplicate":
            g.node.insert(i, copy_)
    elif what == "init" and g.initializer:
        init = g.initializer[data.draw(st.integers(0, len(g.initializer) - 1), label="init")]
        if init.dims and data.draw(st.booleans(), label="dims?"):
            init.dims[data.draw(st.integers(0, len(init.dims) - 1))] = data.draw(
                st.integers(-2, 50), label="init dim"
            )
        else:
            init.data_type = data.draw(st.sampled_from([0, 2, 7, 8, 11, 99]), label="type")
    elif what == "version":
        model.ir_version = data.draw(st.sampled_from([1, 3, 4, 7, 11, 99]), label="ir")
        del model.opset_import[:]
        model.opset_import.add().version = data.draw(st.sampled_from([1, 6, 9, 11, 13, 21, 99]))


@fuzz(1500)
@given(data=st.data())
def test_mutated_onnx_graphs_load_or_are_an_input_error(scratch: Path, data: st.DataObject) -> None:
    model = onnx.ModelProto()
    model.CopyFrom(ONNX)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        _mutate_onnx(model, data)
    if data.draw(st.booleans(), label="from a file?"):
        path = scratch / "mutated.onnx"
        path.write_bytes(model.SerializeToString())
        _loads_or_input_error(load_network, path)
    else:
        try:
            load_network(model, label="<mutated>")
        except InputError as exc:
            assert "\n" not in exc.message and exc.message.startswith("<mutated>"), exc.message
            event("input error")
        else:
            event("loads")


# -- through the command line ----------------------------------------------------------------------
def _cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = pimsim_main(argv)
    return code, err.getvalue()


@fuzz(80)
@given(data=st.data())
def test_command_line_exits_0_or_2_on_mutated_files(scratch: Path, data: st.DataObject) -> None:
    if data.draw(st.booleans(), label="arch?"):
        path = scratch / "cli-arch.json"
        path.write_text(_text(_mutate(ARCH, data), data))
        argv = ["estimate", str(path), "--json"]
    else:
        model = onnx.ModelProto()
        model.CopyFrom(ONNX)
        _mutate_onnx(model, data)
        path = scratch / "cli-model.onnx"
        path.write_bytes(model.SerializeToString())
        argv = ["network", str(path)]
    code, err = _cli(argv)
    assert code in (0, 2), err
    if code == 2:
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert str(path) in err, err
