"""The PIMSYN flow end to end: ``explore(network, power_w=...) -> Exploration``.

The outer loop's work units (:mod:`synth.search`) run on a ``concurrent.futures.Executor`` (a
process pool by default); results are merged in a fixed order, so the outcome depends only on the
settings and the seed, never on the number of workers, the order in which units finish, or how they
were batched into tasks. That is also what makes a run resumable: :func:`explore` takes the results of
units finished earlier (``done``) and runs only the others, and :func:`conclude` turns any set of
unit results -- all of them, or those of an interrupted run -- into an :class:`Exploration`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator, Mapping
from concurrent.futures import Executor, Future, as_completed
from contextlib import closing
from dataclasses import dataclass, replace

from pimsim.arch.schema import Architecture
from pimsim.components.library import ComponentLibrary, load_library
from pimsim.errors import InputError
from pimsim.network.graph import Network
from synth.budget import check_budget
from synth.executors import local_runner
from synth.materialize import runnable
from synth.polish import polish
from synth.search import Found, Unit, UnitResult, area_budget, search_unit, search_units, units
from synth.settings import Settings, combos
from synth.winner import choose


@dataclass(frozen=True)
class Progress:
    """Reported after every finished work unit. ``evaluations`` counts every finished unit (those
    of an earlier session of a resumed run too), ``session_evaluations`` only those searched in the
    ``seconds`` since this session's search started."""

    units_done: int
    units_total: int
    combos_done: int
    combos_total: int
    evaluations: int
    seconds: float
    best_tops_per_w: float
    session_evaluations: int = 0

    @property
    def evaluations_per_s(self) -> float:
        """This session's designs per second of wall time."""
        return self.session_evaluations / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Exploration:
    """The result of a synthesis: the best design, the top ones, and how the search went.

    ``evaluations`` counts the designs scored by all the units concluded (the polish stage's,
    redone whenever a run is concluded, are ``polish_evaluations``); ``unit_seconds`` is the
    sum of those units' own search times (over all workers and, for a resumed run, all sessions).
    ``seconds`` is this session's wall time and ``session_evaluations`` the designs scored in it
    (equal to ``evaluations`` unless units were finished in an earlier session)."""

    network: str
    settings: Settings
    best: Architecture
    best_found: Found
    top: tuple[Found, ...]  # the runnable-checked designs first (best first), then the others
    skipped: tuple[tuple[str, str], ...]
    evaluations: int
    seconds: float
    units_done: int = 0
    units_total: int = 0
    session_evaluations: int = 0
    unit_seconds: float = 0.0
    #: the Pareto front (synth.front.FRONT), best by the objective first
    front: tuple[Found, ...] = ()
    #: designs scored by the polish stage (not in ``evaluations``)
    polish_evaluations: int = 0

    @property
    def evaluations_per_s(self) -> float:
        """This session's designs per second of wall time (0 when it searched nothing)."""
        return self.session_evaluations / self.seconds if self.seconds > 0 else 0.0

    @property
    def complete(self) -> bool:
        """Every work unit was searched (false for the best-so-far of an interrupted run)."""
        return self.units_done == self.units_total


def _area_text(settings: Settings) -> str:
    return "" if settings.area_mm2 is None else f" and {settings.area_mm2:g} mm^2"


def top_architectures(
    ex: Exploration, network: Network, k: int, network_source: str | None = None
) -> list[Architecture]:
    """The ``k`` best runnable designs of an exploration as architectures, best first."""
    library = load_library(ex.settings.library)
    unified = ex.settings.macros == "unified"
    out: list[Architecture] = []
    for found in ex.top:
        made = runnable(
            found,
            network,
            library,
            ex.settings.power_w,
            unified,
            f"{network.name}-{ex.settings.power_w:g}w-{len(out)}",
            network_source or network.name,
            found.combo.label,
            area_budget(ex.settings),
        )
        if made is not None:
            out.append(made[0])
        if len(out) == k:
            break
    return out


def _run(
    todo: list[Unit],
    network: Network,
    library: ComponentLibrary,
    settings: Settings,
    executor: Executor | None,
    batch: int,
) -> Generator[UnitResult, None, None]:
    """The results of ``todo`` as they finish; pending tasks are cancelled if the caller stops."""
    if executor is None:
        yield from (search_unit(u, network, library, settings) for u in todo)
        return
    tasks = [tuple(todo[i : i + batch]) for i in range(0, len(todo), max(1, batch))]
    # submitted last unit first: the first units (small ratios and cells, whose weights often do
    # not fit: skipped in milliseconds) then fill the workers' tail instead of the longest ones
    pending: set[Future[list[UnitResult]]] = {
        executor.submit(search_units, t, network, library, settings) for t in reversed(tasks)
    }
    try:
        # in the order they finish; a finished future is let go (a list of all of them, kept to
        # cancel the rest, held every unit's log lines to the end: 1.2 GB under --thorough)
        for future in as_completed(pending):
            pending.discard(future)
            yield from future.result()
    finally:
        for future in pending:
            future.cancel()


