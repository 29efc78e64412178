"""A macro's scratchpad port as a unit: the loads and stores of every share in the macro.

The port's servers are the scratchpad's interleaved banks, each serving one access of ``word_bits``
per ``access_latency_ns`` (:class:`pimsim.sim.buffer.BankedPort`, timing by
:meth:`pimsim.sim.buffer.Scratchpad.job`); the scratchpad's space and partitions stay with
:class:`~pimsim.sim.buffer.Scratchpad`, which NoC flows and the interface also use. Jobs whose
banks are held queue in arrival order (a ``port`` stall, and a bank conflict); each moves the bits
it reads or writes (``buffer_read_bits`` / ``buffer_write_bits``). Its server figures are the
banks' busy times.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

from pimsim.sim.core import Cause
from pimsim.sim.ir import StageSpec, Task
from pimsim.sim.unit import BuildContext, UnitBase


class SpmPort(UnitBase):
    """The port of the scratchpad of macro ``macro``."""

    kind: ClassVar[str] = "port"
    cause: ClassVar[str] = Cause.PORT
    stages: ClassVar[frozenset[str]] = frozenset({"load", "store"})

    def __init__(self, ctx: BuildContext, macro: int) -> None:
        self.spm = ctx.scratchpads[macro]
        self.clock = ctx.clock
        super().__init__(f"macro {macro}/{self.spm.port.name}", macro, self.spm.port)

    @classmethod
    def key(cls, macro: int, task: Task, spec: StageSpec) -> Hashable:
        return cls.kind, macro

    @classmethod
    def build(cls, ctx: BuildContext, macro: int, task: Task, spec: StageSpec) -> SpmPort:
        return cls(ctx, macro)

    def timing(self, bits: float, per_server: tuple[float, ...] = ()) -> tuple[int, int]:
        """Port servers and cycles to move ``bits``."""
        return self.spm.job(bits)

    def server_busy_ns(self) -> tuple[float, ...]:
        """Each bank's busy time so far, ns, by every user of the port (loads, stores, NoC and
        interface transfers); empty for a single bank (the port's busy time says it all)."""
        port = self.spm.port
        if port.capacity == 1:
            return ()
        return tuple(self.clock.ns(c) for c in port.bank_cycles)

    def conflicts(self) -> int:
        """Jobs that waited for a bank another job held (every user of the port)."""
        return self.spm.port.conflicts
