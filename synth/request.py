"""What ``pimsyn explore`` is asked: the request, what its options default to, and the search
settings it becomes.

An :class:`ExploreRequest` holds the command's options as given (None: not given), so a resumed run
can tell an option the user gave from one left out even when it equals the default.
:data:`SEARCH_OPTIONS` (taken from run.json on resume) and :data:`FINISH_OPTIONS` (stored too; the
request wins) give the defaults, :func:`filled` puts them in, and :func:`settings_of` turns a filled
request into the search's :class:`~synth.settings.Settings`. Running the request is
:func:`synth.workflow.run_explore`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from types import MappingProxyType
from typing import Any

from synth.settings import Settings

DEFAULT_MODEL, DEFAULT_POWER_W = "resnet18", 49.0

#: What ``resume`` takes from run.json and refuses in the request (the model and the search), with
#: the defaults of a new run. A request's fields are None when not given, so a value given is told
#: apart from one left out even when it equals the default.
SEARCH_OPTIONS: Mapping[str, Any] = MappingProxyType(
    {
        "model": None,
        "power_w": None,
        "out": None,
        "seed": 0,
        "quick": False,
        "thorough": False,
        "rram_ratios": None,
        "cell_bits": None,
        "xbars": None,
        "dac_bits": None,
        "dup": "sa",
        "macros": "specialized",
        "no_sharing": False,
        "sa_energy": "paper",
        "objective": "efficiency",
        "alpha": 0.1,
        "library": "pimsyn",
        "area_mm2": None,
    }
)
#: The finishing options, stored in run.json too; on resume, one given in the request wins.
FINISH_OPTIONS: Mapping[str, Any] = MappingProxyType(
    {
        "no_baseline": False,
        "plot": False,
        "validate": False,
        "top_k": 3,
        "images": 4,
        "tolerance": 5.0,
        "strict": False,
    }
)


@dataclass(frozen=True)
class ExploreRequest:
    """One ``pimsyn explore``: the model and budget, the run folder, where the work runs, the search
    settings and the finishing steps. ``None`` means "not given" (see :data:`SEARCH_OPTIONS` and
    :data:`FINISH_OPTIONS` for what it becomes). ``power_w`` in W, ``tolerance`` in %. ``force``
    matters only with ``out``; ``jobs`` is 1 here (the command line's default is every core)."""

    model: str | None = None
    power_w: float | None = None
    out: str | None = None
    force: bool = False
    resume: str | None = None
    executor: str = "local"
    jobs: int = 1
    seed: int | None = None
    quick: bool | None = None
    thorough: bool | None = None
    rram_ratios: tuple[float, ...] | None = None
    cell_bits: tuple[int, ...] | None = None
    xbars: tuple[int, ...] | None = None
    dac_bits: tuple[int, ...] | None = None
    dup: str | None = None
    macros: str | None = None
    no_sharing: bool | None = None
    sa_energy: str | None = None
    objective: str | None = None
    alpha: float | None = None
    library: str | None = None
    area_mm2: float | None = None
    no_baseline: bool | None = None
    plot: bool | None = None
    validate: bool | None = None
    top_k: int | None = None
    images: int | None = None
    tolerance: float | None = None
    strict: bool | None = None

    @classmethod
    def of(cls, values: Mapping[str, Any] | Any) -> ExploreRequest:
        """A request from a mapping or an object with these names as attributes (an argparse
        namespace); other names are ignored."""
        get = values.get if isinstance(values, Mapping) else lambda k: getattr(values, k, None)
        given = {f.name: get(f.name) for f in fields(cls)}
        return cls(**{k: v for k, v in given.items() if v is not None})


def settings_of(request: ExploreRequest, power_w: float) -> Settings:
    """The search settings a (filled) request asks for."""
    s = Settings(
        power_w=power_w,
        seed=request.seed,
        library=request.library,
        dup=request.dup,
        macros=request.macros,
        sharing=not request.no_sharing,
        area_mm2=request.area_mm2,
        objective=request.objective,  # type: ignore[arg-type]
    )
    if request.quick:
        s = s.quick()
    if request.thorough:
        s = s.thorough()
    for field in ("rram_ratios", "cell_bits", "xbars", "dac_bits"):
        value = getattr(request, field)
        if value is not None:
            s = replace(s, **{field: value})
    return replace(s, sa=replace(s.sa, energy=request.sa_energy, alpha=request.alpha))


def filled(request: ExploreRequest, values: Mapping[str, Any]) -> ExploreRequest:
    """``request`` with the options it leaves out (None) given these values."""
    return replace(request, **{k: v for k, v in values.items() if getattr(request, k) is None})
