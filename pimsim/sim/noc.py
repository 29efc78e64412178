"""The network-on-chip: a 2-D mesh of routers, X-then-Y routing, every directed link a resource.

A message of ``F = ceil(bits / flit_bits)`` flits leaves its source router head first. The head
crosses one hop in ``hop_latency_ns``; on each link it must wait until the link is free (a ``noc``
stall, first come first served), and the message then occupies the link for its serialisation,
``F x flit_latency_ns``. Routers buffer a whole message (virtual cut-through), so a head blocked
further on does not hold the links behind it. The tail arrives ``hop_latency + F x flit_latency``
after the head took the last link: with no contention a message takes ``hops x hop_latency +
F x flit_latency``, and two flows crossing a link share its time.

A *flow* is the stream of one producer's blocks to one consumer share (or of one share's results to
its layer's output macro): for each block it waits for the data to exist at the source, for space
in the destination's scratchpad partition (credit-based flow control: ``buffer`` stall; a merge
takes its part's space in the layer's output staging, reserved whole block by whole block in block
order, :class:`~pimsim.sim.buffer.Staging`), then sends.
Flows between two macros of one router cross no link (serialisation only); within one macro the
block is read in place, or (a consumer share's slice, see :mod:`pimsim.sim.compiler`) handed over
at once once its queue has room. Energy: ``noc_flit_hops`` = bits / flit_bits x hops, as the estimate
charges it (partial flits cost their share).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Any

from simpy.events import Event

from pimsim.components.parts import NocPart
from pimsim.sim.buffer import Scratchpad, Staging
from pimsim.sim.core import Cause, Clock, Pool, Progress, SimEnv, whole_bits
from pimsim.sim.ir import FlowSpec, Link


class Mesh:
    """The links, created as flows need them."""

    def __init__(self, env: SimEnv, part: NocPart, clock: Clock) -> None:
        self.env = env
        self.links: dict[Link, Pool] = {}
        self.hop_cycles = clock.cycles(part.hop_latency_ns)
        self.flit_bits = part.flit_bits
        self.flit_ns = part.flit_latency_ns
        self.clock = clock
        self.on_new_link: Callable[[Link, Pool], None] | None = None

    def link(self, link: Link) -> Pool:
        pool = self.links.get(link)
        if pool is None:
            (r0, c0), (r1, c1) = link
            pool = self.links[link] = Pool(self.env, f"link ({r0},{c0})->({r1},{c1})", 1)
            if self.on_new_link is not None:
                self.on_new_link(link, pool)
        return pool

    def serial_cycles(self, bits: float) -> int:
        """Cycles a message of ``bits`` occupies a link."""
        return self.clock.cycles(math.ceil(bits / self.flit_bits - 1e-9) * self.flit_ns)


class FlowRun:
    """A flow during the run: what it waits for, and what it moved."""

    def __init__(
        self,
        env: SimEnv,
        spec: FlowSpec,
        source: Progress,
        dst: Scratchpad,
        staging: Staging | None = None,
    ) -> None:
        self.spec = spec
        self.source = source
        self.dst = dst
        self.staging = staging  # a merge: the layer's output staging (space in block order)
        self.delivered = Progress(env)
        self.sent = 0
        self.flit_hops = 0.0
        self.stall: dict[str, int] = {}
        self.waiting: tuple[str, Any, int] | None = None  # (cause, what, block over images)

    def name(self) -> str:
        s = self.spec
        return f"{s.op} {s.layer} m{s.src}->m{s.dst} ({s.partition})"


def run_flow(
    env: SimEnv, f: FlowRun, mesh: Mesh, images: int, tracer: Any
) -> Generator[Event, Any, None]:
    """The process of one flow, over every block of every image."""
    spec = f.spec
    blocks, hop = spec.blocks, mesh.hop_cycles
    links = [mesh.link(link) for link in spec.route]
    hops, last_link = len(links), len(links) - 1
    sizes = [(b, whole_bits(b), mesh.serial_cycles(b)) for b in spec.bits]
    flits = [b / mesh.flit_bits for b in spec.bits]
    source, dst, part, delivered, staging = f.source, f.dst, spec.partition, f.delivered, f.staging
    stall = f.stall
    for g in range(images * blocks):
        c = g % blocks
        li = 1 if c == blocks - 1 else 0
        bits, whole, ser = sizes[li]
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
        f.waiting = None
        f.sent += 1
        if not links:  # another macro of the same router: serialisation through the router
            if ser and spec.src != spec.dst:
                yield env.timeout(ser)
            delivered.advance()
            continue
        f.flit_hops += flits[li] * hops
        for j, link in enumerate(links):
            lane = link.take(1)
            if lane < 0:
                f.waiting = (Cause.NOC, link, g)
                t0 = env.now
                lane = yield link.wait(1)
                stall[Cause.NOC] = stall.get(Cause.NOC, 0) + env.now - t0
                f.waiting = None
            env.timeout(ser).callbacks.append(_releaser(link, lane, ser))
            if tracer is not None:
                tracer.message(link, lane, env.now, ser, spec, g // blocks, c, bits)
            if j < last_link:
                yield env.timeout(hop)
        env.timeout(hop + ser).callbacks.append(lambda _e: delivered.advance())


def _releaser(link: Pool, lane: int, cycles: int) -> Callable[[Event], None]:
    return lambda _e: link.give(1, lane, cycles)
