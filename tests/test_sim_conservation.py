"""Conservation: every MAC of the network is performed exactly once per image, and the simulated
action counts agree with the estimate's, two independent counts.

The simulator counts what its units did as they served each job, each job's actions derived by
pimsim.sim.blockwork from the mapping (which crossbars of which copy each macro holds, their active
rows and columns) and the layer's geometry; the estimate multiplies its closed-form per-pixel
counts (pimsim.model.actions) out. Summed over the chip they must agree: every pixel is computed
once by one copy whose crossbars are all read. Where they part is per macro: in a last block with
fewer pixels than copies the hardware leaves the other copies idle, while the estimate splits the
block's work over the macros by crossbars (docs/disagreements.md; tests/test_sim_compute.py,
test_idle_copies_in_the_last_block). Sample-and-hold actions are counted only where the library has the
part (the estimate counts sampling as part of the read otherwise): the hand library has none.
"""

from __future__ import annotations

import pytest

from pimsim.arch.check import load_architecture
from pimsim.arch.schema import LayerMapping, MacroGroup
from pimsim.components import UnitKind
from pimsim.model.actions import Action
from pimsim.model.estimate import estimate
from pimsim.model.plan import Plan
from tests.conftest import ROOT
from tests.hand import one_layer_arch
from tests.test_sim_hand import TWO_CONVS, add_two, chain, design, run, two_convs

POOLED = """
  g (float[1,2,4,4] x, float[2,2,3,3] w1, float[2,2,3,3] w2) => (float z) {
    y = Conv<pads=[1,1,1,1]>(x, w1)
    r = Relu(y)
    p = MaxPool<kernel_shape=[2,2], strides=[2,2]>(r)
    z = Conv<pads=[1,1,1,1]>(p, w2)
  }"""

GROUPED = """
  g (float[1,4,4,4] x, float[4,1,3,3] w1, float[4,4,1,1] w2) => (float z) {
    y = Conv<pads=[1,1,1,1], group=4>(x, w1)
    z = Conv(y, w2)
  }"""


def pooled() -> Plan:
    """A pool spread over two macros (its rows split between them) between two convolutions."""
    units = {UnitKind.SHIFT_ADD: 1, UnitKind.ADD: 1, UnitKind.ACTIVATION: 1, UnitKind.POOL: 1}
    return design(
        POOLED,
        [
            MacroGroup(name=f"m{i}", crossbars=24, adcs=2, units=units, buffer_kib=64)
            for i in range(2)
        ],
        [
            LayerMapping(layer="y", dup=4, macros=[0], crossbars=[24]),
            LayerMapping(layer="z", dup=2, macros=[1], crossbars=[12]),
        ],
        hosts={"p": [0, 1]},
    )  # type: ignore[dict-item]


def grouped() -> Plan:
    units = {UnitKind.SHIFT_ADD: 1, UnitKind.ADD: 1}
    return design(
        GROUPED,
        [
            MacroGroup(name=f"m{i}", crossbars=16, adcs=4, units=units, buffer_kib=64)
            for i in range(3)
        ],
        [
            LayerMapping(layer="y", dup=1, macros=[0, 1], crossbars=[8, 8]),
            LayerMapping(layer="z", dup=2, macros=[2], crossbars=[4]),
        ],
    )


DESIGNS = {
    "one conv": lambda: Plan(*one_layer_arch()),
    "3x3 window": two_convs,
    "pool over two macros": pooled,
    "grouped conv over two macros": grouped,
    "eltwise and NoC": lambda: add_two(1.0),
    "small buffer": lambda: chain(1),
}


@pytest.mark.parametrize("make", DESIGNS.values(), ids=DESIGNS.keys())
def test_every_mac_once_per_image_and_counts_are_the_models(make) -> None:  # type: ignore[no-untyped-def]
    plan = make()
    images = 3
    r = run(plan, images=images)
    for sim, layer in zip(r.layers, plan.network.layers, strict=True):
        shares = len(plan.layers[layer.name].shares)
        items = layer.out_pixels if layer.kind.has_weights else layer.out_shape.h
        assert sim.items == items * images * shares  # every share computes its part of each
        assert sim.macs == pytest.approx(layer.macs * images, rel=1e-12)
    assert sum(x.macs for x in r.layers) == pytest.approx(plan.network.macs * images, rel=1e-12)
    model = estimate(plan.arch, plan).counts
    assert_counts_match(r.counts, model, images)


