"""Communication conditions under which the estimate is knowingly wrong (docs/disagreements.md,
"Communication"), for :func:`pimsim.diagnose.disagreements`.

Each is found from the compiled program's flows and the estimate's period, in closed form (the
simulator's own rules for a packet's time on a channel, :class:`~pimsim.sim.noc.Mesh`):

- **router buffer starvation**: router buffers smaller than the credit round trip: a link carries
  ``buffer_flits`` flits per ``router_stages + 2`` flit times, the estimate one per flit time;
- **router port contention**: a macro's injection or ejection port on its router (every packet it
  sends or receives takes it in turn) carries at least half the estimate's period per image, and
  more than the busiest link leaving (entering) that router: the estimate bounds the period by the
  port's flits, but its latency has no queue for it;
- **hot-spot link**: a link carries at least half the period per image: the period may be right
  (the estimate bounds it by the busiest link) but its queue delays every image, which the
  estimate's latency leaves out;
- **interface-bound**: the off-chip interface is busy at least half the period per image: images
  wait for their input, which the estimate's latency leaves out;
- **scratchpad port contention from NoC traffic**: a port busy at least half the period per image,
  a quarter of it or more for NoC transfers: they queue with the loads and stores.
- **scratchpad bank rounds**: a port whose jobs (loads, stores, NoC reads and writes) take, in
  whole rounds of accesses over its banks, at least half the period per image and 5% more
  than their bits at the port's rate, which is what the estimate charges. Bank *conflicts* between
  concurrent jobs depend on when each job arrives and where the port's bank pointer stands: the
  program does not say, so they are not detected; the whole-rounds time is what the port needs when
  its jobs do not overlap, the rate's time when they overlap perfectly.

"At least half the period" is where queueing starts to show in the hand designs
(tests/test_sim_comm.py); it is a stated threshold, not a fitted one.
"""

from __future__ import annotations

import math
from collections import defaultdict

from pimsim.components.parts import BufferPart
from pimsim.model.plan import Plan
from pimsim.sim.core import Clock, SimEnv
from pimsim.sim.ir import Program
from pimsim.sim.noc import Mesh

#: A channel (or port) this loaded, as a share of the estimate's period, is flagged.
BUSY_SHARE = 0.5
#: A scratchpad port's share of NoC work from which its contention is flagged.
NOC_PORT_SHARE = 0.25
#: How much longer than the port rate's time a port's whole rounds of accesses must be to be flagged:
#: the 5% throughput agreement the validation aims at (issue 11, point 7).
ROUNDS_SHARE = 0.05


