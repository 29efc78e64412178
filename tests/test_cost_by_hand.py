"""Data movement, the off-chip interface and area, priced on the two-layer hand design.

The design (tests/hand.py): conv ``c`` (2->3 channels, 3x3, pad 1, 4x4, ReLU) on macro 0, conv ``z``
(3->2 channels, 1x1) on macro 1; a 2x1 mesh, one router per macro, 16-bit flits, one hop between the
macros. Per image: ``c``'s output, 3x4x4 values x 16 bits = 768 bits = 48 flits, crosses one hop.
Without an interface the layer ``z`` sets the period: 8 blocks x 400 ns = 3200 ns.
"""

from __future__ import annotations

from collections import Counter

import pytest

from pimsim.arch.build import build_hardware, build_mapping
from pimsim.arch.schema import Architecture, LayerMapping, MacroGroup
from pimsim.components import InterfacePart, UnitKind
from pimsim.model.actions import Action
from pimsim.model.estimate import estimate
from pimsim.model.inventory import Component
from pimsim.model.plan import Plan
from pimsim.model.pricing import price
from tests.hand import LIBRARY, TWO_LAYERS, conv1_macro, network, two_layer_arch

#: 0.25 bits per ns, 2 pJ per bit, 5 mW standing, 0.5 mm^2
SLOW_IO = InterfacePart(
    name="io",
    bandwidth_gbit_s=0.25,
    energy_per_bit_pj=2.0,
    static_power_w=5e-3,
    area_mm2=0.5,
    source="hand-made for tests",
)


def priced_arch(bandwidth_gbit_s: float = 0.25) -> Architecture:
    """The two-layer design with 2 mW routers, 0.25 pJ links and an interface."""
    (noc,) = LIBRARY.nocs
    library = LIBRARY.model_copy(
        update={
            "nocs": [noc.model_copy(update={"router_power_w": 2e-3, "link_flit_energy_pj": 0.25})],
            "interfaces": [SLOW_IO.model_copy(update={"bandwidth_gbit_s": bandwidth_gbit_s})],
        }
    )
    net = network(TWO_LAYERS)
    m1 = MacroGroup(name="m1", crossbars=4, adcs=1, units={UnitKind.SHIFT_ADD: 1}, buffer_kib=64)
    hw = build_hardware(library, 8, 8, 4, [conv1_macro(), m1])
    mapping = build_mapping(
        net,
        "hand",
        [
            LayerMapping(layer="c", dup=4, macros=[0], crossbars=[24]),
            LayerMapping(layer="z", dup=2, macros=[1], crossbars=[4]),
        ],
    )
    return Architecture(schema_version=1, name="priced", hardware=hw, mapping=mapping)


def test_noc_transfers_read_and_write_the_scratchpads() -> None:
    """768 bits read at macro 0 (1 pJ/bit) to be sent, written at macro 1 (2 pJ/bit) on arrival."""
    arch, net = two_layer_arch()
    plain = estimate(arch, Plan(arch, net))
    assert plain.counts[Action.NOC_BUFFER_READ_BITS] == 768
    assert plain.counts[Action.NOC_BUFFER_WRITE_BITS] == 768
    # the layers' own accesses: c reads 16 x 18 x 16 and writes 16 x 3 x 16 bits; z reads 16 x 48
    # and writes 16 x 32 bits; static 2 x 1 mW SPM leakage x 3200 ns
    own = 4608 * 1 + 768 * 2 + 768 * 1 + 512 * 2 + 2 * 1e-3 * 3200 * 1e3
    assert plain.energy_pj[Component.BUFFER] == pytest.approx(own + 768 * 1 + 768 * 2)


def test_interface_bounds_the_period_and_is_priced() -> None:
    """Input x: 2x4x4 values, output z: 2x4x4 values, 16 bits each: 1024 bits per image; at 0.25
    bits/ns that is 4096 ns > z's 3200 ns, so the interface sets the period."""
    arch = priced_arch()
    report = estimate(arch, Plan(arch, network(TWO_LAYERS)))
    assert report.counts[Action.INTERFACE_BITS] == 1024
    assert report.period_ns == 4096.0 and report.period_set_by == "off-chip interface"
    # 1024 bits x 2 pJ + 5 mW x 4096 ns
    assert report.energy_pj[Component.INTERFACE] == pytest.approx(2048 + 5e-3 * 4096 * 1e3)
    # 48 flit-hops x (0.5 pJ router + 0.25 pJ link) + 2 routers x 2 mW x 4096 ns
    assert report.energy_pj[Component.NOC] == pytest.approx(48 * 0.75 + 2 * 2e-3 * 4096 * 1e3)
    # the interface writes the 512 input bits through c's macro 0's port and reads z's 512 output
    # bits out of macro 1's, on top of the NoC's 768 read at 0 and written at 1
    assert report.counts[Action.NOC_BUFFER_WRITE_BITS] == 768 + 512
    assert report.counts[Action.NOC_BUFFER_READ_BITS] == 768 + 512
    # the layers' own accesses (test_noc_transfers_read_and_write_the_scratchpads), the NoC's and
    # the interface's at 1 pJ a bit read and 2 written, 2 x 1 mW of leakage x 4096 ns
    own = 4608 * 1 + 768 * 2 + 768 * 1 + 512 * 2
    moved = (768 + 512) * 1 + (768 + 512) * 2
    assert report.energy_pj[Component.BUFFER] == pytest.approx(own + moved + 2e-3 * 4096 * 1e3)


