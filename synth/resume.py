"""Interrupting and resuming ``pimsyn explore``.

A run's work units are deterministic (seeded per unit from the run's seed) and merged in a fixed
order, so an interrupted run can be finished later with the same outcome as an uninterrupted one:
:func:`resume_session` reloads the finished units from the run folder (:mod:`synth.runlog`) and the
search runs only the others. After an interruption, :func:`best_so_far` concludes the units that
finished, so the folder holds the best design found so far.

SIGTERM (a batch scheduler's stop, ``kill``) is raised like Ctrl-C's ``KeyboardInterrupt`` inside
:func:`terminate_as_interrupt`, as :class:`Stopped`; the conventional exit code of an interruption
is 128 + the signal's number (130 for SIGINT, 143 for SIGTERM). Only the process that installed
the handler raises: a worker forked from it leaves the signal to it (the workers of a local pool
ignore SIGTERM, see :mod:`synth.executors`), so a signal to the whole process group (SLURM's
``scancel``, systemd) stops the run exactly once.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

from pimsim.components.library import load_library
from pimsim.errors import InputError
from pimsim.network.graph import Network
from pimsim.network.load import load_model
from synth.executors import code_digest
from synth.explore import Exploration, conclude
from synth.runlog import RunLog, RunRecord, check_matches, library_digest, read_run, recover, start
from synth.search import Unit, UnitResult, units
from synth.settings import Settings, combos


class Stopped(KeyboardInterrupt):
    """A termination signal other than SIGINT, raised where the program was."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)

    def __reduce__(self) -> tuple[type[Stopped], tuple[int]]:
        # by default the name would be passed back to __init__, which takes the number
        return type(self), (self.signum,)


def exit_code(stop: KeyboardInterrupt) -> int:
    """128 + the signal's number: 130 for Ctrl-C (SIGINT), 143 for SIGTERM."""
    return 128 + (stop.signum if isinstance(stop, Stopped) else int(signal.SIGINT))


def _raise_stopped(owner: int, signum: int, frame: FrameType | None) -> None:
    if os.getpid() != owner:  # a child forked while the handler was set: the owner decides
        return
    signal.signal(signum, signal.SIG_IGN)  # a second SIGTERM must not cut short the saving
    raise Stopped(signum)


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Stopped` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, partial(_raise_stopped, os.getpid()))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass
class Session:
    """A run folder being worked on: its record, network, units, the units finished before this
    session, open logs, and when the session started (``time.perf_counter``)."""

    folder: Path
    record: RunRecord
    network: Network
    work: list[Unit]
    done: dict[int, UnitResult]
    log: RunLog
    warnings: tuple[str, ...] = ()
    started: float = field(default_factory=time.perf_counter)

    @property
    def settings(self) -> Settings:
        return self.record.settings


def new_session(
    folder: Path, model: str, network: Network, settings: Settings, options: dict[str, Any]
) -> Session:
    """Start a run in ``folder`` (already prepared): write run.json and open the logs."""
    from pimsim import __version__

    work = units(combos(settings))
    record = RunRecord(
        pimsyn_version=__version__,
        code_digest=code_digest(),
        model=model,
        model_file=os.path.abspath(model) if os.path.exists(model) else None,
        network=network.name,
        fingerprint=network.fingerprint(),
        library_digest=library_digest(load_library(settings.library)),
        settings=settings,
        units_total=len(work),
        options=options,
    )
    return Session(folder, record, network, work, {}, start(folder, record, work))


def resume_session(folder: str | Path) -> Session:
    """Reopen an interrupted (or finished) run: check it still matches, reload its finished units.

    Raises:
        InputError: the folder is not a run, its model, library or pimsyn version changed, or its
            logs do not belong to its run.json.
    """
    from pimsim import __version__

    path = Path(folder)
    record = read_run(path)
    network = load_model(record.model_file or record.model)
    settings = record.settings
    space = combos(settings)
    work = units(space)
    check_matches(
        record,
        path,
        network.fingerprint(),
        library_digest(load_library(settings.library)),
        len(work),
        __version__,
    )
    changed = (
        f"the synthesizer's code has changed since the run started (code "
        f"{record.code_digest}, now {code_digest()}); the resumed result may differ from "
        "an uninterrupted run"
    )
    warnings = () if record.code_digest == code_digest() else (changed,)
    done = recover(path, work, space)
    return Session(path, record, network, work, done, RunLog(path, work, append=True), warnings)


def best_so_far(session: Session) -> tuple[Exploration | None, int]:
    """After an interruption: the exploration of the units that finished (None if none found a
    design yet) and how many finished. Closes the logs and cuts them back to those units first."""
    session.log.close()
    done = recover(session.folder, session.work, combos(session.settings))
    searched = sum(r.evaluations for unit, r in done.items() if unit not in session.done)
    try:
        return conclude(
            session.network,
            session.settings,
            list(done.values()),
            network_source=session.record.model,
            seconds=time.perf_counter() - session.started,
            session_evaluations=searched,
        ), len(done)
    except InputError:
        return None, len(done)
