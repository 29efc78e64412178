"""The CNN as a layer graph: layers, the network, and its importers (ONNX, PIMCOMP JSON, built-in zoo)."""

from pimsim.network.graph import Network
from pimsim.network.layer import Activation, EltwiseOp, Layer, LayerKind, PoolMethod, Shape
from pimsim.network.onnx_import import load_network

__all__ = [
    "Activation",
    "EltwiseOp",
    "Layer",
    "LayerKind",
    "Network",
    "PoolMethod",
    "Shape",
    "load_network",
]
