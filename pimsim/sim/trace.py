"""Streaming a run into a Chrome Trace Event file (Perfetto, chrome://tracing), gzipped for ``.gz``.

One *process* per macro (``macro 3``, labelled with its group) and one for the NoC; one *thread*
(track) per hardware unit: a share's PE group, the ADC bank, the units of each kind, the scratchpad
port, each link. A unit serving several jobs at once (an ADC bank split between two small jobs) gets
one track per concurrent job (``ADC bank [2]``), so slices on a track never overlap. Slices (``X``)
carry the layer, image, block (and bit), energy of their actions (pJ) and the unit's busy time
(ns, server-weighted); counters (``C``) give the scratchpad occupancy of each macro and the number
of messages queued for each link; metadata (``M``) names every process and track.

Granularity (``level``): ``bit`` writes every activity; ``block`` merges a unit's consecutive
activities for one block of one layer and image into one slice; ``layer`` merges those for one
layer and image. A merged slice spans from its first activity's start to its last one's end and its
``busy_ns`` says how much of that the unit worked, so busy totals are the same at every level.

Events are written as they happen, in chunks: memory does not grow with the run. The file is
written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import IO, Any

from pimsim.errors import InputError
from pimsim.sim.core import Pool

LEVELS = ("layer", "block", "bit")
NOC_PID = 1_000_000


def summary_path(trace: str | os.PathLike[str]) -> Path:
    """Where the summary of a trace goes: ``run.json.gz`` -> ``run.summary.json``."""
    p = Path(trace)
    name = p.name
    for suffix in (".json.gz", ".gz", ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return p.with_name(f"{name}.summary.json")


class TraceWriter:
    """Writes one trace; see the module docstring."""

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
        if level not in LEVELS:
            raise InputError(
                "command line", "--trace-level", f"'{level}' is not one of {', '.join(LEVELS)}"
            )
        self.path = Path(path)
        for target in (self.path, summary_path(self.path)):
            if target.exists() and not force:
                raise InputError(
                    str(target),
                    "",
                    "already exists and would be overwritten",
                    "choose another path or pass --force",
                )
        if self.path.is_dir():
            raise InputError(str(self.path), "", "is a directory")
        self.tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # kept open for the whole run (streamed), closed by close() or abort()
            raw: IO[str] = (
                gzip.open(self.tmp, "wt", encoding="utf-8", compresslevel=5)  # noqa: SIM115
                if self.path.name.endswith(".gz")
                else open(self.tmp, "w", encoding="utf-8")
            )
        except OSError as exc:
            raise InputError(
                str(self.path), "", f"cannot be written ({exc.strerror or exc})"
            ) from None
        self.out = raw
        self.level = LEVELS.index(level)
        self.us = 1e-3 / clock_ghz  # microseconds per cycle
        self.ns = 1.0 / clock_ghz
        self.flit_bits = flit_bits  # a message's energy per link: bits / flit_bits x flit_hop_pj
        self.flit_hop_pj = flit_hop_pj
        self.chunk: list[str] = []
        self.tracks: dict[tuple[int, int], int] = {}  # (id(pool), lane) -> tid
        self.track_pid: dict[int, int] = {}
        self.open: dict[int, list[Any]] = {}  # tid -> [key, start, end, busy, energy, name, args]
        self.counters: dict[tuple[int, str], tuple[int, float]] = {}
        self.processes: set[int] = set()
        self.events = 0
        self.out.write(
            '{"displayTimeUnit": "ns", "otherData": ' + json.dumps(meta) + ', "traceEvents": [\n'
        )
        self.first = True

    # -- tracks -----------------------------------------------------------------------------------
    def process(self, pid: int, name: str, label: str = "") -> None:
        if pid in self.processes:
            return
        self.processes.add(pid)
        self._emit({"ph": "M", "name": "process_name", "pid": pid, "args": {"name": name}})
        self._emit(
            {"ph": "M", "name": "process_sort_index", "pid": pid, "args": {"sort_index": pid}}
        )
        if label:
            self._emit({"ph": "M", "name": "process_labels", "pid": pid, "args": {"labels": label}})

    def track(self, pool: Pool, lane: int, pid: int) -> int:
        key = (id(pool), lane)
        tid = self.tracks.get(key)
        if tid is None:
            tid = self.tracks[key] = len(self.tracks) + 1
            self.track_pid[tid] = pid
            name = pool.name if lane == 0 else f"{pool.name} [{lane + 1}]"
            self._emit(
                {"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": name}}
            )
            self._emit(
                {
                    "ph": "M",
                    "name": "thread_sort_index",
                    "pid": pid,
                    "tid": tid,
                    "args": {"sort_index": tid},
                }
            )
        return tid

    # -- activities -------------------------------------------------------------------------------
    def stage(
        self, st: Any, lane: int, t: int, d: int, image: int, block: int, bit: int, li: int
    ) -> None:
        """One activity of a stage (called at its start)."""
        pool = st.pool
        tid = self.track(pool, lane, st.macro)
        k = st.timing[li][0]
        busy = d * k / pool.capacity * self.ns
        energy = st.energy_pj[li]
        name = f"{st.name} {st.layer}"
        if self.level == 2:
            args = {
                "layer": st.layer,
                "image": image,
                "block": block,
                "busy_ns": busy,
                "energy_pj": energy,
            }
            if bit >= 0:
                args["bit"] = bit
            self._slice(tid, name, t, t + d, args)
            return
        key = (name, image, block if self.level == 1 else -1)
        self._merge(
            tid,
            key,
            t,
            d,
            busy,
            energy,
            name,
            {"layer": st.layer, "image": image} | ({"block": block} if self.level == 1 else {}),
        )

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
        tid = self.track(link, lane, NOC_PID)
        name = f"{spec.op} {spec.layer} m{spec.src}->m{spec.dst}"
        busy = d * self.ns
        energy = flit_hops * self.flit_hop_pj
        if self.level == 2:
            self._slice(
                tid,
                name,
                t,
                t + d,
                {
                    "layer": spec.layer,
                    "image": image,
                    "block": block,
                    "bits": bits,
                    "busy_ns": busy,
                    "energy_pj": energy,
                },
            )
            return
        key = (name, image, block if self.level == 1 else -1)
        self._merge(
            tid,
            key,
            t,
            d,
            busy,
            energy,
            name,
            {"layer": spec.layer, "image": image} | ({"block": block} if self.level == 1 else {}),
        )

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
        the off-chip interface."""
        tid = self.track(pool, lane, pid)
        args: dict[str, Any] = {"layer": layer, "image": image}
        busy = d * self.ns
        if self.level == 2:
            args |= {"block": block, "busy_ns": busy, "energy_pj": energy_pj}
            self._slice(tid, name, t, t + d, args)
            return
        key = (name, image, block if self.level == 1 else -1)
        if self.level == 1:
            args["block"] = block
        self._merge(tid, key, t, d, busy, energy_pj, name, args)

    def counter(self, pid: int, name: str, t: int, value: float) -> None:
        """A counter sample; several changes in one cycle keep the last value."""
        key = (pid, name)
        last = self.counters.get(key)
        if last is not None and last[0] == t:
            self.counters[key] = (t, value)
            return
        if last is not None:
            self._emit(
                {
                    "ph": "C",
                    "name": name,
                    "pid": pid,
                    "ts": last[0] * self.us,
                    "args": {"value": last[1]},
                }
            )
        self.counters[key] = (t, value)

    # -- writing ----------------------------------------------------------------------------------
    def _merge(
        self,
        tid: int,
        key: tuple[Any, ...],
        t: int,
        d: int,
        busy: float,
        energy: float,
        name: str,
        args: dict[str, Any],
    ) -> None:
        cur = self.open.get(tid)
        if cur is not None and cur[0] == key:
            cur[2] = t + d
            cur[3] += busy
            cur[4] += energy
            return
        if cur is not None:
            self._flush(tid, cur)
        self.open[tid] = [key, t, t + d, busy, energy, name, args]

    def _flush(self, tid: int, cur: list[Any]) -> None:
        _, start, end, busy, energy, name, args = cur
        args["busy_ns"] = busy
        args["energy_pj"] = energy
        self._slice(tid, name, start, end, args)

    def _slice(self, tid: int, name: str, start: int, end: int, args: dict[str, Any]) -> None:
        self._emit(
            {
                "ph": "X",
                "name": name,
                "pid": self.track_pid[tid],
                "tid": tid,
                "ts": start * self.us,
                "dur": (end - start) * self.us,
                "args": args,
            }
        )

    def _emit(self, event: dict[str, Any]) -> None:
        self.chunk.append(json.dumps(event, separators=(",", ":")))
        self.events += 1
        if len(self.chunk) >= 4096:
            self._write()

    def _write(self) -> None:
        if self.chunk:
            self.out.write(("" if self.first else ",\n") + ",\n".join(self.chunk))
            self.first = False
            self.chunk = []

    def close(self) -> None:
        """Flush open slices and counters, finish the JSON and move the file into place."""
        for tid, cur in sorted(self.open.items()):
            self._flush(tid, cur)
        self.open = {}
        for (pid, name), (t, value) in sorted(self.counters.items()):
            self._emit(
                {"ph": "C", "name": name, "pid": pid, "ts": t * self.us, "args": {"value": value}}
            )
        self.counters = {}
        self._write()
        self.out.write("\n]}\n")
        self.out.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        """Drop a partial file (on an unexpected error)."""
        try:
            self.out.close()
        finally:
            self.tmp.unlink(missing_ok=True)
