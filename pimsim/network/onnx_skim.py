"""Read an ONNX file without reading its weights.

The importer needs every tensor's shape but no weight value. ``onnx.load`` would read the whole file
into memory and then parse it into a second full copy (about 2x the file, plus the interpreter); the
protobuf runtime offers no lazy parsing. This module walks the protobuf wire format over a memory map
instead: every field is copied as it is, except that inside ``GraphProto.initializer`` the data fields
of large tensors (``raw_data``, ``float_data``, ...) are skipped. The pages holding the weights are
never touched, so they never become resident; the light byte string is then parsed by protobuf as
usual. Tensors keep ``name``, ``dims`` and ``data_type``, which is all shape inference needs.

Wire format: each field is a varint key ``(number << 3) | wire_type`` followed by a varint (type 0), 8
bytes (type 1), a varint length and that many bytes (type 2), or 4 bytes (type 5).
"""

from __future__ import annotations

import mmap
import os

import onnx

#: ModelProto.graph, GraphProto.initializer, and TensorProto's value-carrying fields.
_MODEL_GRAPH, _GRAPH_INITIALIZER = 7, 5
_TENSOR_DATA_FIELDS = frozenset({4, 5, 6, 7, 9, 10, 11})

#: Initializers whose encoding is larger than this lose their values (shape tensors are far smaller).
STRIP_BYTES = 64 * 1024


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def _varint(buf: mmap.mmap | bytes, pos: int, end: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= end or shift > 63:
            raise WireError(f"malformed or truncated varint at byte {pos}")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _fields(buf: mmap.mmap | bytes, pos: int, end: int):  # type: ignore[no-untyped-def]
    """Yield (field number, wire type, start of field, start of payload, end of field)."""
    while pos < end:
        start = pos
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError(f"field number 0 at byte {start}")
        if wire == 0:
            _, stop = _varint(buf, pos, end)
            payload = pos
        elif wire == 1:
            payload, stop = pos, pos + 8
        elif wire == 2:
            length, payload = _varint(buf, pos, end)
            stop = payload + length
        elif wire == 5:
            payload, stop = pos, pos + 4
        else:
            raise WireError(f"unsupported wire type {wire} at byte {start}")
        if stop > end:
            raise WireError(f"field {number} at byte {start} runs past the end (file truncated?)")
        yield number, wire, start, payload, stop
        pos = stop


def _strip_tensor(buf: mmap.mmap, pos: int, end: int) -> bytes:
    out = bytearray()
    for number, _, start, _, stop in _fields(buf, pos, end):
        if number not in _TENSOR_DATA_FIELDS:
            out += buf[start:stop]
    return bytes(out)


def _skim_graph(buf: mmap.mmap, pos: int, end: int) -> bytes:
    out = bytearray()
    for number, wire, start, payload, stop in _fields(buf, pos, end):
        if number == _GRAPH_INITIALIZER and wire == 2 and stop - payload > STRIP_BYTES:
            tensor = _strip_tensor(buf, payload, stop)
            out += _encode_varint((number << 3) | 2) + _encode_varint(len(tensor)) + tensor
        else:
            out += buf[start:stop]
    return bytes(out)


def load_without_weights(path: str | os.PathLike[str]) -> onnx.ModelProto:
    """Parse an ONNX file, dropping the values of large initializers.

    Raises:
        WireError: the file is not a well-formed protobuf message (truncated, or another format).
        google.protobuf.message.DecodeError: protobuf rejects the light message.
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            return onnx.ModelProto()
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            out = bytearray()
            for number, wire, start, payload, stop in _fields(buf, 0, size):
                if number == _MODEL_GRAPH and wire == 2:
                    graph = _skim_graph(buf, payload, stop)
                    out += _encode_varint((number << 3) | 2) + _encode_varint(len(graph)) + graph
                else:
                    out += buf[start:stop]
    model = onnx.ModelProto()
    model.ParseFromString(bytes(out))
    return model
