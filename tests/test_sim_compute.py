"""The compute side of the simulated hardware, by hand: DAC conversions and rates, ADC mux
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
from pimsim.diagnose import disagreements
from pimsim.model.estimate import estimate
from pimsim.model.plan import Plan
from pimsim.sim import SimOptions, simulate
from pimsim.sim.blockwork import adc_loads, share_crossbars
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


# -- DAC rate and first-bit conversion ---------------------------------------------------------------
def slow_dac() -> Plan:
    """tests/test_sim_hand.py's two crossbars with two ADCs (80 ns of conversions a bit, under the
    100 ns read), with 0.005 GS/s DACs: a row converts one value per 200 ns, longer than the read."""
    return design(
        ONE_BY_ONE,
        [MacroGroup(name="m", crossbars=2, adcs=2, units=SA, buffer_kib=64)],
        [LayerMapping(layer="y", dup=1, macros=[0], crossbars=[2])],
        with_dac(library(0.1), 0.005),
    )


def test_a_slow_dac_sets_the_steady_bit_time() -> None:
    # The DACs convert one value ahead of the reads, one conversion per 200 ns: bit k's
    # conversion starts when bit k - 1's read starts (and the previous conversion is over), so
    # the reads follow one per 200 ns, the conversions back to back. Later images' windows are
    # loaded early (the load is free once the crossbars start the previous block): their first
    # conversion runs during the previous image's last read, and an image takes 8 bits x 200.
    r = simulate(slow_dac(), SimOptions(images=4))
    assert r.period_ns == 8 * 200
    assert r.image_finish_ns == (1788.0, 1788.0 + 1600, 1788.0 + 3200, 1788.0 + 4800)
    # each read of 100 ns waits 100 for its conversion: in image 0 the first bit 200 (below),
    # every other bit 100; 900 + 3 images x 8 bits x 100
    mvm = next(s for s in layer(r, "y").stages if s.name == "mvm")
    assert mvm.stall_ns == {"dac": 900.0 + 3 * 8 * 100, "port": 2.0}
    assert mvm.busy_ns == 4 * 8 * 100
    # steady state: the estimate's rate bound, max(read, 1 / DAC rate, sample) a bit, says the same
    assert estimate(slow_dac().arch, slow_dac()).period_ns == pytest.approx(8 * 200)


def test_a_first_bit_waits_for_its_conversion() -> None:
    # Image 0: the window is loaded at 2 (128 bits, 2 accesses); bit 0's conversion runs 2 ->
    # 202 and only then is it read (202 -> 302); bit k is read at 202 + 200 k (bit 4, block 1's
    # first, too: its window was in at 204, loaded once bit 0 had started, and its conversion ran
    # during bit 3's read). The last read
    # ends at 202 + 7 x 200 + 100 = 1702, + 80 conversions + 4 shift-add + 2 store = 1788.
    plan = slow_dac()
    r = simulate(plan, SimOptions(images=1))
    assert r.image_finish_ns == (2 + 200 + 7 * 200 + 100 + 80 + 4 + 2,)
    # the estimate charges every bit the bound (200) from the load on and sees no first
    # conversion: 2 + 8 x 200 + 80 + 4 + 2 = 1688, 100 ns (5.6%) short of the simulated latency
    # (docs/disagreements.md)
    est = estimate(plan.arch, plan).latency_ns
    assert est == pytest.approx(2 + 8 * 200 + 80 + 4 + 2)
    assert est / r.image_finish_ns[0] - 1 == pytest.approx(-100 / 1788)


def test_a_slow_sample_and_hold_stretches_each_bit() -> None:
    # The same two crossbars with a sample-and-hold part of 150 ns (over the 100 ns read): a
    # column's S&H tracks it during the read and holds at the end, so a bit's analog phase is
    # max(100, 150) = 150. The window is loaded at 2, the first bit converted 2-12 (the hand
    # library's 0.1 GS/s DACs), bit k's phase runs from 12 + 150 k (each later conversion, 10 ns,
    # runs during the previous phase); the last ends at 12 + 8 x 150 = 1212, + 80 conversions + 4
    # shift-add + 2 store = 1298. Steady: 8 x 150 an image, the estimate's bound too.
    data: dict[str, Any] = library(0.1).model_dump(mode="json")
    data["sample_holds"] = [
        {
            "name": "sh150",
            "static_power_w": 0.0,
            "dynamic_power_w": 1e-6,
            "peak_power_w": 1e-6,
            "latency_ns": 150.0,
            "source": "a hand-made slow sample-and-hold",
        }
    ]
    plan = design(
        ONE_BY_ONE,
        [MacroGroup(name="m", crossbars=2, adcs=2, units=SA, buffer_kib=64)],
        [LayerMapping(layer="y", dup=1, macros=[0], crossbars=[2])],
        ComponentLibrary.model_validate(data),
    )
    r = simulate(plan, SimOptions(images=4))
    assert r.image_finish_ns[0] == 2 + 10 + 8 * 150 + 80 + 4 + 2
    assert r.period_ns == 8 * 150
    # 2 crossbars x 8 active columns sampled per bit: 16 x 8 bits x 4 images
    assert r.counts["sample_hold"] == 16 * 8 * 4
    assert estimate(plan.arch, plan).period_ns == pytest.approx(8 * 150)


# -- ADC mux groups ----------------------------------------------------------------------------------
#: conv 1x1, 8 -> 12 channels: two tiles of 8 rows, 8 and 4 columns, x 2 slices = 4 crossbars in slot
#: order (tile 0 slice 0, tile 0 slice 1, tile 1 ...) with 8, 8, 4, 4 active columns: per bit 24
#: conversions.
NARROW = WIDE.replace("16,8,1,1", "12,8,1,1")


def mux(adcs: int) -> Any:
    return design(
        NARROW,
        [MacroGroup(name="m", crossbars=4, adcs=adcs, units=SA, buffer_kib=64)],
        [LayerMapping(layer="y", dup=1, macros=[0], crossbars=[4])],
        library(0.1),
    )


def test_one_adc_per_crossbar_converts_in_parallel() -> None:
    # 4 ADCs for 4 crossbars (32 columns, 8 per ADC): each converts its crossbar, 80 or 40 ns, under
    # the 100 ns read: the crossbars set the pace, 8 bits x 100 per image, as the estimate says
    plan = mux(4)
    r = simulate(plan, SimOptions(images=4))
    assert r.period_ns == 8 * 100 == estimate(plan.arch, plan).period_ns
    # busy per ADC over 4 images x 8 bits: 8 or 4 conversions of 10 ns a bit
    assert unit(r, "macro 0/ADC bank").server_busy_ns == (2560.0, 2560.0, 1280.0, 1280.0)
    assert disagreements(plan) == []


def test_adc_mux_imbalance() -> None:
    # 2 ADCs for the 32 columns: ADC 0 columns 0-15 (slots 0 and 1: 16 active), ADC 1 columns
    # 16-31 (slots 2 and 3: 4 + 4 active). A bit takes ADC 0's 16 x 10 = 160 ns while ADC 1 idles
    # half the time: 8 bits x 160 = 1280 ns an image. The estimate spreads the 24 conversions over
    # both ADCs (120 ns a bit, 4 bits 480 ns a block, over the 400 ns of reads): 960 ns, 25% short.
    plan = mux(2)
    r = simulate(plan, SimOptions(images=4))
    assert r.period_ns == 8 * 160
    assert unit(r, "macro 0/ADC bank").server_busy_ns == (4 * 8 * 160.0, 4 * 8 * 80.0)
    est = estimate(plan.arch, plan).period_ns
    assert est == pytest.approx(2 * 4 * 24 / (2 * 0.1))
    assert est / r.period_ns - 1 == pytest.approx(-0.25)
    (flag,) = disagreements(plan)
    assert flag == (
        "ADC mux imbalance: 'y' in macro 0, blocks of 1 pixel(s): the estimate spreads a bit's "
        "conversions evenly over the macro's 2 ADC(s) ('slots' wiring): 120 ns a bit with the "
        "read; the simulator's busiest wired ADC converts 160 ns a bit"
    )


def wired(plan: Plan, rule: str) -> Plan:
    """``plan`` with its ADC muxes wired by ``rule`` (hardware.adc_wiring)."""
    hw = plan.arch.hardware.model_copy(update={"adc_wiring": rule})
    return Plan(plan.arch.model_copy(update={"hardware": hw}), plan.network)


def narrow_twice_weighted(adcs: int) -> Plan:
    """NARROW on a 1x3 map, dup 2, in one macro of 8 crossbar slots with ``adcs`` ADCs of 0.1 GS/s,
    wired by weights: copy 0 in slots 0-3 holds wired columns 0-23, copy 1 in slots 4-7 columns
    24-47; 2 blocks an image, pixels {0, 1} then {2} with copy 1 idle."""
    return wired(
        design(
            NARROW.replace("1,8,1,2", "1,8,1,3"),
            [MacroGroup(name="m", crossbars=8, adcs=adcs, units=SA, buffer_kib=64)],
            [LayerMapping(layer="y", dup=2, macros=[0], crossbars=[8])],
            library(0.1),
        ),
        "weights",
    )


def narrow_with_an_empty_slot(rule: str) -> Plan:
    # NARROW's 4 crossbars (8, 8, 4, 4 active columns) in a macro of 5 slots (slot 4 empty), 2 ADCs
    plan = design(
        NARROW,
        [MacroGroup(name="m", crossbars=5, adcs=2, units=SA, buffer_kib=64)],
        [LayerMapping(layer="y", dup=1, macros=[0], crossbars=[4])],
        library(0.1),
    )
    return wired(plan, rule)


def test_slot_wiring_idles_the_adc_of_empty_and_narrow_columns() -> None:
    # "slots": the 5 x 8 = 40 slot columns split in two: ADC 0 columns 0-19 (slots 0, 1 and half
    # of slot 2: 8 + 8 + 4 active), ADC 1 columns 20-39 (the rest of slot 2: none active, slot 3:
    # 4, slot 4: empty). Per bit ADC 0 converts 20 (200 ns), ADC 1 4 (40 ns): 8 bits x 200 = 1600
    # ns an image; the estimate's even spread, 24 x 10 / 2 = 120 ns a bit, gives 960 ns (-40%).
    plan = narrow_with_an_empty_slot("slots")
    assert plan.arch.hardware.adc_wiring == "slots"  # the default: what the file says without it
    r = simulate(plan, SimOptions(images=4))
    assert r.period_ns == 8 * 200
    assert unit(r, "macro 0/ADC bank").server_busy_ns == (4 * 8 * 200.0, 4 * 8 * 40.0)
    assert estimate(plan.arch, plan).period_ns == pytest.approx(8 * 120)
    assert [d.split(":")[0] for d in disagreements(plan)] == ["ADC mux imbalance"]


def test_weight_wiring_converts_on_every_adc() -> None:
    # "weights": only the 24 weight columns are wired, in slot order: ADC 0 the first 12 (slot 0's
    # 8, slot 1's first 4), ADC 1 the last 12 (slot 1's last 4, slot 2's 4, slot 3's 4). Each
    # converts 12 a bit (120 ns, over the 100 ns read): 8 bits x 120 = 960 ns an image, the
    # estimate's figure; nothing is flagged.
    plan = narrow_with_an_empty_slot("weights")
    r = simulate(plan, SimOptions(images=4))
    assert r.period_ns == 8 * 120
    assert unit(r, "macro 0/ADC bank").server_busy_ns == (4 * 8 * 120.0, 4 * 8 * 120.0)
    assert estimate(plan.arch, plan).period_ns == pytest.approx(r.period_ns)
    assert disagreements(plan) == []


def test_under_weight_wiring_the_detector_compares_the_simulators_adcs_with_the_closed_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Under "weights" the estimate times a share's busiest ADC as min(P, ceil(W / A)) conversions
    # a bit: the empty-slot macro's 24 weight columns on 2 ADCs, 12 a bit (120 ns), which is what
    # the simulator's wiring gives (12, 12): nothing is flagged. Were the simulator's wiring to put
    # 13 and 11 on them (a departure from the closed form), its busiest ADC would need 130 ns a
    # bit, 8% over the closed form's 120: flagged, naming both figures.
    import pimsim.diagnose.compute as compute

    plan = narrow_with_an_empty_slot("weights")
    assert adc_loads(share_crossbars(plan)[("y", 0)], 1, 2) == (12.0, 12.0)
    assert disagreements(plan) == []
    monkeypatch.setattr(compute, "adc_loads", lambda xb, pixels, adcs: (13.0, 11.0))
    (flag,) = disagreements(plan)
    assert flag == (
        "ADC mux imbalance: 'y' in macro 0, blocks of 1 pixel(s): the simulator's busiest wired "
        "ADC converts 130 ns a bit, the estimate's closed form (min(P, ceil(W / A)) on its 2 "
        "ADC(s), 'weights' wiring) 120 ns"
    )


def test_weight_wiring_rounds_to_whole_columns() -> None:
    # the 24 weight columns over 5 ADCs: ranges start at ceil(24 j / 5) = 0, 5, 10, 15, 20: four
    # ADCs convert 5 columns a bit, the last 4
    plan = wired(mux(5), "weights")
    ((_, xb),) = share_crossbars(plan).items()
    assert xb.wired == (0, 8, 16, 20) and xb.macro_wired == 24
    assert adc_loads(xb, 1, 5) == (5.0, 5.0, 5.0, 5.0, 4.0)


def test_weight_wiring_is_fixed_so_idle_copies_leave_their_adcs_idle() -> None:
    # NARROW on a 1x3 map, dup 2 in one macro of 8 slots with 2 ADCs, "weights": copy 0 (slots
    # 0-3) holds wired columns 0-23, all on ADC 0; copy 1 (slots 4-7) columns 24-47 on ADC 1.
    # Blocks: pixels {0, 1}, then {2} with copy 1 idle: ADC 1 idles in it while ADC 0 converts 24
    # a bit (240 ns). Per image 2 blocks x 4 bits x 240 = 1920 ns; ADC 1 busy in 4 bits only.
    plan = narrow_twice_weighted(2)
    xb = share_crossbars(plan)[("y", 0)]
    assert adc_loads(xb, 2, 2) == (24.0, 24.0) and adc_loads(xb, 1, 2) == (24.0, 0.0)
    r = simulate(plan, SimOptions(images=4))
    assert r.period_ns == 2 * 4 * 240
    assert unit(r, "macro 0/ADC bank").server_busy_ns == (4 * 8 * 240.0, 4 * 4 * 240.0)


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

    plan = mux(2)
    row = validate_design(1, plan.arch.model_dump(mode="json"), plan.network, 2, 5.0, None)
    assert [d.split(":")[0] for d in row.disagreements] == ["ADC mux imbalance"]
    assert row.flagged  # the estimate's throughput is 33% high: 1 / 960 against 1 / 1280
    assert row.error_pct["throughput_ips"] == pytest.approx(100 / 3)


# -- input reuse ------------------------------------------------------------------------------------
def test_every_window_is_read_whole_from_the_scratchpad() -> None:
    from tests.test_sim_hand import two_convs

    # the stated rule: each output pixel reads its whole 3x3 window of 2 channels (padding read as
    # stored zeros), 18 values of 16 bits = 288 bits; y and z have 16 output pixels each, in blocks
    # of 4 (dup 4): 4 loads of 1,152 bits each per layer and image
    r = run(two_convs(), images=2)
    assert r.counts["buffer_read_bits"] == 2 * 2 * 16 * 288
    load = {(s.name, s.macro): s for x in r.layers for s in x.stages}[("load", 0)]
    assert load.items == 2 * 4


# -- small scratchpads ---------------------------------------------------------------------------------
def test_a_scratchpad_below_its_floor_deadlocks_where_the_estimate_runs() -> None:
    from pimsim.sim import SimDeadlock
    from tests.test_sim_hand import to_fc

    # a fully connected layer needs all 16 of p's blocks of 1,024 bits (16,384 bits, plus its own
    # 128-bit output staging: 16,512 at the least) in a 1 KiB (8,192-bit) scratchpad: p's blocks
    # fill the FC's queue and the next transfer waits for space only the FC's load can free, which
    # waits for block 15. The estimate, which ignores space, runs it at an image every 6,400 ns
    # (p's 16 blocks of 4 bits x 100 ns).
    plan = to_fc()
    with pytest.raises(SimDeadlock):
        run(plan)
    assert estimate(plan.arch, plan).period_ns == 16 * 4 * 100
    (warning,) = disagreements(plan)
    assert warning.startswith("small scratchpad: macro 1 (fc)") and "may deadlock" in warning
