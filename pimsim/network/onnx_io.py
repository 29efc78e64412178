"""Reading an ONNX file and preparing it for import: weights dropped, dynamic dims resolved, shapes inferred.

Weight *values* are never needed, only their shapes. :func:`prepare` therefore builds a light copy of
the graph in which every large floating-point initializer becomes a typed graph input (as in an export
with ``export_params=False``); only that copy goes through shape inference, so the weights are never
copied or serialised again. Small and integer initializers (shapes, axes, pads) are kept, because shape
inference reads their values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import helper, numpy_helper, shape_inference

from pimsim.errors import InputError
from pimsim.network.onnx_check import check_text, ordered_nodes
from pimsim.network.onnx_skim import load_without_weights

#: Initializers with at most this many elements keep their values (shape tensors, pads, scalars).
SMALL_INITIALIZER_ELEMENTS = 64

#: The largest dimension accepted (int32): larger ones are corrupt files, not CNNs.
MAX_DIM = 2**31 - 1

#: Operand slots of each operator that hold parameters (weights, shapes, pads), never activations.
PARAMETER_SLOTS: dict[str, frozenset[int]] = {
    "Conv": frozenset({1, 2}),
    "ConvTranspose": frozenset({1, 2}),
    "Gemm": frozenset({1, 2}),
    "MatMul": frozenset({1}),
    "BatchNormalization": frozenset({1, 2, 3, 4}),
    "InstanceNormalization": frozenset({1, 2}),
    "Clip": frozenset({1, 2}),
    "Pad": frozenset({1, 2, 3}),
    "Reshape": frozenset({1}),
    "ConstantOfShape": frozenset({0}),
    "Squeeze": frozenset({1}),
    "Unsqueeze": frozenset({1}),
    "PRelu": frozenset({1}),
    "Slice": frozenset({1, 2, 3, 4}),
    "Resize": frozenset({1, 2, 3}),
    "Upsample": frozenset({1}),
    "Expand": frozenset({1}),
    "Tile": frozenset({1}),
}

InputShape = Sequence[int] | Mapping[str, Sequence[int]] | None


def read_model(path: str | os.PathLike[str]) -> onnx.ModelProto:
    """Parse an ONNX file, turning every way it can fail into an :class:`InputError`."""
    file = os.fspath(path)
    if not os.path.exists(file):
        raise InputError(
            file,
            "",
            "no such file",
            "give a path to an ONNX model, a PIMCOMP JSON "
            "network, or a zoo name (see `pimsyn models`)",
        )
    if os.path.isdir(file):
        raise InputError(file, "", "is a directory, not a model file")
    try:
        model = load_without_weights(file)
    except (DecodeError, RuntimeError, ValueError, TypeError) as exc:
        raise InputError(
            file,
            "",
            f"is not a readable ONNX model (protobuf parse failed: {_first_line(exc)})",
            "the file may be truncated or of another format",
        ) from None
    except OSError as exc:
        raise InputError(file, "", f"cannot be read ({exc.strerror or exc})") from None
    if not model.graph.node:
        raise InputError(
            file,
            "graph",
            "holds no nodes: this is not an ONNX model, or an empty one",
            "the file may be truncated or of another format",
        )
    return model


def parameter_inputs(graph: onnx.GraphProto) -> set[str]:
    """Names of graph inputs and initializers that are weights or constants, not activations.

    An initializer is always a parameter; a graph input without an initializer is one when some node
    reads it in a parameter slot (``PARAMETER_SLOTS``), as exports with ``export_params=False`` do.
    """
    params = {init.name for init in graph.initializer}
    for node in graph.node:
        slots = PARAMETER_SLOTS.get(node.op_type, frozenset())
        params.update(name for i, name in enumerate(node.input) if i in slots and name)
    return params


_ARITHMETIC = frozenset({"Add", "Sub", "Mul", "Div", "Sum"})


def find_data_inputs(graph: onnx.GraphProto) -> list[str]:
    """The graph inputs that carry images (activations), in declaration order.

    Candidates are the inputs that are read and are not parameters (:func:`parameter_inputs`). When some
    candidate feeds a non-arithmetic operator (a convolution, a pool, ...), candidates read only by
    element-wise arithmetic are taken as per-channel parameters (a scale or shift exported without its
    value), not as images.
    """
    params = parameter_inputs(graph)
    readers: dict[str, set[str]] = {}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, set()).add(node.op_type)
    candidates = [i.name for i in graph.input if i.name not in params and i.name in readers]
    primary = [name for name in candidates if not readers[name] <= _ARITHMETIC]
    return primary or candidates


def prepare(
    model: onnx.ModelProto, file: str, input_shape: InputShape = None
) -> tuple[onnx.ModelProto, list[str]]:
    """Return a weight-free copy of ``model`` with all shapes inferred, and its data input names.

    Dynamic dimensions of data inputs are resolved from ``input_shape`` (a full shape, a shape without
    the batch axis, or a mapping from input name to either); a dynamic batch axis becomes 1.

    Raises:
        InputError: a dynamic dimension cannot be resolved, ``input_shape`` does not fit, or shape
            inference fails.
    """
    graph = model.graph
    check_text(model, file)
    ordered = ordered_nodes(graph, file)
    data_inputs = find_data_inputs(graph)
    if not data_inputs:
        raise InputError(
            file, "graph inputs", "no data input found (every input is a weight or unused)"
        )

    light = onnx.ModelProto()
    # IR 4 lets initializers stand outside the graph inputs, as the folded constants do.
    light.ir_version = max(model.ir_version, 4)
    light.opset_import.extend(model.opset_import)
    out = light.graph
    out.name = graph.name
    declared = {i.name for i in graph.input}
    for init in graph.initializer:
        _check_initializer(init, file)
    small = [init for init in graph.initializer if _keep_value(init)]
    nodes, folded = fold_constants(ordered, small, model.opset_import, file)
    out.node.extend(nodes)
    out.initializer.extend(small)
    out.initializer.extend(folded)
    for init in graph.initializer:
        if not _keep_value(init) and init.name not in declared:
            out.input.append(
                helper.make_tensor_value_info(init.name, init.data_type, list(init.dims))
            )
    for value in graph.input:
        if value.name in data_inputs:
            out.input.append(_resolved_input(value, file, input_shape, len(data_inputs)))
        else:
            out.input.append(value)
    for (
        value
    ) in graph.output:  # keep names and types, drop shapes: they may conflict with new inputs
        out.output.append(
            helper.make_tensor_value_info(value.name, value.type.tensor_type.elem_type, None)
        )
    try:
        inferred = shape_inference.infer_shapes(
            light, check_type=False, strict_mode=True, data_prop=True
        )
    except Exception as exc:  # noqa: BLE001 - onnx's C++ inference raises many types on bad models
        raise InputError(
            file,
            "shape inference",
            _first_line(exc),
            "check the model with onnx.checker, or pass --input-shape",
        ) from None
    return inferred, data_inputs


def fold_constants(
    nodes: Sequence[onnx.NodeProto],
    initializers: Sequence[onnx.TensorProto],
    opsets: Sequence[onnx.OperatorSetIdProto],
    file: str = "<model>",
) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    """Evaluate the small constant sub-computations (shape arithmetic such as the pads torch computes).

    A node all of whose inputs have known values, and whose result is small, is run with onnx's
    reference evaluator and replaced by an initializer. Large results (weights made by
    ``ConstantOfShape``) are never materialised.

    Returns:
        The nodes that remain, and the initializers that replace the folded ones.

    Raises:
        InputError: an initializer's data does not fit its dims or type.
    """
    values = {init.name: _values(init, file) for init in initializers}
    opset = {o.domain or "": o.version for o in opsets}
    kept: list[onnx.NodeProto] = []
    folded: list[onnx.TensorProto] = []
    for node in nodes:
        operands = [n for n in node.input if n]
        result = None
        if (
            all(n in values for n in operands)
            and node.domain in ("", "ai.onnx")
            and not _too_large(node, values)
        ):
            # imported here: only graphs with constant subgraphs need onnx's evaluator (0.05 s)
            from onnx.reference import ReferenceEvaluator

            try:
                result = ReferenceEvaluator(node, opsets=opset).run(
                    None, {n: values[n] for n in operands}
                )
            except Exception:  # noqa: BLE001 - anything the evaluator cannot do stays a node
                result = None
        if result is None or any(np.asarray(r).size > 4096 for r in result):
            kept.append(node)
            continue
        for name, value in zip(node.output, result, strict=False):
            values[name] = np.asarray(value)
            folded.append(numpy_helper.from_array(np.asarray(value), name))
    return kept, folded


def _too_large(node: onnx.NodeProto, values: dict[str, np.ndarray]) -> bool:
    limit = 4096
    if node.op_type.startswith("Random"):
        return True
    if node.op_type == "ConstantOfShape":
        return int(np.prod(values[node.input[0]])) > limit
    if node.op_type == "Expand":
        return int(np.prod(values[node.input[1]])) > limit
    if node.op_type == "Tile":
        return values[node.input[0]].size * int(np.prod(values[node.input[1]])) > limit
    return any(values[n].size > limit for n in node.input if n)


def tensor_dims(model: onnx.ModelProto) -> dict[str, tuple[int, ...] | None]:
    """Every tensor's dims after inference; ``None`` where a dim is still unknown. Impossible dims
    (zero, negative: a window larger than its input) are kept for the importer to report."""
    dims: dict[str, tuple[int, ...] | None] = {}
    graph = model.graph
    for init in graph.initializer:
        dims[init.name] = tuple(int(d) for d in init.dims)
    for value in [*graph.input, *graph.value_info, *graph.output]:
        tensor = value.type.tensor_type
        if not tensor.HasField("shape"):
            dims.setdefault(value.name, None)
            continue
        known = all(d.HasField("dim_value") for d in tensor.shape.dim)
        dims[value.name] = tuple(d.dim_value for d in tensor.shape.dim) if known else None
    return dims


_TYPES = frozenset(v for k, v in onnx.TensorProto.DataType.items() if k != "UNDEFINED")


def _check_initializer(init: onnx.TensorProto, file: str) -> None:
    place = f"initializer '{init.name}'"
    if any(d < 0 or d > MAX_DIM for d in init.dims):
        raise InputError(file, place, f"has the impossible dims {list(init.dims)}")
    if init.data_type not in _TYPES:
        raise InputError(file, place, f"has the unknown data type {init.data_type}")


def _values(init: onnx.TensorProto, file: str) -> np.ndarray:
    """An initializer's values; corrupt data (wrong count for its dims, bad type) is an InputError."""
    try:
        return numpy_helper.to_array(init)
    except Exception as exc:  # noqa: BLE001 - numpy and onnx raise several types on corrupt data
        raise InputError(
            file,
            f"initializer '{init.name}'",
            f"its data does not fit its dims {list(init.dims)} and type ({_first_line(exc)})",
        ) from None


