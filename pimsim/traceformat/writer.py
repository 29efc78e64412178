"""Writing a trace: events streamed in chunks, activities merged by level, the file moved into place.

Granularity (``level``): ``bit`` writes every activity; ``block`` merges a track's consecutive
activities of one name, image and block into one slice; ``layer`` merges those of one name and
image. A merged slice spans from its first activity's start to its last one's end and its
``busy_ns`` says how much of that the unit worked, so busy totals are the same at every level.

Times are given in clock cycles and written in microseconds. Events are written as they happen, in
chunks, so memory does not grow with the run; the file is written under a temporary name and
renamed when complete.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Hashable
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from pimsim.errors import InputError
from pimsim.fileio import refuse_overwrite
from pimsim.traceformat.events import FORMAT, FORMAT_VERSION, LEVELS, Unit, summary_path


class TraceWriter:
    """Writes one trace (see the package docstring for the layout)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        level: str,
        clock_ghz: float,
        meta: dict[str, Any],
        force: bool = False,
    ) -> None:
        if level not in LEVELS:
            raise InputError(
                "command line", "--trace-level", f"'{level}' is not one of {', '.join(LEVELS)}"
            )
        self.path = Path(path)
        for target in (self.path, summary_path(self.path)):
            refuse_overwrite(target, force)
        self.tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # kept open for the whole run (streamed), closed by close() or abort()
            raw: IO[str] = (
                gzip.open(self.tmp, "wt", encoding="utf-8", compresslevel=5)  # noqa: SIM115
                if self.path.name.endswith(".gz")
                else open(self.tmp, "w", encoding="utf-8")  # noqa: SIM115
            )
        except OSError as exc:
            raise InputError(
                str(self.path), "", f"cannot be written ({exc.strerror or exc})"
            ) from None
        self.out = raw
        self.level = LEVELS.index(level)
        self.us = 1e-3 / clock_ghz  # microseconds per cycle
        self.chunk: list[str] = []
        self.tracks: dict[tuple[Hashable, int], int] = {}  # (unit key, lane) -> tid
        self.track_pid: dict[int, int] = {}
        self.open: dict[int, list[Any]] = {}  # tid -> [key, start, end, busy, energy, name, args]
        self.counters: dict[tuple[int, str], tuple[int, float]] = {}
        self.processes: set[int] = set()
        self.events = 0
        other = meta | {"format": FORMAT, "format_version": FORMAT_VERSION}
        self.out.write(
            '{"displayTimeUnit": "ns", "otherData": ' + json.dumps(other) + ', "traceEvents": [\n'
        )
        self.first = True

    # -- processes and tracks ---------------------------------------------------------------------
    def process(self, pid: int, name: str, macro: int | None, label: str = "") -> None:
        """Name a process once; ``macro`` is written as data (``None`` for the NoC)."""
        if pid in self.processes:
            return
        self.processes.add(pid)
        self._emit(
            {"ph": "M", "name": "process_name", "pid": pid, "args": {"name": name, "macro": macro}}
        )
        self._emit(
            {"ph": "M", "name": "process_sort_index", "pid": pid, "args": {"sort_index": pid}}
        )
        if label:
            self._emit({"ph": "M", "name": "process_labels", "pid": pid, "args": {"labels": label}})

    def track(self, key: Hashable, lane: int, pid: int, title: str, unit: Unit) -> int:
        """The track of lane ``lane`` of the unit ``key`` (created and described on first use):
        displayed as ``title`` (``[n]`` added for the n-th lane), identified by ``unit`` as data."""
        tid = self.tracks.get((key, lane))
        if tid is None:
            tid = self.tracks[(key, lane)] = len(self.tracks) + 1
            self.track_pid[tid] = pid
            name = title if lane == 0 else f"{title} [{lane + 1}]"
            args = {"name": name, "unit": replace(unit, index=lane).to_args()}
            self._emit({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": args})
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
    def activity(
        self,
        tid: int,
        name: str,
        t: int,
        d: int,
        busy_ns: float,
        energy_pj: float,
        where: dict[str, Any],
        block: int,
        detail: dict[str, Any],
    ) -> None:
        """One activity of ``d`` cycles from cycle ``t`` on track ``tid``. ``where`` (layer,
        image) is written at every level, ``block`` at ``block`` and ``bit`` level, ``detail``
        (bit, bits) only at ``bit`` level."""
        if self.level == 2:
            args = {**where, "block": block, **detail, "busy_ns": busy_ns, "energy_pj": energy_pj}
            self._slice(tid, name, t, t + d, args)
            return
        key = (name, where.get("image"), block if self.level == 1 else -1)
        cur = self.open.get(tid)
        if cur is not None and cur[0] == key:
            cur[2] = t + d
            cur[3] += busy_ns
            cur[4] += energy_pj
            return
        if cur is not None:
            self._flush(tid, cur)
        args = where | ({"block": block} if self.level == 1 else {})
        self.open[tid] = [key, t, t + d, busy_ns, energy_pj, name, args]

    def counter(self, pid: int, name: str, t: int, value: float) -> None:
        """A counter sample; several changes in one cycle keep the last value."""
        key = (pid, name)
        last = self.counters.get(key)
        if last is not None and last[0] == t:
            self.counters[key] = (t, value)
            return
        if last is not None:
            self._counter(pid, name, *last)
        self.counters[key] = (t, value)

    # -- writing ----------------------------------------------------------------------------------
    def _counter(self, pid: int, name: str, t: int, value: float) -> None:
        self._emit(
            {"ph": "C", "name": name, "pid": pid, "ts": t * self.us, "args": {"value": value}}
        )

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
            self._counter(pid, name, t, value)
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
