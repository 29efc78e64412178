"""What a run folder keeps so that no work is lost: run.json, units.jsonl, exploration.jsonl.

- ``run.json`` (:class:`RunRecord`), written when the run starts: the model, its fingerprint, the
  component library's digest, the settings (with the seed), the number of work units and the
  command's finishing options -- everything ``pimsyn explore --resume RUN_DIR`` needs.
- ``exploration.jsonl``: one line per scored design (``Found.to_dict``), appended unit by unit.
- ``units.jsonl``: one :class:`UnitRecord` per finished work unit, appended *after* that unit's
  design lines: its best designs, skipped combinations, evaluations, and how many lines it added
  to ``exploration.jsonl``. A unit is finished exactly when its record is there.

Both logs are flushed and synced after every unit. A run killed mid-write leaves at most a torn
last line and the design lines of an unfinished unit; :func:`recover` cuts both logs back to the
finished units, so resuming never repeats or loses a line.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel, ConfigDict

from pimsim.components.library import ComponentLibrary
from pimsim.errors import InputError
from pimsim.fileio import write_atomic
from pimsim.jsonio import read_json, validate
from synth.logline import json_line
from synth.search import Found, Unit, UnitResult
from synth.settings import Combo, Settings

RUN, UNITS, DESIGNS = "run.json", "units.jsonl", "exploration.jsonl"


class RunRecord(BaseModel):
    """``run.json``: what was asked for, so a run can be resumed and checked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    pimsyn_version: str
    code_digest: str  # synth.executors.code_digest() of the code that started the run
    model: str  # as given (arch.json names the network this way)
    model_file: str | None  # its absolute path, when it is a file
    network: str
    fingerprint: str  # Network.fingerprint()
    library_digest: str
    settings: Settings
    units_total: int
    options: dict[str, Any]  # the command's finishing options (validate, plot, ...)


class FoundRecord(BaseModel):
    """A found design as a unit record keeps it (the combination by its index)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    combo: int
    tops_per_w: float
    dup: tuple[int, ...]
    partition: tuple[tuple[int, int], ...]
    metrics: dict[str, float]


class UnitRecord(BaseModel):
    """A line of ``units.jsonl``: enough to rebuild the unit's :class:`UnitResult`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    unit: int
    combos: tuple[int, ...]
    evaluations: int
    seconds: float
    designs: int  # lines this unit appended to exploration.jsonl
    skipped: tuple[tuple[str, str], ...]
    found: tuple[FoundRecord, ...]

    @classmethod
    def of(cls, result: UnitResult, unit: Unit) -> UnitRecord:
        return cls(
            unit=result.unit,
            combos=tuple(c.index for c in unit.combos),
            evaluations=result.evaluations,
            seconds=result.seconds,
            designs=result.log.count(b"\n"),  # (a JSON text holds no newline of its own)
            skipped=tuple(result.skipped),
            found=tuple(
                FoundRecord(
                    combo=f.combo.index,
                    tops_per_w=f.tops_per_w,
                    dup=f.dup,
                    partition=f.partition,
                    metrics=f.metrics,
                )
                for f in result.found
            ),
        )

    def result(self, combos: list[Combo]) -> UnitResult:
        found = [
            Found(f.tops_per_w, combos[f.combo], f.dup, f.partition, dict(f.metrics))
            for f in self.found
        ]
        skipped = [(label, cause) for label, cause in self.skipped]
        return UnitResult(self.unit, found, b"", skipped, self.evaluations, self.seconds)


def library_digest(library: ComponentLibrary) -> str:
    """A short hash of a component library's content."""
    return hashlib.sha256(library.model_dump_json().encode()).hexdigest()[:16]


def _line(data: BaseModel | dict[str, Any]) -> str:
    return json_line(data.model_dump() if isinstance(data, BaseModel) else data)


class RunLog:
    """The two append logs of a run folder, written unit by unit (see the module docstring)."""

    def __init__(self, folder: Path, work: list[Unit], append: bool) -> None:
        self.work = {u.index: u for u in work}
        mode = "a" if append else "w"
        self._designs: IO[bytes] = open(folder / DESIGNS, mode + "b")  # noqa: SIM115
        self._units: IO[str] = open(folder / UNITS, mode, encoding="utf-8")  # noqa: SIM115

    def record(self, result: UnitResult) -> None:
        """Append a finished unit: its design lines, then its unit record."""
        self._designs.write(result.log)  # lines written by the unit
        _sync(self._designs)
        self._units.write(_line(UnitRecord.of(result, self.work[result.unit])))
        _sync(self._units)

    def close(self) -> None:
        self._designs.close()
        self._units.close()