def test_a_fast_interface_leaves_the_period_to_the_layers() -> None:
    """At 1 bit/ns the 1024 bits take 1024 ns < 3200 ns: z sets the period."""
    arch = priced_arch(bandwidth_gbit_s=1.0)
    report = estimate(arch, Plan(arch, network(TWO_LAYERS)))
    assert report.period_ns == 3200.0 and report.period_set_by == "layer z"
    assert report.energy_pj[Component.INTERFACE] == pytest.approx(2048 + 5e-3 * 3200 * 1e3)


def test_peak_power_and_area_count_routers_and_the_interface() -> None:
    """Peak: 2 routers x 2 mW; the interface 5 mW + 2 pJ/bit x 0.25 bit/ns = 5.5 mW. Area: 0.5 mm^2."""
    hw = estimate(priced_arch()).hardware
    assert hw.peak_power_w[Component.NOC] == pytest.approx(4e-3)
    assert hw.peak_power_w[Component.INTERFACE] == pytest.approx(5.5e-3)
    assert hw.area_mm2[Component.INTERFACE] == 0.5


def test_counts_priced_as_dictionaries_equal_the_estimate() -> None:
    """The simulator's path: counts booked per macro (interface bits to the chip, key -1)."""
    arch = priced_arch()
    report = estimate(arch, Plan(arch, network(TWO_LAYERS)))
    counts = {k: v for k, v in report.counts.items()}
    per_macro: dict[int, Counter] = {0: Counter(), 1: Counter(), -1: Counter()}
    for action, layer_of_macro in (
        (Action.XBAR_READ, (384, 128)),
        (Action.DAC, (2304, 384)),
        (Action.ADC, (1152, 256)),
        (Action.SHIFT_ADD, (1152, 256)),
        (Action.ADD, (96, 0)),
        (Action.ACTIVATION, (48, 0)),
        (Action.BUFFER_READ_BITS, (4608, 768)),
        (Action.BUFFER_WRITE_BITS, (768, 512)),
        (Action.NOC_BUFFER_READ_BITS, (768, 512)),  # c's output sent; z's read out off chip
        (Action.NOC_BUFFER_WRITE_BITS, (512, 768)),  # the input from off chip; c's output received
    ):
        per_macro[0][action], per_macro[1][action] = layer_of_macro
        assert counts[action] == sum(layer_of_macro)
    per_macro[-1][Action.NOC_FLIT_HOPS] = 48
    per_macro[-1][Action.INTERFACE_BITS] = 1024
    assert price(per_macro, arch.hardware, report.period_ns) == pytest.approx(report.energy_pj)


def test_compute_floor_and_the_energy_above_it() -> None:
    """One-layer design (tests/test_estimate_by_hand.py): 384 crossbar reads x 100 pJ, 2304 DAC
    conversions x 0.01 pJ, 1152 ADC conversions x 1 pJ are the floor; the rest of the 55,655.04 pJ per image
    (static power over 1600 ns, digital units, scratchpad) is above it."""
    from tests.hand import one_layer_arch

    arch, net = one_layer_arch()
    report = estimate(arch, Plan(arch, net))
    assert report.floor_pj == pytest.approx(
        {Component.CROSSBAR: 38400, Component.DAC: 23.04, Component.ADC: 1152}
    )
    above = report.above_floor_pj(report.floor_pj)
    # crossbar: 24 x 0.1 mW x 1600 ns static; ADC: 2 x 1 mW x 1600 ns; the buffer all above
    assert above[Component.CROSSBAR] == pytest.approx(3840)
    assert above[Component.ADC] == pytest.approx(3200)
    assert above[Component.DAC] == pytest.approx(0)
    assert above[Component.BUFFER] == report.energy_pj[Component.BUFFER]
    share = (55655.04 - 39575.04) / 55655.04  # 28.9% above the floor
    assert report.above_floor_share(report.floor_pj) == pytest.approx(share)
