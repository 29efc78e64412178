"""What every simulated hardware unit is: one small protocol, the jobs it serves, how it is built.

A *unit* is a piece of hardware that stages hand work to: a share's PE group, a macro's ADC bank,
its digital units of one kind, its scratchpad port. A *channel* is a unit that flows hand packets
to: a NoC link, a router's injection or ejection port, the off-chip interface; it is built by its
kind's class (:class:`ChannelKindSpec`) for a :class:`Place` the first time a flow needs it, and
follows the same protocol. Every unit

- is **built** by its kind's class from the run's :class:`BuildContext`, for the stage of a share
  that needs it (:meth:`UnitKindSpec.build`), and **shared** between the stages whose
  :meth:`UnitKindSpec.key` is equal (an ADC bank by every share of its macro, a PE group by none);
- **serves jobs**: :meth:`Unit.job` turns a stage's work per item (bits, crossbars, conversions,
  elements) into a :class:`Job`: the servers of the unit's :class:`~pimsim.sim.core.Pool` it holds
  and for how many cycles, and the actions one such job performs;
- **counts its actions** as they happen: every job served adds one to its :attr:`Job.served`,
  and :meth:`Unit.counts` is the sum of each job's actions times the times it was served;
- **describes its waits** (:meth:`Unit.waits`: who is queued for it) for a deadlock report, and
  its busy, queued and job figures are those of its pool; a channel reports its own stalls
  (:meth:`Unit.own_stall`), the actions its transfers booked to macros (:meth:`Unit.booked`), and
  registers itself with a tracer (:meth:`Unit.traced`).

:mod:`pimsim.sim.registry` maps each unit kind and each stage name to its class; the engine asks
the registry and knows no kind by name, so a new kind is one module plus one registration; result
collection and deadlock reports read every unit, stage-serving or channel, through this protocol.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pimsim.arch.schema import Hardware, MacroGroup
from pimsim.errors import InputError
from pimsim.sim.core import Clock, Pool, SimEnv

if TYPE_CHECKING:
    from pimsim.sim.buffer import Scratchpad
    from pimsim.sim.ir import Link, StageSpec, Task


class Job:
    """One kind of job a unit serves for one stage (a full or a last block's item).

    ``servers`` of the unit's pool are held for ``cycles``; one job performs ``actions`` (action
    name, count per job: crossbar reads, conversions, elements, bits); ``per_server``: the work of
    each of the unit's servers in one job where they are wired to fixed work (a macro's ADCs; empty
    otherwise); ``served`` counts the jobs done so far (the stage adds one as each completes).
    """

    __slots__ = ("actions", "cycles", "per_server", "served", "servers")

    def __init__(
        self,
        servers: int,
        cycles: int,
        actions: tuple[tuple[str, float], ...],
        per_server: tuple[float, ...] = (),
    ) -> None:
        self.servers = servers
        self.cycles = cycles
        self.actions = actions
        self.per_server = per_server
        self.served = 0


@dataclass(frozen=True)
class BuildContext:
    """What a unit may be built from: the run's environment and clock, the hardware, its macros'
    groups, their scratchpads, and the arch file's name (for errors)."""

    env: SimEnv
    clock: Clock
    hardware: Hardware
    groups: Sequence[MacroGroup]  # by macro instance
    scratchpads: Mapping[int, Scratchpad]
    arch: str


@dataclass(frozen=True)
class Place:
    """Where a channel is: a link's ends (a router's port: its router twice), the macro a router
    port serves, or neither (the chip's off-chip interface)."""

    macro: int | None = None
    link: Link | None = None


class Unit(Protocol):
    """A simulated hardware unit (see the module's docstring)."""

    kind: ClassVar[str]  # registry key; UnitSim.kind in the result
    cause: ClassVar[str]  # the stall cause of a stage waiting on a neighbour busy on this unit
    #: the stage class that runs a middle stage served by this kind (None: the plain stage): a
    #: kind whose items are not all alike (a PE group's bits wait for their DAC conversions)
    stage_class: ClassVar[type[Any] | None]
    name: str  # e.g. "macro 3/ADC bank"
    macro: int | None
    pool: Pool
    jobs: list[Job]

    def job(
        self,
        work: float,
        actions: tuple[tuple[str, float], ...],
        per_server: tuple[float, ...] = (),
    ) -> Job:
        """The job serving ``work`` (in the unit's own measure; ``per_server``: split over fixed
        servers) and performing ``actions``."""
        ...

    def server_work(self) -> tuple[float, ...]:
        """The work each server has done so far (empty where servers are not wired to fixed
        work): a macro's conversions per ADC."""
        ...

    def server_busy_ns(self) -> tuple[float, ...]:
        """Each server's busy time so far, ns (empty where servers are not wired to fixed work)."""
        ...

    def counts(self) -> Counter[str]:
        """The actions this unit has performed so far."""
        ...

    def conflicts(self) -> int:
        """Jobs that waited for a server another job held although the servers are not
        interchangeable (a banked scratchpad port's banks); 0 where any free server serves."""
        ...

    def admit(self, ctx: BuildContext, task: Task, spec: StageSpec) -> None:
        """Raise an InputError if this unit cannot serve ``task``'s stage ``spec``."""
        ...

    def waits(self) -> list[str]:
        """Who is queued for this unit, in words (empty when nobody is)."""
        ...

    def own_stall(self) -> Mapping[str, int]:
        """Cycles waited for this unit by cause, by waiters that are not stages (the interface's
        processes; stages book their own)."""
        ...

    def booked(self) -> list[tuple[int, str, float]]:
        """Actions this unit's transfers performed, as (macro, action, count), booked to macros
        (-1: the chip) rather than to the unit (the interface's bits and scratchpad accesses)."""
        ...

    def traced(self, tracer: Any) -> None:
        """Register with ``tracer`` (a :class:`~pimsim.sim.trace.SimTracer`) as it is built (a
        channel; stage units are registered by their stages)."""
        ...


