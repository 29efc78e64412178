"""Exact action counts, stage times, energy and latency on tiny designs, worked out by hand.

One layer: conv 2->3 channels, 3x3, pad 1, on 4x4 (16 output pixels, 18 weight rows), ReLU.
8x8 crossbars with 8-bit cells (2 slices), 4-bit DACs (4 bit iterations): the set is 3 row blocks x
1 column block x 2 slices = 6 crossbars; 18 active rows, 9 active columns per slice; dup 4 -> 4 blocks.
"""

from __future__ import annotations

import pytest

from pimsim.arch.check import check_hardware, check_mapping
from pimsim.arch.mapping import crossbar_set
from pimsim.model.actions import Action
from pimsim.model.estimate import estimate
from pimsim.model.inventory import Component
from pimsim.model.plan import Plan
from tests.hand import one_layer_arch, two_layer_arch


def test_crossbar_set_by_hand() -> None:
    arch, net = one_layer_arch()
    xset = crossbar_set(net["c"], 8, 8)
    assert (xset.row_blocks, xset.col_blocks, xset.slices, xset.crossbars) == (3, 1, 2, 6)
    assert (xset.active_rows, xset.active_cols, xset.partial_sum_adds) == (18, 9, 6)
    assert check_hardware(arch.hardware) == [] and check_mapping(arch, net) == []


def test_one_layer_action_counts() -> None:
    arch, net = one_layer_arch()
    counts = estimate(arch, Plan(arch, net)).counts
    # per pixel: 6 xbars x 4 bits; 18 rows x 2 slices x 4 bits; 9 cols x 2 slices x 4 bits; ...
    assert counts == {
        Action.XBAR_READ: 16 * 24,
        Action.DAC: 16 * 144,
        Action.ADC: 16 * 72,
        Action.SHIFT_ADD: 16 * 72,
        Action.ADD: 16 * 6,
        Action.ACTIVATION: 16 * 3,
        Action.BUFFER_READ_BITS: 16 * 18 * 16,
        Action.BUFFER_WRITE_BITS: 16 * 3 * 16,
    }


def test_one_layer_stage_times_period_latency_energy() -> None:
    arch, net = one_layer_arch()
    report = estimate(arch, Plan(arch, net))
    (layer,) = report.layers
    # per block of 4 pixels: load 4*288 bits / 64 bits/ns; mvm 4 bits x 100 ns; adc 288 conv / 2 ADCs;
    # shift-add 288 / 4 lanes; add 24 / 4; activation 12 / 4; store 192 bits / 64
    assert layer.stage_ns == {
        "load": 18.0,
        "mvm": 400.0,
        "adc": 144.0,
        "shift_add": 72.0,
        "add": 6.0,
        "activation": 3.0,
        "store": 3.0,
    }
    assert layer.bottleneck == "mvm" and layer.block_period_ns == 400.0
    # one block: per bit 100 + 36 + 18, overlapped over 4 bits: 154 + 3 x 100; + 18 + 6 + 3 + 3
    assert layer.block_latency_ns == 484.0
    assert report.period_ns == 1600.0 and report.throughput_ips == pytest.approx(1e9 / 1600)
    assert report.latency_ns == 484.0 - 400.0 + 1600.0
    # dynamic: 384 reads x 100 pJ, 2304 x 0.01, 1152 x 1 (ADC), 1152 x 1 (shift-add), 96, 48,
    # buffer 4608 bits x 1 + 768 x 2; static over 1600 ns: 24 xbars x 0.1 mW, 2 ADCs x 1 mW, 1 mW SPM
    assert report.energy_pj == pytest.approx(
        {
            Component.CROSSBAR: 38400 + 3840,
            Component.DAC: 23.04,
            Component.ADC: 1152 + 3200,
            Component.SHIFT_ADD: 1152,
            Component.ADD: 96,
            Component.ACTIVATION: 48,
            Component.BUFFER: 4608 + 1536 + 1600,
        }
    )
    assert report.ops_per_image == 2 * 16 * 3 * 18
    assert report.tops_per_w == pytest.approx(report.ops_per_image / report.energy_per_image_pj)
    assert report.average_power_w == pytest.approx(report.energy_per_image_pj / 1600 / 1e3)


def test_fewer_adcs_make_the_adc_the_bottleneck() -> None:
    arch, net = one_layer_arch(adcs=0)
    with pytest.raises(AssertionError):
        assert check_mapping(arch, net) == []  # a weight layer on a macro without ADCs
    arch, net = one_layer_arch(adcs=1)
    (layer,) = estimate(arch, Plan(arch, net)).layers
    assert layer.stage_ns["adc"] == 288.0 and layer.bottleneck == "mvm"


