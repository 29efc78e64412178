"""The network-on-chip: a 2-D mesh of routers, X-then-Y routing, every channel a resource.

**Path of a block.** A block sent from macro ``a`` to macro ``b`` is one packet of
``F = ceil(bits / flit_bits)`` flits. The sender's network interface first reads it from ``a``'s
scratchpad through the port (:class:`~pimsim.sim.buffer.Scratchpad`), then injects it into its
router through ``a``'s *injection port* (the router's local input for ``a``: every packet ``a``
sends, to any macro, takes it in turn); the packet then crosses the route's links (X first, then
Y), contending there with the packets of every macro whose route shares a link, and leaves the last
router through ``b``'s *ejection port* (every packet ``b`` receives takes it in turn) into ``b``'s
network interface, which writes it into ``b``'s scratchpad through the port once the tail has
arrived. The ``macros_per_router`` macros of one router (ISAAC's concentrated mesh: 4 tiles) each
have their own local ports and share the router's links; two of them exchange packets through the
sender's injection and the receiver's ejection port only.

**Channels.** The injection port, every directed link and the ejection port are channels of one
packet at a time (wormhole switching, one virtual channel), taken first come, first served (a
``noc`` stall). The head reaches the next channel ``hop_latency_ns`` after taking one (a router's
pipeline and the link), so with no contention a packet over ``k`` links is delivered
``(k + 1) x hop + span(F)`` after it was injected (it crosses ``k + 1`` routers), where ``span`` is
the time a channel carries the packet's flits.

**Credits.** Each router input port buffers ``buffer_flits`` flits (``NocPart.buffer_flits``; none:
whole packets, the credit loop never limits). A flit may cross a channel only with a credit for a
slot of the buffer behind it; the slot's credit comes back ``R = router_stages + 2`` flit times
after its flit was sent (the link, the router pipeline it waits in, the credit's way back). With
``B`` slots and ``B < R`` a channel so sends ``B`` flits per ``R`` flit times: flit ``i`` leaves
``start(i) = floor(i / B) x R + i mod B`` flit times after the first, ``span(F) = start(F - 1) +
1``, and the channel may take the next packet's head only at ``start(F)``, when the credit of the
packet's flit ``F - B`` is back (``occupy(F)``; the ejection port writes into the network interface
and has no credits: ``span``). The model books credits per packet with these closed forms:
flit by flit (``tests/flit_level.py``), an uncontended path gives exactly these times on every
channel, and so does a channel that carries packets back to back when ``B`` divides ``F``; when it
does not, a busy channel's flits run on across packets (``start`` of the stream, not of each
packet) and the packet model is short by up to ``(R - B) x (F mod B) / B`` flit times a packet
(``tests/test_sim_credits.py``). A packet blocked further on holds the channels behind it
(wormhole): a channel is released once its tail has crossed and the credits allow the next head,
and no earlier than ``occupy(F - B) + 1`` flit times after the next channel was taken.

**Flows.** A *flow* is the stream of one producer's blocks to one consumer share (or of one share's
results to its layer's output macro): for each block it waits for the data to exist at the source
and for space in the destination's scratchpad partition (``buffer`` stall; a merge takes its part's
space in the layer's output staging, reserved whole block by whole block in block order,
:class:`~pimsim.sim.buffer.Staging`), then sends. Within one macro the block is read in place, or
(a consumer share's slice, see :mod:`pimsim.sim.compiler`) handed over at once once its queue has
room; no port, no channel. Counts, as they happen: scratchpad bits read at the sender and written at
the receiver, flits, flit-hops (whole flits x links) and router traversals (flits x routers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Any, ClassVar

from simpy.events import Event, Timeout

from pimsim.components.parts import NocPart
from pimsim.sim.buffer import PortJob, Scratchpad, Staging
from pimsim.sim.core import Cause, Clock, Pool, Progress, SimEnv, whole_bits
from pimsim.sim.ir import FlowSpec, Link, Position
from pimsim.sim.trace import NOC_PID
from pimsim.sim.unit import BuildContext, Place, UnitBase


class NocChannel(UnitBase):
    """A channel of the mesh as a unit: a link (kind ``link``, between two routers) or a router's
    injection or ejection port for one macro (``inject`` / ``eject``: the router's local port).
    One packet at a time; its waiters are flows, which report their own waits and stalls."""

    kinds: ClassVar[tuple[str, ...]]
    cause: ClassVar[str] = Cause.NOC
    stages: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, ctx: BuildContext, kind: str, place: Place) -> None:
        assert place.link is not None
        (r0, c0), (r1, c1) = place.link
        name = (
            f"link ({r0},{c0})->({r1},{c1})"
            if kind == "link"
            else f"{kind} m{place.macro} ({r0},{c0})"
        )
        super().__init__(f"NoC/{name}", None, Pool(ctx.env, name, 1))
        self.kind = kind
        self.link = place.link

    @classmethod
    def build(cls, ctx: BuildContext, kind: str, place: Place) -> NocChannel:
        return cls(ctx, kind, place)

    def waits(self) -> list[str]:
        return []  # the flows queued here report themselves (pimsim.sim.waits)

    def traced(self, tracer: Any) -> None:
        tracer.link_unit(self.link, self.pool)
        env = self.pool.env

        def queued(pool: Pool) -> None:
            tracer.counter(NOC_PID, f"queue {pool.name}", env.now, len(pool.line))

        self.pool.on_queue = queued


class NocLink(NocChannel):
    """A link between two routers."""

    kinds: ClassVar[tuple[str, ...]] = ("link",)


class RouterPort(NocChannel):
    """A router's injection or ejection port for one macro (its local port on the router)."""

    kinds: ClassVar[tuple[str, ...]] = ("inject", "eject")


class Mesh:
    """The packet timing rules of the NoC part, and its channels (links and every router's
    injection and ejection port), built through ``channel`` (the run's registry of channel units:
    one per kind and place) as flows need them; without ``channel``, the timing rules alone."""

    def __init__(
        self,
        env: SimEnv,
        part: NocPart,
        clock: Clock,
        channel: Callable[[str, Place], UnitBase] | None = None,
    ) -> None:
        self.env = env
        self.channel = channel
        self.hop_cycles = clock.cycles(part.hop_latency_ns)
        self.flit_bits = part.flit_bits
        self.flit_ns = part.flit_latency_ns
        self.buffer_flits = part.buffer_flits
        self.round_trip = (part.router_stages or 1) + 2  # flit times
        self.clock = clock

    def link(self, link: Link) -> Pool:
        """The pool of a link between two routers."""
        assert self.channel is not None
        return self.channel("link", Place(link=link)).pool

    def port(self, kind: str, macro: int, at: Position) -> Pool:
        """The injection (``kind="inject"``) or ejection port of macro ``macro`` on its router (at
        ``at``): the router's local port for that macro."""
        assert self.channel is not None
        return self.channel(kind, Place(macro, (at, at))).pool

    def flits(self, bits: float) -> int:
        """Whole flits of a packet of ``bits``."""
        return math.ceil(bits / self.flit_bits - 1e-9) if bits > 0 else 0

    def span_flit_times(self, flits: int) -> int:
        """Flit times a channel carries a packet of ``flits`` (credit-limited; see the module)."""
        if flits <= 0:
            return 0
        b = self.buffer_flits
        if b is None or b >= self.round_trip:
            return flits
        return (flits - 1) // b * self.round_trip + (flits - 1) % b + 1

    def occupy_flit_times(self, flits: int) -> int:
        """Flit times after a channel's first flit of a packet before it may carry the next
        packet's head: when the credit of the packet's flit ``flits - buffer_flits`` is back
        (credit-limited; see the module): ``span`` plus ``R - B`` when ``B`` divides the flits."""
        if flits <= 0:
            return 0
        b = self.buffer_flits
        if b is None or b >= self.round_trip:
            return flits
        return flits // b * self.round_trip + flits % b

    def span_cycles(self, flits: int) -> int:
        return self.clock.cycles(self.span_flit_times(flits) * self.flit_ns)

    def occupy_cycles(self, flits: int) -> int:
        return self.clock.cycles(self.occupy_flit_times(flits) * self.flit_ns)

    def hold_cycles(self, flits: int) -> int | None:
        """Cycles after the next channel was taken before a channel may be released (the credits of
        the packet's last ``buffer_flits`` flits); ``None`` when the buffer holds the packet with a
        slot to spare (a packet that fills it sends no credit back while it waits)."""
        b = self.buffer_flits
        if b is None or flits < b:
            return None
        return self.clock.cycles((self.occupy_flit_times(flits - b) + 1) * self.flit_ns)

    def serial_cycles(self, bits: float) -> int:
        """Cycles a packet of ``bits`` occupies a channel."""
        return self.span_cycles(self.flits(bits))


class FlowRun:
    """A flow during the run: what it waits for, and what it moved."""

    def __init__(
        self,
        env: SimEnv,
        spec: FlowSpec,
        source: Progress,
        src: Scratchpad,
        dst: Scratchpad,
        staging: Staging | None = None,
    ) -> None:
        self.spec = spec
        self.source = source
        self.src = src
        self.dst = dst
        self.staging = staging  # a merge: the layer's output staging (space in block order)
        self.delivered = Progress(env)
        self.sent = 0
        self.flits = 0  # whole flits sent
        self.flit_hops = 0  # flits x links
        self.router_flits = 0  # flits x routers crossed
        self.read_bits = 0.0  # scratchpad bits read at the source / written at the destination
        self.write_bits = 0.0
        self.stall: dict[str, int] = {}
        self.waiting: tuple[str, Any, int] | None = None  # (cause, what, block over images)

    def name(self) -> str:
        s = self.spec
        return f"{s.op} {s.layer} m{s.src}->m{s.dst} ({s.partition})"


def run_flow(
    env: SimEnv,
    f: FlowRun,
    mesh: Mesh,
    images: int,
    tracer: Any,
    ends: tuple[Position, Position],
) -> Generator[Event, Any, None]:
    """The process of one flow, over every block of every image; ``ends``: the routers of its
    source and destination macros."""
    src, dst_macro = f.spec.src, f.spec.dst
    spec = f.spec
    blocks, hop = spec.blocks, mesh.hop_cycles
    channels = (
        [mesh.port("inject", src, ends[0])]
        + [mesh.link(link) for link in spec.route]
        + [mesh.port("eject", dst_macro, ends[1])]
    )
    last = len(channels) - 1
    links = len(spec.route)
    sizes = []
    for b in spec.bits:
        n = mesh.flits(b)
        sizes.append(
            (
                b,
                whole_bits(b),
                n,
                mesh.span_cycles(n),
                mesh.occupy_cycles(n),
                mesh.hold_cycles(n),
                f.src.job(b),
                f.dst.job(b),
            )
        )
    source, dst, part, delivered, staging = f.source, f.dst, spec.partition, f.delivered, f.staging
    stall = f.stall
    label = f"{spec.op} {spec.layer} m{spec.src}->m{spec.dst}"

    def write(bits: float, job: tuple[int, int], g: int) -> None:  # the tail is in: dst's SPM
        f.write_bits += bits
        if tracer is None:
            PortJob(dst, job, delivered.advance)
            return
        cycles = job[1]
        img, c = divmod(g, blocks)
        pj = bits * dst.access_pj[1]

        def started(lane: int, t: int) -> None:
            tracer.access(dst.port, lane, spec.dst, t, cycles, label, spec.layer, img, c, pj)

        PortJob(dst, job, delivered.advance, started)

    for g in range(images * blocks):
        c = g % blocks
        bits, whole, flits, span, occupy, hold, read, wrote = sizes[1 if c == blocks - 1 else 0]
        if source.count <= g:
            f.waiting = (Cause.INPUT, source, g)
            t0 = env.now
            yield source.wait(g + 1)
            stall[Cause.INPUT] = stall.get(Cause.INPUT, 0) + env.now - t0
        if spec.in_place:  # the consumer reads it where it is stored
            f.waiting = None
            f.sent += 1
            delivered.advance()
            continue
        if staging is not None:  # a merge: its block's space, reserved in block order
            if not staging.take(g):
                f.waiting = (Cause.BUFFER, staging, g)
                t0 = env.now
                yield staging.wait(g)
                stall[Cause.BUFFER] = stall.get(Cause.BUFFER, 0) + env.now - t0
        elif whole and not dst.reserve(part, whole):
            f.waiting = (Cause.BUFFER, whole, g)
            t0 = env.now
            yield dst.wait(part, whole)
            stall[Cause.BUFFER] = stall.get(Cause.BUFFER, 0) + env.now - t0
        f.sent += 1
        if spec.src == spec.dst:  # a slice of a block handed over within the macro
            f.waiting = None
            delivered.advance()
            continue
        banks, read = read
        if read:  # the network interface reads the block from the source's scratchpad
            port = f.src.port
            lane = port.take(banks)
            if lane < 0:
                f.waiting = (Cause.PORT, port, g)
                t0 = env.now
                lane = yield port.wait(banks)
                stall[Cause.PORT] = stall.get(Cause.PORT, 0) + env.now - t0
            f.waiting = None
            if tracer is not None:
                pj = bits * f.src.access_pj[0]
                tracer.access(
                    port, lane, spec.src, env.now, read, label, spec.layer, g // blocks, c, pj
                )
            yield env.timeout(read)
            port.give(banks, lane, read)
        f.waiting = None
        f.read_bits += bits
        f.flits += flits
        f.flit_hops += flits * links
        f.router_flits += flits * (links + 1)
        held: tuple[Pool, int, int, int] | None = None  # channel behind the head, lane, at, flits
        image = g // blocks
        for j, channel in enumerate(channels):
            lane = channel.take(1)
            if lane < 0:
                f.waiting = (Cause.NOC, channel, g)
                t0 = env.now
                lane = yield channel.wait(1)
                stall[Cause.NOC] = stall.get(Cause.NOC, 0) + env.now - t0
                f.waiting = None
            now = env.now
            hops = flits if 0 < j < last else 0
            if held is not None:  # the packet fills more than the buffer: held till now
                assert hold is not None
                held_for = _release(env, held[:3], occupy, hold)
                if tracer is not None:
                    tracer.message(
                        held[0], held[1], held[2], held_for, spec, image, c, bits, held[3]
                    )
                held = None
            if hold is None or j == last:
                busy = span if j == last else occupy  # no credits behind the ejection port
                Timeout(env, busy).callbacks.append(_releaser(channel, lane, busy))
                if tracer is not None:
                    tracer.message(channel, lane, now, busy, spec, image, c, bits, hops)
            else:
                held = (channel, lane, now, hops)
            if j < last:
                yield env.timeout(hop)
        Timeout(env, span).callbacks.append(lambda _e, b=bits, w=wrote, g=g: write(b, w, g))


def _release(env: SimEnv, held: tuple[Pool, int, int], occupy: int, hold: int) -> int:
    """Release a channel taken at ``held[2]`` once the packet's tail has crossed it and the
    credits allow the next head: ``occupy`` after it was taken, and no earlier than ``hold`` after
    the next channel was taken (now); the cycles it is held."""
    channel, lane, taken = held
    now = env.now
    end = max(taken + occupy, now + hold)
    Timeout(env, end - now).callbacks.append(_releaser(channel, lane, end - taken))
    return end - taken


def _releaser(link: Pool, lane: int, cycles: int) -> Callable[[Event], None]:
    return lambda _e: link.give(1, lane, cycles)