class UnitKindSpec(Protocol):
    """A unit class as the registry holds it: its kind, the stages it serves, how it is built."""

    kind: ClassVar[str]
    stages: ClassVar[frozenset[str]]

    @classmethod
    def key(cls, macro: int, task: Task, spec: StageSpec) -> Hashable:
        """Stages with equal keys share one unit."""
        ...

    @classmethod
    def build(cls, ctx: BuildContext, macro: int, task: Task, spec: StageSpec) -> Unit:
        """The unit for ``spec``, the stage of ``task`` in ``macro`` that first needs it."""
        ...


class ChannelKindSpec(Protocol):
    """A channel class as the registry holds it: the kinds it builds and how (one unit per kind
    and place)."""

    kinds: ClassVar[tuple[str, ...]]

    @classmethod
    def build(cls, ctx: BuildContext, kind: str, place: Place) -> Unit:
        """The channel of kind ``kind`` at ``place``."""
        ...


class UnitBase:
    """What units have in common: a pool, the jobs served, counts and waits from them."""

    kind: ClassVar[str]
    cause: ClassVar[str]
    stages: ClassVar[frozenset[str]]
    #: work per ns of one server wired to fixed work (an ADC's conversions per ns); 0: not wired
    server_rate: float = 0.0
    stage_class: ClassVar[type[Any] | None] = None

    def __init__(self, name: str, macro: int | None, pool: Pool) -> None:
        self.name = name
        self.macro = macro
        self.pool = pool
        self.jobs: list[Job] = []

    def timing(self, work: float, per_server: tuple[float, ...] = ()) -> tuple[int, int]:
        """Servers held and cycles for ``work``: each kind's own rule."""
        raise NotImplementedError

    def job(
        self,
        work: float,
        actions: tuple[tuple[str, float], ...],
        per_server: tuple[float, ...] = (),
    ) -> Job:
        # a kind whose servers take any work may define timing(work) alone
        servers, cycles = self.timing(work, per_server) if per_server else self.timing(work)
        made = Job(servers, cycles, actions, per_server)
        self.jobs.append(made)
        return made

    def server_work(self) -> tuple[float, ...]:
        total: list[float] = []
        for j in self.jobs:
            if j.served and j.per_server:
                if len(total) < len(j.per_server):
                    total += [0.0] * (len(j.per_server) - len(total))
                for i, w in enumerate(j.per_server):
                    total[i] += j.served * w
        return tuple(total)

    def server_busy_ns(self) -> tuple[float, ...]:
        if not self.server_rate:
            return ()
        return tuple(w / self.server_rate for w in self.server_work())

    def counts(self) -> Counter[str]:
        out = Counter[str]()
        for j in self.jobs:
            if j.served:
                for action, n in j.actions:
                    out[action] += j.served * n
        return out

    def conflicts(self) -> int:
        return 0

    def admit(self, ctx: BuildContext, task: Task, spec: StageSpec) -> None:
        return None

    def own_stall(self) -> Mapping[str, int]:
        return {}

    def booked(self) -> list[tuple[int, str, float]]:
        return []

    def traced(self, tracer: Any) -> None:
        return None

    def waits(self) -> list[str]:
        line = self.pool.line
        if not line:
            return []
        return [f"{len(line)} job(s) queued for {self.name} since cycle {line[0][2]:,}"]


def need(ctx: BuildContext, count: int, work: float, macro: int, layer: str, what: str) -> None:
    """Raise the InputError of a macro lacking a unit a layer needs there."""
    if count <= 0 and work > 0:
        raise InputError(
            ctx.arch,
            f"macro {macro} ({ctx.groups[macro].name})",
            f"has no {what} but layer '{layer}' needs one there",
        )
