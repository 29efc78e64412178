"""Exact cycle counts of the simulator on tiny designs worked out by hand.

Library (tests/hand.py): 8x8 crossbars of 8-bit cells (2 slices) read in 100 ns, 4-bit DACs (4 bit
iterations of 16-bit inputs), units of 4 lanes at 1 GHz, a 64-bit scratchpad port of 1 ns, 16-bit
flits at 1 ns per flit and per hop; the clock is 1 GHz, so a cycle is a ns. Variants change one
part (a 0.1 GS/s ADC, 10 ns flits, a 1 KiB scratchpad).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest

from pimsim.arch.build import build_hardware, build_mapping
from pimsim.arch.check import check_hardware, check_mapping
from pimsim.arch.schema import Architecture, LayerMapping, MacroGroup, Noc
from pimsim.components import ComponentLibrary, UnitKind
from pimsim.model.plan import Plan
from pimsim.network import Network
from pimsim.sim import SimDeadlock, SimOptions, SimResult, simulate
from tests.hand import LIBRARY, network

SA = {UnitKind.SHIFT_ADD: 1}


def library(adc_ghz: float = 1.0, flit_ns: float = 1.0, buffer_kib: int = 64) -> ComponentLibrary:
    """The hand library with a slower ADC, slower flits or a smaller scratchpad."""
    data: dict[str, Any] = LIBRARY.model_dump(mode="json")
    data["adcs"][0].update(frequency_ghz=adc_ghz, latency_ns=1 / adc_ghz)
    data["nocs"][0].update(flit_latency_ns=flit_ns)
    data["buffers"][0].update(size_kib=buffer_kib)
    return ComponentLibrary.model_validate(data)


def design(
    text: str,
    macros: list[MacroGroup],
    layers: list[LayerMapping],
    lib: ComponentLibrary = LIBRARY,
    hosts: dict[str, int | list[int]] | None = None,
    noc: Noc | None = None,
) -> Plan:
    net: Network = network(text)
    hw = build_hardware(lib, 8, 8, 4, macros, noc=noc)
    arch = Architecture(
        schema_version=1, name="t", hardware=hw, mapping=build_mapping(net, "hand", layers, hosts)
    )
    assert check_hardware(arch.hardware) == [] and check_mapping(arch, net) == []
    return Plan(arch, net)


def run(plan: Plan, images: int = 1, **kw: Any) -> SimResult:
    return simulate(plan, SimOptions(images=images, **kw))


def layer(r: SimResult, name: str):  # type: ignore[no-untyped-def]
    return next(x for x in r.layers if x.name == name)


def stage(r: SimResult, name: str, kind: str):  # type: ignore[no-untyped-def]
    return next(s for s in layer(r, name).stages if s.name == kind)


def unit(r: SimResult, name: str):  # type: ignore[no-untyped-def]
    return next(u for u in r.units if u.name == name)


# -- two crossbars, one ADC bank ------------------------------------------------------------------
# conv 1x1, 8 -> 8 channels on a 1x2 map: one row block, one column block, 2 slices = 2 crossbars;
# per pixel and bit, 8 columns x 2 slices = 16 conversions. dup 1: 2 blocks of one pixel.
ONE_BY_ONE = """
  g (float[1,8,1,2] x, float[8,8,1,1] w) => (float y) {
    y = Conv(x, w)
  }"""


def two_crossbars(adcs: int) -> Plan:
    return design(
        ONE_BY_ONE,
        [MacroGroup(name="m", crossbars=2, adcs=adcs, units=SA, buffer_kib=64)],
        [LayerMapping(layer="y", dup=1, macros=[0], crossbars=[2])],
        library(0.1),
    )


def test_two_crossbars_share_one_adc() -> None:
    # per block: load 128 bits = 2 accesses; per bit: the DACs convert its values (10 ns at 0.1
    # GS/s), read 100, 16 conversions at 10 ns on one ADC = 160, shift-add 16 elements / 4 lanes
    # = 4; store 2. The first bit's conversion follows the load (2 -> 12); every later one runs
    # during the previous read. The ADC bank is the bottleneck and never idles once the first read
    # is in: 2 + 10 + 100 + 8 bits x 160 + 4 + 2.
    r = run(two_crossbars(1))
    assert r.image_finish_ns == (1398.0,)
    assert unit(r, "macro 0/ADC bank").busy_ns == 8 * 160
    # the crossbars wait for the ADC to empty their sample-and-holds: 60 ns before each of the
    # 6 bits after the first two; before the first bit they wait for the load, then its conversion
    assert stage(r, "y", "mvm").stall_ns == {"adc": 360.0, "dac": 10.0, "port": 2.0}
    assert layer(r, "y").bottleneck == "adc"
    # the next images' windows are loaded early: their first conversions run during the previous
    # image's last read, and the images follow one per 8 x 160
    r4 = run(two_crossbars(1), images=4)
    assert r4.image_finish_ns == (1398.0, 2678.0, 3958.0, 5238.0) and r4.period_ns == 1280.0


def test_two_crossbars_with_two_adcs() -> None:
    # two ADCs convert 8 columns each: 80 per bit, under the 100 ns read: the crossbars set the
    # pace once the first bit is converted, 2 + 10 + 8 bits x 100 + 80 + 4 + 2 (block 1's window
    # is loaded during block 0: its first conversion runs during block 0's last read)
    r = run(two_crossbars(2))
    assert r.image_finish_ns == (898.0,)
    assert unit(r, "macro 0/ADC bank").busy_ns == 8 * 80
    assert stage(r, "y", "mvm").stall_ns == {"dac": 10.0, "port": 2.0}
    assert layer(r, "y").bottleneck == "mvm"
    assert run(two_crossbars(2), images=4).period_ns == 800.0


# two such layers (both read x) sharing one macro and its single ADC
TWO_OUTPUTS = """
  g (float[1,8,1,2] x, float[8,8,1,1] w1, float[8,8,1,1] w2) => (float a, float b) {
    a = Conv(x, w1)
    b = Conv(x, w2)
  }"""


def test_two_layers_share_one_adc_bank() -> None:
    plan = design(
        TWO_OUTPUTS,
        [MacroGroup(name="m", crossbars=4, adcs=1, units=SA, buffer_kib=64)],
        [
            LayerMapping(layer="a", dup=1, macros=[0], crossbars=[2]),
            LayerMapping(layer="b", dup=1, macros=[0], crossbars=[2], shares_with="a"),
        ],
        library(0.1),
    )
    r = run(plan, images=4)
    # the port loads a then b (2 ns each); a's first bit is converted by 12 (b's by 14); from a's
    # first read (12 -> 112) the bank converts a's and b's bits in turn, 160 each, never idle:
    # image 0 ends with b's 16th job (112 + 16 x 160), + 4 shift-add + 2 store; then one image
    # per 16 x 160
    assert r.image_finish_ns == (2678.0, 5238.0, 7798.0, 10358.0) and r.period_ns == 2560.0
    bank = unit(r, "macro 0/ADC bank")
    assert bank.busy_ns == 4 * 2560 and bank.queued_ns > 0
    # each layer's conversions wait for the other's: an "adc" stall at its adc stage
    assert stage(r, "a", "adc").stall_ns["adc"] > 0 and stage(r, "b", "adc").stall_ns["adc"] > 0
    # alone, each layer would take 1280 per image (test_two_crossbars_share_one_adc)
    assert r.period_ns == 2 * run(two_crossbars(1), images=4).period_ns


# -- a two-layer pipeline: the second layer starts when its window is in ------------------------
# two 3x3 convs (pad 1), 2 -> 2 channels on 4x4, dup 4 = one output row per block. Each: 18 weight
# rows = 3 row blocks x 2 slices = 6 crossbars per copy, 24 in all, two ADCs.
TWO_CONVS = """
  g (float[1,2,4,4] x, float[2,2,3,3] w1, float[2,2,3,3] w2) => (float z) {
    y = Conv<pads=[1,1,1,1]>(x, w1)
    z = Conv<pads=[1,1,1,1]>(y, w2)
  }"""


def two_convs(lib: ComponentLibrary = LIBRARY) -> Plan:
    units = {UnitKind.SHIFT_ADD: 1, UnitKind.ADD: 1}
    return design(
        TWO_CONVS,
        [
            MacroGroup(name=f"m{i}", crossbars=24, adcs=2, units=units, buffer_kib=64)
            for i in range(2)
        ],
        [
            LayerMapping(layer="y", dup=4, macros=[0], crossbars=[24]),
            LayerMapping(layer="z", dup=4, macros=[1], crossbars=[24]),
        ],
        lib,
    )


def test_second_layer_starts_after_its_window_fills() -> None:
    # block of y: load 4 x 18 values x 16 bits = 18 accesses; the first bit's conversion 10; per
    # bit read 100, 48 conversions on 2 ADCs = 24, 48 / 4 lanes = 12 shift-adds; partial sums
    # 16 / 4 = 4; store 128 bits = 2. Block 0 of y is stored at 18 + 10 + (100 + 24 + 12) + 3 x
    # 100 + 4 + 2 = 470, block 1 400 later (its window is in early: its first conversion runs
    # during block 0's last read). z's first row needs rows 0 and 1 of y (3x3, pad 1): y's block
    # 1, stored at 870, is read through m0's port (128 bits = 2 accesses) by 872, crosses two
    # routers (1 ns each: injection and the one link) by 874 and its 8 flits by 882, and is
    # written through m1's port by 884, when z starts loading.
    r = run(two_convs())
    y, z = layer(r, "y"), layer(r, "z")
    assert y.start_ns == (0.0,) and z.start_ns == (884.0,)
    assert y.finish_ns == (1670.0,)
    # z then runs one block per 400 ns behind y. Its first bit waits for its conversion (902 ->
    # 912); a later row of y arrives 400 after the previous one and is loaded 18 later, 10 before
    # z's crossbars finish the previous block, so its conversion ends just as they do: no wait.
    assert z.finish_ns == (884.0 + 18 + 10 + 136 + 300 + 6 + 3 * 400,)
    # z's loads wait for y: 884 for its first window, then 382 for each of the next two rows (y's
    # row arrives 400 later, z's load is done 18 after its previous one began; it waits for its
    # input first, which it checks before its slot)
    assert stage(r, "z", "load").stall_ns["input"] == 884.0 + 2 * 382


# -- a NoC link shared by two flows --------------------------------------------------------------
# a and b (conv 1x1, 8 -> 8 channels on a 2x4 map, dup 4: a row per block) feed e = a + b, on a
# 1x3 mesh: a in macro 0, b in 1, e in 2. a's blocks cross (0,0)->(0,1)->(0,2), b's (0,1)->(0,2):
# both use (0,1)->(0,2). A block is 4 x 8 values x 16 bits = 32 flits.
ADD_TWO = """
  g (float[1,8,2,4] x, float[8,8,1,1] w1, float[8,8,1,1] w2) => (float e) {
    a = Conv(x, w1)
    b = Conv(x, w2)
    e = Add(a, b)
  }"""


def add_two_macros() -> tuple[list[MacroGroup], list[LayerMapping]]:
    """add_two's macros (a in 0, b in 1, 8 crossbars each; e in 2) and a's and b's mappings."""
    macros = [MacroGroup(name=n, crossbars=8, adcs=8, units=SA, buffer_kib=64) for n in "ab"]
    macros.append(
        MacroGroup(name="e", crossbars=0, adcs=0, units={UnitKind.ELTWISE: 1}, buffer_kib=64)
    )
    return macros, [
        LayerMapping(layer="a", dup=4, macros=[0], crossbars=[8]),
        LayerMapping(layer="b", dup=4, macros=[1], crossbars=[8]),
    ]


