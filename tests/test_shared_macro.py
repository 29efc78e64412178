"""Two weight layers sharing a macro take its ADC bank in turns, bit by bit.

p (conv 1x1 8 -> 16 on a 1x64 map, dup 1: 64 blocks of 4 bits, 32 conversions a bit) and z (conv
1x1 16 -> 8 with stride 2: 32 blocks, 2 row blocks x 8 columns x 2 slices = 32 conversions a bit)
share one macro with four 0.1 GS/s ADCs: a bit's conversions take 80 ns, a crossbar read 100 ns.
Alone, p does a bit in 100 ns (its read); while z has work the two alternate on the bank and a pair
of bits takes 160 ns. Per image z's 128 bits go in pairs with 128 of p's, p's other 128 alone:
128 x 160 + 128 x 100 = 33,280 ns, where the summed busy time of the bank says 30,720. That is the
estimate's rule (any ADC converts any column).

The hardware wires each ADC through a mux to fixed crossbars (pimsim.sim.blockwork): with 4 ADCs
for 8 crossbar slots, ADC j takes slots 2j and 2j + 1. p's 4 crossbars (slots 0-3) reach ADCs 0 and
1 only, 16 conversions each a bit: 160 ns; z's (slots 4-7) ADCs 2 and 3, also 160 ns. The layers
never wait for each other, but each converts on half the bank: p's 256 bits an image take
256 x 160 = 40,960 ns, which the simulation finds; the estimate is 18.75% short (a catalogue case of
docs/disagreements.md: shared macros), and --validate flags it. Under "weights" wiring the estimate
gives each layer its own run of ADCs as the hardware does; the later tests are the designs it now
models (not flagged) and the one where its closed-form turns at the shared units still part from
the simulation (flagged).
"""

from __future__ import annotations

from typing import Any

import pytest

from pimsim.arch.schema import LayerMapping, MacroGroup
from pimsim.components import ComponentLibrary, UnitKind
from pimsim.diagnose import disagreements
from pimsim.model.estimate import estimate
from pimsim.sim import SimOptions, simulate
from tests.test_sim_compute import wired
from tests.test_sim_hand import SA, design, library

SHARED = """
  g (float[1,8,1,64] x, float[16,8,1,1] w1, float[8,16,1,1] w2) => (float z) {
    p = Conv(x, w1)
    z = Conv <strides = [1, 2]> (p, w2)
  }"""


def test_two_layers_in_one_macro_take_the_adc_bank_in_turns() -> None:
    plan = design(
        SHARED,
        [MacroGroup(name="m", crossbars=8, adcs=4, units={**SA, UnitKind.ADD: 1}, buffer_kib=64)],
        [
            LayerMapping(layer="p", dup=1, macros=[0], crossbars=[4]),
            LayerMapping(layer="z", dup=1, macros=[0], crossbars=[4], shares_with="p"),
        ],
        library(adc_ghz=0.1),
    )
    est = estimate(plan.arch, plan)
    assert est.period_set_by == "two layers taking turns in macro 0"
    assert est.period_ns == pytest.approx(128 * 160 + 128 * 100)
    sim = simulate(plan, SimOptions(images=4))
    assert sim.period_ns == 256 * 160
    assert est.period_ns / sim.period_ns - 1 == pytest.approx(-0.1875)
    bank = next(u for u in sim.units if u.name == "macro 0/ADC bank")
    # per ADC over 4 images: p: 4 x 256 bits x 16 conversions x 10 ns; z: 4 x 128 x 16 x 10
    assert bank.server_busy_ns == (163840.0, 163840.0, 81920.0, 81920.0)
    assert bank.queued_ns == 0  # disjoint ADCs: no turns
    # flagged: under "slots" the estimate has the two take the whole bank in turns, and each
    # layer's bit is timed at the even spread (32 conversions over 4 ADCs, 80 ns, under the 100 ns
    # read), where its busiest wired ADC converts 16 a bit (160 ns)
    flags = disagreements(plan)
    assert [d.split(":")[0] for d in flags] == ["ADC mux imbalance"] * 2 + ["shared macro"]
    assert "p' in macro 0, blocks of 1 pixel(s)" in flags[0] and "160 ns a bit" in flags[0]
    assert flags[2].startswith("shared macro: macro 0 holds p, z: the estimate has them take")
    assert "('slots' wiring)" in flags[2]


