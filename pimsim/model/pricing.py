"""The one function that turns action counts into energy, and the chip's inventory of parts.

:func:`price_arrays` = dynamic energy of every action (count x energy per action of the part that
performs it) + static energy of every part on the chip (static power x count x time). The analytical
estimate, the synthesizer and the simulator all call it (the simulator through :func:`price`, which
takes its counts as dictionaries): they differ only in where the counts and the time come from.

Energy per action: crossbar read, DAC/ADC conversion, sample-and-hold: the part's
``dynamic_power_w x latency_ns``; a digital unit processes ``lanes`` elements per action, so an element
costs 1/lanes of that; a buffer access moves ``word_bits`` at the part's read or write energy (charged
per bit, so partial words cost their share); a flit costs ``flit_hop_energy_pj`` per hop.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from pimsim.arch.schema import Hardware, MacroGroup
from pimsim.components.parts import UnitKind
from pimsim.model.actions import UNIT_OF, Action, Counts
from pimsim.model.kernel import WORK


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


@dataclass(frozen=True)
class Stock:
    """How many of a part there are, with its static and peak power and area (per part)."""

    component: Component
    name: str
    count: float
    static_power_w: float
    peak_power_w: float
    area_mm2: float | None


def macro_stock(hw: Hardware, group: MacroGroup) -> list[Stock]:
    """The parts of one macro of ``group``, with its share of a router."""
    p = hw.parts
    cols = group.crossbars * hw.xbar_size
    out = [Stock(Component.CROSSBAR, p.crossbar.name, group.crossbars, p.crossbar.static_power_w,
                 p.crossbar.peak_power_w, p.crossbar.area_mm2),
           Stock(Component.DAC, p.dac.name, cols, p.dac.static_power_w, p.dac.peak_power_w,
                 p.dac.area_mm2),
           Stock(Component.ADC, p.adc.name, group.adcs, p.adc.static_power_w, p.adc.peak_power_w,
                 p.adc.area_mm2)]
    if p.sample_hold is not None:
        sh = p.sample_hold
        out.append(Stock(Component.SAMPLE_HOLD, sh.name, cols, sh.static_power_w, sh.peak_power_w,
                         sh.area_mm2))
    for kind, count in group.units.items():
        unit = p.unit(kind)
        if unit is not None and count:
            out.append(Stock(Component(kind.value), unit.name, count, unit.static_power_w,
                             unit.peak_power_w, unit.area_mm2))
    buffer = p.buffer(group.buffer_kib)
    assert buffer is not None
    out.append(Stock(Component.BUFFER, buffer.name, 1, buffer.leakage_power_w, buffer.peak_power_w,
                     buffer.area_mm2))
    noc = p.noc
    out.append(Stock(Component.NOC, noc.name, 1 / hw.noc.macros_per_router, noc.router_power_w,
                     noc.router_power_w, noc.router_area_mm2))
    for name, count in group.fixed.items():
        part = p.fixed_part(name)
        assert part is not None
        out.append(Stock(Component.FIXED, name, count, part.static_power_w, part.peak_power_w,
                         part.area_mm2))
    return out


def inventory(hw: Hardware) -> list[Stock]:
    """Every part on the chip (all chips), with counts: the macros' parts, routers (whole ones, as
    the mesh needs), chip-level NoC power and chip-level fixed parts."""
    merged: dict[tuple[Component, str], Stock] = {}

    def add(stock: Stock, times: float) -> None:
        key = (stock.component, stock.name)
        have = merged.get(key)
        count = stock.count * times + (have.count if have else 0)
        merged[key] = Stock(stock.component, stock.name, count, stock.static_power_w,
                            stock.peak_power_w, stock.area_mm2)

    for group in hw.macros:
        for stock in macro_stock(hw, group):
            if stock.component is not Component.NOC:
                add(stock, group.count)
    noc = hw.parts.noc
    add(Stock(Component.NOC, noc.name, math.ceil(hw.n_macros / hw.noc.macros_per_router),
              noc.router_power_w, noc.router_power_w, noc.router_area_mm2), 1)
    if noc.chip_power_w:
        add(Stock(Component.NOC, f"{noc.name} (chip)", 1, noc.chip_power_w, noc.chip_power_w,
                  None), 1)
    for name, count in hw.chip_fixed.items():
        part = hw.parts.fixed_part(name)
        assert part is not None
        add(Stock(Component.FIXED, name, count, part.static_power_w, part.peak_power_w,
                  part.area_mm2), 1)
    return [Stock(s.component, s.name, s.count * hw.chips, s.static_power_w, s.peak_power_w,
                  s.area_mm2) for s in merged.values()]


@dataclass(frozen=True)
class EnergyTable:
    """What one action of each kind costs on a given hardware, and the static power by component."""

    action_pj: np.ndarray  # (K,) per action of each work column; buffer columns are 0 here
    buffer_pj: np.ndarray  # (M, 2) per bit read and written, by macro
    flit_hop_pj: float
    static_w: np.ndarray  # (C,) static power by component, W

    @property
    def static_total_w(self) -> float:
        return float(self.static_w.sum())


COMPONENTS = tuple(Component)
#: The component that each work column's energy is booked to.
_COLUMN_COMPONENT = np.array([COMPONENTS.index(c) for c in (
    Component.CROSSBAR, Component.DAC, Component.ADC, Component.SAMPLE_HOLD, Component.SHIFT_ADD,
    Component.ADD, Component.ACTIVATION, Component.SIGMOID, Component.POOL, Component.ELTWISE,
    Component.BUFFER, Component.BUFFER)])


def energy_table(hw: Hardware) -> EnergyTable:
    """Energy per action of every kind, from the parts embedded in ``hw``."""
    p = hw.parts
    action = np.zeros(len(WORK))
    for act, part in ((Action.XBAR_READ, p.crossbar), (Action.DAC, p.dac), (Action.ADC, p.adc),
                      (Action.SAMPLE_HOLD, p.sample_hold)):
        if part is not None:
            action[WORK.index(act)] = part.action_energy_pj
    for act, kind in UNIT_OF.items():
        unit = p.unit(kind)
        if unit is not None:
            action[WORK.index(act)] = unit.action_energy_pj / unit.lanes
    rows = []
    for g in hw.macro_groups():
        b = p.buffer(g.buffer_kib)
        assert b is not None
        rows.append((b.read_energy_nj * 1e3 / b.word_bits, b.write_energy_nj * 1e3 / b.word_bits))
    static = np.zeros(len(COMPONENTS))
    for stock in inventory(hw):
        static[COMPONENTS.index(stock.component)] += stock.static_power_w * stock.count
    return EnergyTable(action, np.array(rows, dtype=float).reshape(-1, 2), p.noc.flit_hop_energy_pj,
                       static)


def price_arrays(work: np.ndarray, macro: np.ndarray, flit_hops: float, time_ns: float,
                 table: EnergyTable) -> np.ndarray:
    """THE pricing function: energy in pJ by component (``COMPONENTS`` order).

    ``work`` (S, K) holds action counts, row s performed in macro ``macro[s]``; ``flit_hops`` the NoC
    traffic; ``time_ns`` the time over which static power is charged (W x ns = nJ = 1e3 pJ).
    """
    per_column = work.sum(axis=0) * table.action_pj
    per_column[-2:] = (work[:, -2:] * table.buffer_pj[macro]).sum(axis=0)
    out = np.zeros(len(COMPONENTS))
    np.add.at(out, _COLUMN_COMPONENT, per_column)
    out[COMPONENTS.index(Component.NOC)] += flit_hops * table.flit_hop_pj
    return out + table.static_w * time_ns * 1e3


def price(counts_by_macro: Mapping[int, Counts], hw: Hardware, time_ns: float
          ) -> dict[Component, float]:
    """Energy in pJ by component of the actions performed in each macro, plus static power over
    ``time_ns``: :func:`price_arrays` for counts kept as dictionaries (the simulator's)."""
    macros = sorted(counts_by_macro)
    work = np.array([[counts_by_macro[m].get(a, 0.0) for a in WORK] for m in macros],
                    dtype=float).reshape(-1, len(WORK))
    hops = sum(c.get(Action.NOC_FLIT_HOPS, 0.0) for c in counts_by_macro.values())
    energy = price_arrays(work, np.array(macros, dtype=int), hops, time_ns, energy_table(hw))
    return {c: float(e) for c, e in zip(COMPONENTS, energy, strict=True) if e}


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
