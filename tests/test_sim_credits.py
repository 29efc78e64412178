"""Router buffers and credits: the simulator's per-packet closed forms (pimsim.sim.noc) against the
flit-level reference of tests/flit_level.py, on one packet and on packets back to back at a shared
link; and the closed forms on a hand design.

Library: tests/hand.py through tests/test_sim_comm.py's ``lib`` (1 GHz clock, so a cycle is a ns;
16-bit flits, 1 ns per hop and per flit unless a test says otherwise).
"""

from __future__ import annotations

import pytest

from pimsim.arch.schema import Noc
from pimsim.components.parts import NocPart
from pimsim.model.estimate import estimate
from pimsim.model.plan import Plan
from pimsim.sim.core import Clock, SimEnv
from pimsim.sim.noc import Mesh
from tests.flit_level import Packet, delivered, step
from tests.test_sim_comm import error_pct, flagged, lib
from tests.test_sim_hand import add_two, add_two_macros, design, layer, run, two_convs, unit

# add_two's routes (tests/test_sim_hand.py, a 1x3 mesh): a's rows from macro 0 cross two links,
# b's from macro 1 one; both end at e's ejection port (macro 2) and share the link (0,1)->(0,2).
A_PATH = ("inject m0", "link (0,0)->(0,1)", "link (0,1)->(0,2)", "eject m2")
B_PATH = ("inject m1", "link (0,1)->(0,2)", "eject m2")
SHARED = "link (0,1)->(0,2)"


def mesh(buffer: int | None, stages: int, hop: float = 1.0) -> Mesh:
    data = lib().model_dump(mode="json")["nocs"][0]
    data.update(buffer_flits=buffer, router_stages=stages, hop_latency_ns=hop)
    return Mesh(SimEnv(), NocPart.model_validate(data), Clock(1.0))


def shared_link_starts(buffer: int, stages: int, flits: int, pairs: int = 6) -> list[int]:
    """When each packet's head starts crossing the shared link, flit by flit, with ``pairs`` of a
    and b packets all waiting from time 0 (the link saturated, as it is when it sets the period)."""
    packets = [Packet(0, path, flits) for _ in range(pairs) for path in (A_PATH, B_PATH)]
    x = step(packets, buffer, stages)
    return sorted(x[n][p.path.index(SHARED)][0] for n, p in enumerate(packets))


@pytest.mark.parametrize("stages", [1, 2, 3])
@pytest.mark.parametrize("buffer", [1, 2, 3, 4, 6, None])
def test_packet_credits_equal_flit_by_flit_on_an_uncontended_path(
    buffer: int | None, stages: int
) -> None:
    # with hop_latency = (1 + stages) flit times (a link and the router pipeline), the packet
    # model delivers at (links + 1) x hop + span(F): the same time as the flit-level model
    hop = 1 + stages
    m = mesh(buffer, stages, float(hop))
    for links in (0, 1, 3):
        path = ("inject", *(f"link {i}" for i in range(links)), "eject")
        for flits in range(1, 21):
            x = step([Packet(0, path, flits)], buffer, stages)
            assert (links + 1) * hop + m.span_flit_times(flits) == delivered(x, 0), (links, flits)


