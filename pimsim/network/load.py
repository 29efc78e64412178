"""One entry point for "a model": a zoo name, an ONNX file or a PIMCOMP JSON file."""

from __future__ import annotations

import os

from pimsim.errors import InputError
from pimsim.network.graph import Network
from pimsim.network.onnx_import import load_network
from pimsim.network.onnx_io import InputShape
from pimsim.network.pimcomp import load_pimcomp
from pimsim.network.zoo import ZOO, zoo_name, zoo_network


def load_model(spec: str | os.PathLike[str], input_shape: InputShape = None) -> Network:
    """Load a network from a zoo name or a file path (``.json`` = PIMCOMP JSON, otherwise ONNX).

    An existing file wins over a zoo entry of the same name.

    Raises:
        InputError: the name is neither a zoo entry nor a file, or the file is bad.
    """
    text = os.fspath(spec)
    if not text.strip():
        raise InputError(
            "command line",
            "model",
            "is empty",
            f"give a zoo name ({', '.join(ZOO)}), an ONNX file or a PIMCOMP JSON file",
        )
    if not os.path.exists(text):
        canonical = zoo_name(text)
        if canonical is not None:
            if input_shape is not None:
                raise InputError(
                    "command line",
                    "input shape",
                    f"the zoo model '{canonical}' has a fixed input size",
                    "use a -cifar variant, or export the model "
                    "(`pimsyn models export`) and give that file",
                )
            return zoo_network(canonical)
        if not any(sep in text for sep in ("/", os.sep)) and "." not in text:
            raise InputError(
                text, "", "is neither a zoo model nor a file", f"zoo models: {', '.join(ZOO)}"
            )
    if text.lower().endswith(".json"):
        if input_shape is not None:
            raise InputError(
                "command line", "input shape", "a PIMCOMP JSON network has fixed shapes"
            )
        return load_pimcomp(text)
    return load_network(text, input_shape)


def model_reference(spec: str | os.PathLike[str], arch_dir: str | os.PathLike[str]) -> str:
    """How an arch.json written in ``arch_dir`` names the model ``spec`` (as given on the command
    line, relative to the current folder): a model file by its path relative to ``arch_dir``, which
    is how arch.json paths are read, so the design runs from any folder and moves with its model;
    a zoo name unchanged."""
    text = os.fspath(spec)
    if not os.path.isfile(text):
        return text
    return os.path.relpath(os.path.abspath(text), os.path.abspath(arch_dir))