def test_two_layers_pipeline_noc_and_latency() -> None:
    arch, net = two_layer_arch()
    plan = Plan(arch, net)
    assert plan.mesh == (2, 1) and plan.hops(0, 1) == 1
    report = estimate(arch, plan)
    # conv2 reads 3x4x4 values x 16 bits = 48 flits of 16 bits over one hop
    assert report.counts[Action.NOC_FLIT_HOPS] == 48
    c, z = report.layers
    assert z.stage_ns == {
        "load": 1.5,
        "mvm": 400.0,
        "adc": 32.0,
        "shift_add": 8.0,
        "add": 0.0,
        "activation": 0.0,
        "store": 1.0,
    }
    assert z.blocks == 8 and z.time_per_image_ns == 3200.0
    assert report.period_ns == 3200.0 and report.period_set_by == "layer z"
    # z's first block (2 pixels of row 0) needs conv1's row 0 = conv1's first block (4 pixels),
    # which then crosses the NoC: 1 hop x 1 ns + 4 pixels x 3 values x 16 bits / 16-bit flits x 1 ns
    assert c.block_latency_ns == 484.0
    assert z.start_ns == 484.0 + 1 + 12
    # z block latency: per bit 100 + 32 + 8 -> 110 + 3 x 100, + 1.5 load + 1 store
    assert z.block_latency_ns == 412.5
    assert z.finish_ns == 497.0 + 412.5 - 400.0 + 3200.0 == report.latency_ns
    assert report.energy_pj[Component.NOC] == pytest.approx(48 * 0.5)


def test_hardware_figures_by_hand() -> None:
    arch, _ = one_layer_arch()
    hw = estimate(arch).hardware
    assert hw.peak_power_w[Component.CROSSBAR] == pytest.approx(24 * 1.1e-3)
    assert hw.peak_power_w[Component.DAC] == pytest.approx(24 * 8 * 1e-6)
    assert hw.crossbars == 24
    # bit step = max(100 ns read, 24 x 8 columns / (2 ADCs x 1 GS/s) = 96 ns) = 100 ns;
    # MACs per ns = 24 xbars x 64 cells / 2 slices / (4 bits x 100 ns)
    assert hw.peak_tops == pytest.approx(2 * 24 * 64 / 2 / 400 * 1e9 / 1e12)


def test_price_of_counted_actions_equals_the_report() -> None:
    """The dictionary form of the pricing function (the simulator's) agrees with the kernel's."""
    from collections import Counter

    from pimsim.model.pricing import price

    arch, net = two_layer_arch()
    report = estimate(arch, Plan(arch, net))
    per_macro: dict[int, Counter] = {0: Counter(), 1: Counter()}
    # conv1's actions all happen in macro 0, conv2's in macro 1 (with the NoC traffic it receives)
    c1 = {
        Action.XBAR_READ: 384,
        Action.DAC: 2304,
        Action.ADC: 1152,
        Action.SHIFT_ADD: 1152,
        Action.ADD: 96,
        Action.ACTIVATION: 48,
        Action.BUFFER_READ_BITS: 4608,
        Action.BUFFER_WRITE_BITS: 768,
        Action.NOC_BUFFER_READ_BITS: 768,  # conv1's 48 values x 16 bits, read to be sent
    }
    c2 = {
        Action.XBAR_READ: 16 * 8,
        Action.DAC: 16 * 24,
        Action.ADC: 16 * 16,
        Action.SHIFT_ADD: 16 * 16,
        Action.BUFFER_READ_BITS: 16 * 48,
        Action.BUFFER_WRITE_BITS: 16 * 32,
        Action.NOC_FLIT_HOPS: 48,
        Action.NOC_BUFFER_WRITE_BITS: 768,  # ... and written on arrival
    }
    per_macro[0].update(c1)
    per_macro[1].update(c2)
    assert price(per_macro, arch.hardware, report.period_ns) == pytest.approx(report.energy_pj)


def test_two_flows_on_one_link_add_up() -> None:
    import numpy as np

    from pimsim.model.kernel import busiest_link

    # a 1x3 mesh: flows 0->2 and 1->2 both use the link (0,1)->(0,2)
    pos = np.array([[0, 0], [0, 1], [0, 2]])
    busy, link = busiest_link(
        np.array([0, 1]), np.array([2, 2]), np.array([10.0, 5.0]), pos, (1, 3), 2.0
    )
    assert busy == 30.0 and link == ((0, 1), (0, 2))
    busy, link = busiest_link(
        np.array([2, 0]), np.array([0, 1]), np.array([4.0, 7.0]), pos, (1, 3), 1.0
    )
    assert busy == 7.0 and link == ((0, 0), (0, 1))
