"""The explore workflow as a library function: a run folder (new or resumed), the search, the end.

:func:`run_explore` takes a frozen :class:`ExploreRequest` (what ``pimsyn explore``'s options say)
and returns a frozen :class:`ExploreResult`; the command line only parses options into the request,
calls it and renders the result (:mod:`synth.cli_explore`). What happens while it runs (warnings,
progress, the winner as soon as it is known) is told to an :class:`Observer`; the default one is
silent, so the workflow runs the same from Python (the request, its options' defaults and the
settings it becomes are :mod:`synth.request`; their names are importable from here too)::

    from synth.workflow import ExploreRequest, run_explore
    result = run_explore(ExploreRequest("resnet18-cifar", 20, quick=True, jobs=1))
    result.folder, result.best.tops_per_w, result.exit_code

Order matters for a user's time: the model, the budget and the output folder (or the run to resume)
are checked before connecting to an executor (a Dask scheduler can take up to 10 s to fail), and
nothing is written before the executor works. Without ``out`` a new folder is chosen:
``runs/<model>-<W>w``, then ``-2``, ``-3``, ... (claimed with an exclusive ``mkdir``, so two runs
started at once get two folders); an explicit ``out`` that holds a run is refused unless ``force``
(or ``resume``). An interruption during the search (``KeyboardInterrupt``, or
:class:`~synth.resume.Stopped` when the caller turned SIGTERM into one with
:func:`~synth.resume.terminate_as_interrupt`) saves the best design so far and returns a result
with exit code 130 or 143; before the search it propagates.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pimsim.errors import InputError
from pimsim.model.estimate import CostReport, estimate
from pimsim.model.plan import Plan
from pimsim.network.load import load_model, model_reference
from synth.baseline import isaac_baseline
from synth.budget import check_budget
from synth.executors import Runner, open_runner
from synth.explore import Exploration, explore
from synth.outputs import prepare_dir, write_results, write_unfinished
from synth.request import (
    DEFAULT_MODEL,
    DEFAULT_POWER_W,
    FINISH_OPTIONS,
    SEARCH_OPTIONS,
    ExploreRequest,
    filled,
    settings_of,
)
from synth.resume import Session, best_so_far, exit_code, new_session, resume_session

__all__ = (  # the request's names are importable from here too
    "DEFAULT_MODEL",
    "DEFAULT_POWER_W",
    "FINISH_OPTIONS",
    "SEARCH_OPTIONS",
    "ExploreRequest",
    "ExploreResult",
    "Observer",
    "claim_fresh_folder",
    "estimate_of",
    "run_explore",
    "settings_of",
)

if TYPE_CHECKING:  # the finishing steps' modules are imported when a run asks for them
    from synth.validate import ValidationReport


@dataclass(frozen=True)
class ExploreResult:
    """What a run produced. ``exploration`` and ``best`` (its estimate) are None only when it was
    interrupted before any design was found; ``interrupted`` then says when (and ``exit_code`` is
    130 or 143). ``exit_code`` is 1 when ``strict`` and a validated design is beyond the
    tolerance, else 0."""

    folder: Path
    request: ExploreRequest
    exploration: Exploration | None
    best: CostReport | None
    baseline: CostReport | None = None
    baseline_skipped: str | None = None
    plots: tuple[Path, ...] = ()
    validation: ValidationReport | None = None
    interrupted: str | None = None
    exit_code: int = 0


class Observer:
    """Told what happens while a run goes; every method does nothing here (subclass to show it)."""

    def message(self, text: str) -> None:
        """A note on progress (the folder chosen, resuming, the executor, a validation starting)."""

    def warning(self, text: str) -> None:
        """Something the user should know (a changed code digest, a skipped baseline)."""

    @contextmanager
    def searching(self, description: str) -> Iterator[None]:
        """Around the search."""
        yield

    def unit_done(self, state: Any) -> None:
        """A work unit finished (``state``: :class:`synth.explore` progress, with ``combos_done``,
        ``combos_total``, ``evaluations_per_s``, ``best_tops_per_w``)."""

    def explored(self, result: ExploreResult) -> None:
        """The search's result is written (before plots and validation, which may take long)."""