def test_layers_whose_wired_ranges_share_an_adc_take_turns_on_the_whole_job() -> None:
    # The same two layers in a macro of 10 crossbar slots (p in slots 0-3, z in 4-7, slots 8 and 9
    # empty) with six 0.1 GS/s ADCs, "slots": the 80 slot columns split into runs starting at
    # ceil(80 j / 6) = 0, 14, 27, 40, 54, 67. p's 32 active columns (0-31) fall on ADC 0 (14),
    # ADC 1 (13) and ADC 2 (27-31: 5); z's (32-63) on ADC 2 (32-39: 8), ADC 3 (14) and ADC 4 (10);
    # ADC 5 (the empty slots) idles. A bit of either takes its busiest ADC's 14 x 10 = 140 ns (over
    # the 100 ns read) and holds its three ADCs for it; ADC 2 is in both, so the two never convert
    # at once. While z has work they alternate (each queued for the other's job: p, z, p, ...), a
    # pair of bits 280 ns; z's 128 bits an image go in pairs with 128 of p's, p's other 128 alone:
    # 128 x 280 + 128 x 140 = 53,760 ns an image. A bank that let a job hold *as many* ADCs as it
    # uses (3 + 3 of 6) let them convert at once, as if ADC 2 were doubled: p's 256 x 140 = 35,840.
    # The estimate ("slots": the even spread, 32 / 6 conversions a bit, 53.3 ns, the read's 100 ns
    # when alone) has them take the whole bank in turns: 128 x (53.3 + 53.3) + 128 x 100 =
    # 26,453.3 ns, -50.8%; flagged (each layer's ADC mux imbalance and the shared macro).
    from pimsim.sim.blockwork import adc_loads, share_crossbars

    plan = design(
        SHARED,
        [MacroGroup(name="m", crossbars=10, adcs=6, units={**SA, UnitKind.ADD: 1}, buffer_kib=64)],
        [
            LayerMapping(layer="p", dup=1, macros=[0], crossbars=[4]),
            LayerMapping(layer="z", dup=1, macros=[0], crossbars=[4], shares_with="p"),
        ],
        library(adc_ghz=0.1),
    )
    xb = share_crossbars(plan)
    assert adc_loads(xb[("p", 0)], 1, 6) == (14, 13, 5, 0, 0, 0)
    assert adc_loads(xb[("z", 0)], 1, 6) == (0, 0, 8, 14, 10, 0)
    sim = simulate(plan, SimOptions(images=4))
    assert sim.period_ns == 128 * 280 + 128 * 140
    bank = next(u for u in sim.units if u.name == "macro 0/ADC bank")
    # per ADC over 4 images: p's 4 x 256 bits x (14, 13, 5) x 10 ns, z's 4 x 128 x (8, 14, 10) x 10
    assert bank.server_busy_ns == (143360.0, 133120.0, 51200.0 + 40960.0, 71680.0, 51200.0, 0.0)
    assert bank.queued_ns > 0  # the turns on ADC 2
    est = estimate(plan.arch, plan)
    assert est.period_ns == pytest.approx(128 * 2 * 320 / 6 + 128 * 100)
    assert round(100 * (est.period_ns / sim.period_ns - 1), 1) == -50.8
    flags = disagreements(plan)
    assert [d.split(":")[0] for d in flags] == ["ADC mux imbalance"] * 2 + ["shared macro"]
    assert flags[2].endswith("at once where they are disjoint, in turns where they share one")


