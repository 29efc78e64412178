"""The ADC bank of a macro: ``adcs`` converters, each wired through a mux to fixed crossbars.

Every bit iteration of a PE group brings its sampled columns; each ADC converts those of the columns
it is wired to (the mux rule of :mod:`pimsim.sim.blockwork`: a contiguous range of the macro's
columns each; ISAAC's 8 ADCs for 8 crossbars, one crossbar each) at the part's ``frequency_ghz``,
so a bit takes as long as its busiest ADC: ``ceil(max_j conversions_j) / frequency_ghz``, and an
ADC wired to more columns than the others sets the pace while they idle.

The job holds exactly the ADCs it is wired to (those with conversions in it: :class:`Wired`), all
at once, for the whole bit (:class:`WiredBank`). PE groups of one layer, or of two layers sharing
the macro, queue for the bank in arrival order (the wait is an ``adc`` stall); two shares on
disjoint ADCs convert at once, two whose ranges share an ADC take turns, since that ADC converts
one column at a time. One conversion is one ``adc_convert`` action; each ADC's conversions are
counted (``server_work``), so an idle or overloaded ADC shows in the result.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Hashable
from typing import ClassVar

from pimsim.sim.core import Cause, Pool, SimEnv, wake
from pimsim.sim.ir import StageSpec, Task
from pimsim.sim.unit import BuildContext, UnitBase, need


class Wired(int):
    """How many of a bank's ADCs a job holds (the int's value, as every pool counts servers),
    naming them: ``mask`` has bit ``j`` set for ADC ``j``. Stages hand the count to the pool as
    they hand any count (:mod:`pimsim.sim.stage`); :class:`WiredBank` reads which ADCs it is."""

    mask: int

    def __new__(cls, mask: int) -> Wired:
        made = super().__new__(cls, mask.bit_count())
        made.mask = mask
        return made

    def __getnewargs__(self) -> tuple[int]:  # copied or pickled: made again from its mask
        return (self.mask,)

    @classmethod
    def of(cls, adcs: list[int]) -> Wired:
        """The count of ADCs ``adcs`` (their numbers in the bank)."""
        return cls(sum(1 << j for j in set(adcs)))


class WiredBank(Pool):
    """A :class:`~pimsim.sim.core.Pool` whose servers are fixed ADCs: a job asking for a
    :class:`Wired` count gets exactly those ADCs, all at once, once none of them is held and no job
    queued before it names any of them (an ADC converts only its own columns, so a job on other
    ADCs does not wait for an earlier one; a job never takes an ADC an earlier one waits for, so
    none is overtaken forever); a plain count ``k`` takes the ``k`` lowest-numbered free ADCs (a
    job spread evenly over any of them) once nobody waits before it. Taking every ADC at once
    leaves no job holding some while it waits for others: no deadlock.

    Where the wired sets of the jobs in the bank are disjoint, or every job takes the whole bank,
    this grants exactly when a pool of counts would (disjoint sets fit their count; the whole bank
    is free when every ADC is); ``lane`` numbers are a pool's (the smallest free one per job, for
    the trace), and ``held``: the ADCs held now, as a mask; ``holding[lane]``: the job's on
    ``lane``.
    """

    __slots__ = ("held", "holding")

    def __init__(self, env: SimEnv, name: str, capacity: int) -> None:
        super().__init__(env, name, capacity)
        self.held = 0
        self.holding = [0] * capacity

    def _fit(self, k: int) -> int:
        """The ADCs a job asking for ``k`` would take now (a mask), 0 if they are not free."""
        if type(k) is Wired:
            return 0 if self.held & k.mask else k.mask
        if k > self.free:
            return 0
        mask, j = 0, 0
        while k:
            if not self.held >> j & 1:
                mask |= 1 << j
                k -= 1
            j += 1
        return mask

    def _grant(self, k: int, mask: int) -> int:
        self.held |= mask
        self.free -= k
        self.jobs += 1
        lane = heapq.heappop(self.lanes)
        self.holding[lane] = mask
        return lane

    def take(self, k: int) -> int:
        if self.line and (type(k) is not Wired or k.mask & self._named()):
            return -1
        mask = self._fit(k)
        return self._grant(k, mask) if mask else -1

    def _named(self) -> int:
        """The ADCs the jobs in line ask for (all of them for a plain count), as a mask."""
        named = 0
        for ask, _waiter, _since in self.line:
            named |= ask.mask if type(ask) is Wired else (1 << self.capacity) - 1
        return named

    def give(self, k: int, lane: int, cycles: float) -> None:
        self.busy_cycles += cycles * k / self.capacity
        self.free += k
        self.held ^= self.holding[lane]  # its ADCs, all held
        heapq.heappush(self.lanes, lane)
        if self.line:
            self._serve()

    def _serve(self) -> None:
        """Grant the jobs in line, in order, while their ADCs are free; past a job that must
        wait, only a wired job whose ADCs no earlier job in line names (it takes nothing an
        earlier one waits for, so no job waits forever)."""
        line, served, kept, named = self.line, [], deque(), 0
        everything = (1 << self.capacity) - 1
        while line:
            ask, waiter, since = line.popleft()
            wired = type(ask) is Wired
            mask = self._fit(ask) if not named or (wired and not ask.mask & named) else 0
            if mask:
                self.queued_cycles += self.env.now - since
                served.append((waiter, self._grant(ask, mask)))
            else:
                kept.append((ask, waiter, since))
                named |= ask.mask if wired else everything
        line.extend(kept)
        if self.on_queue is not None:
            self.on_queue(self)
        wake(served)


class AdcBank(UnitBase):
    """The bank of macro ``macro``."""

    kind: ClassVar[str] = "adc"
    cause: ClassVar[str] = Cause.ADC
    stages: ClassVar[frozenset[str]] = frozenset({"adc"})

    def __init__(self, ctx: BuildContext, macro: int) -> None:
        self.adcs = ctx.groups[macro].adcs
        super().__init__(
            f"macro {macro}/ADC bank", macro, WiredBank(ctx.env, "ADC bank", max(self.adcs, 1))
        )
        self.frequency_ghz = ctx.hardware.parts.adc.frequency_ghz
        self.server_rate = self.frequency_ghz  # conversions per ns of one ADC
        self.clock = ctx.clock

    @classmethod
    def key(cls, macro: int, task: Task, spec: StageSpec) -> Hashable:
        return cls.kind, macro

    @classmethod
    def build(cls, ctx: BuildContext, macro: int, task: Task, spec: StageSpec) -> AdcBank:
        return cls(ctx, macro)

    def admit(self, ctx: BuildContext, task: Task, spec: StageSpec) -> None:
        """Every share using the bank needs at least one ADC."""
        need(ctx, self.adcs, max(spec.work), task.macro, task.layer, "ADC")

    def timing(self, conversions: float, per_server: tuple[float, ...] = ()) -> tuple[int, int]:
        """ADCs held and cycles for ``conversions``: on the wired ADCs (``per_server``: each one's
        conversions, rounded up to whole ones; the job holds those with any, a :class:`Wired`
        count), else spread evenly over any ``min(adcs, n)`` of them (a plain count)."""
        n = math.ceil(conversions - 1e-9)
        if n <= 0:
            return 1, 0
        if per_server:
            used = [j for j, c in enumerate(per_server) if c > 1e-9]
            if not used:
                return 1, 0
            most = max(math.ceil(per_server[j] - 1e-9) for j in used)
            return Wired.of(used), self.clock.cycles(most / self.frequency_ghz)
        k = min(self.adcs, n)
        return k, self.clock.cycles(math.ceil(n / k) / self.frequency_ghz)