def estimate_of(arch, network) -> CostReport:  # type: ignore[no-untyped-def]
    """The analytical estimate of a design mapping ``network``."""
    return estimate(arch, Plan(arch, network))


def claim_fresh_folder(base: Path) -> Path:
    """Create and return the first of ``base``, ``base-2``, ``base-3``, ... that did not exist."""
    for n in count(1):
        folder = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            continue
        except OSError as exc:  # a parent that is a file, no permission, a read-only file system
            raise InputError(
                str(folder), "", f"cannot be created ({exc.strerror or exc})", "give --out DIR"
            ) from None
        return folder
    raise AssertionError("unreachable")  # pragma: no cover


def _prepare(
    request: ExploreRequest, observer: Observer
) -> tuple[ExploreRequest, Session | Callable[[], Session]]:
    """Check everything the run needs but the executor. The run ``resume`` names is reopened (with
    its stored finishing options unless given); a new run is returned as the call that starts it,
    since nothing is written before the executor is known to work."""
    if request.resume is not None:
        given = [k for k in SEARCH_OPTIONS if getattr(request, k) is not None]
        if given:
            flags = ", ".join(
                "MODEL" if k == "model" else f"--{k.replace('_', '-')}" for k in given
            )
            raise InputError(
                "command line",
                "--resume",
                f"takes the model and the search "
                f"settings from {Path(request.resume) / 'run.json'}, so {flags} cannot "
                "be given with it",
                "leave them out, or start a new run",
            )
        session = resume_session(request.resume)
        stored = session.record.options
        return filled(request, {k: stored.get(k, d) for k, d in FINISH_OPTIONS.items()}), session
    if request.model is None and request.power_w is None:
        request = replace(request, model=DEFAULT_MODEL, power_w=DEFAULT_POWER_W)
    request = filled(request, SEARCH_OPTIONS | FINISH_OPTIONS)
    if request.power_w is None:
        raise InputError("command line", "--power-w", "give the power budget in watts")
    model = request.model or DEFAULT_MODEL
    network = load_model(model)
    settings = check_budget(network, request.power_w, settings_of(request, request.power_w))
    options = {k: getattr(request, k) for k in FINISH_OPTIONS}

    def start(folder: Path) -> Session:
        return new_session(folder, model, network, settings, options)

    if request.out is None:
        stem = Path(model).stem if os.path.exists(model) else model
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem)
        base = Path("runs") / f"{slug}-{request.power_w:g}w"

        def fresh() -> Session:
            folder = claim_fresh_folder(base)
            observer.message(f"new run folder: {folder}")
            return start(folder)

        return request, fresh
    out = Path(request.out)
    if out.exists():
        prepare_dir(out, request.force)  # refuses a previous run now; creates nothing
    return request, lambda: start(prepare_dir(out, request.force))


def run_explore(request: ExploreRequest, observer: Observer | None = None) -> ExploreResult:
    """Run (or resume) one exploration and finish it as the request says; see the module docstring.

    Raises:
        InputError: bad input (model, budget, settings, folder, executor, a run that cannot be
            resumed).
        KeyboardInterrupt: an interruption before the search started (nothing was written).
    """
    observer = observer or Observer()
    request, prepared = _prepare(request, observer)
    try:
        with open_runner(request.executor, request.jobs) as runner:
            session = prepared if isinstance(prepared, Session) else prepared()
            return _search(request, session, runner, observer)
    finally:
        if isinstance(prepared, Session):  # open_runner failed (else _search closed it)
            prepared.log.close()