def _keep_value(init: onnx.TensorProto) -> bool:
    count = 1
    for d in init.dims:
        count *= d
    integer = init.data_type in (onnx.TensorProto.INT64, onnx.TensorProto.INT32)
    return count <= SMALL_INITIALIZER_ELEMENTS or (integer and count <= 4096)


def _resolved_input(
    value: onnx.ValueInfoProto, file: str, input_shape: InputShape, n_inputs: int
) -> onnx.ValueInfoProto:
    tensor = value.type.tensor_type
    given = _given_shape(value.name, input_shape, n_inputs)
    place = f"input '{value.name}'"
    dims: list[int | str] = []
    for axis, d in enumerate(tensor.shape.dim):
        if not d.HasField("dim_value"):
            dims.append(d.dim_param or "?")
        elif d.dim_value > MAX_DIM:
            raise InputError(file, place, f"has the absurd dimension {d.dim_value} at axis {axis}")
        elif d.dim_value > 0:
            dims.append(d.dim_value)
        elif axis == 0 or given is not None:  # a batch axis, or one the user resolves, is dynamic
            dims.append("?")
        else:
            what = "a zero-size dimension" if d.dim_value == 0 else "a negative dimension"
            raise InputError(
                file,
                place,
                f"has {what} ({d.dim_value}) at axis {axis}",
                "if it means 'unknown', give the input shape, e.g. --input-shape 1,3,224,224",
            )
    if given is not None:
        if len(given) == len(dims) - 1:
            given = [1, *given]
        if len(given) != len(dims):
            raise InputError(
                file,
                place,
                f"has rank {len(dims)} but the input shape given has "
                f"{len(given)} dimensions ({list(given)})",
            )
        for axis, (have, want) in enumerate(zip(dims, given, strict=True)):
            if not 0 < want <= MAX_DIM:
                raise InputError(
                    "command line",
                    "input shape",
                    f"dimension {axis} is {want}; every dimension must be from 1 to {MAX_DIM}",
                )
            if isinstance(have, int) and have != want:
                raise InputError(
                    file,
                    place,
                    f"has a fixed dimension {have} at axis {axis}, but the "
                    f"input shape given says {want}",
                )
        dims = list(given)
    for axis, dim in enumerate(dims):
        if isinstance(dim, str):
            if axis == 0:
                dims[0] = 1
                continue
            raise InputError(
                file,
                place,
                f"has a dynamic dimension '{dim}' at axis {axis} that cannot be resolved",
                "give the input shape, e.g. --input-shape "
                "1,3,224,224 (or input_shape=(1, 3, 224, 224) in Python)",
            )
    return helper.make_tensor_value_info(value.name, tensor.elem_type, dims)


def _given_shape(name: str, input_shape: InputShape, n_inputs: int) -> list[int] | None:
    if input_shape is None:
        return None
    if isinstance(input_shape, Mapping):
        shape = input_shape.get(name)
        return None if shape is None else [int(d) for d in shape]
    if n_inputs > 1:
        raise InputError(
            "command line",
            "input shape",
            f"the model has {n_inputs} data inputs; give a shape per input name",
        )
    return [int(d) for d in input_shape]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:400]
