"""The compute side of the simulated hardware, by hand: DAC and sample-and-hold rates, ADC mux
groups, idle copies in tail blocks; each where the estimate is right and where it is knowingly wrong
(the catalogue of docs/disagreements.md).

Library (tests/hand.py): 8x8 crossbars of 8-bit cells read in 100 ns (16-bit weights: 2 slices),
4-bit DACs (4 bit iterations of 16-bit inputs), 0.1 GS/s ADCs here (10 ns a conversion), units of 4
lanes at 1 GHz, a 64-bit scratchpad port of 1 ns per access; the clock is 1 GHz (a cycle is a ns).
"""

from __future__ import annotations

from typing import Any

import pytest

from pimsim.arch.schema import LayerMapping, MacroGroup
from pimsim.components import ComponentLibrary
from pimsim.model.estimate import estimate
from pimsim.sim import SimOptions, simulate
from pimsim.sim.detect import disagreements
from tests.test_sim_hand import ONE_BY_ONE, SA, design, layer, library, run, unit

#: conv 1x1, 8 -> 16 channels on a 1x2 map: weight rows 8, 16 columns: two 8x8 tiles x 2 slices
#: = 4 crossbars of 8 active rows and 8 active columns; per bit 4 reads, 32 DAC conversions (8 rows
#: x 4), 32 conversions; dup 1: 2 blocks of one pixel, 8 bits per image.
WIDE = """
  g (float[1,8,1,2] x, float[16,8,1,1] w) => (float y) {
    y = Conv(x, w)
  }"""


def with_dac(lib: ComponentLibrary, ghz: float) -> ComponentLibrary:
    data: dict[str, Any] = lib.model_dump(mode="json")
    data["dacs"][0].update(frequency_ghz=ghz, latency_ns=1 / ghz)
    return ComponentLibrary.model_validate(data)


# -- DAC rate ----------------------------------------------------------------------------------------
def test_a_slow_dac_sets_the_bit_time_in_both_models() -> None:
    # tests/test_sim_hand.py's two crossbars with two ADCs take 888 ns: 2 (load) + 8 bits x 100
    # (read) + 80 (last bit's conversions) + 4 (shift-add) + 2 (store). With a 0.005 GS/s DAC a
    # row converts one value per 200 ns, longer than the read: each bit takes 200 ns.
    plan = design(
        ONE_BY_ONE,
        [MacroGroup(name="m", crossbars=2, adcs=2, units=SA, buffer_kib=64)],
        [LayerMapping(layer="y", dup=1, macros=[0], crossbars=[2])],
        with_dac(library(0.1), 0.005),
    )
    r = simulate(plan, SimOptions(images=4))
    assert r.image_finish_ns[0] == 2 + 8 * 200 + 80 + 4 + 2
    assert r.period_ns == 8 * 200
    # the estimate's closed-form bound: max(read, 1 / DAC rate, sample) per bit
    assert estimate(plan.arch, plan).period_ns == pytest.approx(8 * 200)


# -- ADC mux groups ----------------------------------------------------------------------------------
def mux(adcs: int, crossbars: int = 4) -> Any:
    return design(
        WIDE,
        [MacroGroup(name="m", crossbars=crossbars, adcs=adcs, units=SA, buffer_kib=64)],
        [LayerMapping(layer="y", dup=1, macros=[0], crossbars=[4])],
        library(0.1),
    )


def test_one_adc_per_crossbar_converts_in_parallel() -> None:
    # 4 ADCs for 4 crossbars: each converts its crossbar's 8 columns, 80 ns, under the 100 ns read
    r = simulate(mux(4), SimOptions(images=4))
    assert r.period_ns == 8 * 100
    assert unit(r, "macro 0/ADC bank").server_busy_ns == (4 * 8 * 80.0,) * 4


def test_adc_mux_imbalance() -> None:
    # 3 ADCs for 4 crossbars: slot i goes to ADC i x 3 // 4 = 0, 0, 1, 2. ADC 0 converts 16 values a
    # bit (160 ns), ADCs 1 and 2 8 each (80 ns, then idle): a bit takes 160 ns, the ADC sets the
    # pace. Per image 8 bits: 1280 ns. The estimate spreads the 32 conversions over 3 ADCs
    # (106.7 ns a bit, a block 4 x 106.7 = 426.7 ns against 4 x 100 of reads): 853.3 ns, 33% short.
    plan = mux(3)
    r = simulate(plan, SimOptions(images=4))
    assert r.period_ns == 8 * 160
    busy = unit(r, "macro 0/ADC bank").server_busy_ns
    assert busy == (4 * 8 * 160.0, 4 * 8 * 80.0, 4 * 8 * 80.0)
    est = estimate(plan.arch, plan).period_ns
    assert est == pytest.approx(2 * 4 * 32 / (3 * 0.1))
    assert est / r.period_ns - 1 == pytest.approx(-1 / 3)
    assert any("ADC mux imbalance" in d for d in disagreements(plan))
    assert not any("ADC mux imbalance" in d for d in disagreements(mux(4)))


# -- tail blocks -------------------------------------------------------------------------------------
def test_idle_copies_in_the_last_block() -> None:
    # WIDE on a 1x3 map with dup 2 over two macros, one copy each (4 crossbars): blocks of pixels
    # {0, 1} and {2}. In the last block only copy 0 (macro 0) has a pixel: macro 1 reads nothing.
    # Per image macro 0 reads 2 blocks x 4 bits x 4 crossbars = 32 times, macro 1 16 times; the
    # estimate gives each macro half of every pixel: 3 x 16 / 2 = 24 each (totals agree: 48).
    text = WIDE.replace("1,8,1,2", "1,8,1,3")
    plan = design(
        text,
        [MacroGroup(name="m", crossbars=4, adcs=4, units=SA, buffer_kib=64, count=2)],
        [LayerMapping(layer="y", dup=2, macros=[0, 1], crossbars=[4, 4])],
        library(0.1),
    )
    r = run(plan)
    assert r.counts["xbar_read"] == 48
    stages = {(s.name, s.macro): s for s in layer(r, "y").stages}
    # items: 2 blocks x 4 bits on each macro; macro 1's last-block bits are done as they start
    assert stages[("mvm", 0)].items == stages[("mvm", 1)].items == 8
    assert stages[("mvm", 0)].busy_ns == 8 * 100 and stages[("mvm", 1)].busy_ns == 4 * 100
    assert any("tail block" in d for d in disagreements(plan))


def test_validate_flags_the_known_conditions() -> None:
    from synth.validate import validate_design

    plan = mux(3)
    row = validate_design(1, plan.arch.model_dump(mode="json"), plan.network, 2, 5.0, None)
    assert [d.split(":")[0] for d in row.disagreements] == ["ADC mux imbalance"]
    assert row.flagged  # the estimate's throughput is 50% high: 1 / 853.3 against 1 / 1280
    assert row.error_pct["throughput_ips"] == pytest.approx(50.0)
