"""The simulation against the analytical estimate, both ways.

Without contention (every layer on macros of its own, enough ADCs and scratchpad, NoC links carrying
one flow) the simulated throughput and energy per image equal the estimate within 1% and the
latency within 5%. With contention the simulation is slower where the contention is, and its stall
causes say why (the exact cycle counts of these designs are in tests/test_sim_hand.py).
"""

from __future__ import annotations

import pytest

from pimsim.arch.check import load_architecture
from pimsim.arch.schema import LayerMapping, MacroGroup
from pimsim.components import UnitKind
from pimsim.model.estimate import CostReport, estimate
from pimsim.model.plan import Plan
from pimsim.sim import SimResult
from tests.conftest import ROOT
from tests.hand import one_layer_arch, two_layer_arch
from tests.test_sim_hand import (
    SA,
    TWO_CONVS,
    TWO_OUTPUTS,
    add_two,
    chain,
    design,
    layer,
    library,
    run,
    stage,
    two_convs,
    two_crossbars,
    unit,
)

EXAMPLES = ROOT / "configs" / "arch" / "examples"


def split_layer() -> Plan:
    """two_convs with the second layer spread over two macros (its results merged in the first)."""
    units = {UnitKind.SHIFT_ADD: 1, UnitKind.ADD: 1}
    return design(
        TWO_CONVS,
        [
            MacroGroup(
                name=f"m{i}", crossbars=24 if i == 0 else 12, adcs=2, units=units, buffer_kib=64
            )
            for i in range(3)
        ],
        [
            LayerMapping(layer="y", dup=4, macros=[0], crossbars=[24]),
            LayerMapping(layer="z", dup=4, macros=[1, 2], crossbars=[12, 12]),
        ],
    )


def both(plan: Plan, images: int = 4) -> tuple[SimResult, CostReport]:
    return run(plan, images=images), estimate(plan.arch, plan)


def diff(sim: float, est: float) -> float:
    return abs(sim - est) / est


UNCONTENDED = {
    "one conv": lambda: Plan(*one_layer_arch()),
    "two convs, one hop": lambda: Plan(*two_layer_arch()),
    "3x3 window": two_convs,
    "layer over two macros": split_layer,
    "two crossbars, one ADC": lambda: two_crossbars(1),
    "two crossbars, two ADCs": lambda: two_crossbars(2),
}


@pytest.mark.parametrize("make", UNCONTENDED.values(), ids=UNCONTENDED.keys())
def test_uncontended_designs_agree_with_the_estimate(make) -> None:  # type: ignore[no-untyped-def]
    r, e = both(make())
    assert diff(r.throughput_ips, e.throughput_ips) < 0.01
    assert diff(r.energy_per_image_pj, e.energy_per_image_pj) < 0.01
    assert diff(r.latency_ns[0], e.latency_ns) < 0.05
    for component, pj in e.energy_pj.items():
        assert r.energy_pj[component] == pytest.approx(pj, rel=0.01)


@pytest.mark.parametrize("name", ["vgg11-cifar-simple.json", "resnet18-cifar-simple.json"])
def test_examples_agree_on_throughput_and_energy(name: str) -> None:
    loaded = load_architecture(EXAMPLES / name)
    plan = Plan(loaded.arch, loaded.network)
    r, e = both(plan, images=3 if "vgg" in name else 2)
    assert diff(r.throughput_ips, e.throughput_ips) < 0.01
    assert diff(r.energy_per_image_pj, e.energy_per_image_pj) < 0.01
    # the estimate paces each layer by its producers and counts the blocks that wait for a
    # producer's last block; residual branches still make it a few percent pessimistic (README)
    assert diff(r.latency_ns[0], e.latency_ns) < 0.08


def test_a_shared_adc_bank_is_slower_and_says_adc() -> None:
    alone = run(two_crossbars(1), images=4)
    plan = design(
        TWO_OUTPUTS,
        [MacroGroup(name="m", crossbars=4, adcs=1, units=SA, buffer_kib=64)],
        [
            LayerMapping(layer="a", dup=1, macros=[0], crossbars=[2]),
            LayerMapping(layer="b", dup=1, macros=[0], crossbars=[2], shares_with="a"),
        ],
        library(0.1),
    )
    r, e = both(plan)
    assert r.period_ns > 1.9 * alone.period_ns  # the two layers take turns on one ADC
    assert layer(r, "a").stall_ns["adc"] > 0 and unit(r, "macro 0/ADC bank").queued_ns > 0
    # the estimate sees the shared bank too
    assert e.period_set_by == "ADC bank of macro 0" and diff(r.period_ns, e.period_ns) < 0.01


def test_a_tiny_buffer_slows_the_producer_and_says_buffer() -> None:
    big, small = run(chain(64), images=4), run(chain(1), images=4)
    p_big, p_small = layer(big, "p"), layer(small, "p")
    assert p_small.finish_ns[-1] > p_big.finish_ns[-1] * 1.5
    assert p_small.stall_ns.get("buffer", 0.0) > 0 and "buffer" not in p_big.stall_ns
    assert stage(small, "p", "store").stall_ns["buffer"] > 0


def test_two_flows_on_one_link_are_slower_and_say_noc() -> None:
    fast, slow = run(add_two(1.0), images=4), run(add_two(10.0), images=4)
    assert slow.period_ns > 1.5 * fast.period_ns
    assert stage(slow, "e", "load").stall_ns["noc"] > 10 * stage(fast, "e", "load").stall_ns["noc"]
    assert sum(f.stall_ns.get("noc", 0.0) for f in slow.flows) > 0
    e = estimate(add_two(10.0).arch, add_two(10.0))
    assert e.period_set_by.startswith("NoC link") and diff(slow.period_ns, e.period_ns) < 0.01


def test_clock_changes_the_grain_not_the_time() -> None:
    # every duration of this design is a whole ns: at 2 GHz the cycles double, the times stay
    plan = two_crossbars(2)
    hw = plan.arch.hardware.model_copy(update={"clock_ghz": 2.0})
    fast = run(Plan(plan.arch.model_copy(update={"hardware": hw}), plan.network), images=2)
    assert fast.image_finish_ns == run(plan, images=2).image_finish_ns
    # at 0.3 GHz (3.33 ns cycles) every activity is rounded up to whole cycles: slower
    hw = plan.arch.hardware.model_copy(update={"clock_ghz": 0.3})
    slow = run(Plan(plan.arch.model_copy(update={"hardware": hw}), plan.network), images=2)
    assert slow.image_finish_ns[0] > 888.0 and slow.clock_ghz == 0.3