def test_one_adc_for_two_layers_is_taken_in_turns_in_both_models() -> None:
    # Fewer ADCs than weight layers (one 0.1 GS/s ADC for p and z, "weights"): one bank, every
    # column of both layers on ADC 0, which the layers take in turns as the estimate has them: p's
    # 256 bits x 32 conversions x 10 ns + z's 128 x 32 x 10 = 81,920 + 40,960 = 122,880 ns an image
    # in both models: nothing is flagged (both layers on the same ADC).
    plan = design(
        SHARED,
        [MacroGroup(name="m", crossbars=8, adcs=1, units={**SA, UnitKind.ADD: 1}, buffer_kib=64)],
        [
            LayerMapping(layer="p", dup=1, macros=[0], crossbars=[4]),
            LayerMapping(layer="z", dup=1, macros=[0], crossbars=[4], shares_with="p"),
        ],
        library(adc_ghz=0.1),
    )
    plan = wired(plan, "weights")
    sim = simulate(plan, SimOptions(images=4))
    assert sim.period_ns == 256 * 32 * 10 + 128 * 32 * 10
    est = estimate(plan.arch, plan)
    assert est.period_ns == pytest.approx(sim.period_ns)
    assert disagreements(plan) == []


def test_under_weight_wiring_shared_layers_get_adcs_in_proportion_to_their_work() -> None:
    # The same two layers, eight 0.05 GS/s ADCs (20 ns a conversion), wired by "weights": p
    # converts 32 columns x 4 bits x 64 blocks = 8,192 an image, z 32 x 4 x 32 = 4,096. One ADC
    # each, the 6 others in proportion: 4 and 2 exactly, so p's run is ADCs 0-4 and z's 5-7. p's
    # 32 columns over its 5 ADCs: 7, 6, 7, 6, 6 (ADC j from column ceil(32 j / 5)): the busiest
    # converts 7 a bit = 140 ns (> the 100 ns read), p's 256 bits an image 35,840 ns; z's over 3:
    # 11, 11, 10 = 220 ns a bit, 128 bits = 28,160 ns, paced by p. Split by columns alone (4 and
    # 4 ADCs, 8 conversions = 160 ns a bit) p would take 40,960. The two layers share the macro's
    # shift-and-add unit (8 ns jobs): once a block of z (fed by p, its window comes after its
    # crossbars are done, so each of its first bits waits 10 ns for its conversion) z's job finds
    # p's on the unit and waits 2 ns (the 'units' stall of z's shift_add stage: 32 blocks x 4
    # images x 2 = 256 ns); p, which sets the pace, never waits: 35,840 ns an image. (Without the
    # conversion z's jobs came 10 ns earlier and it was p that waited 2 ns a block: 35,968.)
    # The estimate follows the same wiring in closed form (pimsim.model.wiring): p on 5 ADCs,
    # ceil(32 / 5) = 7 conversions a bit on the busiest, 4 bits x 140 = 560 ns a block, 64 blocks
    # = 35,840 ns an image ("layer p"); the two layers convert at once (no turns), and the shared
    # shift-and-add unit's load (the macro bound) is far below: the simulated period exactly.
    # (Before the wiring term, its turns on the whole bank, 128 x (80 + 80) + 128 x 100 = 33,280
    # ns, were -7.1%.)
    from pimsim.sim.blockwork import adc_loads, share_crossbars

    plan = design(
        SHARED,
        [MacroGroup(name="m", crossbars=8, adcs=8, units={**SA, UnitKind.ADD: 1}, buffer_kib=64)],
        [
            LayerMapping(layer="p", dup=1, macros=[0], crossbars=[4]),
            LayerMapping(layer="z", dup=1, macros=[0], crossbars=[4], shares_with="p"),
        ],
        library(adc_ghz=0.05),
    )
    plan = wired(plan, "weights")
    xb = share_crossbars(plan)
    assert adc_loads(xb[("p", 0)], 1, 8) == (7, 6, 7, 6, 6, 0, 0, 0)
    assert adc_loads(xb[("z", 0)], 1, 8) == (0, 0, 0, 0, 0, 11, 11, 10)
    sim = simulate(plan, SimOptions(images=4))
    assert sim.period_ns == 256 * 140
    stages = {(x.name, st.name): st for x in sim.layers for st in x.stages}
    assert stages[("p", "adc")].busy_ns == 4 * 256 * 140
    assert "units" not in stages[("p", "shift_add")].stall_ns
    assert stages[("z", "shift_add")].stall_ns["units"] == 4 * 32 * 2
    est = estimate(plan.arch, plan)
    assert est.period_ns == pytest.approx(64 * 4 * 7 * 20) and est.period_set_by == "layer p"
    # now agrees: not flagged. Each bit's shift-and-add job is 32
    # columns on the one unit of 4 lanes at 1 GHz, 8 ns; p's bit takes 140 ns (its busiest ADC)
    # and absorbs 2 x 140 - 8 - 140 = 132 ns of z's 8 ns jobs, z's (220 ns) 212 of p's: the
    # closed-form turns charge nothing
    assert disagreements(plan) == []


