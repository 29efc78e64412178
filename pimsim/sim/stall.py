"""Stall booking of a pipeline stage: why a stage that has work cannot start it, and for how long.

Stall time is booked while a stage has work but cannot start it, by cause: a queue for a pool is
that pool's kind (``adc``, ``units``, ``port``), missing scratchpad space is ``buffer``, a load
waits for ``input`` (the producer has not produced the block) or ``noc`` (it is in flight); a stage
waiting on a neighbour takes that neighbour's cause, or the neighbour's own kind while it is busy
(``pe``, ``adc``, ``units``, ``port``). When a stage blocks at a root cause (a pool, space, input),
every stage blocked behind it, along the pipeline, is re-booked to that cause; other changes are
passed one neighbour on (the next advance re-books the rest), which keeps the booking cheap.

The booking lives in :class:`StallBooking`, the base of :class:`~pimsim.sim.stage.Stage`; it reads
and writes the stage's slots (``blocked_by``, ``blocked_on``, ``blocked_since``, ``waiting_for``,
``rooted``, ``stall``, ``cause``, ``up``, ``down``, ``env``), which the stage declares. Times are in
cycles of the run's clock.
"""

from __future__ import annotations

from typing import Any

from pimsim.sim.core import SimEnv


class StallBooking:
    """Books a stage's stall time by cause (see the module docstring); a base of ``Stage``."""

    __slots__ = ()

    # declared as slots by Stage; annotated here for the type checker
    env: SimEnv
    cause: str
    up: StallBooking | None
    down: StallBooking | None
    stall: dict[str, int]
    blocked_by: str | None
    blocked_on: StallBooking | None
    waiting_for: Any
    blocked_since: int
    rooted: bool

    def why(self) -> str:
        """The cause a neighbour waiting on this stage is booked to."""
        return self.blocked_by if self.blocked_by is not None else self.cause

    def block(self, cause: str, on: StallBooking | None, what: Any) -> None:
        """Cannot start: book the time from now to ``cause``. A stage blocked at the root (a pool,
        space, input) or on a neighbour so blocked re-books every stage blocked on it, along the
        pipeline; otherwise only the neighbours blocked on it directly."""
        if self.blocked_by is cause and self.blocked_on is on:
            self.waiting_for = what
            return
        now = self.env.now
        if self.blocked_by is not None:
            self.stall[self.blocked_by] = (
                self.stall.get(self.blocked_by, 0) + now - self.blocked_since
            )
        self.blocked_by, self.blocked_on, self.waiting_for, self.blocked_since = (
            cause,
            on,
            what,
            now,
        )
        self.rooted = on is None or on.rooted
        self._tell(cause, self.rooted)

    def unblock(self) -> None:
        """Starting: close the stall segment; neighbours blocked on it now wait on a busy stage."""
        assert self.blocked_by is not None
        self.stall[self.blocked_by] = (
            self.stall.get(self.blocked_by, 0) + self.env.now - self.blocked_since
        )
        self.blocked_by = self.blocked_on = self.waiting_for = None
        self.rooted = False
        self._tell(self.cause, False)

    def _tell(self, cause: str, deep: bool) -> None:
        up, down = self.up, self.down
        if up is not None and up.blocked_on is self and up.blocked_by is not cause:
            up._rebook(cause, self, deep)
        if down is not None and down.blocked_on is self and down.blocked_by is not cause:
            down._rebook(cause, self, deep)

    def _rebook(self, cause: str, on: StallBooking, deep: bool) -> None:
        if deep:
            self.block(cause, on, self.waiting_for)
            return
        now, blk = self.env.now, self.blocked_by  # one level: re-book without passing it on
        assert blk is not None
        self.stall[blk] = self.stall.get(blk, 0) + now - self.blocked_since
        self.blocked_by, self.blocked_since, self.rooted = cause, now, False
