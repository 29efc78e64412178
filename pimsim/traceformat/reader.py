"""Reading a trace: tracks with their units' identity, slices as arrays, the run's summary.

Reads the Chrome Trace Event JSON that ``pimsim run --trace`` writes (gzipped or not) and the
``.summary.json`` beside it. Slices are kept as numpy columns (a million slices take tens of MB and
filter in milliseconds); names are interned. A track's unit (macro, kind, lane, layer share) comes
from the data the writer put in its metadata (see :mod:`pimsim.traceformat`), never from parsing
its display name.
"""

from __future__ import annotations

import gc
import gzip
import json
import os
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from pimsim.errors import InputError
from pimsim.traceformat.events import FORMAT_VERSION, NOC_PID, Unit, summary_path


@dataclass(frozen=True)
class Track:
    """One hardware unit's timeline (one lane of a unit serving several jobs at once)."""

    index: int
    pid: int
    tid: int
    process: str  # display name: "macro 3" or "NoC"
    name: str  # display name: "ADC bank", "link (0,0)->(0,1)"
    unit: Unit

    @property
    def macro(self) -> int | None:
        """The macro the unit is in (``None`` for a NoC link)."""
        return self.unit.macro

    @property
    def label(self) -> str:
        """The unit's summary name, with ``[n]`` for its n-th lane."""
        return self.unit.label


@dataclass
class TraceData:
    """Everything the inspector shows. Times in microseconds (the trace's unit)."""

    path: Path
    tracks: list[Track]
    track: np.ndarray  # per slice: track index
    start_us: np.ndarray
    dur_us: np.ndarray
    busy_ns: np.ndarray
    energy_pj: np.ndarray
    image: np.ndarray
    block: np.ndarray
    layer: np.ndarray  # per slice: index into ``layers``
    layers: list[str]
    counters: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    summary: dict[str, Any] | None = None

    @property
    def end_us(self) -> float:
        return float((self.start_us + self.dur_us).max()) if len(self.start_us) else 0.0

    @property
    def macros(self) -> list[int]:
        return sorted({t.macro for t in self.tracks if t.macro is not None})

    @property
    def images(self) -> list[int]:
        return sorted(int(i) for i in np.unique(self.image)) if len(self.image) else []

    def mask(
        self, layer: str | None = None, image: int | None = None, macro: int | None = None
    ) -> np.ndarray:
        """Slices that pass the filters."""
        keep = np.ones(len(self.track), dtype=bool)
        if layer:
            keep &= self.layer == (self.layers.index(layer) if layer in self.layers else -1)
        if image is not None:
            keep &= self.image == image
        if macro is not None:
            ok = np.array([t.macro == macro for t in self.tracks], dtype=bool)
            keep &= ok[self.track] if len(ok) else keep
        return keep

    def busy_by_track(self, keep: np.ndarray | None = None) -> np.ndarray:
        """(tracks,) busy ns of each track over the kept slices."""
        sel = slice(None) if keep is None else keep
        return np.bincount(self.track[sel], self.busy_ns[sel], minlength=len(self.tracks))

    def layer_spans(self, keep: np.ndarray | None = None) -> dict[str, tuple[float, float]]:
        """First start and last end (us) of each layer's slices."""
        sel = np.ones(len(self.track), dtype=bool) if keep is None else keep
        out = {}
        for i, name in enumerate(self.layers):
            rows = sel & (self.layer == i)
            if rows.any():
                out[name] = (
                    float(self.start_us[rows].min()),
                    float((self.start_us[rows] + self.dur_us[rows]).max()),
                )
        return out


def _parse(path: Path) -> Any:
    try:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as handle:
            raw = handle.read()
        return orjson.loads(raw)
    except (OSError, EOFError, orjson.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            str(path),
            "",
            f"is not a readable trace ({exc})",
            "give a file written by `pimsim run --trace`",
        ) from None