def assert_counts_match(sim: dict[str, float], model: dict[str, float], images: int) -> None:
    """The simulator's counts are the model's times ``images``, except where the hardware is
    finer: a packet is whole flits (the estimate charges a partial flit its share), so the
    simulated flit-hops are at least the model's. The scratchpad accesses of transfers (NoC and
    interface: one image's input written into each first-layer macro, outputs read out of their
    output macros) are counted by both."""
    assert set(sim) == set(model)
    for action, count in model.items():
        if action == str(Action.NOC_FLIT_HOPS):
            assert sim[action] >= count * images * (1 - 1e-12), action
        else:
            assert sim[action] == pytest.approx(count * images, rel=1e-9), action


def test_example_design_conserves_macs_and_counts() -> None:
    loaded = load_architecture(ROOT / "configs" / "arch" / "examples" / "vgg11-cifar-simple.json")
    plan = Plan(loaded.arch, loaded.network)
    r = run(plan, images=2)
    assert sum(x.macs for x in r.layers) == pytest.approx(2 * loaded.network.macs, rel=1e-12)
    assert plan.arch.hardware.parts.interface is not None  # the default library's HBM2 channel
    assert_counts_match(r.counts, estimate(plan.arch, plan).counts, 2)


def test_the_window_tables_cover_every_producer_block() -> None:
    from pimsim.sim import compile_program

    program = compile_program(two_convs())
    z = next(t for t in program.tasks if t.layer == "z")
    (inp,) = z.inputs
    # z's row c needs y's rows c-1 .. c+1 (3x3, pad 1); y's blocks are its rows (dup 4 = width 4)
    assert inp.lo == (0, 0, 1, 2) and inp.hi == (1, 2, 3, 3)
    assert program.tasks[0].stages[0].work == (1152.0, 1152.0)
    assert [s.name for s in z.stages] == ["load", "mvm", "adc", "shift_add", "add", "store"]
    assert TWO_CONVS


def test_lazy_completion_changes_no_time(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Stages whose hardware is their own complete without events (chain.make_lazy): the run's
    times, busy and queued times are exactly those of a run where every item has its event (the
    stall time of a stage may be booked to another cause: docs/simulator.md)."""
    from pimsim.sim import machine
    from tests.test_sim_compute import slow_dac

    loaded = load_architecture(ROOT / "configs" / "arch" / "examples" / "vgg11-cifar-simple.json")
    plans = (Plan(loaded.arch, loaded.network), chain(1), add_two(10.0), pooled(), slow_dac())
    for plan in plans:
        lazy = run(plan, images=2)
        with monkeypatch.context() as m:
            m.setattr(machine, "make_lazy", lambda stages: None)
            eager = run(plan, images=2)
        assert lazy.events < eager.events
        assert lazy.image_finish_ns == eager.image_finish_ns
        assert [(x.start_ns, x.finish_ns, x.busy_ns) for x in lazy.layers] == [
            (x.start_ns, x.finish_ns, x.busy_ns) for x in eager.layers
        ]
        assert [(u.name, u.busy_ns, u.queued_ns) for u in lazy.units] == [
            (u.name, u.busy_ns, u.queued_ns) for u in eager.units
        ]
        assert lazy.counts == eager.counts


SPLIT = """
  g (float[1,8,1,4] x, float[8,8,1,1] w) => (float y) {
    y = Conv(x, w)
  }"""


@pytest.mark.parametrize("spread", [False, True])
def test_the_interfaces_accesses_are_counted_by_both(spread: bool) -> None:
    # y (conv 1x1, 8 -> 8 on 1x4, dup 2: 2 blocks of 2 pixels) with one copy in each of two
    # macros and a 0.5 Gbit/s interface. The 512 input bits (8 x 4 values x 16) are written into
    # both macros: 1024 bits. Gathered, macro 1 sends its half of each block (2 x 128 bits) to
    # macro 0 (read 256 there, written 256 at 0), and the 512 output bits are read out of macro 0:
    # 768 read, 1280 written. Spread, nothing is merged and each macro's 256 output bits are read
    # out of it: 512 read, 1024 written.
    from tests.test_sim_comm import lib

    plan = design(
        SPLIT,
        [
            MacroGroup(
                name=f"m{i}", crossbars=2, adcs=2, units={UnitKind.SHIFT_ADD: 1}, buffer_kib=64
            )
            for i in "01"
        ],
        [LayerMapping(layer="y", dup=2, macros=[0, 1], crossbars=[2, 2])],
        lib(io_gbit_s=0.5),
    )
    if spread:
        mapping = plan.arch.mapping.model_copy(update={"spread": ["y"]})
        plan = Plan(plan.arch.model_copy(update={"mapping": mapping}), plan.network)
    read, written = (512.0, 1024.0) if spread else (768.0, 1280.0)
    for counts in (run(plan).counts, estimate(plan.arch, plan).counts):
        assert counts[str(Action.NOC_BUFFER_READ_BITS)] == read
        assert counts[str(Action.NOC_BUFFER_WRITE_BITS)] == written
