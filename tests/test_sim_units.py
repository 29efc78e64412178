"""The unit protocol, checked on every registered unit kind (pimsim.sim.registry).

Each stage-serving kind is built for the first stage that needs it on a tiny design
(tests/test_sim_hand.py's two crossbars of 8x8 with one ADC: conv 1x1, 8 -> 8 channels on a 1x2
map, 2 blocks of one pixel, 16-bit inputs in 4 bit iterations of the 4-bit DACs), serves a job,
counts, and reports waits. Each channel kind (NoC links, router ports, the off-chip interface) is
built for a place on the same design's hardware with an interface part added.
"""

from __future__ import annotations

import pytest

from pimsim.components.parts import InterfacePart
from pimsim.sim import compile_program
from pimsim.sim.adc import Wired, WiredBank
from pimsim.sim.buffer import Scratchpad
from pimsim.sim.core import Cause, Clock, SimEnv
from pimsim.sim.registry import (
    CHANNEL_CLASSES,
    CHANNEL_KINDS,
    LISTING_RANK,
    STAGE_UNITS,
    UNIT_CLASSES,
    UNIT_KINDS,
)
from pimsim.sim.unit import BuildContext, Place, UnitBase
from tests.test_sim_hand import run, two_crossbars, unit


def context_and_task():  # type: ignore[no-untyped-def]
    program = compile_program(two_crossbars(1))
    env = SimEnv()
    hw = program.hardware
    clock = Clock(hw.clock_ghz)
    groups = hw.macro_groups()
    named = {p.name: p.bits for p in program.partitions if p.macro == 0}
    buffer = hw.parts.buffer(groups[0].buffer_kib)
    assert buffer is not None
    spms = {0: Scratchpad(env, 0, buffer, clock, named)}
    return BuildContext(env, clock, hw, groups, spms, program.arch), program.tasks[0]


def test_every_stage_is_claimed_by_exactly_one_kind() -> None:
    claims = [s for cls in UNIT_CLASSES for s in cls.stages]
    assert len(claims) == len(set(claims)) == len(STAGE_UNITS)
    assert set(UNIT_KINDS) == {cls.kind for cls in UNIT_CLASSES}
    # the tiny design's stages: load, mvm, adc, shift_add, store: every kind serves one of them
    ctx, task = context_and_task()
    assert {STAGE_UNITS[s.name].kind for s in task.stages} == set(UNIT_KINDS)


@pytest.mark.parametrize("kind", sorted(UNIT_KINDS))
def test_unit_contract(kind: str) -> None:
    ctx, task = context_and_task()
    spec = next(s for s in task.stages if STAGE_UNITS[s.name].kind == kind)
    cls = UNIT_KINDS[kind]
    u = cls.build(ctx, 0, task, spec)
    assert isinstance(u, UnitBase) and u.kind == kind and u.macro == 0
    assert u.cause in Cause.ALL and u.name.startswith("macro 0/")
    assert cls.key(0, task, spec) == cls.key(0, task, spec)
    u.admit(ctx, task, spec)  # the design has every unit its layer needs
    # a job of no work holds nothing for no time; one of work holds at least one server
    idle = u.job(0.0, ())
    assert idle.cycles == 0
    work = u.job(spec.work[0], (("x", 3.0), ("y", 0.5)))
    assert 1 <= work.servers <= u.pool.capacity and work.cycles > 0
    # counts: what it served, times each job's actions
    assert u.counts() == {}
    work.served, idle.served = 2, 5
    assert u.counts() == {"x": 6.0, "y": 1.0}
    # per-server work only where servers are wired to fixed work: the ADC bank (one ADC here, at
    # 0.1 GS/s: 16 conversions take 160 ns; 3 such jobs are 48 conversions, 480 ns busy)
    if kind == "adc":
        wired = u.job(16.0, (), (16.0,))
        assert (wired.servers, wired.cycles) == (1, 160)
        wired.served = 3
        assert u.server_work() == (48.0,) and u.server_busy_ns() == (480.0,)
    else:
        assert u.server_work() == () and u.server_busy_ns() == ()
    # waits: nobody queued, then one job queued at cycle 0
    assert u.waits() == []
    lane = u.pool.take(u.pool.capacity)
    assert lane >= 0
    u.pool.queue(1, object())  # type: ignore[arg-type]
    assert u.waits() == [f"1 job(s) queued for {u.name} since cycle 0"]


def test_every_kind_is_registered_once_and_listed() -> None:
    channel_kinds = [k for cls in CHANNEL_CLASSES for k in cls.kinds]
    assert len(channel_kinds) == len(set(channel_kinds)) == len(CHANNEL_KINDS)
    assert not set(UNIT_KINDS) & set(CHANNEL_KINDS)
    assert set(LISTING_RANK) == set(UNIT_KINDS) | set(CHANNEL_KINDS)


#: A place for each channel kind on a 1x2 mesh: the link from router (0,0) to (0,1), macro 0's
#: ports on router (0,0), the chip's interface (nowhere).
PLACES = {
    "link": (Place(link=((0, 0), (0, 1))), "NoC/link (0,0)->(0,1)"),
    "inject": (Place(0, ((0, 0), (0, 0))), "NoC/inject m0 (0,0)"),
    "eject": (Place(0, ((0, 0), (0, 0))), "NoC/eject m0 (0,0)"),
    "io": (Place(), "NoC/off-chip interface"),
}