def communication_disagreements(plan: Plan, program: Program, period: float) -> list[str]:
    """One line per communication condition of ``plan`` (compiled as ``program``; ``period``: the
    estimate's period, ns)."""
    hw = plan.arch.hardware
    noc = hw.parts.noc
    mesh = Mesh(SimEnv(), noc, Clock(hw.clock_ghz))
    out: list[str] = []
    flows = [f for f in program.flows if not f.in_place and f.src != f.dst]
    if flows and noc.buffer_flits is not None and noc.buffer_flits < mesh.round_trip:
        out.append(
            f"router buffer starvation: {noc.buffer_flits}-flit router buffers are under the "
            f"credit round trip of {mesh.round_trip} flit times: a link carries "
            f"{noc.buffer_flits} flits per {mesh.round_trip}, the estimate counts one per flit time"
        )
    channel_ns: dict[str, float] = defaultdict(float)
    # each link's ns per image, keyed (out / in, the router it leaves / enters, the link)
    Link = tuple[tuple[int, int], tuple[int, int]]
    link_ns: dict[tuple[str, tuple[int, int], Link], float] = defaultdict(float)
    noc_port_ns: dict[int, float] = defaultdict(float)
    noc_jobs: dict[int, list[tuple[int, float]]] = defaultdict(list)  # (jobs, bits each)
    at = program.positions
    for f in flows:
        counts = ((f.blocks - 1, f.bits[0]), (1, f.bits[1]))
        # a channel with credits behind it is held until they allow the next head (occupy); the
        # ejection port, with none, for the packet's span
        span = sum(n * mesh.span_flit_times(mesh.flits(b)) * mesh.flit_ns for n, b in counts)
        held = sum(n * mesh.occupy_flit_times(mesh.flits(b)) * mesh.flit_ns for n, b in counts)
        (r0, c0), (r1, c1) = at[f.src], at[f.dst]
        channel_ns[f"router port inject m{f.src} ({r0},{c0})"] += held
        channel_ns[f"router port eject m{f.dst} ({r1},{c1})"] += span
        for (a, b), (c, d) in f.route:
            channel_ns[f"link ({a},{b})->({c},{d})"] += held
            link_ns[("inject", (a, b), ((a, b), (c, d)))] += held
            link_ns[("eject", (c, d), ((a, b), (c, d)))] += held
        bits = sum(n * b for n, b in counts)
        for m in (f.src, f.dst):
            part = hw.parts.buffer(plan.groups[m].buffer_kib)
            if part is not None:
                noc_port_ns[m] += bits / part.port_bits_per_ns
                noc_jobs[m] += counts
    links_at: dict[tuple[str, str], float] = defaultdict(float)
    for (kind, (r, c), _link), ns in link_ns.items():  # the busiest link out of / into a router
        links_at[(kind, f"({r},{c})")] = max(links_at[(kind, f"({r},{c})")], ns)
    for name, ns in sorted(channel_ns.items()):
        if period and ns >= BUSY_SHARE * period:
            if name.startswith("router port"):
                words = name.split(" ")  # router port KIND mN (r,c)
                if ns <= links_at[(words[2], words[4])]:
                    continue  # a link there is as busy: the estimate's link bound sees it
                out.append(
                    f"router port contention: {name[12:]} carries {ns:.4g} ns of packets per "
                    f"image, more than any link at its router (estimated period {period:.4g} ns): "
                    "packets queue for it, which the estimate's latency leaves out"
                )
            else:
                out.append(
                    f"hot-spot link: {name} carries {ns:.4g} ns of packets per image (estimated "
                    f"period {period:.4g} ns): its queue delays images, which the estimate's "
                    "latency leaves out"
                )
    io = hw.parts.interface
    if io is not None and period:
        bits = sum(s.size for s in plan.network.inputs.values())
        bits += sum(x.out_shape.size for x in plan.network.outputs)
        io_ns = bits * hw.activation_bits / io.bandwidth_gbit_s
        if io_ns >= BUSY_SHARE * period:
            out.append(
                f"interface-bound: the off-chip interface is busy {io_ns:.4g} ns per image "
                f"(estimated period {period:.4g} ns): images wait for their input, which the "
                "estimate's latency leaves out"
            )
    for m, ns in sorted(noc_port_ns.items()):
        total = ns + _own_port_ns(plan, program, m)
        if period and total >= BUSY_SHARE * period and ns >= NOC_PORT_SHARE * total:
            out.append(
                f"scratchpad port contention from NoC traffic: macro {m}'s port is busy "
                f"{total:.4g} ns per image, {ns:.4g} of it for NoC transfers (estimated period "
                f"{period:.4g} ns): they queue with its loads and stores"
            )
    for m in range(len(plan.groups)) if period else ():
        part = hw.parts.buffer(plan.groups[m].buffer_kib)
        if part is None:
            continue
        jobs = _own_port_jobs(program, m) + noc_jobs.get(m, [])
        rate_ns = sum(n * b for n, b in jobs) / part.port_bits_per_ns
        rounds_ns = sum(n * _rounds(part, b) for n, b in jobs) * part.access_latency_ns
        if rounds_ns >= BUSY_SHARE * period and rounds_ns >= (1 + ROUNDS_SHARE) * rate_ns:
            out.append(
                f"scratchpad bank rounds: macro {m}'s port jobs take {rounds_ns:.4g} ns per image "
                f"in whole rounds of accesses over its {part.bank_count} bank(s), {rate_ns:.4g} ns at "
                f"its rate (estimated period {period:.4g} ns): the estimate charges the rate"
            )
    return out


def _rounds(part: BufferPart, bits: float) -> int:
    """Rounds of accesses over the banks of ``part`` one job of ``bits`` takes (the simulator's
    rule, :meth:`pimsim.sim.buffer.Scratchpad.job`)."""
    accesses = math.ceil(bits / part.word_bits - 1e-9) if bits > 0 else 0
    return -(-accesses // part.bank_count)


def _own_port_jobs(program: Program, macro: int) -> list[tuple[int, float]]:
    """The loads and stores of macro ``macro``'s shares per image: (jobs, bits each)."""
    jobs: list[tuple[int, float]] = []
    for t in program.tasks:
        if t.macro == macro:
            for s in (t.stages[0], t.stages[-1]):
                jobs += [(t.blocks - 1, s.work[0]), (1, s.work[1])]
    return jobs


def _own_port_ns(plan: Plan, program: Program, macro: int) -> float:
    """ns per image macro ``macro``'s port spends on its shares' loads and stores."""
    part = plan.arch.hardware.parts.buffer(plan.groups[macro].buffer_kib)
    if part is None:
        return 0.0
    return sum(n * b for n, b in _own_port_jobs(program, macro)) / part.port_bits_per_ns