def test_layers_on_their_own_adcs_still_share_the_shift_and_add_units() -> None:
    # The same two layers, eight 1 GS/s ADCs (p gets 5, z 3: a few ns a bit), and three
    # shift-and-add units of 4 lanes at 0.025 GHz (40 ns an action) that both layers share. A
    # bit's job is a share's 32 columns: ceil(32 / 4) = 8 actions on min(3, 8) = 3 units,
    # ceil(8 / 3) = 3 action times = 120 ns, holding all three units. p alone: 256 bits x 120 =
    # 30,720 ns an image (over its 100 ns reads); z 128 x 120 = 15,360. The units serve both:
    # (256 + 128) x 120 = 46,080 ns an image, the simulated period (the units never idle). Each
    # image finishes with z's last bit; z's bits come 10 ns later in each block (its first bit
    # waits for its conversion: its window comes from p after its crossbars are done), so z's last
    # bit of an image queues behind one bit of p's next image: images finish one 120 ns job later
    # than without the conversion, 46,080 apart, but the last, with no next image, one job
    # sooner: 45,960 after the third (its 4-image period, 46,040, counts that drain).
    # The estimate's bound is the macro's units' load in whole actions per job (pimsim.model.wiring
    # .whole_actions): 46,080 ns, exact, "shift_add units of macro 0". Spread evenly (32 / (3 x 4
    # x 0.025) = 106.7 ns a bit) the units' load, and the turns on the whole bank, said 40,960
    # (-11.1%).
    data: dict[str, Any] = library(1.0).model_dump(mode="json")
    for part in data["units"]:
        if part["kind"] == "shift_add":
            part.update(frequency_ghz=0.025, latency_ns=40.0)
    plan = design(
        SHARED,
        [
            MacroGroup(
                name="m",
                crossbars=8,
                adcs=8,
                units={UnitKind.SHIFT_ADD: 3, UnitKind.ADD: 1},
                buffer_kib=64,
            )
        ],
        [
            LayerMapping(layer="p", dup=1, macros=[0], crossbars=[4]),
            LayerMapping(layer="z", dup=1, macros=[0], crossbars=[4], shares_with="p"),
        ],
        ComponentLibrary.model_validate(data),
    )
    plan = wired(plan, "weights")
    sim = simulate(plan, SimOptions(images=4))
    gaps = [b - a for a, b in zip(sim.image_finish_ns, sim.image_finish_ns[1:], strict=False)]
    assert gaps == [(256 + 128) * 120] * 2 + [(256 + 128) * 120 - 120]
    units = next(u for u in sim.units if u.name == "macro 0/shift_add units")
    assert units.busy_ns == 4 * (256 + 128) * 120
    est = estimate(plan.arch, plan)
    assert est.period_ns == pytest.approx((256 + 128) * 120)
    assert est.period_set_by == "shift_add units of macro 0"
    # now agrees: the closed-form turns charge p 128 x 120 ns of waiting (its 120 ns bit has no
    # slack: 2 x 120 - 120 - max(120, 7) = 0), but the units' load sets the period (they never
    # idle), so the order of the jobs does not matter: not flagged
    assert disagreements(plan) == []


LONG = """
  g (float[1,8,1,64] x, float[16,8,1,1] w1, float[32,16,1,1] w2) => (float z) {
    p = Conv(x, w1)
    z = Conv <strides = [1, 8]> (p, w2)
  }"""