@pytest.mark.parametrize("kind", sorted(CHANNEL_KINDS))
def test_channel_contract(kind: str) -> None:
    ctx, _task = context_and_task()
    io = InterfacePart(
        name="io", bandwidth_gbit_s=1.0, energy_per_bit_pj=2.0, static_power_w=0.0, source="test"
    )
    hw = ctx.hardware.model_copy(
        update={"parts": ctx.hardware.parts.model_copy(update={"interface": io})}
    )
    ctx = BuildContext(ctx.env, ctx.clock, hw, ctx.groups, ctx.scratchpads, ctx.arch)
    place, name = PLACES[kind]
    u = CHANNEL_KINDS[kind].build(ctx, kind, place)
    assert isinstance(u, UnitBase) and u.kind == kind and u.macro is None
    assert u.cause in Cause.ALL and u.name == name and u.pool.capacity == 1
    # a channel serves flows' packets: no stage jobs, nothing counted on it, no fixed servers
    assert u.counts() == {} and u.server_busy_ns() == () and u.conflicts() == 0
    assert u.own_stall() == {}
    # the interface books what crossed it to the chip (key -1) and the scratchpads: nothing yet
    assert u.booked() == ([(-1, "interface_bits", 0.0)] if kind == "io" else [])
    # waits: its waiters report themselves (flows, the interface's processes), queued or not
    assert u.pool.take(1) >= 0
    u.pool.queue(1, object())  # type: ignore[arg-type]
    assert u.waits() == []


def test_units_count_what_they_served() -> None:
    # per image: 2 blocks x 4 bit iterations (16-bit inputs, 4-bit DACs) = 8 mvm jobs (the hand
    # test's 8 x 160 ns of ADC time); each reads 2 crossbars and converts 8 columns x 2 slices =
    # 16 values: 8 x 2 = 16 reads and 8 x 16 = 128 conversions; the port loads and stores the
    # 2 blocks' 8 channels x 16 bits = 128 bits each
    r = run(two_crossbars(1))
    assert r.counts["xbar_read"] == 16 and r.counts["adc_convert"] == 128
    assert r.counts["buffer_read_bits"] == r.counts["buffer_write_bits"] == 2 * 128
    assert unit(r, "macro 0/ADC bank").jobs == 8 and unit(r, "macro 0/SPM port").jobs == 4
    assert {u.kind for u in r.units} == set(UNIT_KINDS)


class Granted:
    """A queued job that records the lane it is granted."""

    def __init__(self) -> None:
        self.lanes: list[int] = []

    def granted(self, lane: int) -> None:
        self.lanes.append(lane)


def test_the_adc_bank_grants_a_job_exactly_its_wired_adcs() -> None:
    # four ADCs; a holds ADCs 0 and 1, b is wired to 1 and 2, d to 2, c to 3
    bank = WiredBank(SimEnv(), "ADC bank", 4)
    a, b, c, d = Wired.of([0, 1]), Wired.of([1, 2]), Wired.of([3]), Wired.of([2])
    assert (int(a), int(b), int(c), int(d)) == (2, 2, 1, 1)  # as many servers as it names
    assert bank.take(a) == 0
    # b needs ADC 1, which a holds: it waits although 2 of the 4 ADCs are free
    assert bank.take(b) == -1
    wb, wd = Granted(), Granted()
    bank.queue(b, wb)
    # d's ADC 2 is free, but b waits for it: d waits behind b (no job is overtaken for an ADC)
    assert bank.take(d) == -1
    bank.queue(d, wd)
    # c's ADC 3 is free and named by nobody in line: it converts at once, on lane 1
    assert bank.take(c) == 1 and bank.held == 0b1011
    # a gives back ADCs 0 and 1: b gets 1 and 2 (lane 0); d still waits for ADC 2
    bank.give(a, 0, 10)
    assert (wb.lanes, wd.lanes) == ([0], []) and bank.held == 0b1110
    # c gives back ADC 3 (d's ADC 2 is still b's); then b gives back 1 and 2: d gets 2 (lane 0)
    bank.give(c, 1, 4)
    assert wd.lanes == []
    bank.give(b, 0, 20)
    assert wd.lanes == [0] and bank.held == 0b0100 and bank.free == 3
    # with nobody in line, a plain count takes the lowest free ADCs: ADC 0, on lane 1
    assert bank.take(1) == 1 and bank.held == 0b0101
    # a job queued behind a plain count waits: the count may take any ADC
    wp, we = Granted(), Granted()
    assert bank.take(3) == -1
    bank.queue(3, wp)
    assert bank.take(Wired.of([3])) == -1
    bank.queue(Wired.of([3]), we)
    # busy time weighted by the servers held: 10 x 2 + 4 x 1 + 20 x 2 cycles of 4 ADCs
    assert bank.busy_cycles == (20 + 4 + 40) / 4 and bank.jobs == 5
