"""A tiny component library with round numbers, for results worked out by hand in the tests."""

from __future__ import annotations

from pimsim.arch.build import build_hardware, build_mapping
from pimsim.arch.schema import Architecture, LayerMapping, MacroGroup
from pimsim.components import ComponentLibrary, UnitKind
from pimsim.network import Network, load_network
from tests.conftest import onnx_text

SRC = "hand-made for tests"
LIBRARY = ComponentLibrary.model_validate(
    {
        "schema_version": 1,
        "name": "hand",
        # 8x8 crossbar: 100 pJ per read (1 mW x 100 ns), 0.1 mW static
        "crossbars": [
            {
                "name": "x8",
                "size_rows": 8,
                "cell_bits": [8],
                "static_power_w": 1e-4,
                "dynamic_power_w": 1e-3,
                "peak_power_w": 1.1e-3,
                "latency_ns": 100.0,
                "area_mm2": 0.001,
                "source": SRC,
            }
        ],
        # 14-bit ADC (lossless for 8 rows, 4-bit DAC, 8-bit cells): 1 GS/s, 1 pJ per conversion
        "adcs": [
            {
                "name": "a14",
                "resolution_bits": 14,
                "static_power_w": 1e-3,
                "dynamic_power_w": 1e-3,
                "peak_power_w": 2e-3,
                "frequency_ghz": 1.0,
                "latency_ns": 1.0,
                "area_mm2": 0.01,
                "source": SRC,
            }
        ],
        "dacs": [
            {
                "name": "d4",
                "resolution_bits": 4,
                "static_power_w": 0.0,
                "dynamic_power_w": 1e-6,
                "peak_power_w": 1e-6,
                "frequency_ghz": 0.1,
                "latency_ns": 10.0,
                "source": SRC,
            }
        ],
        # units: 4 lanes at 1 GHz, 4 pJ per action = 1 pJ per element
        "units": [
            {
                "name": k,
                "kind": k,
                "lanes": 4,
                "static_power_w": 0.0,
                "dynamic_power_w": 4e-3,
                "peak_power_w": 4e-3,
                "frequency_ghz": 1.0,
                "latency_ns": 1.0,
                "source": SRC,
            }
            for k in ("shift_add", "add", "activation", "pool", "eltwise", "sigmoid")
        ],
        # 64-bit port, 1 ns per access: 1 pJ per bit read, 2 pJ per bit written, 1 mW leakage
        "buffers": [
            {
                "name": "b64",
                "size_kib": 64,
                "leakage_power_w": 1e-3,
                "word_bits": 64,
                "access_latency_ns": 1.0,
                "read_energy_nj": 0.064,
                "write_energy_nj": 0.128,
                "peak_power_w": 1e-3,
                "source": SRC,
            }
        ],
        "nocs": [
            {
                "name": "n16",
                "flit_bits": 16,
                "hop_latency_ns": 1.0,
                "flit_latency_ns": 1.0,
                "router_power_w": 0.0,
                "flit_hop_energy_pj": 0.5,
                "source": SRC,
            }
        ],
    }
)

ONE_LAYER = """
  g (float[1,2,4,4] x, float[3,2,3,3] w1) => (float y) {
    c = Conv<pads=[1,1,1,1]>(x, w1)
    y = Relu(c)
  }"""

TWO_LAYERS = """
  g (float[1,2,4,4] x, float[3,2,3,3] w1, float[2,3,1,1] w2) => (float z) {
    c = Conv<pads=[1,1,1,1]>(x, w1)
    y = Relu(c)
    z = Conv(y, w2)
  }"""


def network(text: str) -> Network:
    return load_network(onnx_text(text), name="hand")


def conv1_macro(adcs: int = 2, crossbars: int = 24) -> MacroGroup:
    return MacroGroup(
        name="m0",
        crossbars=crossbars,
        adcs=adcs,
        units={UnitKind.SHIFT_ADD: 1, UnitKind.ADD: 1, UnitKind.ACTIVATION: 1},
        buffer_kib=64,
    )


def one_layer_arch(adcs: int = 2) -> tuple[Architecture, Network]:
    net = network(ONE_LAYER)
    hw = build_hardware(LIBRARY, 8, 8, 4, [conv1_macro(adcs)])
    mapping = build_mapping(
        net, "hand", [LayerMapping(layer="c", dup=4, macros=[0], crossbars=[24])]
    )
    return Architecture(schema_version=1, name="one", hardware=hw, mapping=mapping), net


def two_layer_arch() -> tuple[Architecture, Network]:
    net = network(TWO_LAYERS)
    m1 = MacroGroup(name="m1", crossbars=4, adcs=1, units={UnitKind.SHIFT_ADD: 1}, buffer_kib=64)
    hw = build_hardware(LIBRARY, 8, 8, 4, [conv1_macro(), m1])
    mapping = build_mapping(
        net,
        "hand",
        [
            LayerMapping(layer="c", dup=4, macros=[0], crossbars=[24]),
            LayerMapping(layer="z", dup=2, macros=[1], crossbars=[4]),
        ],
    )
    return Architecture(schema_version=1, name="two", hardware=hw, mapping=mapping), net