def test_long_jobs_of_one_layer_hold_up_the_other_at_its_units() -> None:
    # p as above (4 crossbars, 32 columns a bit, 256 bits an image, 100 ns reads) beside z (conv
    # 1x1 16 -> 32 with stride 8: 1x8 outputs, 8 blocks x 4 bits = 32 bits an image, 2 row blocks x
    # 4 column tiles x 2 slices = 16 crossbars, 128 columns a bit) in a macro of eight 1 GS/s ADCs
    # and one shift-and-add unit of 4 lanes at 0.1 GHz (10 ns an action). p's job: 8 actions =
    # 80 ns, z's 32 = 320 ns. The units' load: 256 x 80 + 32 x 320 = 30,720 ns an image.
    # But a converted bit waits in the ADCs' output while the other layer's job holds the unit,
    # and its ADC idles meanwhile (single buffering: p's ADC (7 ns a bit) starts its next bit only
    # once the unit has started the one before). While z streams (its bits converted long before
    # the unit is free: its gap c - J = 320 - 320 = 0), the two lock (pimsim.model.turns
    # .unit_turns): p's job starts the instant z's ends (time 0) and runs to 80; z, queued since
    # 0, takes the unit from max(80, 0) = 80 to 400; p's next bit, converted at 7, waits 393 and
    # starts at 400: p does a bit every 400 ns, one per job of z (the simulation shows p's and
    # z's jobs alternating exactly so, 400 ns apart), losing 400 - 100 = 300 ns a bit (its 100 ns
    # read covers the rest) for each of z's 32 jobs: 9,600 ns an image. Where z's stream stops,
    # at the end of each of its 8 blocks, p's next bit, read during the wait and converted 7 ns
    # after its job starts, is 100 - 7 = 93 ns early (its 80 ns job shorter than its 100 ns
    # cycle): p regains 8 x 93 = 744. p waits 9,600 - 744 = 8,856 ns an image, the simulated
    # 'units' stall exactly, and takes 256 x 100 + 8,856 = 34,456 ns an image; z loses 43 + 357
    # - 320 = 80 ns on each of its 32 bits (its 43 ns conversion arrives 277 ns before p's job
    # ends, and it waits 80 + 277 = 357): 10,240 + 2,560 = 12,800. The estimate's period is
    # 34,456 ns, the simulated one: exact. (The earlier closed form, one job of z at a time
    # absorbed by p's slack 100 - 80 and catch-up 100 - max(80, 7), charged 32 x (320 - 40) =
    # 8,960: 34,560 ns, +0.3%; the load bound alone said 30,720, -10.8%.)
    data: dict[str, Any] = library(1.0).model_dump(mode="json")
    for part in data["units"]:
        if part["kind"] == "shift_add":
            part.update(frequency_ghz=0.1, latency_ns=10.0)
    plan = design(
        LONG,
        [
            MacroGroup(
                name="m",
                crossbars=20,
                adcs=8,
                units={UnitKind.SHIFT_ADD: 1, UnitKind.ADD: 1},
                buffer_kib=64,
            )
        ],
        [
            LayerMapping(layer="p", dup=1, macros=[0], crossbars=[4]),
            LayerMapping(layer="z", dup=1, macros=[0], crossbars=[16], shares_with="p"),
        ],
        ComponentLibrary.model_validate(data),
    )
    plan = wired(plan, "weights")
    sim = simulate(plan, SimOptions(images=4))
    assert sim.period_ns == 34456
    units = next(u for u in sim.units if u.name == "macro 0/shift_add units")
    assert units.busy_ns == 4 * (256 * 80 + 32 * 320)
    p = next(x for x in sim.layers if x.name == "p")
    assert p.stall_ns["units"] == 4 * 8856
    est = estimate(plan.arch, plan)
    assert est.period_ns == pytest.approx(256 * 100 + 32 * (7 + 393 - 100) - 8 * (100 - 7))
    assert est.period_ns == sim.period_ns
    assert est.period_set_by == "two layers taking turns in macro 0"
    # now agrees: both layers lock (neither drifts through the other's idle gaps), which the
    # estimate charges: nothing is left out, not flagged
    assert disagreements(plan) == []
