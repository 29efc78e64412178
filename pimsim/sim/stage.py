"""One stage of a layer share's pipeline: a small state machine driven by callbacks.

A stage works through every item of every image (items are bits for per-bit stages, blocks
otherwise). It starts its next item when

1. its input is there: the upstream stage has finished it (:class:`~pimsim.sim.share.LoadStage`
   and :class:`~pimsim.sim.share.StoreStage` add the producer's window and scratchpad space);
2. the single buffer to the next stage is free: the next stage has *started* the previous item;
3. it holds its hardware: the port, the PE group, the ADC bank or units of its kind, queueing first
   come first served.

It then holds the hardware for the cycles the hardware needs and completes the item. A stage is
*poked* when something it may be waiting for changes (a neighbour completes or starts an item, a
pool or space is granted) and schedules one timeout per item; that is the behaviour of a SimPy
process per stage at a fraction of the cost of resuming generators, which matters because the bit
pipeline produces most of a run's events. A stage whose hardware is its own completes *lazily*
(:func:`~pimsim.sim.chain.make_lazy`): without an event, settled when a neighbour looks.

The time a stage cannot start is booked to a cause by its base class,
:class:`~pimsim.sim.stall.StallBooking`; its neighbours and item-number modes are set by
:func:`~pimsim.sim.chain.link`.
"""

from __future__ import annotations

from typing import Any

from simpy.events import Timeout

from pimsim.sim.core import SimEnv
from pimsim.sim.ir import StageSpec
from pimsim.sim.stall import StallBooking
from pimsim.sim.unit import Job, Unit


