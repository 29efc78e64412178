"""The estimate's ADC wiring term (pimsim.model.wiring) on hand designs, beside the simulation.

Under ``adc_wiring: "weights"`` a share's ``W`` weight columns sit on its ``A`` ADCs in contiguous
runs (ADC ``j`` from column ``ceil(j W / A)``), so a bit takes the busiest ADC's
``ceil(W / A)`` conversions, and in a block of fewer pixels than copies only a prefix ``P`` of the
columns is read: ``min(P, ceil(W / A))``. NARROW (tests/test_sim_compute.py) is a conv 1x1,
8 -> 12 channels: two tiles of 8 and 4 columns, two slices each, 8 + 8 + 4 + 4 = 24 weight columns
a copy; 100 ns crossbar reads, 4 bits a block.
"""

from __future__ import annotations

import numpy as np
import pytest

from pimsim.arch.schema import LayerMapping, MacroGroup
from pimsim.diagnose import disagreements
from pimsim.model.design import design_from_plan
from pimsim.model.estimate import estimate
from pimsim.model.stack import Stack
from pimsim.model.tables import NetworkTables
from pimsim.model.wiring import busiest_adc, wiring
from pimsim.sim import SimOptions, simulate
from tests.test_sim_compute import NARROW, narrow_twice_weighted, wired
from tests.test_sim_hand import SA, design, library, unit


def _wiring(plan):  # the estimate's wiring of a plan's shares, and its stack
    hw = plan.arch.hardware
    t = NetworkTables.build(plan.network, hw.xbar_size, hw.cell_bits, hw.dac_bits)
    st = Stack.of(t, [design_from_plan(plan)])
    blocks = np.array([plan.layers[x.name].blocks for x in plan.network.layers])
    return t, st, wiring(t, st, blocks)


def test_whole_columns_on_five_adcs() -> None:
    # NARROW's 24 columns on 5 ADCs of 0.04 GS/s (25 ns a conversion): runs from columns 0, 5,
    # 10, 15, 20: 5, 5, 5, 5, 4. A bit takes the busiest's 5 x 25 = 125 ns (over the 100 ns
    # read); 2 blocks x 4 bits x 125 = 1,000 ns an image. The even spread, 24 / 5 x 25 = 120 ns a
    # bit, said 960 ns (-4%).
    plan = wired(
        design(
            NARROW,
            [MacroGroup(name="m", crossbars=4, adcs=5, units=SA, buffer_kib=64)],
            [LayerMapping(layer="y", dup=1, macros=[0], crossbars=[4])],
            library(0.04),
        ),
        "weights",
    )
    t, st, w = _wiring(plan)
    assert w.wired.tolist() == [True] and w.columns.tolist() == [24] and w.adcs.tolist() == [5]
    assert busiest_adc(t, st, w, np.array([1])).tolist() == [5]
    r = simulate(plan, SimOptions(images=4))
    assert r.period_ns == 2 * 4 * 125
    assert unit(r, "macro 0/ADC bank").server_busy_ns == (4 * 8 * 125.0,) * 4 + (4 * 8 * 100.0,)
    assert estimate(plan.arch, plan).period_ns == pytest.approx(2 * 4 * 125)
    # now agrees (docs/disagreements.md, ADC mux imbalance): the busiest ADC is what the estimate
    # times, nothing is flagged (the old detector named the even spread's 120 ns here)
    assert disagreements(plan) == []


def test_fixed_wiring_leaves_the_idle_copys_adc_idle_in_the_last_block() -> None:
    # NARROW on a 1x3 map, dup 2, one macro of 8 crossbars and 2 ADCs of 0.1 GS/s: copy 0's 24
    # columns on ADC 0, copy 1's on ADC 1 (W = 48, ceil(48 / 2) = 24). Blocks {0, 1} and {2}: in
    # the last only copy 0 is read (P = 24 columns), all on ADC 0: still min(24, 24) = 24
    # conversions a bit, 240 ns. 2 blocks x 4 bits x 240 = 1,920 ns an image. The even spread gave
    # the last block 24 / 2 x 10 = 120 ns a bit: 4 x 240 + 4 x 120 = 1,440 ns (-25%).
    plan = narrow_twice_weighted(2)
    t, st, w = _wiring(plan)
    assert busiest_adc(t, st, w, np.array([2])).tolist() == [24]
    assert busiest_adc(t, st, w, np.array([1])).tolist() == [24]
    r = simulate(plan, SimOptions(images=4))
    assert r.period_ns == 2 * 4 * 240
    assert estimate(plan.arch, plan).period_ns == pytest.approx(2 * 4 * 240)
    assert disagreements(plan) == []  # now agrees, in the last block too


def test_a_prefix_shorter_than_the_busiest_run() -> None:
    # The same layer with dup 2 on 4 ADCs: W = 48, runs of 12. In the last block copy 0's 24
    # columns cover ADCs 0 and 1: 12 a bit, P = 24 > 12. On a single ADC (one run of 48) the
    # prefix is the busiest: 24 a bit in the last block, 48 in a full one.
    plan = narrow_twice_weighted(4)
    t, st, w = _wiring(plan)
    assert busiest_adc(t, st, w, np.array([1])).tolist() == [12]
    one = narrow_twice_weighted(1)
    t, st, w = _wiring(one)
    assert busiest_adc(t, st, w, np.array([1])).tolist() == [24]
    assert busiest_adc(t, st, w, np.array([2])).tolist() == [48]


def test_slot_wiring_keeps_the_even_spread() -> None:
    # under "slots" (ISAAC's presets) the estimate does not wire: the even spread stays. The
    # simulator wires the 4 x 8 = 32 slot columns to the 5 ADCs in runs from columns 0, 7, 13,
    # 20, 26: ADC 0 converts slot 0's columns 0-6 (7), ADC 1 column 7 and slot 1's 8-12 (6), ADC
    # 2 slot 1's 13-15 and slot 2's 4 active 16-19 (7), ADC 3 slot 3's active 24-25 (2), ADC 4
    # 26-27 (2). A bit takes 7 x 25 = 175 ns: 8 bits = 1,400 ns an image; the estimate's
    # 24 / 5 x 25 = 120 ns a bit, 960 ns, is -31.4%: flagged.
    plan = design(
        NARROW,
        [MacroGroup(name="m", crossbars=4, adcs=5, units=SA, buffer_kib=64)],
        [LayerMapping(layer="y", dup=1, macros=[0], crossbars=[4])],
        library(0.04),
    )
    _, _, w = _wiring(plan)
    assert w.wired.tolist() == [False]
    assert estimate(plan.arch, plan).period_ns == pytest.approx(2 * 4 * 24 / 5 * 25)
    r = simulate(plan, SimOptions(images=4))
    assert r.period_ns == 8 * 175
    bits = 4 * 8  # 4 images x 8 bits
    assert unit(r, "macro 0/ADC bank").server_busy_ns == tuple(
        bits * n * 25.0 for n in (7, 6, 7, 2, 2)
    )
    (flag,) = disagreements(plan)
    assert flag.startswith("ADC mux imbalance: 'y' in macro 0, blocks of 1 pixel(s)")
    assert "('slots' wiring): 120 ns a bit" in flag and "converts 175 ns a bit" in flag
