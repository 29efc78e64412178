"""Shared fixtures: paths to reference data and a helper that builds a model from ONNX text."""

from __future__ import annotations

import os
from pathlib import Path

import onnx
import pytest
from onnx import parser

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
LIGHT = Path(os.path.dirname(onnx.__file__)) / "backend" / "test" / "data" / "light"


#: The five PIMSYN benchmark networks as the PIMSYN-NN code ships them (Apache-2.0; see README there).
PIMCOMP = DATA / "pimcomp"


def onnx_text(graph: str, opset: int = 13) -> onnx.ModelProto:
    """Parse an ONNX graph written in onnx's text syntax."""
    return parser.parse_model(f'<ir_version: 8, opset_import: ["" : {opset}]>\n{graph}')


@pytest.fixture
def tmp_file(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write bytes or text to a named file under tmp_path and return its path."""

    def write(name: str, data: bytes | str) -> Path:
        path = tmp_path / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    return write