def _search(
    request: ExploreRequest, session: Session, runner: Runner, observer: Observer
) -> ExploreResult:
    for warning in session.warnings:
        observer.warning(warning)
    if runner.remote:
        observer.message(f"running on {runner.description}")
    todo = len(session.work) - len(session.done)
    if session.done:
        observer.message(
            f"resuming {session.folder}: {len(session.done)} of "
            f"{len(session.work)} work units done, {todo} to go"
        )
    network, settings, model = session.network, session.settings, session.record.model

    def on_unit(result, state) -> None:  # type: ignore[no-untyped-def]
        session.log.record(result)
        observer.unit_done(state)

    ex = None
    try:
        try:
            with observer.searching(f"exploring {network.name} at {settings.power_w:g} W"):
                ex = explore(
                    network,
                    settings.power_w,
                    settings,
                    network_source=model_reference(model, session.folder),
                    executor=runner.executor,
                    batch=runner.batch_size(todo),
                    done=session.done,
                    on_unit=on_unit,
                )
            session.log.close()
            return _finish(request, session, ex, runner, observer)
        except KeyboardInterrupt:
            runner.close(abort=True)  # stop the workers before saving
            raise
    except KeyboardInterrupt as stop:
        return _stopped(request, session, ex, stop)
    finally:
        session.log.close()


def _extra(request: ExploreRequest, model: str, ex: Exploration | None) -> dict[str, Any]:
    """report.json's fields besides the exploration's own."""
    extra: dict[str, Any] = {"model": model, "jobs": request.jobs, "executor": request.executor}
    if ex is not None:
        extra |= {"session_evaluations": ex.session_evaluations, "unit_seconds": ex.unit_seconds}
    return extra


def _stopped(
    request: ExploreRequest, session: Session, ex: Exploration | None, stop: KeyboardInterrupt
) -> ExploreResult:
    """Save what an interrupted run found; the result says when it stopped."""
    out, total, best = session.folder, len(session.work), None
    if ex is None:
        ex, done = best_so_far(session)
        extra = _extra(request, session.record.model, ex)
        if ex is not None:
            best = estimate_of(ex.best, session.network)
            write_results(out, ex, best, None, extra)
            saved = f"best design so far in {out}/arch.json"
        else:
            write_unfinished(out, session.network.name, session.settings, done, total, extra)
            saved = "no design found yet"
        where = f"after {done} of {total} work units ({saved})"
    else:
        best = estimate_of(ex.best, session.network)
        where = f"after the search, while finishing {out}"
    return ExploreResult(out, request, ex, best, interrupted=where, exit_code=exit_code(stop))


def _finish(
    request: ExploreRequest,
    session: Session,
    ex: Exploration,
    runner: Runner,
    observer: Observer,
) -> ExploreResult:
    """Write the results, then optionally plot and validate a finished exploration."""
    out, network = session.folder, session.network
    model = model_reference(session.record.model, out)  # as arch.json files in ``out`` name it
    best = estimate_of(ex.best, network)
    baseline, skipped = None, None
    if not request.no_baseline:
        try:
            baseline = estimate_of(isaac_baseline(network, model), network)
        except InputError as exc:
            skipped = exc.message
            observer.warning(f"ISAAC baseline skipped: {skipped}")
    write_results(out, ex, best, baseline, _extra(request, model, ex))
    result = ExploreResult(out, request, ex, best, baseline, skipped)
    observer.explored(result)
    if request.plot:
        from synth.plots import plot_run

        result = replace(result, plots=tuple(plot_run(out, best, baseline)))
    if request.validate:
        from synth.spread import spread_architectures
        from synth.validate import validate

        designs = [arch for _, arch in spread_architectures(ex, network, request.top_k, model)]
        observer.message(
            f"simulating {len(designs)} designs spread along the Pareto front, the winner first "
            f"({request.images} images each)..."
        )
        report = validate(
            designs,
            network,
            images=request.images,
            tolerance_pct=request.tolerance,
            out=out,
            executor=runner.executor,
            remote=runner.remote,
        )
        code = 1 if report.flagged and request.strict else 0
        result = replace(result, validation=report, exit_code=code)
    return result
