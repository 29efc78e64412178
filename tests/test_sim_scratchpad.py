"""Small scratchpads: a design sized at the compiler's floors runs, and a consumer share in its
producer's output macro takes its own slice of the window when that is smaller.

The compiler sizes every partition in the whole bits the simulator reserves (each part of a block
rounded up on its own), so "holds its blocks" on paper is "holds them" in the run: a design whose
every scratchpad is exactly its floor (queues their widest window, stagings one block) runs to the
end, with the compiler's "may stall" warning and no deadlock.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from pimsim.arch.check import load_architecture
from pimsim.arch.schema import Architecture, LayerMapping, MacroGroup
from pimsim.components import UnitKind
from pimsim.model.estimate import estimate
from pimsim.model.plan import Plan
from pimsim.sim import SimOptions, compile_program, simulate
from tests.test_sim_hand import SA, design, library

EXAMPLES = Path(__file__).parents[1] / "configs" / "arch" / "examples"


def at_floors(arch: Architecture, floors: dict[int, int]) -> Architecture:
    """``arch`` with every macro its own group, its scratchpad its floor rounded up to KiB."""
    hw = arch.hardware
    groups, sizes = [], set()
    for m, g in enumerate(hw.macro_groups()):
        kib = max(1, math.ceil(floors.get(m, 0) / 8192))
        sizes.add(kib)
        groups.append(g.model_copy(update={"count": 1, "buffer_kib": kib, "name": f"{g.name}@{m}"}))
    buffers = [
        hw.parts.buffers[0].model_copy(update={"size_kib": k, "name": f"b{k}"})
        for k in sorted(sizes)
    ]
    return arch.model_copy(
        update={
            "hardware": hw.model_copy(
                update={"macros": groups, "parts": hw.parts.model_copy(update={"buffers": buffers})}
            )
        }
    )


@pytest.mark.parametrize("example", ["vgg11-cifar-simple.json", "resnet18-cifar-simple.json"])
def test_a_design_at_its_floors_runs(example: str) -> None:
    loaded = load_architecture(EXAMPLES / example)
    program = compile_program(Plan(loaded.arch, loaded.network))
    floors = dict(program.floor_bits)
    assert all(
        f <= n for (_, f), (_, n) in zip(program.floor_bits, program.needs_bits, strict=True)
    )
    plan = Plan(at_floors(loaded.arch, floors), loaded.network)
    squeezed = compile_program(plan)
    assert squeezed.warnings and not [w for w in squeezed.warnings if "deadlock" in w]
    r = simulate(plan, SimOptions(images=2, max_wall_s=300))
    assert r.stopped is None and len(r.image_finish_ns) == 2
    full = simulate(Plan(loaded.arch, loaded.network), SimOptions(images=2))
    assert r.period_ns >= full.period_ns  # less overlap, never faster


# p: conv 1x1 8 -> 8 on a 1x16 map, dup 2 (8 blocks of 2 pixels, 256 bits each), on macros 0 and 1,
# gathered in macro 0; z: a 1x3 max pool over it, one block (the one row) needing all 8 of p's.
# Hosted on macro 0 alone, z reads p's blocks where they are staged (in place: 9 blocks held);
# spread over four macros, its share in macro 0 is a quarter of the layer and queues its own quarter
# of the window (8 x 64 + 64 bits) instead.
PQ = """
  g (float[1,8,1,16] x, float[8,8,1,1] w1) => (float z) {
    p = Conv(x, w1)
    z = MaxPool <kernel_shape = [1, 3], pads = [0, 1, 0, 1]> (p)
  }"""


def pq(z_macros: list[int]) -> Plan:
    return design(
        PQ,
        [
            MacroGroup(
                name="m",
                count=4,
                crossbars=2,
                adcs=2,
                units={**SA, UnitKind.POOL: 1},
                buffer_kib=64,
            )
        ],
        [LayerMapping(layer="p", dup=2, macros=[0, 1], crossbars=[2, 2])],
        library(),
        hosts={"z": z_macros},
    )


def test_a_whole_consumer_reads_in_place_and_a_slice_takes_its_own_queue() -> None:
    whole = compile_program(pq([0]))
    (inp,) = whole.tasks[-1].inputs
    assert inp.local and inp.partition == "out p"
    sliced = compile_program(pq([0, 1, 2, 3]))
    first = next(t for t in sliced.tasks if t.layer == "z" and t.macro == 0)
    (inp,) = first.inputs
    assert not inp.local and inp.partition.startswith("in z<-p")
    flow = sliced.flows[inp.flows[0]]
    assert flow.src == flow.dst == 0 and not flow.in_place and flow.route == ()


@pytest.mark.parametrize("z_macros", [[0], [0, 1, 2, 3]])
def test_in_place_or_sliced_the_simulation_matches_the_estimate(z_macros: list[int]) -> None:
    plan = pq(z_macros)
    est = estimate(plan.arch, plan)
    sim = simulate(plan, SimOptions(images=4))
    assert sim.throughput_ips == pytest.approx(est.throughput_ips, rel=1e-9)
    assert sim.energy_per_image_pj == pytest.approx(est.energy_per_image_pj, rel=1e-9)
