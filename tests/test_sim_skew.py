"""Shares of one layer running at different speeds (skew) must not deadlock the run.

A layer mapped on several macros stores every share's part of a block in its output macro's staging
partition. Space there is reserved whole block by whole block, in block order
(:class:`pimsim.sim.buffer.Staging`): a fast share runs at most as many blocks ahead of the oldest
unpublished block as the partition holds, and the slow share's part of that block always has room.
Before this rule the fast share's parts of later blocks could fill the partition and starve the
slow share's part of the oldest block, on which every consumer waits.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from pimsim.arch.schema import LayerMapping, MacroGroup
from pimsim.components import UnitKind
from pimsim.model.plan import Plan
from pimsim.network.zoo import zoo_network
from pimsim.sim import SimDeadlock, SimOptions, compile_program, simulate
from pimsim.sim.ir import Program
from synth.explore import explore, top_architectures
from synth.settings import Settings
from tests.test_sim_hand import design, layer, library, stage

# -- synthesized designs ---------------------------------------------------------------------------


def test_top_resnet18_cifar_designs_do_not_deadlock() -> None:
    # the 2nd and 3rd of these deadlocked: conv12's fast shares (macros 7, 8) filled the staging in
    # macro 6 with blocks ~25 ahead of the one its slow share 0 had to store, which add15 waited for
    net = zoo_network("resnet18-cifar")
    archs = top_architectures(explore(net, 20, Settings(power_w=20).quick()), net, 3)
    assert len(archs) == 3
    for arch in archs:
        plan = Plan(arch, net)
        r = simulate(plan, SimOptions(images=4))
        assert len(r.image_finish_ns) == 4 and r.throughput_ips > 0
        assert sum(x.macs for x in r.layers) == pytest.approx(4 * net.macs, rel=1e-9)


# -- by hand ---------------------------------------------------------------------------------------
# p: conv 1x1, 8 -> 64 channels on a 1x16 map, dup 1 (16 blocks of one pixel, 64 x 16 = 1024 bits),
# split over two macros of 8 crossbars (512 bits of each block each) whose ADCs (0.1 GS/s) differ:
# per bit 64 conversions take 320 ns on macro 0's 2 ADCs and 80 ns on macro 1's 8, where the
# crossbar read (100 ns) sets the pace: 1280 ns per block in macro 0, 400 ns in macro 1. c (conv
# 1x1, 64 -> 8, 8 ADCs) in macro 2 takes 640 ns per block. 1 KiB scratchpads: p's staging in macro 0
# (its only partition) holds 8 whole blocks.
CHAIN = """
  g (float[1,8,1,16] x, float[64,8,1,1] w1, float[8,64,1,1] w2) => (float c) {
    p = Conv(x, w1)
    c = Conv(p, w2)
  }"""
BLOCK_BITS = 1024


def skewed() -> Plan:
    units = {UnitKind.SHIFT_ADD: 1, UnitKind.ADD: 1}
    return design(
        CHAIN,
        [
            MacroGroup(name="slow", crossbars=8, adcs=2, units=units, buffer_kib=1),
            MacroGroup(name="fast", crossbars=8, adcs=8, units=units, buffer_kib=1),
            MacroGroup(name="c", crossbars=16, adcs=8, units=units, buffer_kib=1),
        ],
        [
            LayerMapping(layer="p", dup=1, macros=[0, 1], crossbars=[8, 8]),
            LayerMapping(layer="c", dup=1, macros=[2], crossbars=[16]),
        ],
        library(adc_ghz=0.1, buffer_kib=1),
    )


def with_staging(program: Program, bits: int) -> Program:
    """``program`` with p's staging in macro 0 resized to ``bits``."""
    parts = tuple(
        replace(p, bits=bits) if (p.macro, p.name) == (0, "out p") else p
        for p in program.partitions
    )
    return replace(program, partitions=parts)


def max_skew(trace: Path) -> int:
    """The most blocks the fast share's merged parts were ever ahead of the oldest unpublished
    block of p, read from the run's trace (block level): a block's fast part is merged when its
    merge flow's write into macro 0's scratchpad ends; the block is published once that write and
    the slow share's store (in macro 0) have both ended. Times in ns (1 GHz clock: cycles)."""
    ends: dict[str, dict[int, int]] = {"store p": {}, "merge p m1->m0": {}}
    for e in json.loads(trace.read_text())["traceEvents"]:
        if e.get("ph") == "X" and e["pid"] == 0 and e["name"] in ends:
            g = e["args"]["image"] * 16 + e["args"]["block"]
            ends[e["name"]][g] = round(1000 * (e["ts"] + e["dur"]))
    stored, merged = ends["store p"], ends["merge p m1->m0"]
    assert sorted(stored) == sorted(merged) == list(range(4 * 16))  # every block of 4 images
    published = [max(stored[g], merged[g]) for g in merged]
    # no merge ends at the cycle a store ends (else the order within the cycle would matter)
    assert not set(stored.values()) & set(merged.values())
    return max(
        sum(x <= t for x in merged.values()) - sum(x <= t for x in published)
        for t in merged.values()
    )


def test_staging_holds_eight_blocks() -> None:
    program = compile_program(skewed())
    assert [(p.macro, p.name, p.bits) for p in program.partitions if p.macro == 0] == [
        (0, "out p", 8 * BLOCK_BITS)
    ]


@pytest.mark.parametrize("blocks", [8, 4, 2, 1])
def test_a_fast_share_runs_at_most_a_partition_ahead(blocks: int, tmp_path: Path) -> None:
    plan = skewed()
    program = with_staging(compile_program(plan), blocks * BLOCK_BITS)
    trace = tmp_path / "skew.json"
    r = simulate(plan, SimOptions(images=4, trace=str(trace)), program=program)
    # the skew window: exactly what the staging holds, in whole blocks
    assert max_skew(trace) == blocks
    assert len(r.image_finish_ns) == 4
    # the slow share sets the pace (16 x 1280 ns per image), however little the staging holds
    assert r.period_ns == 16 * 1280.0 == layer(r, "p").finish_ns[3] - layer(r, "p").finish_ns[2]
    slow, fast = (
        next(s for s in layer(r, "p").stages if s.name == "store" and s.macro == m) for m in (0, 1)
    )
    # the slow share never waits for space; the fast one waits for it (a buffer stall): its merge
    # flow for most of the run, as the skew window lets only one block in per slow block
    assert "buffer" not in slow.stall_ns
    assert fast.stall_ns["buffer"] > 0
    merge = next(f for f in r.flows if f.name.startswith("merge p"))
    assert 0.75 * r.time_ns < merge.stall_ns["buffer"] < r.time_ns
    assert stage(r, "c", "load").stall_ns.get("buffer", 0.0) == 0.0


def test_less_than_a_block_of_staging_is_reported_as_a_deadlock() -> None:
    plan = skewed()
    program = with_staging(compile_program(plan), BLOCK_BITS - 1)
    with pytest.raises(SimDeadlock) as caught:
        simulate(plan, SimOptions(images=2), program=program)
    assert any(
        w.startswith(
            "p@m0 store (image 0, block 0) waits for the space of block 0 of image 0 (1,024 bits"
        )
        and "'out p' of macro 0 holds 0 of its 1,023 bits" in w
        for w in caught.value.waits
    )
