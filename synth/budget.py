"""Whether a budget is workable before any search: the smallest power and area budgets for which
some combination of the explored space has a design (every dup 1, one macro partition, one of
each needed unit), and :func:`check_budget`, which raises an :class:`InputError` naming that
smallest budget when the requested one is below it. Used by :mod:`synth.explore` (and the
workflow) before the work units are searched; a workable budget's check ends by loading the
search's compiled loops (:func:`load_search_loops`), so that the work units' processes, forked
after it, start with them.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from pimsim.components.library import ComponentLibrary, load_library
from pimsim.errors import InputError
from pimsim.jitcache import start_without_blas_probe
from pimsim.network.graph import Network
from synth.context import ComboContext
from synth.design import (
    Allocation,
    Infeasible,
    allocate,
    assemble,
    default_partition,
    score_batch,
)
from synth.search import area_budget
from synth.settings import Combo, Settings, combos


def check_budget(network: Network, power_w: float, settings: Settings) -> Settings:
    """The settings with ``power_w`` as their budget, once the budget is known to be workable.

    Raises:
        InputError: the budget is not positive, the network has no weight layer, or the budget is
            too small for any design (the message gives the smallest budget that works).
    """
    if not power_w > 0 or not math.isfinite(power_w):
        raise InputError(
            "command line",
            "--power-w",
            f"the budget must be a positive number of watts, not {power_w}",
        )
    network.mappable_layers()
    start_without_blas_probe()  # before the first compiled call below
    settings = replace(settings, power_w=power_w)
    library = load_library(settings.library)
    check_area(network, library, settings)
    minimum, where = minimum_budget_w(network, library, settings)
    if math.isinf(minimum):
        raise InputError(
            f"library '{settings.library}'",
            "parts",
            f"no design of {network.name} can be built at any budget: {where}",
            "use a library with the parts the explored combinations need, or "
            "narrow --xbars/--cell-bits/--dac-bits to combinations it supports",
        )
    if power_w < minimum:
        raise InputError(
            "command line",
            "--power-w",
            f"{power_w:g} W is too small for "
            f"{network.name}: the smallest budget that works is {math.ceil(minimum * 100) / 100:g} W"
            f" ({where})",
            "raise --power-w, or allow larger --rram-ratios",
        )
    load_search_loops(network, library, settings, _combo_named(settings, where))
    return settings


def _combo_named(settings: Settings, label: str) -> Combo:
    """The combination of the highest rram ratio :func:`minimum_budget_w` named (by its label:
    the ratio, crossbar, cell and DAC, which set the others)."""
    return next(
        c
        for c in combos(replace(settings, rram_ratios=(max(settings.rram_ratios),)))
        if c.label == label
    )


def load_search_loops(
    network: Network, library: ComponentLibrary, settings: Settings, combo: Combo
) -> None:
    """Score two copies of ``combo``'s smallest design within the budgets, as the search scores a
    batch (:func:`synth.design.score_batch`), and forget them: every compiled loop of stage 4
    and of the kernel is then loaded in this process (numba reads it from its cache on its first
    call), and the work units' processes, forked after the budget check, inherit them instead of
    each loading them (a worker's first unit of AlexNet: 0.42 -> 0.19 s of CPU; this call 0.1
    s). The smallest design fits the power budget (checked above); should it not fit the area
    budget, only stage 4's loops are loaded."""
    ctx = ComboContext.build(combo, network, library, settings.power_w)
    dup = np.ones(len(ctx.weight), dtype=int)
    partition = default_partition(ctx, dup)
    unified = settings.macros == "unified"
    area = area_budget(settings)
    score_batch(ctx, [dup, dup], [partition, partition], settings.power_w, unified, area_mm2=area)


def check_area(network: Network, library: ComponentLibrary, settings: Settings) -> None:
    """Raise if the area budget is not positive, the library lacks areas, or the budget is
    smaller than the smallest design's area (the message gives that area)."""
    if settings.area_mm2 is None:
        return
    area = settings.area_mm2
    if not area > 0 or not math.isfinite(area):
        raise InputError(
            "command line", "--area-mm2", f"the area budget must be a positive number, not {area}"
        )
    unknown = unknown_areas(library)
    if unknown:
        raise InputError(
            f"library '{library.name}'",
            "area_mm2",
            f"has no area for {len(unknown)} parts ({', '.join(unknown[:3])}, ...), so an area "
            "budget cannot be checked",
            "use a library with every part's area (the default 'pimsyn' has them)",
        )
    minimum, where = minimum_area_mm2(network, library, settings)
    if area < minimum:
        raise InputError(
            "command line",
            "--area-mm2",
            f"{area:g} mm^2 is too small for {network.name}: the smallest area that works is "
            f"{math.ceil(minimum * 100) / 100:g} mm^2 ({where})",
            "raise --area-mm2",
        )


def unknown_areas(library: ComponentLibrary) -> list[str]:
    """Names of the library's parts without an area."""
    parts: list[object] = [
        *library.crossbars,
        *library.adcs,
        *library.dacs,
        *library.sample_holds,
        *library.units,
        *library.buffers,
        *library.fixed,
        *library.interfaces,
    ]
    out = [p.name for p in parts if getattr(p, "area_mm2", None) is None]  # type: ignore[attr-defined]
    return out + [n.name for n in library.nocs if n.router_area_mm2 is None]


def _smallest_design(ctx: ComboContext, settings: Settings) -> Allocation | None:
    """The combination's smallest design, which the minimum budgets price: every dup 1, the
    default macro partition, one of each needed unit (stage 4 with no power bound); None when
    even that cannot be allocated."""
    dup = np.ones(len(ctx.weight), dtype=int)
    macros = assemble(ctx, dup, default_partition(ctx, dup))
    try:
        return allocate(ctx, dup, macros, math.inf, settings.macros == "unified")
    except Infeasible:
        return None


def minimum_area_mm2(
    network: Network, library: ComponentLibrary, settings: Settings
) -> tuple[float, str]:
    """The smallest area budget for which some combination has a design, at the power budget:
    every dup 1, one macro partition, one of each needed unit (``inf`` and why, if none)."""
    best, where = math.inf, "no combination fits the power budget"
    for combo in combos(replace(settings, rram_ratios=(max(settings.rram_ratios),))):
        try:
            ctx = ComboContext.build(combo, network, library, settings.power_w)
        except InputError:
            continue
        alloc = _smallest_design(ctx, settings)
        if alloc is None:
            continue
        if alloc.area_mm2 < best:
            best, where = alloc.area_mm2, combo.label
    return best, where


def minimum_budget_w(
    network: Network, library: ComponentLibrary, settings: Settings
) -> tuple[float, str]:
    """The smallest power budget for which some combination has a design: every dup 1, one macro
    partition, one of each needed unit; the crossbars must fit the combination's rram share.
    With no buildable combination: ``inf`` and why the first one could not be built."""
    best, where = math.inf, "no combination"
    for combo in combos(replace(settings, rram_ratios=(max(settings.rram_ratios),))):
        try:
            ctx = ComboContext.build(combo, network, library, 1.0)
        except InputError as exc:
            if where == "no combination":
                where = f"no combination can be built: {combo.label}: {exc.cause}"
            continue
        alloc = _smallest_design(ctx, settings)
        if alloc is None:
            continue
        crossbar_w = float(ctx.sets.sum()) * ctx.parts.crossbar.peak_power_w / combo.rram_ratio
        need = max(alloc.peak_power_w, crossbar_w)
        if need < best:
            best, where = need, combo.label
    return best, where
