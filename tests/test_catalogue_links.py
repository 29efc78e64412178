"""The catalogue's NoC link cases worked out by hand (docs/disagreements.md, "Communication"): an
ejection port fed by two links, a hot-spot link, a link idled inside a cross flow's long packet on
the next link; each with the estimate's error and what ``--validate`` flags.

Library and helpers as in tests/test_sim_comm.py (1 GHz clock, so a cycle is a ns).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from pimsim.arch.schema import LayerMapping, MacroGroup, Noc
from pimsim.components import ComponentLibrary, UnitKind
from pimsim.diagnose import disagreements
from pimsim.model.estimate import estimate
from pimsim.model.plan import Plan
from tests.test_sim_comm import error_pct, flagged
from tests.test_sim_hand import SA, add_two, design, library, run, unit

MERGED = """
  g (float[1,8,1,3] x, float[8,8,1,1] w) => (float y) {
    y = Conv(x, w)
  }"""


def merged_over_two_links() -> Plan:
    """y (conv 1x1, 8 -> 8 on 1x3, dup 3: one block of 3 pixels an image) with one copy (2
    crossbars) in each of 3 macros on a 2x2 mesh at 40 ns per flit; the snake puts macro 0 at
    (0,0), 1 at (0,1), 2 at (1,1)."""
    macros = [MacroGroup(name=f"m{i}", crossbars=2, adcs=2, units=SA, buffer_kib=64) for i in "012"]
    return design(
        MERGED,
        macros,
        [LayerMapping(layer="y", dup=3, macros=[0, 1, 2], crossbars=[2, 2, 2])],
        library(flit_ns=40.0),
        noc=Noc(mesh_rows=2, mesh_cols=2),
    )


def test_catalogue_ejection_port_fed_by_two_links() -> None:
    # Macros 1 and 2 send their part of y's block (1 pixel x 8 values x 16 bits = 128 bits = 8
    # flits, 320 ns on a channel) to the output macro 0: 1's over (0,1)->(0,0), 2's over
    # (1,1)->(1,0)->(0,0) (X then Y). Each link carries one packet an image (320 ns), macro 0's
    # ejection port both (640 ns): it sets the period, and the estimate's port bound finds it.
    # First image: each share loads its pixel (2 accesses) at 0-2, its DACs convert the first bit
    # 2-12 (10 ns), it reads 400 ns (4 bits x 100), converts the last bit (16 conversions on 2
    # ADCs: 8 ns), shift-adds 4 and stores 2: 426; the part is read for the NoC (2 accesses) by
    # 428, injected, one router on at 429. 1's packet takes the ejection port at 430 and holds it
    # 320 ns; 2's reaches it at 431 and waits until 750, its tail is in at 1070 and written (2
    # accesses) at 1072. The estimate's walk has no queue at the port and no first conversion:
    # 416 + 2 hops + 8 flits x 40 = 738 ns (-31.2 %).
    plan = merged_over_two_links()
    r = run(plan, images=4)
    assert r.latency_ns[0] == 1072.0 and r.period_ns == 640.0
    assert unit(r, "NoC/eject m0 (0,0)").busy_ns == 4 * 640
    assert unit(r, "NoC/eject m0 (0,0)").queued_ns > 0
    for link in ("(0,1)->(0,0)", "(1,1)->(1,0)", "(1,0)->(0,0)"):
        assert unit(r, f"NoC/link {link}").busy_ns == 4 * 320
    est = estimate(plan.arch, plan)
    assert est.period_ns == 640.0 and est.period_set_by == "NoC ejection port of macro 0"
    assert est.latency_ns == 738.0
    assert round(error_pct(est.latency_ns, r.latency_ns[0]), 1) == -31.2
    # the port is busier than either link into (0,0) (their sum, 640 ns, equals it: a detector
    # that summed the links would never flag it)
    (port,) = [d for d in disagreements(plan) if d.startswith("router port contention")]
    assert port.startswith("router port contention: eject m0 (0,0) carries 640 ns")


# -- catalogue: a hot-spot link --------------------------------------------------------------------
def test_catalogue_hot_spot_link() -> None:
    # add_two at 10 ns per flit on a 1x3 mesh: (0,1)->(0,2) carries a's and b's rows, 4 packets
    # of 320 ns per image = 1280 ns, and the estimate's busiest-link bound finds that period. Its
    # latency does not see the queue: the first image finishes at 1780 (worked out in
    # test_sim_hand.test_noc_link_shared_by_two_flows: each of a's rows waits behind b's on the
    # hot link; 10 ns of it are the first bit's conversion), the estimate says 1434 ns, -19.4 %.
    plan = add_two(10.0)
    r = run(plan, images=4)
    est = estimate(plan.arch, plan)
    assert r.period_ns == est.period_ns == 1280.0
    assert est.period_set_by == "NoC link (0, 1)->(0, 2)"
    assert r.latency_ns[0] == 1780.0 and est.latency_ns == 1434.0
    assert unit(r, "NoC/link (0,1)->(0,2)").queued_ns > 0
    assert flagged(plan) == {"hot-spot link"}
    assert sum(d.startswith("hot-spot link: link (0,1)->(0,2)") for d in disagreements(plan)) == 1


# -- catalogue: a link idled by a cross flow's long packet on the next link -----------------------
CROSS = """
  g (float[1,8,2,16] x, float[32,8,1,1] w1, float[16,32,1,1] w2, float[16,32,1,1] w3) => (float e) {
    a = Conv(x, w1)
    b = Conv(a, w2)
    c = Conv(a, w3)
    e = Add(b, c)
  }"""


def cross_packet() -> Plan:
    """a (1x1, 8 -> 32 on 2x16, dup 2: 16 blocks of 2 pixels an image) in macro 0 at (0,0) feeds b
    (32 -> 16, dup 32: one block of 32 pixels) in macro 1 at (0,1) and c (32 -> 16, dup 2) in macro
    2 at (0,2), which also hosts e = b + c; 10 ns flits; macro 0 has a 1 KiB scratchpad, the
    others 16 KiB."""
    data: dict[str, Any] = library(flit_ns=10.0, buffer_kib=16).model_dump(mode="json")
    data["buffers"].append({**data["buffers"][0], "name": "b1", "size_kib": 1})
    units = {UnitKind.SHIFT_ADD: 1, UnitKind.ADD: 1}
    macros = [
        MacroGroup(name="a", crossbars=16, adcs=8, units=SA, buffer_kib=1),
        MacroGroup(name="b", crossbars=512, adcs=8, units=units, buffer_kib=16),
        MacroGroup(
            name="c", crossbars=32, adcs=8, units={**units, UnitKind.ELTWISE: 1}, buffer_kib=16
        ),
    ]
    return design(
        CROSS,
        macros,
        [
            LayerMapping(layer="a", dup=2, macros=[0], crossbars=[16]),
            LayerMapping(layer="b", dup=32, macros=[1], crossbars=[512]),
            LayerMapping(layer="c", dup=2, macros=[2], crossbars=[32]),
        ],
        ComponentLibrary.model_validate(data),
        hosts={"e": 2},
        noc=Noc(mesh_rows=1),
    )


def test_catalogue_link_idled_by_a_cross_packet_on_the_next_link() -> None:
    # Three flows over L = (0,0)->(0,1) and L' = (0,1)->(0,2): Y (a -> b, L only), X (a -> c, L
    # then L') and Z (b -> e, L' only). a's block is 2 x 32 x 16 = 1024 bits = 64 flits, 640 ns
    # on a channel, 16 accesses of a 64-bit port; b's is 32 x 16 x 16 = 8192 bits, 5120 ns, 128
    # accesses. Per image L carries 32 x 640 = 20480 ns, L' 16 x 640 + 5120 = 15360: the
    # estimate's period is L's 20480 ns. a's output staging (1 KiB) holds 8 blocks until both X
    # and Y have them: Y runs 7 blocks ahead of X, and a stores its next block only once X has
    # delivered one (written at macro 2).
    # Steady state, s = when X's block 0 of image i takes L. X's block 15 of image i - 1 is then
    # on L' and X's block 1 waits behind it: X's block 1 takes L at s + 640, Y's block 7 (stored
    # once X's block 15 was written) at s + 1280; then L alternates, X's block m at s + 640 +
    # 1280 (m - 1) and on L' 1 ns later for 640 ns, Y's block 7 + j at s + 1280 + 1280 j. Y's
    # block 15 is on L at s + 11520, in at + 641 and written by + 16; b loads its 32-pixel window
    # (256 accesses), reads a bit (100), converts 32 x 16 x 8 = 4096 columns on 8 ADCs (512),
    # shift-adds 4 bits x 4096 / 4 lanes (4096), adds 3 x 16 x 32 / 4 (384), stores (128) and Z
    # reads it (128): Z is ready at s + 17781, while X's block 14 holds L' (s + 17281 to 17921).
    # Z takes L' at s + 17921 for 5120 ns, to s + 23041; L carries what it can meanwhile: Y's block
    # 4 of image i + 1 (from s + 17920), X's block 15 (s + 18560, which then waits at L'), Y's
    # blocks 5 and 6, to s + 20480. Y's block 7 is not stored (the staging holds X's block 15 and
    # Y's 0-6) and X has one block in flight: L idles. At s + 23041 X's block 15 takes L', its
    # ejection port at + 1; X reads its next block (16) and takes L at s + 23059.
    # An image every 23059 ns: L busy 20480, idle 2579 in one gap per cross packet, inside it
    # (Z takes L' 1 ns after Y's block 4 took L: 1 + 5120 + 1 + 16 + 1 - 4 x 640, the cross
    # packet and X's way back to L less the 4 packets L carries meanwhile).
    plan = cross_packet()
    r = run(plan, images=6)
    gaps = [b - a for a, b in zip(r.image_finish_ns, r.image_finish_ns[1:], strict=False)]
    assert gaps[1:4] == [23059.0] * 3  # the first image ramps up, the last one drains
    assert unit(r, "NoC/link (0,0)->(0,1)").busy_ns == 6 * 20480
    assert unit(r, "NoC/link (0,1)->(0,2)").busy_ns == 6 * 15360
    x_flow = next(f for f in r.flows if f.name.startswith("transfer a m0->m2"))
    assert x_flow.stall_ns["noc"] > 0
    # The estimate (pimsim.model.crossing): L busy 20480 ns; the pair (L, L') has A = {X} (one
    # packet, 640 ns), C = {Z} (1 packet an image of 5120 ns: one gap, min(1, X's 16)) and B =
    # {Y} (10240 ns an image), so T = 20480 + 5120 x (1 - 10240 / T) - 640, i.e.
    # T^2 - 24960 T + 5120 x 10240 = 0: T = (24960 + sqrt(24960^2 - 4 x 52428800)) / 2 =
    # 22644.72 ns (the busy-time bound alone said 20480, -11.2%)
    est = estimate(plan.arch, plan)
    root = (24960 + math.sqrt(24960**2 - 4 * 5120 * 10240)) / 2
    assert est.period_ns == pytest.approx(root, rel=1e-12)
    assert est.period_set_by == "NoC link (0, 0)->(0, 1)"
    assert round(error_pct(est.period_ns, 23059.0), 1) == -1.8
    # flagged only as a hot-spot link (L carries the whole estimated period, L' three quarters)
    assert flagged(plan) == {"hot-spot link"}
    assert any(d.startswith("hot-spot link: link (0,0)->(0,1)") for d in disagreements(plan))


# -- catalogue: scratchpad port contention from NoC traffic ---------------------------------------