class Stage(StallBooking):
    """One stage of one share during the run, on one unit (:mod:`pimsim.sim.unit`).

    Items are numbered ``k`` over the whole run; item ``k`` is bit ``b`` of block ``g`` (over all
    images), block ``c`` of its image (the attributes ``item``, ``bit``, ``block_index`` and
    ``image_block`` of the next item; the one-letter names are those of the formulas below). Each
    item is one of the unit's two jobs (``jobs``: in a full block, in the last block of an image),
    whose ``served`` counts are the stage's action counts.
    """

    __slots__ = (
        "bit",
        "block_index",
        "blocked_by",
        "blocked_need",
        "blocked_on",
        "blocked_since",
        "blocks",
        "busy",
        "cause",
        "custom",
        "done",
        "down",
        "ends_at",
        "energy_pj",
        "env",
        "image_block",
        "in_last",
        "in_mode",
        "item",
        "jobs",
        "lane",
        "layer",
        "lazy",
        "macro",
        "name",
        "on_end",
        "per_block",
        "pool",
        "queued",
        "rooted",
        "running",
        "slot_mode",
        "spec",
        "stall",
        "started",
        "started_at",
        "total",
        "timing",
        "tracer",
        "unit",
        "up",
        "waiting_for",
        "wake_at",
    )

    def __init__(
        self,
        env: SimEnv,
        spec: StageSpec,
        bits: int,
        blocks: int,
        images: int,
        unit: Unit,
        jobs: tuple[Job, Job],
        energy_pj: tuple[float, float],
        layer: str,
        tracer: Any,
    ) -> None:
        self.env = env
        self.spec = spec
        self.name = spec.name
        self.cause = unit.cause
        self.per_block = bits if spec.per_bit else 1
        self.blocks = blocks
        self.total = images * blocks * self.per_block
        # the next item (k in the formulas): bit ``bit`` (b) of block ``block_index`` (g, counted
        # over all images), which is block ``image_block`` (c) of its image
        self.item = 0
        self.block_index = self.bit = self.image_block = 0
        self.running = False
        self.lane = -1  # the lane granted for the next item, -1 while none
        self.queued = False
        self.pool = unit.pool
        self.jobs = jobs  # the unit's jobs for an item of a full and of the last block
        # (servers, cycles) of each: read on every start, so a plain tuple
        self.timing = ((jobs[0].servers, jobs[0].cycles), (jobs[1].servers, jobs[1].cycles))
        self.energy_pj = energy_pj
        self.started = 0  # items started
        self.done = 0  # items completed
        self.in_mode = self.slot_mode = 0  # how item numbers map to the neighbours' (see link)
        self.custom = False  # a subclass decides readiness (ready())
        self.up: Stage | None = None
        self.down: Stage | None = None
        self.busy = 0
        self.stall: dict[str, int] = {}
        self.blocked_by: str | None = None  # why it cannot start its next item, if it cannot
        self.blocked_on: Stage | None = None  # the neighbour whose cause it takes
        self.waiting_for: Any = None  # what it waits for (deadlock reports)
        self.blocked_since = 0
        self.blocked_need = 0  # the count of the neighbour's it waits for
        self.rooted = False
        self.started_at = 0
        self.in_last = 1 if blocks == 1 else 0  # the next item is in the last block of its image
        self.on_end = self._finish
        # a lazy stage's hardware is its own (see chain.make_lazy): an item's end needs no event
        self.lazy = False
        self.ends_at = 0
        self.wake_at = -1  # the end of the item a wake-up is scheduled for
        self.macro = unit.macro
        self.layer = layer
        self.unit = unit  # the hardware unit it runs on (its name: e.g. "macro 3/ADC bank")
        self.tracer = tracer

    @property
    def items_done(self) -> int:
        """Items processed so far (its unit's jobs served for it)."""
        return self.jobs[0].served + self.jobs[1].served

    # -- the item loop ----------------------------------------------------------------------------
    def ready(self, k: int, g: int, b: int, c: int) -> bool:
        """Input there and output slot free (else blocked and False); for subclasses."""
        return self.slot_free(k, g, b)

    def slot_free(self, k: int, g: int, b: int) -> bool:
        down = self.down
        if down is None:
            return True
        mode = self.slot_mode
        slot = (
            k
            if mode == 0
            else ((g if b == 0 else 0) if mode == 1 else ((g - 1) * down.per_block + 1 if g else 0))
        )
        if down.started < slot:
            self.wait_on(down, down.started, slot)
            return False
        return True

    def wait_on(self, other: Stage, reached: int, need: int) -> None:
        """Cannot start until neighbour ``other`` reaches ``need`` (it is at ``reached``): wake a
        lazy neighbour whose running item is the one missing, and book the wait to its cause."""
        if other.lazy and other.running and reached + 1 >= need:
            other.wake()
        self.blocked_need = need
        self.block(other.why(), other, other)

    def granted(self, lane: int) -> None:
        self.queued = False
        self.lane = lane
        self.poke()

    def poke(self, _count: int = 0) -> None:
        """Start the next item if it can start (settling lazy items that are over first)."""
        now, up, down = self.env.now, self.up, self.down
        if self.running:
            if self.lazy:  # a neighbour acted: settle the item if over, else maybe wake at its end
                if self.ends_at <= now:
                    self._finish(None)
                elif self._next_ready():
                    self.wake()
            return
        if up is not None and up.lazy and up.running and up.ends_at <= now:
            up._finish(None)  # this may start this stage's next item
        if down is not None and down.lazy and down.running and down.ends_at <= now:
            down._finish(None)
        while not self.running and self.item < self.total:
            k, g = self.item, self.block_index
            if self.custom:
                if not self.ready(k, g, self.bit, self.image_block):
                    return
            else:  # a middle stage: both neighbours exist
                assert up is not None and down is not None
                mode = self.in_mode
                need = k + 1 if mode == 0 else ((g + 1) * up.per_block if mode == 1 else g + 1)
                if up.done < need:
                    self.wait_on(up, up.done, need)
                    return
                mode = self.slot_mode
                if mode == 0:
                    slot = k
                elif mode == 1:
                    slot = g if self.bit == 0 else 0
                else:
                    slot = (g - 1) * down.per_block + 1 if g else 0
                if down.started < slot:
                    self.wait_on(down, down.started, slot)
                    return
            n, d = self.timing[self.in_last]
            if d and self.lane < 0:
                if self.queued:
                    return
                lane = self.pool.take(n)
                if lane < 0:
                    self.queued = True
                    self.pool.queue(n, self)
                    self.block(self.cause, None, self.pool)
                    return
                self.lane = lane
            if self.blocked_by is not None:
                self.unblock()
            self.started_at, self.ends_at = now, now + d  # before a neighbour can look
            if not d:  # an item of no work (an idle copy in a last block) is done as it starts
                if self.custom:
                    self.starting(g, self.image_block)
                self.started += 1
                self._complete()  # before the upstream looks: it must not settle it (lazy)
                if up is not None and (up.blocked_on is self or up.lazy and up.running):
                    up.poke()
                continue
            self.running = True
            if self.custom:
                self.starting(g, self.image_block)
            self.started += 1
            if up is not None and (up.blocked_on is self or up.lazy and up.running):
                up.poke()
            if self.lazy:  # no event unless someone will need its end (see chain.make_lazy)
                if (
                    (
                        down is not None
                        and down.blocked_on is self
                        and self.done + 1 >= down.blocked_need
                    )
                    or (
                        up is not None
                        and up.blocked_on is self
                        and self.started + 1 >= up.blocked_need
                    )
                    or self._next_ready()
                ):
                    self.wake()
            else:
                Timeout(self.env, d).callbacks.append(self.on_end)
            return

    def _next_ready(self) -> bool:
        """Whether the item after the current one could start the moment it ends (a middle stage):
        then nothing else would look at this stage at that moment."""
        k = self.item + 1
        if k >= self.total:
            return False
        up, down = self.up, self.down
        assert up is not None and down is not None
        g, b = divmod(k, self.per_block)
        mode = self.in_mode
        if up.done < (k + 1 if mode == 0 else ((g + 1) * up.per_block if mode == 1 else g + 1)):
            return False
        mode = self.slot_mode
        slot = (
            k
            if mode == 0
            else ((g if b == 0 else 0) if mode == 1 else ((g - 1) * down.per_block + 1 if g else 0))
        )
        return down.started >= slot

    def wake(self) -> None:
        """Make sure a lazy item in progress is settled when it ends (a neighbour waits for it)."""
        if self.wake_at != self.ends_at:  # one wake-up per item
            self.wake_at = self.ends_at
            Timeout(self.env, self.ends_at - self.env.now).callbacks.append(self._woken)

    def _woken(self, _event: Any) -> None:
        if self.running and self.ends_at <= self.env.now:
            self._finish(None)

    def _finish(self, _event: Any) -> None:
        n, d = self.timing[self.in_last]
        lane, self.lane = self.lane, -1
        self.pool.give(n, lane, d)
        self.busy += d
        if self.tracer is not None:
            self.tracer.stage(
                self,
                lane,
                self.started_at,
                d,
                self.block_index // self.blocks,
                self.image_block,
                self.bit if self.per_block > 1 else -1,
                self.in_last,
            )
        self.running = False
        now, end = self.env.now, self.ends_at
        if self.lazy and end < now and self.item + 1 < self.total:
            # settled late: since its end it has been waiting for what now arrives; book that
            # wait, and re-book the neighbours blocked on it as an eager stage would have
            cause = self._cause_for(self.item + 1)
            self.stall[cause] = self.stall.get(cause, 0) + now - end
            for nb in (self.up, self.down):
                if (
                    nb is not None
                    and nb.blocked_on is self
                    and nb.blocked_by is not None
                    and nb.blocked_since < end
                ):
                    nb.stall[nb.blocked_by] = (
                        nb.stall.get(nb.blocked_by, 0) + end - nb.blocked_since
                    )
                    nb.blocked_by, nb.blocked_since = cause, end
        self._complete()
        self.poke()

    def _cause_for(self, k: int) -> str:
        """Why a middle stage cannot start item ``k`` (its input, else its output slot)."""
        up, down = self.up, self.down
        assert up is not None and down is not None
        g = k // self.per_block
        mode = self.in_mode
        if up.done < (k + 1 if mode == 0 else ((g + 1) * up.per_block if mode == 1 else g + 1)):
            return up.why()
        return down.why()

    def _complete(self) -> None:
        """The current item is done: count it, move to the next item, tell the next stage."""
        self.jobs[self.in_last].served += 1
        if self.custom:
            self.completed(self.block_index, self.image_block)
        self.item += 1
        b = self.bit + 1
        if b == self.per_block:
            b = 0
            self.block_index += 1
            c = self.image_block + 1
            if c == self.blocks:
                c = 0
            self.image_block = c
            self.in_last = 1 if c == self.blocks - 1 else 0
        self.bit = b
        self.done += 1
        down = self.down
        if down is not None and (down.blocked_on is self or down.lazy and down.running):
            down.poke()

    # -- hooks ------------------------------------------------------------------------------------
    def starting(self, g: int, c: int) -> None:
        """Called as an item starts."""

    def completed(self, g: int, c: int) -> None:
        """Called as an item completes, before ``done`` advances."""
