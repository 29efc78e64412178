"""The chip's inventory of parts: how many of each part a design has, with their static and peak
power and their area, by component kind.

The power budget and the area budget are both checked on this one inventory (:func:`inventory`),
and the pricing function (:mod:`pimsim.model.pricing`) charges its static power over time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from pimsim.arch.schema import Hardware, MacroGroup, Parts
from pimsim.components.parts import UnitKind


class Component(StrEnum):
    """The kinds energy and power are broken down by."""

    CROSSBAR = "crossbar"
    DAC = "dac"
    ADC = "adc"
    SAMPLE_HOLD = "sample_hold"
    SHIFT_ADD = "shift_add"
    ADD = "add"
    ACTIVATION = "activation"
    SIGMOID = "sigmoid"
    POOL = "pool"
    ELTWISE = "eltwise"
    BUFFER = "buffer"
    NOC = "noc"
    FIXED = "fixed"
    INTERFACE = "interface"


@dataclass(frozen=True)
class Stock:
    """How many of a part there are, with its static and peak power and area (per part)."""

    component: Component
    name: str
    count: float
    static_power_w: float
    peak_power_w: float
    area_mm2: float | None


@dataclass(frozen=True)
class PartCounts:
    """How many of each part a chip (or one macro) holds; DACs and sample-and-holds follow from the
    crossbars (one per row / column)."""

    crossbars: float
    adcs: float
    units: Mapping[UnitKind, float]
    buffers: Mapping[int, float]  # KiB -> count
    routers: float
    fixed: Mapping[str, float]
    chip_noc: bool = False  # the NoC's chip-level power (charged once per chip)
    interfaces: float = 0.0  # off-chip interfaces (one per chip)


def stocks(parts: Parts, xbar_size: int, counts: PartCounts) -> list[Stock]:
    """The stock of every part that ``counts`` names."""
    cols = counts.crossbars * xbar_size
    out = [
        Stock(
            Component.CROSSBAR,
            parts.crossbar.name,
            counts.crossbars,
            parts.crossbar.static_power_w,
            parts.crossbar.peak_power_w,
            parts.crossbar.area_mm2,
        ),
        Stock(
            Component.DAC,
            parts.dac.name,
            cols,
            parts.dac.static_power_w,
            parts.dac.peak_power_w,
            parts.dac.area_mm2,
        ),
        Stock(
            Component.ADC,
            parts.adc.name,
            counts.adcs,
            parts.adc.static_power_w,
            parts.adc.peak_power_w,
            parts.adc.area_mm2,
        ),
    ]
    if parts.sample_hold is not None:
        sh = parts.sample_hold
        out.append(
            Stock(
                Component.SAMPLE_HOLD,
                sh.name,
                cols,
                sh.static_power_w,
                sh.peak_power_w,
                sh.area_mm2,
            )
        )
    for kind, count in counts.units.items():
        unit = parts.unit(kind)
        if unit is not None and count:
            out.append(
                Stock(
                    Component(kind.value),
                    unit.name,
                    count,
                    unit.static_power_w,
                    unit.peak_power_w,
                    unit.area_mm2,
                )
            )
    for kib, count in counts.buffers.items():
        buffer = parts.buffer(kib)
        assert buffer is not None
        if count:
            out.append(
                Stock(
                    Component.BUFFER,
                    buffer.name,
                    count,
                    buffer.leakage_power_w,
                    buffer.peak_power_w,
                    buffer.area_mm2,
                )
            )
    noc = parts.noc
    out.append(
        Stock(
            Component.NOC,
            noc.name,
            counts.routers,
            noc.router_power_w,
            noc.router_power_w,
            noc.router_area_mm2,
        )
    )
    if counts.chip_noc and noc.chip_power_w:
        out.append(
            Stock(Component.NOC, f"{noc.name} (chip)", 1, noc.chip_power_w, noc.chip_power_w, None)
        )
    for name, count in counts.fixed.items():
        part = parts.fixed_part(name)
        assert part is not None
        out.append(
            Stock(
                Component.FIXED, name, count, part.static_power_w, part.peak_power_w, part.area_mm2
            )
        )
    io = parts.interface
    if io is not None and counts.interfaces:
        out.append(
            Stock(
                Component.INTERFACE,
                io.name,
                counts.interfaces,
                io.static_power_w,
                io.peak_power_w,
                io.area_mm2,
            )
        )
    return out


def macro_counts(hw: Hardware, group: MacroGroup) -> PartCounts:
    """The parts of one macro of ``group``, with its share of a router."""
    return PartCounts(
        group.crossbars,
        group.adcs,
        dict(group.units),
        {group.buffer_kib: 1},
        1 / hw.noc.macros_per_router,
        dict(group.fixed),
    )


def chip_counts(hw: Hardware) -> PartCounts:
    """The parts of the whole design (all chips): the macros', whole routers, chip-level parts."""
    units: dict[UnitKind, float] = {}
    buffers: dict[int, float] = {}
    fixed: dict[str, float] = {}
    for g in hw.macros:
        for kind, n in g.units.items():
            units[kind] = units.get(kind, 0) + n * g.count
        buffers[g.buffer_kib] = buffers.get(g.buffer_kib, 0) + g.count
        for name, n in g.fixed.items():
            fixed[name] = fixed.get(name, 0) + n * g.count
    for name, n in hw.chip_fixed.items():
        fixed[name] = fixed.get(name, 0) + n
    routers = math.ceil(hw.n_macros / hw.noc.macros_per_router)
    c = hw.chips
    return PartCounts(
        sum(g.crossbars * g.count for g in hw.macros) * c,
        sum(g.adcs * g.count for g in hw.macros) * c,
        {k: v * c for k, v in units.items()},
        {k: v * c for k, v in buffers.items()},
        routers * c,
        {k: v * c for k, v in fixed.items()},
        chip_noc=True,
        interfaces=c * (hw.interfaces or 1),
    )


def macro_stock(hw: Hardware, group: MacroGroup) -> list[Stock]:
    """The parts of one macro of ``group``, with its share of a router."""
    return stocks(hw.parts, hw.xbar_size, macro_counts(hw, group))


def inventory(hw: Hardware) -> list[Stock]:
    """Every part of the design (all chips)."""
    out = stocks(hw.parts, hw.xbar_size, chip_counts(hw))
    if hw.chips > 1 and hw.parts.noc.chip_power_w:  # the chip-level NoC power is per chip
        out = [
            Stock(s.component, s.name, hw.chips, s.static_power_w, s.peak_power_w, s.area_mm2)
            if s.name.endswith("(chip)")
            else s
            for s in out
        ]
    return out


def peak_power_w(stocks: list[Stock]) -> dict[Component, float]:
    """Power with every part at full activity, W, by component."""
    out: dict[Component, float] = {}
    for stock in stocks:
        out[stock.component] = out.get(stock.component, 0.0) + stock.peak_power_w * stock.count
    return out


def area_mm2(stocks: list[Stock]) -> tuple[dict[Component, float], list[str]]:
    """Area by component, and the names of parts whose area is unknown."""
    out: dict[Component, float] = {}
    unknown = []
    for stock in stocks:
        if stock.area_mm2 is None:
            unknown.append(stock.name)
            continue
        out[stock.component] = out.get(stock.component, 0.0) + stock.area_mm2 * stock.count
    return out, unknown
