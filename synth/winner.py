"""The winner of an exploration: the designs made runnable, the objective's pick, the front.

The search's designs are priced with scratchpads sized from a per-layer working set; before one is
chosen, the best few by the objective are made runnable (:func:`synth.materialize.runnable`: every
scratchpad holds what the dataflow compiler says it needs, re-allocated within the budgets) and the
winner is the best of those by the objective (:mod:`synth.front`). For ``edp`` the latency is the
estimate's, known once a design is runnable, so the front's designs are the ones made runnable.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import replace
from typing import Any

from pimsim.arch.schema import Architecture
from pimsim.components.library import ComponentLibrary
from pimsim.errors import InputError
from pimsim.model.estimate import estimate
from pimsim.model.plan import Plan
from pimsim.network.graph import Network
from synth.front import objective_value, pareto_front
from synth.materialize import runnable
from synth.search import Found, area_budget
from synth.settings import Settings

#: How many of the best designs are made runnable (scratchpads checked) before the best is chosen.
REPAIRED = 8


def choose(
    found: list[Found],
    network: Network,
    library: ComponentLibrary,
    settings: Settings,
    network_source: str | None = None,
    executor: Executor | None = None,
) -> tuple[Found, Architecture, tuple[Found, ...], tuple[Found, ...]]:
    """The winner (as found and as an architecture), the designs kept for ``top.json`` (the
    runnable ones first, best by the objective first) and the Pareto front of ``found`` (best by
    the objective first). The designs are made runnable on ``executor`` side by side when one
    is given (in this process otherwise), with the same result.

    Raises:
        InputError: none of the designs tried stays within the budgets once runnable.
    """
    power_w = settings.power_w
    name = f"{network.name}-{power_w:g}w"
    source = network_source or network.name
    unified = settings.macros == "unified"
    objective = settings.objective
    front = pareto_front(found)

    def made_runnable(designs: list[Found]) -> list[tuple[Found, Architecture]]:
        """The designs made runnable that keep within the budgets (as checked, with their
        architecture), in order; on ``executor`` side by side when one is given (``runnable``
        is pure: the same designs as in this process)."""
        calls = [
            (
                f,
                network,
                library,
                power_w,
                unified,
                name,
                source,
                f"synthesized by pimsyn for {network.name} within {power_w:g} W ({f.combo.label})",
                area_budget(settings),
            )
            for f in designs
        ]
        if executor is None:
            made = [runnable(*call) for call in calls]
        else:
            made = [future.result() for future in [executor.submit(runnable, *c) for c in calls]]
        out = []
        for arch, checked in (m for m in made if m is not None):
            if objective == "edp":  # the latency of one image, from the estimate of the design
                latency = estimate(arch, Plan(arch, network)).latency_ns
                checked = replace(checked, metrics={**checked.metrics, "latency_ns": latency})
            out.append((checked, arch))
        return out

    def rank(f: Found) -> tuple[Any, ...]:
        return (-objective_value(f.metrics, objective), f.key)

    if objective == "edp":  # latency is known for the front's designs only (made runnable here)
        repaired = made_runnable(front)
        on_front = {(f.combo.index, f.dup, f.partition) for f in front}
        rest = [f for f in found if (f.combo.index, f.dup, f.partition) not in on_front]
    else:  # make the best few runnable, then choose among them
        ranked = sorted(found, key=rank)
        repaired = made_runnable(ranked[:REPAIRED])
        rest = ranked[REPAIRED:]
    if not repaired:
        raise InputError(
            "command line",
            "--power-w",
            f"none of the best designs of "
            f"{network.name} keeps within {power_w:g} W once its scratchpads hold "
            "what its dataflow needs",
            "raise --power-w",
        )
    repaired.sort(key=lambda fa: rank(fa[0]))
    best_found, arch = repaired[0]
    checked = [f for f, _ in repaired]
    top = tuple(
        checked[: max(settings.keep, REPAIRED)] + rest[: max(settings.keep - len(checked), 0)]
    )
    if objective == "edp":
        by_key = {(f.combo.index, f.dup, f.partition): f for f in checked}
        front = [by_key.get((f.combo.index, f.dup, f.partition), f) for f in front]
    front = sorted(front, key=rank)
    return best_found, arch, top, tuple(front)