def _sync(handle: IO[Any]) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def start(folder: Path, record: RunRecord, work: list[Unit]) -> RunLog:
    """Write ``run.json`` and open empty logs."""
    write_atomic(folder / RUN, record.model_dump_json(indent=1) + "\n", force=True)
    return RunLog(folder, work, append=False)


def read_run(folder: str | Path) -> RunRecord:
    """The ``run.json`` of a run folder.

    Raises:
        InputError: not a folder, no run.json (not a run), or a run.json that does not validate.
    """
    path = Path(folder)
    if not path.is_dir():
        raise InputError(
            str(path),
            "",
            "is not a folder" if path.exists() else "no such folder",
            "give the --out folder of a `pimsyn explore` run",
        )
    if not (path / RUN).exists():
        raise InputError(
            str(path),
            "",
            f"holds no {RUN}, so it is not a `pimsyn explore` run that can be resumed",
            "give the --out folder of a `pimsyn explore` run",
        )
    return validate(RunRecord, read_json(path / RUN), str(path / RUN), "run record")


def _complete_lines(path: Path) -> list[bytes]:
    """The lines of ``path`` that end in a newline (a torn last write is left out)."""
    if not path.exists():
        return []
    data = path.read_bytes()
    return data[: data.rfind(b"\n") + 1].splitlines(keepends=True)


def _line_ends(path: Path) -> Iterator[int]:
    """The byte offset just past each newline of ``path`` (read in chunks: the log can be large)."""
    if not path.exists():
        return
    with open(path, "rb") as handle:
        base = 0
        while chunk := handle.read(1 << 20):
            at = chunk.find(b"\n")
            while at >= 0:
                yield base + at + 1
                at = chunk.find(b"\n", at + 1)
            base += len(chunk)


def recover(folder: Path, work: list[Unit], space: list[Combo]) -> dict[int, UnitResult]:
    """The finished units of a run folder (``space``: the run's combinations, by index), after
    cutting both logs back to them.

    Raises:
        InputError: a unit record that does not parse or does not belong to this run's units.
    """
    units_path, designs_path = folder / UNITS, folder / DESIGNS
    by_index = {u.index: u for u in work}
    records: list[tuple[UnitRecord, int]] = []  # with the byte length of its line
    for n, line in enumerate(_complete_lines(units_path), start=1):
        place = f"line {n}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                str(units_path),
                place,
                f"is not valid JSON ({exc.msg})",
                "the run folder was changed after the run; start a new run",
            ) from None
        rec = validate(UnitRecord, data, str(units_path), place)
        unit = by_index.get(rec.unit)
        if (
            unit is None
            or rec.combos != tuple(c.index for c in unit.combos)
            or any(f.combo not in rec.combos for f in rec.found)
        ):
            raise InputError(
                str(units_path),
                place,
                f"records unit {rec.unit} with combinations "
                f"{list(rec.combos)}, which is not a unit of this run's settings",
                "the run folder does not match its run.json; start a new run",
            )
        if any(rec.unit == r.unit for r, _ in records):
            raise InputError(str(units_path), place, f"records unit {rec.unit} a second time")
        records.append((rec, len(line)))
    ends = list(islice(_line_ends(designs_path), sum(rec.designs for rec, _ in records)))
    kept: list[UnitRecord] = []
    lines = units_bytes = 0
    for rec, size in records:  # a unit counts only when its design lines are all there
        if lines + rec.designs > len(ends):
            break
        kept.append(rec)
        lines += rec.designs
        units_bytes += size
    _truncate(units_path, units_bytes)
    _truncate(designs_path, ends[lines - 1] if lines else 0)
    return {rec.unit: rec.result(space) for rec in kept}


def _truncate(path: Path, size: int) -> None:
    if path.exists() and path.stat().st_size != size:
        with open(path, "r+b") as handle:
            handle.truncate(size)


def check_matches(
    record: RunRecord, folder: Path, fingerprint: str, library: str, units_total: int, version: str
) -> None:
    """Refuse to resume a run whose model, library, settings or pimsyn version has changed.

    Raises:
        InputError: naming run.json, the field, and what differs.
    """
    file = str(folder / RUN)
    model = f"the model {record.model} has changed since the run started"
    library_changed = (
        f"the component library {record.settings.library} has changed since the run started"
    )
    checks: Mapping[str, tuple[object, object, str]] = {
        "fingerprint": (record.fingerprint, fingerprint, model),
        "library_digest": (record.library_digest, library, library_changed),
        "units_total": (
            record.units_total,
            units_total,
            "this pimsyn cuts the run's settings into other work units",
        ),
        "pimsyn_version": (
            record.pimsyn_version,
            version,
            "the run was started by another pimsyn version",
        ),
    }
    for field, (stored, now, why) in checks.items():
        if stored != now:
            raise InputError(
                file,
                field,
                f"{why} (stored {stored}, now {now})",
                "start a new run (a resumed run must search what the first part did)",
            )
