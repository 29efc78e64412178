"""One rule set for the ISAAC baseline and the synthesized designs: each pays for the routers, links
and off-chip interface it has."""

from __future__ import annotations

import math

import pytest

from pimsim.model.estimate import estimate
from pimsim.model.inventory import Component
from pimsim.model.plan import Plan
from pimsim.network.zoo import zoo_network
from synth.baseline import isaac_baseline
from synth.explore import explore
from synth.settings import Settings

NET = zoo_network("resnet18-cifar")


def test_isaac_baseline_pays_every_router_link_and_its_hypertransport() -> None:
    arch = isaac_baseline(NET)
    hw = arch.hardware
    report = estimate(arch, Plan(arch, NET))
    routers = math.ceil(hw.n_macros / 4) * hw.chips  # one router per 4 tiles
    assert report.hardware.peak_power_w[Component.NOC] == pytest.approx(routers * 0.042)
    assert report.hardware.peak_power_w[Component.INTERFACE] == pytest.approx(10.4 * hw.chips)
    # static power of the routers and the links' energy per flit-hop, over one period
    noc = routers * 0.042 * report.period_ns * 1e3 + report.counts["noc_flit_hops"] * 4.72
    assert report.energy_pj[Component.NOC] == pytest.approx(noc)


def test_synthesized_design_pays_a_router_per_macro_links_and_its_interface() -> None:
    ex = explore(NET, 20, Settings(power_w=20).quick())
    plan = Plan(ex.best, NET)
    report = estimate(ex.best, plan)
    macros = ex.best.hardware.n_macros
    assert report.hardware.peak_power_w[Component.NOC] == pytest.approx(macros * 0.042)
    assert report.hardware.peak_power_w[Component.INTERFACE] == pytest.approx(3.97 * 256 / 1e3)
    # 16-bit input 3x32x32 and 10 outputs at 3.97 pJ/bit (no standing power)
    assert report.energy_pj[Component.INTERFACE] == pytest.approx((3 * 32 * 32 + 10) * 16 * 3.97)
    noc = macros * 0.042 * report.period_ns * 1e3 + report.counts["noc_flit_hops"] * 3.872
    assert report.energy_pj[Component.NOC] == pytest.approx(noc)
    read, written = report.counts["noc_buffer_read_bits"], report.counts["noc_buffer_write_bits"]
    # every bit sent over the NoC is received; the interface also writes the input into each
    # macro of the first layer and reads the 10 outputs out of their macro
    first = {share.macro for share in plan.layers[NET.layers[0].name].shares}
    assert read > 0 and written - len(first) * 3 * 32 * 32 * 16 == pytest.approx(read - 10 * 16)


def test_a_baseline_over_two_chips_pays_two_hypertransports() -> None:
    """AlexNet needs 2 ISAAC chips, modelled as one mesh of 336 tiles: 2 x 10.4 W of interface and
    2 x 65.8 W of peak power in all."""
    net = zoo_network("alexnet")
    arch = isaac_baseline(net)
    assert arch.hardware.n_macros == 2 * 168 and arch.hardware.interfaces == 2
    hw = estimate(arch).hardware
    assert hw.peak_power_w[Component.INTERFACE] == pytest.approx(2 * 10.4)
    assert hw.total_peak_power_w == pytest.approx(2 * 65.8, rel=1e-3)