def add_two(flit_ns: float, lib: ComponentLibrary | None = None, noc: Noc | None = None) -> Plan:
    return design(
        ADD_TWO,
        *add_two_macros(),
        lib or library(flit_ns=flit_ns),
        hosts={"e": 2},
        noc=noc or Noc(mesh_rows=1),
    )


def test_noc_link_shared_by_two_flows() -> None:
    # a and b store a block every 400 ns from 450 (load 8, the first bit's conversion 10, 4 bits x
    # 100, 8 conversions on 8 ADCs, shift-add 4, store 8; later windows are converted during the
    # previous block's last read) and read it through their ports (512 bits = 8 accesses) by 458;
    # at 10 ns a flit a packet holds each channel 320 ns, so the shared link needs 640 per pair
    # of blocks. b injects at 458 and takes the shared link at 459 (one router on), a reaches it
    # at 460 and waits till 779: the link carries b's and a's blocks in turn, and a's k-th block
    # takes e's ejection port (macro 2) at 780 + 640 k (b's was freed then), its tail is in 320
    # later and written through m2's port (8 accesses) at 1108 + 640 k. e's row needs both; its
    # last row of image i follows a's block 2i + 1: + 16 load + 8 add + 8 store.
    r = run(add_two(10.0), images=4)
    assert r.image_finish_ns == (1780.0, 3060.0, 4340.0, 5620.0)
    assert r.period_ns == 1280.0
    shared = unit(r, "NoC/link (0,1)->(0,2)")
    assert shared.busy_ns == 16 * 320 and shared.queued_ns > 0
    assert unit(r, "NoC/link (0,0)->(0,1)").busy_ns == 8 * 320
    a_flow = next(f for f in r.flows if f.name.startswith("transfer a m0->m2"))
    assert a_flow.stall_ns["noc"] > 0 and a_flow.hops == 2
    assert stage(r, "e", "load").stall_ns["noc"] > 0
    # with 1 ns flits the link is no bottleneck: the convolutions set the pace
    fast = run(add_two(1.0), images=4)
    assert fast.period_ns == 800.0
    assert stage(fast, "e", "load").stall_ns["noc"] < stage(r, "e", "load").stall_ns["noc"] / 10