@pytest.mark.parametrize(("buffer", "stages"), [(1, 1), (2, 1), (1, 2), (2, 2), (3, 2), (4, 3)])
def test_back_to_back_packets_equal_flit_by_flit_when_the_buffer_divides_them(
    buffer: int, stages: int
) -> None:
    # a saturated shared link: each packet's head waits for the credit of the previous packet's
    # flit F - B, so the flits run on as one stream, B per round trip R: with B dividing F the
    # next head starts F / B x R after the last, which is occupy(F); span(F) (the tail's crossing)
    # is R - B shorter. 1-flit buffers, 1 stage, 32 flits: 96 flit times a packet, span 94.
    m = mesh(buffer, stages)
    r = stages + 2
    for flits in (buffer, 4 * buffer, 32 // buffer * buffer):
        starts = shared_link_starts(buffer, stages, flits)
        gaps = {b - a for a, b in zip(starts, starts[1:], strict=False)}
        assert gaps == {flits // buffer * r} == {m.occupy_flit_times(flits)}
        assert m.occupy_flit_times(flits) - m.span_flit_times(flits) == r - buffer


@pytest.mark.parametrize(
    ("buffer", "stages", "flits"), [(2, 1, 3), (2, 1, 5), (4, 3, 30), (3, 2, 8)]
)
def test_back_to_back_packets_outrun_flit_by_flit_by_their_last_group(
    buffer: int, stages: int, flits: int
) -> None:
    # when B does not divide F the flit-level stream runs on across packets: packet p's head starts
    # at start(p x F) = floor(p F / B) R + p F mod B, F R / B flit times a packet on average. The
    # packet model restarts each packet's pattern at its head: occupy(F) = floor(F / B) R + F mod B,
    # short by (F mod B) (R - B) / B a packet (2 flits of buffer, 5 flits, R = 3: 7 against 7.5;
    # the flit-level gaps alternate 7 and 8). A documented difference (docs/sim-hardware.md).
    m = mesh(buffer, stages)
    r = stages + 2
    starts = shared_link_starts(buffer, stages, flits, pairs=2 * buffer)
    first = starts[0]
    assert starts == [
        first + p * flits // buffer * r + p * flits % buffer for p in range(4 * buffer)
    ]
    per_packet = (starts[-1] - first) / (len(starts) - 1)
    # short by (F mod B) (R - B) / B flit times a packet, in whole B-ths of a flit time
    short_b = flits * r - buffer * m.occupy_flit_times(flits)
    assert short_b == flits % buffer * (r - buffer) > 0
    assert min(b - a for a, b in zip(starts, starts[1:], strict=False)) == m.occupy_flit_times(
        flits
    )
    assert per_packet > m.occupy_flit_times(flits)


@pytest.mark.parametrize(
    ("buffer", "stages", "flits", "b_flits"),
    [
        (4, 1, 32, 32),
        (4, 1, 30, 30),
        (1, 1, 32, 32),
        (2, 1, 8, 8),
        (4, 3, 32, 32),
        # a packet as long as the buffer fills it while it waits: no credit comes back, so it
        # holds the link behind it too (the flit-level c takes it at 45, 51, 35 flit times)
        (4, 3, 4, 32),
        (2, 1, 2, 32),
        (4, 1, 4, 32),
    ],
)
def test_a_waiting_packet_holds_the_link_behind_it_as_flit_by_flit(
    buffer: int, stages: int, flits: int, b_flits: int
) -> None:
    # b's packet takes the shared link at 1 + stages; a's (injected 1 flit time later, two links)
    # waits there for b's tail while holding (0,0)->(0,1) (wormhole); c's packet, from another
    # port of router (0,0) over (0,0)->(0,1) only, waits behind a's. The packet model frees
    # (0,0)->(0,1) for c at max(taken + occupy(F), next link taken + occupy(F - B) + 1): the
    # flit-level time of c's head (4-flit buffers, 32 flits, 1 stage: 63 flit times).
    l1 = "link (0,0)->(0,1)"
    c_path = ("inject m3", l1, "eject m1")
    x = step(
        [Packet(0, B_PATH, b_flits), Packet(1, A_PATH, flits), Packet(3, c_path, flits)],
        buffer,
        stages,
    )
    a_l1, a_shared, c_l1 = x[1][1][0], x[1][2][0], x[2][1][0]
    m = mesh(buffer, stages, float(1 + stages))
    hold = m.hold_cycles(flits)
    assert hold is not None and a_shared > a_l1 + 1 + stages  # a waited at the shared link
    assert c_l1 == max(a_l1 + m.occupy_flit_times(flits), a_shared + hold)


def test_the_shared_link_of_add_two_runs_as_the_flit_level_stream() -> None:
    # add_two at 4 ns per flit with 1-flit buffers (docs/disagreements.md, router buffer
    # starvation): the shared link sets the period and carries 4 packets of 32 flits an image.
    # Flit by flit they run back to back at one flit per R = 3 flit times: 96 flit times a packet
    # (not the packet's span of 94), so 4 x 96 x 4 = 1,536 ns an image; the simulator's period.
    starts = shared_link_starts(1, 1, 32)
    assert {b - a for a, b in zip(starts, starts[1:], strict=False)} == {96}
    r = run(add_two(4.0, lib(flit_ns=4.0, buffer_flits=1)), images=4)
    assert r.period_ns == 4 * 96 * 4.0
    assert unit(r, SHARED.replace("link", "NoC/link")).busy_ns == 16 * 96 * 4.0


def test_a_starved_router_buffer_stretches_each_packet() -> None:
    # two_convs (test_sim_hand): y's block 1 (128 bits = 8 flits) is stored at 870 and read by 872.
    # With one flit of buffer and a credit round trip of 1 + 2 = 3 flit times, a channel sends a
    # flit every 3 ns: the 8 flits take 7 x 3 + 1 = 22 ns on each channel instead of 8. Two
    # routers (injection, the link) by 874, the tail by 896, written (2 accesses) by 898: z starts
    # loading then, 14 ns later than with deep buffers (884).
    r = run(two_convs(lib(buffer_flits=1)))
    assert layer(r, "z").start_ns == (898.0,)
    (flow,) = r.flows  # y's 4 blocks of 8 flits over one link: 2 routers each
    assert (flow.flits, flow.flit_hops, flow.router_flits) == (32, 32, 64)
    assert flow.read_bits == flow.written_bits == 4 * 128
    # the link is held 8 x 3 = 24 ns a block, till the last flit's credit is back (occupy)
    assert unit(r, "NoC/link (0,0)->(1,0)").busy_ns == 4 * 24  # y's 4 blocks
    # two flits of buffer: 3 x 3 + 1 + 1 = 11 ns per packet, z starts at 874 + 11 + 2 = 887
    assert layer(run(two_convs(lib(buffer_flits=2))), "z").start_ns == (887.0,)
    # three flits cover the round trip: back to 8 ns per packet
    assert layer(run(two_convs(lib(buffer_flits=3))), "z").start_ns == (884.0,)


# -- catalogue: wormhole blocking behind a waiting packet ----------------------------------------
CHAIN_ADD = """
  g (float[1,8,2,4] x, float[8,8,1,1] w1, float[8,8,1,1] w2) => (float e) {
    a = Conv(x, w1)
    b = Conv(a, w2)
    e = Add(a, b)
  }"""


def chain_add(flit_ns: float = 10.0, **noc: int) -> Plan:
    """add_two's macros and mesh (a in macro 0, b in 1, e in 2 on a 1x3 mesh) with b fed by a: a's
    rows go to b over (0,0)->(0,1) and to e over it and (0,1)->(0,2), which b's rows to e share."""
    return design(
        CHAIN_ADD,
        *add_two_macros(),
        lib(flit_ns=flit_ns, **noc),
        hosts={"e": 2},
        noc=Noc(mesh_rows=1),
    )


def test_catalogue_wormhole_blocking_behind_a_waiting_packet() -> None:
    # chain_add at 10 ns per flit: every packet is a row of 512 bits = 32 flits, 320 ns on a
    # channel. Per image (0,0)->(0,1) carries a's 2 rows to b and 2 to e, (0,1)->(0,2) a's 2 to e
    # and b's 2: 4 x 320 = 1280 ns each, which sets the period with whole-packet buffers, as the
    # estimate says (its busiest link, exact). With 4-flit buffers (round trip 3 flit times: no
    # starvation) a packet that waits holds the channels behind it: once an image a's row to e
    # reaches (0,1)->(0,2) 147 ns before b's row has crossed it (the steady cycle of the trace:
    # b's rows come 10 ns later than they would without its first-bit DAC conversions, 137 then),
    # and holds (0,0)->(0,1) till its tail has crossed: 1 + 147 ns to the next link, then till the
    # credits of its last 4 flits allow, occupy(32 - 4) + 1 = 29 flit times = 290 ns: 438 ns in
    # all, 118 more than its 320. a's next row to b waits behind it, and so b and its row to e:
    # (0,0)->(0,1) carries 1280 + 118 = 1398 ns an image, the period. The estimate has no blocking
    # term: 1280 ns, -8.4 %; flagged only as a hot-spot link.
    deep = run(chain_add(), images=4)
    assert deep.period_ns == 1280.0
    plan = chain_add(buffer_flits=4)
    r = run(plan, images=4)
    gaps = [b - a for a, b in zip(r.image_finish_ns, r.image_finish_ns[1:], strict=False)]
    assert gaps == [1398.0] * 3 and r.period_ns == 1398.0
    assert unit(r, "NoC/link (0,0)->(0,1)").busy_ns == 4 * (4 * 320 + 118)
    assert unit(r, "NoC/link (0,1)->(0,2)").busy_ns == 4 * 4 * 320
    est = estimate(plan.arch, plan)
    assert est.period_ns == 1280.0
    assert round(error_pct(est.period_ns, r.period_ns), 1) == -8.4
    assert flagged(plan) == {"hot-spot link"}
