"""The simulator's tracer: a run's activities as events of the trace format (:mod:`pimsim.traceformat`).

One *process* per macro (``macro 3``, labelled with its group) and one for the NoC; one *track* per
hardware unit: a share's PE group, the ADC bank, the units of each kind, the scratchpad port, each
link. A unit serving several jobs at once (an ADC bank split between two small jobs) gets one track
per concurrent job (``ADC bank [2]``), so slices on a track never overlap. Each track carries its
unit's identity as data (:class:`~pimsim.traceformat.events.Unit`), registered when the machine is
built. Slices carry the layer, image, block (and bit), energy of their actions (pJ) and the unit's
busy time (ns, server-weighted); counters give the scratchpad occupancy of each macro and the number
of messages queued for each link.

This module only translates the simulator's objects (stages, pools, flows) into the format; the
encoding, merging by level and file handling are :class:`~pimsim.traceformat.writer.TraceWriter`'s.
"""

from __future__ import annotations

import os
from types import MappingProxyType
from typing import Any

from pimsim.sim.core import Pool
from pimsim.sim.ir import Link
from pimsim.traceformat.events import NOC_PID, Unit
from pimsim.traceformat.writer import TraceWriter

#: The unit kind of the hardware behind each non-digital stage (digital stages use their unit kind).
STAGE_UNIT_KIND = MappingProxyType(
    {"load": "spm_port", "store": "spm_port", "mvm": "pe", "adc": "adc"}
)


class SimTracer:
    """Writes the trace of one run; see the module docstring."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        level: str,
        clock_ghz: float,
        meta: dict[str, Any],
        force: bool = False,
        flit_bits: int = 1,
        flit_hop_pj: float = 0.0,
    ) -> None:
        self.writer = TraceWriter(path, level, clock_ghz, meta, force)
        self.path = self.writer.path
        self.level = self.writer.level
        self.ns = 1.0 / clock_ghz
        self.flit_bits = flit_bits
        self.flit_hop_pj = flit_hop_pj  # a packet's energy per link: flits x flit_hop_pj
        self.units: dict[int, Unit] = {}  # id(pool) -> the unit it is

    # -- who is who ---------------------------------------------------------------------------------
    def process(self, pid: int, name: str, label: str = "") -> None:
        """Name a macro's process (pid = macro index) or the NoC's (pid = NOC_PID)."""
        self.writer.process(pid, name, None if pid == NOC_PID else pid, label)

    def stage_unit(self, st: Any, share: int) -> None:
        """Record which unit the pool of stage ``st`` (of layer share ``share``) is."""
        kind = STAGE_UNIT_KIND.get(st.name, st.name)
        layer, of_share = (st.layer, share) if kind == "pe" else (None, None)
        self.units.setdefault(id(st.pool), Unit(st.unit.name, kind, st.macro, 0, layer, of_share))

    def link_unit(self, link: Link, pool: Pool) -> None:
        """Record which NoC channel a pool is: a link (the (row, column) of both ends), or a
        router's injection or ejection port (both ends the router's)."""
        kind = "link" if link[0] != link[1] else pool.name.split(" ")[0]
        self.units[id(pool)] = Unit(f"NoC/{pool.name}", kind, None, link=link)

    def interface_unit(self, pool: Pool) -> None:
        """Record the off-chip interface's channel."""
        self.units[id(pool)] = Unit(f"NoC/{pool.name}", "io", None)

    # -- activities -------------------------------------------------------------------------------
    def stage(
        self, st: Any, lane: int, t: int, d: int, image: int, block: int, bit: int, li: int
    ) -> None:
        """One activity of a stage (called when it ends)."""
        pool = st.pool
        tid = self.writer.track(id(pool), lane, st.macro, pool.name, self.units[id(pool)])
        k = st.timing[li][0]
        busy = d * k / pool.capacity * self.ns
        where = {"layer": st.layer, "image": image}
        detail = {"bit": bit} if bit >= 0 else {}
        name = f"{st.name} {st.layer}"
        self.writer.activity(tid, name, t, d, busy, st.energy_pj[li], where, block, detail)

    def message(
        self,
        link: Pool,
        lane: int,
        t: int,
        d: int,
        spec: Any,
        image: int,
        block: int,
        bits: float,
        flit_hops: int,
    ) -> None:
        """One packet crossing one channel (a link: ``flit_hops`` = its flits; a router's injection
        or ejection port: 0)."""
        tid = self.writer.track(id(link), lane, NOC_PID, link.name, self.units[id(link)])
        name = f"{spec.op} {spec.layer} m{spec.src}->m{spec.dst}"
        energy = flit_hops * self.flit_hop_pj
        where = {"layer": spec.layer, "image": image}
        self.writer.activity(tid, name, t, d, d * self.ns, energy, where, block, {"bits": bits})

    def access(
        self,
        pool: Pool,
        lane: int,
        pid: int,
        t: int,
        d: int,
        name: str,
        layer: str,
        image: int,
        block: int,
        energy_pj: float,
    ) -> None:
        """One transfer job of a channel other than a stage's: a NoC transfer's scratchpad access
        (its read at the sender, its write at the receiver; ``pid`` the macro), or a block crossing
        the off-chip interface (``pid`` the NoC's)."""
        unit = self.units.get(id(pool))
        if unit is None:  # a port no stage of this macro registered
            unit = self.units[id(pool)] = Unit(f"macro {pid}/{pool.name}", "spm_port", pid)
        tid = self.writer.track(id(pool), lane, pid, pool.name, unit)
        where = {"layer": layer, "image": image}
        self.writer.activity(tid, name, t, d, d * self.ns, energy_pj, where, block, {})

    def counter(self, pid: int, name: str, t: int, value: float) -> None:
        """A counter sample (see :meth:`TraceWriter.counter`)."""
        self.writer.counter(pid, name, t, value)

    def close(self) -> None:
        """Finish the file and move it into place."""
        self.writer.close()

    def abort(self) -> None:
        """Drop a partial file."""
        self.writer.abort()