# -- a scratchpad that forces a stall ------------------------------------------------------------
# p: conv 1x1, 8 -> 64 channels on 1x16, dup 2 (8 blocks of 2048 bits per image); c: conv 1x1,
# 64 -> 8, dup 1 (16 blocks). p takes 3200 ns per image, c 6400: p runs ahead as far as space lets.
CHAIN = """
  g (float[1,8,1,16] x, float[64,8,1,1] w1, float[8,64,1,1] w2) => (float c) {
    p = Conv(x, w1)
    c = Conv(p, w2)
  }"""


def chain(buffer_kib: int) -> Plan:
    units = {UnitKind.SHIFT_ADD: 1, UnitKind.ADD: 1}
    return design(
        CHAIN,
        [
            MacroGroup(name="p", crossbars=32, adcs=8, units=SA, buffer_kib=buffer_kib),
            MacroGroup(name="c", crossbars=16, adcs=8, units=units, buffer_kib=buffer_kib),
        ],
        [
            LayerMapping(layer="p", dup=2, macros=[0], crossbars=[32]),
            LayerMapping(layer="c", dup=1, macros=[1], crossbars=[16]),
        ],
        library(buffer_kib=buffer_kib),
    )


def test_a_small_buffer_stalls_the_producer() -> None:
    big, small = run(chain(64), images=4), run(chain(1), images=4)
    # with room to spare p never waits for space and finishes an image every 3200 ns
    p_big = layer(big, "p")
    assert [b - a for a, b in pairwise(p_big.finish_ns)] == [3200.0] * 3
    assert "buffer" not in stage(big, "p", "store").stall_ns
    # with 1 KiB scratchpads (room for 3 of p's blocks at c, 4 at p) p can only run a few blocks
    # ahead, so it slows to c's pace of 6400 ns per image, waiting for space
    p_small = layer(small, "p")
    assert p_small.finish_ns[3] - p_small.finish_ns[2] == 6400.0
    assert stage(small, "p", "store").stall_ns["buffer"] > 0
    assert layer(small, "p").stall_ns["buffer"] > 0  # the crossbars wait for it too
    assert small.peak_buffer_bits[1] <= 8192
    # c sets the throughput either way
    assert small.period_ns == big.period_ns == 6400.0


