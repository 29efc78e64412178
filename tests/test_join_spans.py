"""A join's input queue holds what its producer makes at the period while the join waits for its
long path (:func:`pimsim.sim.partitions.join_spans`), worked out by hand on a tiny residual block."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from pimsim.arch.schema import LayerMapping, MacroGroup, Noc
from pimsim.components import ComponentLibrary, UnitKind
from pimsim.model.estimate import estimate
from pimsim.model.plan import Plan
from pimsim.model.windows import BlockGeometry, windows
from pimsim.sim import SimOptions, simulate
from pimsim.sim.compiler import buffer_needs_kib, compile_program
from pimsim.sim.partitions import held_spans, join_spans
from tests.hand import LIBRARY
from tests.test_sim_hand import add_two, design

# s feeds a 1x1 projection a (the short path) and two (3, 1) convolutions b, c (the long path);
# e = a + c. On an 8x2 map with dup 2 every layer makes one row of 2 pixels a block: 8 blocks an
# image. A block of s, a, c or e is 2 pixels x 64 channels x 16 bits = 2,048 bits.
RESIDUAL = """
  g (float[1,8,8,2] x, float[64,8,1,1] ws, float[64,64,1,1] wa, float[8,64,3,1] wb,
     float[64,8,3,1] wc) => (float e) {
    s = Conv(x, ws)
    a = Conv(s, wa)
    b = Conv<pads=[1,0,1,0]>(s, wb)
    c = Conv<pads=[1,0,1,0]>(b, wc)
    e = Add(a, c)
  }"""
SHARES = (("s", 32), ("a", 256), ("b", 96), ("c", 96))  # crossbars of 2 copies


def residual(e_kib: int) -> Plan:
    data: dict[str, Any] = LIBRARY.model_dump(mode="json")
    part = data["buffers"][0]
    data["buffers"] = [{**part, "name": f"b{k}", "size_kib": k} for k in (1, 2, 4)]
    units = {UnitKind.SHIFT_ADD: 8, UnitKind.ADD: 4}
    kib = {"s": 1, "a": 1, "b": 2, "c": 1}
    macros = [
        MacroGroup(name=n, crossbars=x, adcs=32, units=units, buffer_kib=kib[n]) for n, x in SHARES
    ]
    macros.append(
        MacroGroup(name="e", crossbars=0, adcs=0, units={UnitKind.ELTWISE: 1}, buffer_kib=e_kib)
    )
    return design(
        RESIDUAL,
        macros,
        [
            LayerMapping(layer=n, dup=2, macros=[i], crossbars=[x])
            for i, (n, x) in enumerate(SHARES)
        ],
        ComponentLibrary.model_validate(data),
        hosts={"e": 4},
        noc=Noc(mesh_rows=2),
    )


def spans(plan: Plan) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
    net = plan.network
    geos = {x.name: BlockGeometry(x, plan.layers[x.name].dup) for x in net.layers}
    wins = {
        (x.name, k): windows(geos[x.name], geos[src], False)
        for x in net.layers
        for k, src in enumerate(x.inputs)
        if src in geos
    }
    return held_spans(plan, geos, wins), join_spans(plan, geos, wins)


def test_a_projection_waits_at_the_join_for_the_long_path() -> None:
    plan = residual(4)
    held, paced = spans(plan)
    # At one period, every layer spreading its 8 blocks over it: block k of a layer starts at
    # t + k/8. s reads the network input: t_s = 0. a's block k needs s's block k: t_a = 1/8. b's
    # block k needs s's rows up to k + 1: t_b = 2/8; c's needs b's up to k + 1: t_c = 2/8 + 2/8 =
    # 4/8. e needs a's block k (t_a + 1/8 = 2/8) and c's (t_c + 1/8 = 5/8): t_e = 5/8.
    # When e starts block k (5/8 + k/8), a has made floor(8 (5/8 - 1/8 + k/8)) = 4 + k blocks, of
    # which e still holds from block k: 4. c has made 1 + k: 1, its window.
    assert paced == {("e", 0): 4, ("e", 1): 1}
    # the window rule alone: e reads one block of each (no path reconverges at a direct reader)
    assert held[("e", 0)] == held[("e", 1)] == 1
    # e's macro: a's queue 4 + 1 (the block being written) = 5 blocks = 10,240 bits, c's 1 + 1 =
    # 4,096, e's output staging 2 blocks = 4,096: 18,432 bits = 2.25 KiB (1.5 KiB by the window
    # rule), which the synthesizer gives it (`synth.materialize` sizes scratchpads by these needs)
    program = compile_program(plan)
    parts = {p.name: p.bits for p in program.partitions if p.macro == 4}
    assert dict(program.needs_bits)[4] == 18_432
    assert buffer_needs_kib(plan)[4] == 2.25
    # the 4 KiB part holds 32,768 bits: every partition scaled by 32,768 / 18,432
    assert parts["in e<-a#0"] == int(10_240 * 32_768 / 18_432)
    # at that size the block runs at the estimated period: each convolution 8 blocks x 4 bit
    # iterations (16-bit inputs, 4-bit DACs) x 100 ns = 3,200 ns an image
    assert estimate(plan.arch, plan).period_ns == 3_200.0
    r = simulate(plan, SimOptions(images=4), program)
    assert [b - a for a, b in pairwise(r.image_finish_ns)] == [3_200.0] * 3


def test_paths_of_equal_length_add_nothing() -> None:
    # add_two: e = a + b, both 1x1 convolutions of the input, 2 blocks (rows) an image each:
    # t_a = t_b = 0, t_e = 1/2; when e starts block k, a has made floor(2 (1/2 + k/2)) = 1 + k
    # blocks: 1 held, the window
    held, paced = spans(add_two(1.0))
    assert paced == {("e", 0): 1, ("e", 1): 1} == {k: v for k, v in held.items() if k[0] == "e"}


def test_the_needs_alone_are_the_whole_compilers() -> None:
    """``buffer_needs_kib`` compiles without the tasks' stages (their block work): the needs are
    the whole compiler's, on the residual block here and on designs with shared and spread layers
    (the ISAAC baselines of two zoo networks)."""
    from pimsim.network.zoo import zoo_network
    from synth.baseline import isaac_baseline

    plans = [residual(4)]
    for name in ("resnet18-cifar", "alexnet"):
        network = zoo_network(name)
        plans.append(Plan(isaac_baseline(network, name), network))
    for plan in plans:
        program = compile_program(plan)
        assert all(task.stages for task in program.tasks)  # the whole compiler works them out
        assert buffer_needs_kib(plan) == {m: bits / 8192 for m, bits in program.needs_bits}
