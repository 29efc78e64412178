"""The scratchpad (SPM) of a macro: finite space in named partitions, and one port.

**Port and banks** (:class:`BankedPort`). Words are interleaved over the part's ``banks``; each
bank serves one access of ``word_bits`` per ``access_latency_ns``. A job of ``b`` bits makes
``n = ceil(b / word_bits)`` accesses in rounds over ``k = min(n, banks)`` consecutive banks, from
where the port's bank pointer stands (the pointer then moves on by ``k``, so sequential traffic
spreads evenly over the banks); it holds those ``k`` banks for ``ceil(n / banks)`` accesses and
completes as one. Concurrent jobs run in parallel on disjoint banks and conflict only on the banks
they share: a job whose banks are not all free (or that finds others queued) waits in line, first
come first served, and is counted as a conflict. The users are the
loads (input windows into the PEs) and stores (results back) of every share in the macro, and the
NoC: a block sent from this macro is read through the port before it leaves, a block received is
written through it once its last flit has arrived (:class:`PortJob`; a merge's part is written
into the layer's output staging the same way). Jobs queue in arrival order (a ``port`` stall); the
bits each NoC job moves are counted as scratchpad reads at the sender and writes at the receiver.

**Space.** ``buffer_kib`` KiB, split by the compiler into fixed partitions: each remote consumer
share's input queue per operand, and each layer's output staging (a stored block, with the parts the
layer's other macros merge into it, stays there until every consumer has received it, or, for a
consumer in the same macro, until that consumer no longer needs it). A writer that finds no room in
its partition waits (``buffer`` stall: backpressure) and is served in arrival order when space is
freed. Fixed partitions keep one stream from starving another: a design deadlocks only where a
partition cannot hold what one consumer block needs. Reservations are whole bits.

**Output staging, block by block** (:class:`Staging`). A layer mapped on several macros has one
share per macro; each stores its part of every block into the layer's output staging (share 0
directly, the others through their merge flow), and the shares run at different speeds. Space there
is therefore reserved per *whole block* (every share's part) and *in block order*: the first part of
block ``k`` to arrive reserves the whole block, once blocks ``0 .. k - 1`` have theirs, and the
other parts of block ``k`` then go in without waiting. A fast share can so run at most as many
blocks ahead of the oldest unpublished block as the partition holds (it waits, a ``buffer`` stall,
for the space of its next block), and the oldest unpublished block always has its space: the slow
share is never starved by later blocks. A partition that holds one whole block (plus what its
consumers keep, as the compiler sizes it) cannot deadlock on this account. The consumer side needs
no such rule: a staged block is freed once every consumer share has it, so a slow consumer share
holds back the producer, but a share that has not taken a block has no room for it, and its queue
(its widest window plus one block) then already holds what its current block needs: it advances on
its own, and the block is taken.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from simpy.events import Event, Timeout

from pimsim.components.parts import BufferPart
from pimsim.sim.core import Clock, Pool, SimEnv, Waiter, wake


class BankedPort(Pool):
    """A scratchpad port over ``banks`` interleaved banks (see the module's docstring).

    A :class:`~pimsim.sim.core.Pool` whose servers are the banks: ``take(k)`` grants the ``k``
    consecutive banks (modulo ``banks``) from the bank pointer, only if all are free and nobody
    waits; the lane it returns is the first of them (concurrent jobs hold disjoint banks, so lanes
    never collide on a trace track). ``bank_cycles``: each bank's busy cycles; ``conflicts``: jobs
    that had to queue for a bank another job held.
    """

    __slots__ = ("bank_cycles", "conflicts", "held", "pointer")

    def __init__(self, env: SimEnv, name: str, banks: int) -> None:
        super().__init__(env, name, banks)
        self.held = [False] * banks
        self.pointer = 0
        self.bank_cycles = [0] * banks
        self.conflicts = 0

    def _fits(self, k: int) -> bool:
        n = self.capacity
        if k == n or self.free == n:  # every bank needed, or none held: the count says it
            return self.free >= k
        held, start = self.held, self.pointer
        return not any(held[(start + i) % n] for i in range(k))

    def _grant(self, k: int) -> int:
        start, n = self.pointer, self.capacity
        for i in range(k):
            self.held[(start + i) % n] = True
        self.pointer = (start + k) % n
        self.free -= k
        self.jobs += 1
        return start

    def take(self, k: int) -> int:
        if self.line or not self._fits(k):
            return -1
        return self._grant(k)

    def wait(self, k: int) -> Event:
        self.conflicts += 1
        return super().wait(k)

    def queue(self, k: int, waiter: Waiter) -> None:
        self.conflicts += 1
        super().queue(k, waiter)

    def give(self, k: int, lane: int, cycles: float) -> None:
        n = self.capacity
        self.busy_cycles += cycles * k / n
        self.free += k
        for i in range(k):
            self.held[(lane + i) % n] = False
            self.bank_cycles[(lane + i) % n] += cycles
        line = self.line
        if line:
            served = []
            while line and self._fits(line[0][0]):
                need, waiter, since = line.popleft()
                self.queued_cycles += self.env.now - since
                served.append((waiter, self._grant(need)))
            if self.on_queue is not None:
                self.on_queue(self)
            wake(served)


@dataclass
class Partition:
    """Size, bits in use, and the writers waiting for room."""

    name: str
    size: int
    used: int = 0
    peak: int = 0
    line: deque[tuple[int, Event | Waiter]] = field(default_factory=deque)


class Scratchpad:
    """The SPM of macro ``macro``."""

    def __init__(
        self, env: SimEnv, macro: int, part: BufferPart, clock: Clock, partitions: dict[str, int]
    ) -> None:
        self.env = env
        self.macro = macro
        self.capacity_bits = part.size_kib * 8192
        self.port = BankedPort(env, "SPM port", part.bank_count)
        self.banks = part.bank_count
        self.word_bits = part.word_bits
        self.access_ns = part.access_latency_ns
        self.clock = clock
        self.parts = {name: Partition(name, bits) for name, bits in partitions.items()}
        self.used = 0
        self.peak = 0
        self.on_change: Callable[[Scratchpad], None] | None = None
        self.access_pj = (0.0, 0.0)  # per bit read / written (traced energy of port jobs)

    def job(self, bits: float) -> tuple[int, int]:
        """Banks held and cycles to move ``bits``: ``n`` whole accesses of ``word_bits`` in rounds
        over ``min(n, banks)`` banks, ``ceil(n / banks)`` accesses long (no bank for no bits)."""
        accesses = math.ceil(bits / self.word_bits - 1e-9)
        if accesses <= 0:
            return 1, 0
        rounds = -(-accesses // self.banks)
        return min(accesses, self.banks), self.clock.cycles(rounds * self.access_ns)

    def reserve(self, name: str, bits: int) -> bool:
        """Take ``bits`` in partition ``name`` now if they fit and nobody in it waits."""
        p = self.parts[name]
        if p.line or p.used + bits > p.size:
            return False
        self._take(p, bits)
        return True

    def wait(self, name: str, bits: int) -> Event:
        """Wait for ``bits`` in partition ``name``."""
        event = Event(self.env)
        self.parts[name].line.append((bits, event))
        return event

    def queue(self, name: str, bits: int, waiter: Waiter) -> None:
        """Wait for ``bits`` in partition ``name``; ``waiter.granted(-1)`` is called once they are
        reserved for it."""
        self.parts[name].line.append((bits, waiter))

    def release(self, name: str, bits: int) -> None:
        """Free ``bits`` of partition ``name`` and serve, in order, the writers that now fit."""
        if bits <= 0:
            return
        p = self.parts[name]
        p.used -= bits
        self.used -= bits
        served: list[Event | Waiter] = []
        while p.line and p.used + p.line[0][0] <= p.size:
            need, waiter = p.line.popleft()
            self._take(p, need)
            served.append(waiter)
        if self.on_change is not None:
            self.on_change(self)
        for waiter in served:  # after the state is consistent: a waiter may release again
            if isinstance(waiter, Event):
                waiter.succeed()
            else:
                waiter.granted(-1)

    def _take(self, p: Partition, bits: int) -> None:
        p.used += bits
        p.peak = max(p.peak, p.used)
        self.used += bits
        self.peak = max(self.peak, self.used)
        if self.on_change is not None:
            self.on_change(self)

    def describe(self, name: str) -> str:
        """The state of a partition, for deadlock reports."""
        p = self.parts[name]
        return (
            f"partition '{name}' of macro {self.macro} holds {p.used:,} of its {p.size:,} bits "
            f"(the scratchpad has {self.capacity_bits:,})"
        )


class PortJob:
    """One access job of the port (``job``: banks held and cycles, :meth:`Scratchpad.job`) that
    calls ``then()`` once it is over: its banks are taken at once if free, else the job queues
    (first come, first served); ``started(lane, cycle)`` (if given) is called as it takes them."""

    __slots__ = ("banks", "cycles", "spm", "started", "then")

    def __init__(
        self,
        spm: Scratchpad,
        job: tuple[int, int],
        then: Callable[[], None],
        started: Callable[[int, int], None] | None = None,
    ) -> None:
        self.spm = spm
        self.banks, self.cycles = job
        self.then = then
        self.started = started
        lane = spm.port.take(self.banks)
        if lane < 0:
            spm.port.queue(self.banks, self)
        else:
            self.granted(lane)

    def granted(self, lane: int) -> None:
        port, banks, cycles, then = self.spm.port, self.banks, self.cycles, self.then
        if self.started is not None:
            self.started(lane, self.spm.env.now)

        def over(_event: object) -> None:
            port.give(banks, lane, cycles)
            then()

        Timeout(self.spm.env, cycles).callbacks.append(over)


class Staging:
    """A layer's output staging in one macro: space reserved block by block, in block order.

    ``per_block``: the whole bits of a full and of the last block of an image, summed over every
    part that is stored here (every share's part in the layer's output macro; a share's own part in
    its other macros). ``reserved`` blocks (counted over all images) have their space; a part of
    block ``k`` may be stored once ``k < reserved``. The part that finds block ``k == reserved``
    without space queues one request for it; every part of ``k`` that arrives meanwhile waits on
    that request. The space is freed by the caller (:meth:`Scratchpad.release`).
    """

    __slots__ = ("asking", "blocks", "name", "per_block", "reserved", "spm", "waiters")

    def __init__(self, spm: Scratchpad, name: str, per_block: tuple[int, int], blocks: int) -> None:
        self.spm = spm
        self.name = name
        self.per_block = per_block
        self.blocks = blocks
        self.reserved = 0
        self.asking = False
        self.waiters: list[Event | Waiter] = []

    def bits(self, g: int) -> int:
        """Whole bits of block ``g`` (over all images)."""
        return self.per_block[1 if g % self.blocks == self.blocks - 1 else 0]

    def take(self, g: int) -> bool:
        """Whether a part of block ``g`` may be stored now (reserving the block if it is next)."""
        if g < self.reserved:
            return True
        assert g == self.reserved, "parts are stored in block order"
        if self.asking:
            return False
        bits = self.bits(g)
        if not bits or self.spm.reserve(self.name, bits):
            self.reserved += 1
            return True
        return False

    def queue(self, g: int, waiter: Event | Waiter) -> None:
        """After :meth:`take` said no: ``waiter.granted(-1)`` (an event: succeeds) once block ``g``
        has its space."""
        assert g == self.reserved
        self.waiters.append(waiter)
        if not self.asking:
            self.asking = True
            self.spm.queue(self.name, self.bits(g), self)

    def wait(self, g: int) -> Event:
        """After :meth:`take` said no: an event that fires once block ``g`` has its space."""
        event = Event(self.spm.env)
        self.queue(g, event)
        return event

    def granted(self, _lane: int) -> None:
        self.asking = False
        self.reserved += 1
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            if isinstance(waiter, Event):
                waiter.succeed()
            else:
                waiter.granted(-1)

    def describe(self, g: int) -> str:
        """What a part of block ``g`` waits for, for deadlock reports."""
        img, c = divmod(g, self.blocks)
        return (
            f"the space of block {c} of image {img} ({self.bits(g):,} bits, all its parts "
            f"staged here; blocks reserved in order, {self.reserved:,} so far): "
            f"{self.spm.describe(self.name)}"
        )