# -- a deadlock ----------------------------------------------------------------------------------
# p (conv 1x1, 8 -> 64 channels on 1x16) feeds a fully connected layer that needs all 16 of p's
# blocks (16 x 1024 bits) at once: more than its 1 KiB scratchpad holds.
TO_FC = """
  g (float[1,8,1,16] x, float[64,8,1,1] w1, float[8,1024] w2) => (float y) {
    p = Conv(x, w1)
    f = Flatten(p)
    y = Gemm<transB=1>(f, w2)
  }"""


def to_fc() -> Plan:
    units = {UnitKind.SHIFT_ADD: 1, UnitKind.ADD: 1}
    return design(
        TO_FC,
        [
            MacroGroup(name="p", crossbars=16, adcs=8, units=SA, buffer_kib=1),
            MacroGroup(name="fc", crossbars=256, adcs=8, units=units, buffer_kib=1),
        ],
        [
            LayerMapping(layer="p", dup=1, macros=[0], crossbars=[16]),
            LayerMapping(layer="y", dup=1, macros=[1], crossbars=[256]),
        ],
        library(buffer_kib=1),
    )


def test_deadlock_is_detected_and_explained() -> None:
    with pytest.raises(SimDeadlock) as info:
        run(to_fc())
    err = info.value
    assert "deadlock" in err.message and "0 of 1 images" not in err.message
    assert "1 of 1 images are unfinished" in err.message
    # the FC's load waits for p's last block; the flow to it waits for space in its queue
    assert any(
        w.startswith("y@m1 load (image 0, block 0) waits for block 15 of 'p'") for w in err.waits
    )
    assert any("transfer p m0->m1" in w and "bits of space" in w for w in err.waits)