def _columns(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Columns of ``keys`` over ``rows`` (KeyError if a row lacks one)."""
    if not rows:
        return [() for _ in keys]
    return list(zip(*map(itemgetter(*keys), rows), strict=True))


def load_trace(path: str | os.PathLike[str]) -> TraceData:
    """Load a trace and, if present, its summary.

    A trace is millions of small objects: the cyclic garbage collector would rescan them over and
    over while they are built, so it is paused while loading (nothing here makes cycles).

    Raises:
        InputError: the file is missing or is not a Chrome Trace Event file.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load(path)
    finally:
        if enabled:
            gc.enable()


def _load(path: str | os.PathLike[str]) -> TraceData:
    file = Path(path)
    if not file.exists():
        raise InputError(str(file), "", "no such file")
    data = _parse(file)
    events = data.get("traceEvents") if isinstance(data, dict) else data
    if not isinstance(events, list):
        raise InputError(str(file), "top level", "has no traceEvents list")
    split: dict[Any, list[dict[str, Any]]] = {"X": [], "M": [], "C": []}
    for ev in events:
        if isinstance(ev, dict) and (bucket := split.get(ev.get("ph"))) is not None:
            bucket.append(ev)
    other = data.get("otherData") if isinstance(data, dict) else None
    version = (other or {}).get("format_version", 1) if isinstance(other, dict) else 1
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise InputError(
            str(file),
            "otherData.format_version",
            f"is {version!r}; this pimsim reads trace format versions 1 to {FORMAT_VERSION}",
            "open it with the pimsim that wrote it",
        )
    if not any(isinstance(ev, dict) and "ph" in ev for ev in events):  # nothing to inspect
        raise InputError(
            str(file),
            "traceEvents",
            f"holds {len(events)} entries but no trace event (an object with a 'ph' field)",
            "give a file written by `pimsim run --trace`",
        )
    try:
        return _trace_data(file, split)
    except (AttributeError, TypeError, ValueError) as exc:  # a field of the wrong type
        raise InputError(
            str(file),
            "traceEvents",
            f"holds an event whose fields are not those of a Chrome trace event ({exc})",
            "give a file written by `pimsim run --trace`",
        ) from None


def _trace_data(file: Path, split: dict[Any, list[dict[str, Any]]]) -> TraceData:
    """The trace ``file``'s columns from its slices, metadata and counters (sorted by ``_load``)."""
    xs, meta = split["X"], split["M"]
    processes = {
        e.get("pid", 0): str(e.get("args", {}).get("name", ""))
        for e in meta
        if e.get("name") == "process_name"
    }
    threads = {
        (e.get("pid", 0), e.get("tid", 0)): e.get("args") or {}
        for e in meta
        if e.get("name") == "thread_name"
    }
    try:  # the fields pimsim writes on every slice: read them without per-field lookups
        pid, tid, ts, dur, args = _columns(xs, ("pid", "tid", "ts", "dur", "args"))
        layer_names, image, block, busy, energy = _columns(
            args, ("layer", "image", "block", "busy_ns", "energy_pj")
        )
    except KeyError:  # a trace from elsewhere: look each field up with its default
        pid = [e.get("pid", 0) for e in xs]
        tid = [e.get("tid", 0) for e in xs]
        ts = [e.get("ts", 0.0) for e in xs]
        dur = [e.get("dur", 0.0) for e in xs]
        args = [e.get("args") or {} for e in xs]
        layer_names = [a.get("layer", e.get("name", "")) for a, e in zip(args, xs, strict=True)]
        image = [a.get("image", -1) for a in args]
        block = [a.get("block", -1) for a in args]
        busy = [a.get("busy_ns", d * 1e3) for a, d in zip(args, dur, strict=True)]
        energy = [a.get("energy_pj", 0.0) for a in args]
    index: dict[tuple[int, int], int] = {}
    track = [index.setdefault(key, len(index)) for key in zip(pid, tid, strict=True)]
    layers: dict[str, int] = {}
    layer = [layers.setdefault(str(name), len(layers)) for name in layer_names]
    counters: dict[tuple[int, str], tuple[list[float], list[float]]] = {}
    for e in split["C"]:
        series = counters.setdefault((e.get("pid", 0), str(e.get("name", ""))), ([], []))
        series[0].append(e.get("ts", 0.0))
        series[1].append(float(next(iter((e.get("args") or {"v": 0}).values()))))
    cols = {
        "track": track,
        "layer": layer,
        "ts": ts,
        "dur": dur,
        "busy": busy,
        "energy": energy,
        "image": image,
        "block": block,
    }
    tracks = [
        _track(file, i, pid, tid, processes.get(pid, f"process {pid}"), threads.get((pid, tid), {}))
        for (pid, tid), i in sorted(index.items(), key=lambda kv: kv[1])
    ]
    summary = None
    side = summary_path(file)
    if side.exists():
        try:
            summary = json.loads(side.read_text())
        except (OSError, json.JSONDecodeError):
            summary = None
    return TraceData(
        file,
        tracks,
        np.array(cols["track"], dtype=np.int32),
        np.array(cols["ts"], dtype=float),
        np.array(cols["dur"], dtype=float),
        np.array(cols["busy"], dtype=float),
        np.array(cols["energy"], dtype=float),
        np.array(cols["image"], dtype=np.int32),
        np.array(cols["block"], dtype=np.int32),
        np.array(cols["layer"], dtype=np.int32),
        list(layers),
        {k: (np.array(v[0]), np.array(v[1])) for k, v in counters.items()},
        summary,
    )


def _track(file: Path, i: int, pid: int, tid: int, process: str, args: dict[str, Any]) -> Track:
    """A track from its thread metadata: the unit as the writer recorded it (format version 2), or,
    for a version-1 trace, the one thing that version encoded as data: a macro's pid is its index."""
    name = str(args.get("name", f"track {tid}"))
    unit = args.get("unit")
    if unit is None:
        macro = pid if isinstance(pid, int) and pid != NOC_PID else None
        return Track(i, pid, tid, process, name, Unit(f"{process}/{name}", "unknown", macro))
    try:
        return Track(i, pid, tid, process, name, Unit.from_args(unit))
    except (KeyError, TypeError, ValueError, IndexError):
        raise InputError(
            str(file),
            f"thread_name of pid {pid}, tid {tid}",
            f"has a malformed unit record {unit!r}",
            "give a file written by `pimsim run --trace`",
        ) from None