def explore(
    network: Network,
    power_w: float,
    settings: Settings | None = None,
    *,
    network_source: str | None = None,
    jobs: int = 1,
    executor: Executor | None = None,
    batch: int = 1,
    done: Mapping[int, UnitResult] | None = None,
    on_unit: Callable[[UnitResult, Progress], None] | None = None,
) -> Exploration:
    """Synthesize the most power-efficient design of ``network`` within ``power_w`` watts.

    Args:
        network: the CNN.
        power_w: the budget (peak power of the design).
        settings: search settings (their ``power_w`` is replaced by this one).
        network_source: how arch.json names the network (zoo name or path); default its name.
        jobs: worker processes when no ``executor`` is given (1 = in this process).
        executor: any ``concurrent.futures.Executor`` (e.g. a Dask client's).
        batch: work units per executor task (more for executors with a large per-task overhead).
        done: results of units finished earlier (a resumed run), by unit index; only the other
            units are searched, and the outcome is the same as if all had run now.
        on_unit: called after each newly finished unit, for progress display and logging.

    Raises:
        InputError: the budget is not positive, or too small for any design (the message gives the
            smallest budget that works).
        KeyboardInterrupt: passed on; an own process pool is stopped first, tasks on a given
            executor are cancelled.
    """
    settings = check_budget(network, power_w, settings or Settings(power_w=power_w))
    library = load_library(settings.library)
    work = units(combos(settings))
    done = dict(done or {})
    if not set(done) <= {u.index for u in work}:
        raise ValueError(f"done holds units {sorted(set(done))} outside 0..{len(work) - 1}")
    start = time.perf_counter()
    results = list(done.values())
    size = {u.index: len(u.combos) for u in work}
    evaluations, session_evaluations = sum(r.evaluations for r in results), 0
    combos_done = sum(size[r.unit] for r in results)
    best = max((r.found[0].tops_per_w for r in results if r.found), default=-math.inf)
    with (
        local_runner(jobs if executor is None else 1) as runner,
        closing(
            _run(
                [u for u in work if u.index not in done],
                network,
                library,
                settings,
                executor or runner.executor,
                batch,
            )
        ) as stream,
    ):
        for result in stream:
            results.append(replace(result, log=b""))  # (its log lines: for on_unit only)
            evaluations += result.evaluations
            session_evaluations += result.evaluations
            combos_done += size[result.unit]
            if result.found:
                best = max(best, result.found[0].tops_per_w)
            if on_unit is not None:
                on_unit(
                    result,
                    Progress(
                        len(results),
                        len(work),
                        combos_done,
                        sum(size.values()),
                        evaluations,
                        time.perf_counter() - start,
                        best,
                        session_evaluations,
                    ),
                )
        # inside the pool's lifetime: the polish runs on it
        return conclude(
            network,
            settings,
            results,
            network_source=network_source,
            seconds=time.perf_counter() - start,
            session_evaluations=session_evaluations,
            executor=executor or runner.executor,
        )


def conclude(
    network: Network,
    settings: Settings,
    results: list[UnitResult],
    *,
    network_source: str | None = None,
    seconds: float = 0.0,
    session_evaluations: int | None = None,
    executor: Executor | None = None,
) -> Exploration:
    """Merge unit results in a fixed order and choose the best runnable design.

    ``results`` may be a subset of the units (an interrupted run): the exploration is then the best
    found so far, with ``complete`` false. ``seconds`` and ``session_evaluations`` describe this
    session (default: all the evaluations of ``results`` were made in it). The polish runs on
    ``executor`` when one is given (the same designs as in this process).

    Raises:
        InputError: no design was found, or none stays within the budget once runnable.
    """
    power_w = settings.power_w
    library = load_library(settings.library)
    results = sorted(results, key=lambda r: r.unit)
    found = sorted((f for r in results for f in r.found), key=lambda f: f.key)
    skipped = tuple(s for r in results for s in r.skipped)
    polished, polish_evaluations = polish(found, network, library, settings, executor)
    if polished:
        unique = {(f.combo.index, f.dup, f.partition): f for f in found + polished}
        found = sorted(unique.values(), key=lambda f: f.key)
    if not found:
        raise InputError(
            "command line",
            "--power-w",
            f"no design of {network.name} fits "
            f"{power_w:g} W{_area_text(settings)} in the explored space ({len(skipped)} "
            "combinations skipped"
            + (f"; {skipped[0][0]}: {skipped[0][1]}" if skipped else "")
            + ")",
            "raise --power-w (or --area-mm2) or widen the ranges",
        )
    best_found, arch, top, front = choose(
        found, network, library, settings, network_source, executor
    )
    evaluations = sum(r.evaluations for r in results)
    return Exploration(
        network.name,
        settings,
        arch,
        best_found,
        top,
        skipped,
        evaluations,
        seconds,
        len(results),
        len(units(combos(settings))),
        evaluations if session_evaluations is None else session_evaluations,
        sum(r.seconds for r in results),
        tuple(front),
        polish_evaluations,
    )
