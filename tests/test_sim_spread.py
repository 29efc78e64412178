"""Where a layer's output is kept: gathered in its output macro, or spread over its shares.

A layer on several macros normally gathers every share's part of a block in its first macro; a layer
the mapping lists in ``spread`` (the ISAAC baseline lists those two of whose blocks would not fit that
scratchpad: :func:`pimsim.model.windows.spread_outputs`) keeps its output spread: each share keeps its
part and sends it to every consumer share itself. The estimate and the simulator
both follow the plan (flows, NoC energy), so they still agree exactly on a hand design. The ISAAC
baselines of the 224x224 networks compile with every partition above what it needs not to deadlock.
"""

from __future__ import annotations

from typing import Any

import pytest

from pimsim.arch.check import check_mapping
from pimsim.arch.schema import LayerMapping, MacroGroup
from pimsim.components import ComponentLibrary, UnitKind
from pimsim.model.estimate import estimate
from pimsim.model.plan import Plan
from pimsim.model.windows import spread_outputs
from pimsim.network.zoo import zoo_network
from pimsim.sim import SimOptions, compile_program, simulate
from synth.baseline import isaac_baseline
from tests.hand import LIBRARY
from tests.test_sim_hand import SA, design

# p: conv 1x1 8 -> 16 on a 1x64 map, dup 64 (one block of 64 pixels x 16 channels x 16 bits =
# 16,384 bits) on two macros of 2 KiB (16,384 bits): two blocks do not fit, so p is spread.
# c: conv 1x1 16 -> 8, dup 1, in a macro of 64 KiB.
TWO = """
  g (float[1,8,1,64] x, float[16,8,1,1] w1, float[8,16,1,1] w2) => (float z) {
    p = Conv(x, w1)
    z = Conv(p, w2)
  }"""


def two_buffers() -> ComponentLibrary:
    data: dict[str, Any] = LIBRARY.model_dump(mode="json")
    data["buffers"].append({**data["buffers"][0], "name": "b2", "size_kib": 2})
    return ComponentLibrary.model_validate(data)


def spread_design(p_buffer_kib: int, spread: bool | None = None) -> Plan:
    """p's output spread if asked, or by default where two blocks overflow its output macro."""
    plan = design(
        TWO,
        [
            MacroGroup(name="p", count=2, crossbars=128, adcs=4, units=SA, buffer_kib=p_buffer_kib),
            MacroGroup(name="c", crossbars=4, adcs=4, units={**SA, UnitKind.ADD: 1}, buffer_kib=64),
        ],
        [
            LayerMapping(layer="p", dup=64, macros=[0, 1], crossbars=[128, 128]),
            LayerMapping(layer="z", dup=1, macros=[2], crossbars=[4]),
        ],
        two_buffers(),
    )
    if spread is None:
        spread = bool(spread_outputs([16 * 64 * 16], [2], [p_buffer_kib * 8192])[0])
    assert spread == (p_buffer_kib == 2)
    arch = plan.arch
    assert arch.mapping is not None
    mapped = arch.model_copy(
        update={"mapping": arch.mapping.model_copy(update={"spread": ["p"] if spread else None})}
    )
    assert check_mapping(mapped, plan.network) == []
    return Plan(mapped, plan.network)


def test_a_layer_whose_blocks_overflow_its_output_macro_is_spread() -> None:
    assert spread_design(2).layers["p"].spread
    assert not spread_design(64).layers["p"].spread
    program = compile_program(spread_design(2))
    flows = [f for f in program.flows if f.layer == "p"]
    assert [f.op.value for f in flows] == ["transfer", "transfer"]  # no merge
    assert sorted((f.src, f.dst, f.source_task) for f in flows) == [(0, 2, 0), (1, 2, 1)]
    assert not program.warnings


@pytest.mark.parametrize("buffer_kib", [2, 64])
def test_estimate_and_simulation_agree_gathered_or_spread(buffer_kib: int) -> None:
    plan = spread_design(buffer_kib)
    est = estimate(plan.arch, plan)
    sim = simulate(plan, SimOptions(images=4))
    assert sim.throughput_ips == pytest.approx(est.throughput_ips, rel=1e-9)
    assert sim.energy_per_image_pj == pytest.approx(est.energy_per_image_pj, rel=1e-9)
    assert sim.counts["noc_flit_hops"] == pytest.approx(4 * est.counts["noc_flit_hops"], rel=1e-9)


@pytest.mark.parametrize(
    "name,spread", [("vgg13", []), ("vgg16", []), ("resnet18", []), ("msra_a", ["concat60"])]
)
def test_isaac_baselines_compile_without_a_deadlock_warning(name: str, spread: list[str]) -> None:
    net = zoo_network(name)
    arch = isaac_baseline(net)
    assert arch.mapping is not None and (arch.mapping.spread or []) == spread
    program = compile_program(Plan(arch, net))
    assert not [w for w in program.warnings if "deadlock" in w]


def test_spreading_a_layer_on_one_macro_is_refused() -> None:
    plan = spread_design(64, spread=False)
    assert plan.arch.mapping is not None
    bad = plan.arch.model_copy(
        update={"mapping": plan.arch.mapping.model_copy(update={"spread": ["z", "nope"]})}
    )
    assert check_mapping(bad, plan.network) == [
        ("mapping.spread[0]", "'z' runs on one macro: there is nothing to spread"),
        ("mapping.spread[1]", "'nope' is not a layer of the network"),
    ]
