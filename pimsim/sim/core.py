"""The simulator's kernel pieces: the run's environment, the clock, progress counters, pools.

Picture a macro as a workshop. Every hardware unit that several jobs can ask for (the ADC bank, the
shift-and-add units, the scratchpad port, a NoC link) is a :class:`Pool` of identical servers: a job
asks for ``k`` servers, waits in line (first come, first served) while they are taken, holds them
for a number of cycles, and gives them back. Streams between layers advance :class:`Progress`
counters: a flow that needs block ``n`` waits until its producer's counter reaches ``n``, and is
woken (or called back) by the producer's ``advance``.

Both are thin layers over SimPy events, written to cost no event at all when nothing has to wait: a
free pool is taken synchronously (``take``) and only a job that must queue yields an event
(``wait``, for generator processes) or is called back (``queue``, for the stages of
:mod:`pimsim.sim.stage`). This keeps the simulation to a few events per bit iteration of a layer's
PE group.

All state lives in objects created per run inside one :class:`SimEnv`; nothing here is global.
"""

from __future__ import annotations

import heapq
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

import simpy
from simpy.events import NORMAL, Event


class SimEnv(simpy.Environment):
    """The run's SimPy environment; time (``now``) is a whole number of cycles.

    Only SimPy's public API is used: the events scheduled are counted in :meth:`schedule` (one more
    Python call per event, a few per cent of the hot path; see ``docs/architecture.md``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.n_scheduled = 0

    def schedule(self, event: Event, priority: int = NORMAL, delay: float = 0) -> None:
        """Schedule ``event`` (SimPy's ``Environment.schedule``), counting it."""
        self.n_scheduled += 1
        super().schedule(event, priority, delay)

    def scheduled(self) -> int:
        """Events scheduled so far (all of them processed once :meth:`run` has returned)."""
        return self.n_scheduled


class RunStopped(Exception):
    """A guard stopped the run (:class:`GuardedEnv`); ``why`` says which."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class GuardedEnv(SimEnv):
    """A :class:`SimEnv` that stops the run before an event past ``max_cycles``, or once the run has
    taken ``max_wall_s`` seconds (checked every 4,096 events: a fraction of a second even on a
    loaded machine), by raising :class:`RunStopped`.

    Used only when a guard is asked for: the check costs each event a call.
    """

    def __init__(self, max_cycles: int | None, max_wall_s: float | None) -> None:
        super().__init__()
        self.max_cycles = math.inf if max_cycles is None else max_cycles
        self.max_wall_s = max_wall_s
        self.deadline = math.inf
        self.stepped = 0

    def start_clock(self, now: float) -> None:
        """Start the wall-clock guard at ``now`` (``time.perf_counter()``)."""
        if self.max_wall_s is not None:
            self.deadline = now + self.max_wall_s

    def step(self) -> None:
        when = self.peek()  # the next event's time; infinity when none is left (the run ends)
        if self.max_cycles < when < math.inf:
            raise RunStopped(f"it reached the cycle limit ({self.max_cycles:,} cycles)")
        super().step()
        self.stepped += 1
        if not self.stepped & 0xFFF and time.perf_counter() > self.deadline:
            raise RunStopped(f"it ran out of wall-clock time ({self.max_wall_s:g} s)")


class Cause:
    """Why a stage that has work is not working (plain strings: they are dictionary keys on the
    hot path, where an enum's Python-level hash would cost more than the rest of the booking)."""

    INPUT = "input"  # its input data (upstream stage, producer layer) is not there yet
    ADC = "adc"  # the macro's ADC bank: busy with other work, or slower than the crossbars
    BUFFER = "buffer"  # no scratchpad space for its output (backpressure)
    NOC = "noc"  # a NoC link on the way, or the data still in flight
    PORT = "port"  # the scratchpad port, used by another load or store
    UNITS = "units"  # digital units of the macro, busy with other work
    PE = "pe"  # the crossbars, still reading earlier bits
    DAC = "dac"  # the row DACs, still converting the bit's input values
    IO = "io"  # the off-chip interface: the input not yet on chip, or the channel busy
    ALL = (INPUT, ADC, BUFFER, NOC, PORT, UNITS, PE, DAC, IO)


class Clock:
    """The base clock: time advances in integer cycles of ``1 / ghz`` ns."""

    __slots__ = ("ghz",)

    def __init__(self, ghz: float) -> None:
        self.ghz = ghz

    def cycles(self, ns: float) -> int:
        """Whole cycles covering ``ns`` (0 for none): an activity holds every cycle it touches."""
        return math.ceil(ns * self.ghz - 1e-9) if ns > 0 else 0

    def ns(self, cycles: float) -> float:
        """Cycles to ns."""
        return cycles / self.ghz


def whole_bits(bits: float) -> int:
    """Bits rounded up to a whole number, as scratchpad space is reserved."""
    return math.ceil(bits - 1e-9) if bits > 0 else 0


def whole_parts(parts: list[tuple[float, float]]) -> tuple[int, int]:
    """The space of a full and of a last block made of ``parts`` (bits of each part's full and last
    block): every part rounded up to whole bits, as each is reserved. The compiler sizes partitions
    with this, so a partition that holds its blocks on paper holds them in the run."""
    return sum(whole_bits(p[0]) for p in parts), sum(whole_bits(p[1]) for p in parts)


class Progress:
    """A monotone counter of items done, with waiters woken when it reaches their threshold.

    ``listeners`` are called with the new count after every advance (used to gather results and to
    free buffer space without a process of their own).
    """

    __slots__ = ("count", "env", "listeners", "waiters")

    def __init__(self, env: SimEnv) -> None:
        self.env = env
        self.count = 0
        self.waiters: list[tuple[int, Event]] = []
        self.listeners: list[Callable[[int], None]] = []

    def advance(self, by: int = 1) -> None:
        self.count += by
        if self.waiters:
            count, keep = self.count, []
            for need, event in self.waiters:
                if need <= count:
                    event.succeed()
                else:
                    keep.append((need, event))
            self.waiters = keep
        if self.listeners:
            count = self.count
            for listener in self.listeners:
                listener(count)

    def wait(self, need: int) -> Event:
        """An event that fires once the count reaches ``need`` (call only when it has not)."""
        event = Event(self.env)
        self.waiters.append((need, event))
        return event


def least_of(env: SimEnv, sources: list[Progress]) -> Progress:
    """A counter that follows the least of ``sources`` (what every one of them has reached): the
    source itself when there is one."""
    if len(sources) == 1:
        return sources[0]
    least = Progress(env)

    def follow(_count: int) -> None:
        new = min(s.count for s in sources)
        if new > least.count:
            least.advance(new - least.count)

    for s in sources:
        s.listeners.append(follow)
    return least


class Waiter(Protocol):
    """Something queued that is called back instead of resumed."""

    def granted(self, lane: int) -> None: ...


def wake(served: list[tuple[Event | Waiter, int]]) -> None:
    """Hand each served waiter its lane: an event succeeds with it, a :class:`Waiter` is called.
    Called once the server's state is consistent, since a waiter may act on it at once."""
    for waiter, lane in served:
        if isinstance(waiter, Event):
            waiter.succeed(lane)
        else:
            waiter.granted(lane)


class Pool:
    """``capacity`` identical servers, handed out first come, first served.

    ``busy_cycles`` accumulates server-weighted busy time (a job holding ``k`` of ``n`` servers for
    ``d`` cycles adds ``d * k / n``): for an ADC bank, the time the whole bank would need for the
    same conversions. ``queued_cycles`` is the time jobs spent in line. ``lane`` numbers (the
    smallest free one per job) give every concurrent job its own trace track, so slices never
    overlap.
    """

    __slots__ = (
        "busy_cycles",
        "capacity",
        "env",
        "free",
        "jobs",
        "lanes",
        "line",
        "name",
        "on_queue",
        "queued_cycles",
    )

    def __init__(self, env: SimEnv, name: str, capacity: int) -> None:
        self.env = env
        self.name = name
        self.capacity = capacity
        self.free = capacity
        self.line: deque[tuple[int, Event | Waiter, float]] = deque()
        self.lanes = list(range(capacity))
        self.busy_cycles = 0.0
        self.queued_cycles = 0.0
        self.jobs = 0
        self.on_queue: Callable[[Pool], None] | None = None

    def take(self, k: int) -> int:
        """Take ``k`` servers now if they are free and nobody waits; the lane, or -1."""
        if self.free >= k and not self.line:
            self.free -= k
            self.jobs += 1
            return heapq.heappop(self.lanes)
        return -1

    def wait(self, k: int) -> Event:
        """Queue for ``k`` servers; the event's value is the lane."""
        event = Event(self.env)
        self.line.append((k, event, self.env.now))
        if self.on_queue is not None:
            self.on_queue(self)
        return event

    def queue(self, k: int, waiter: Waiter) -> None:
        """Queue for ``k`` servers; ``waiter.granted(lane)`` is called when they are its."""
        self.line.append((k, waiter, self.env.now))
        if self.on_queue is not None:
            self.on_queue(self)

    def give(self, k: int, lane: int, cycles: float) -> None:
        """Return ``k`` servers after holding them ``cycles``; serve whoever waits, in order."""
        self.busy_cycles += cycles * k / self.capacity
        self.free += k
        heapq.heappush(self.lanes, lane)
        line = self.line
        if line:
            served = []
            while line and line[0][0] <= self.free:
                need, waiter, since = line.popleft()
                self.free -= need
                self.jobs += 1
                self.queued_cycles += self.env.now - since
                served.append((waiter, heapq.heappop(self.lanes)))
            if self.on_queue is not None:
                self.on_queue(self)
            wake(served)
