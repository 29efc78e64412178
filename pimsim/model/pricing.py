"""The one function that turns action counts into energy, and the chip's inventory of parts.

``price(counts_by_macro, hardware, time_ns)`` = dynamic energy of every action (count x energy per
action of the part that performs it) + static energy of every part on the chip (static power x count x
time). The analytical estimate and the simulator both call it: they differ only in where the counts and
the time come from.

Energy per action: crossbar read, DAC/ADC conversion, sample-and-hold: the part's
``dynamic_power_w x latency_ns``; a digital unit processes ``lanes`` elements per action, so an element
costs 1/lanes of that; a buffer access moves ``word_bits`` at the part's read or write energy (charged
per bit, so partial words cost their share); a flit costs ``flit_hop_energy_pj`` per hop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from pimsim.arch.schema import Hardware
from pimsim.components.parts import UnitKind
from pimsim.model.actions import UNIT_OF, Action, Counts


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


_ANALOG = {Action.XBAR_READ: Component.CROSSBAR, Action.DAC: Component.DAC,
           Action.ADC: Component.ADC, Action.SAMPLE_HOLD: Component.SAMPLE_HOLD}


@dataclass(frozen=True)
class Stock:
    """How many of a part the chip has, with its static and peak power and area (per part)."""

    component: Component
    name: str
    count: int
    static_power_w: float
    peak_power_w: float
    area_mm2: float | None


def inventory(hw: Hardware) -> list[Stock]:
    """Every part on the chip (all chips), with counts."""
    p = hw.parts
    groups = hw.macro_groups()
    xbars = sum(g.crossbars for g in groups)
    out = [Stock(Component.CROSSBAR, p.crossbar.name, xbars, p.crossbar.static_power_w,
                 p.crossbar.peak_power_w, p.crossbar.area_mm2),
           Stock(Component.DAC, p.dac.name, xbars * hw.xbar_size, p.dac.static_power_w,
                 p.dac.peak_power_w, p.dac.area_mm2),
           Stock(Component.ADC, p.adc.name, sum(g.adcs for g in groups), p.adc.static_power_w,
                 p.adc.peak_power_w, p.adc.area_mm2)]
    if p.sample_hold is not None:
        sh = p.sample_hold
        out.append(Stock(Component.SAMPLE_HOLD, sh.name, xbars * hw.xbar_size, sh.static_power_w,
                         sh.peak_power_w, sh.area_mm2))
    for kind in UnitKind:
        part = p.unit(kind)
        count = sum(g.units.get(kind, 0) for g in groups)
        if part is not None and count:
            out.append(Stock(Component(kind.value), part.name, count, part.static_power_w,
                             part.peak_power_w, part.area_mm2))
    for buffer in p.buffers:
        count = sum(1 for g in groups if g.buffer_kib == buffer.size_kib)
        if count:
            out.append(Stock(Component.BUFFER, buffer.name, count, buffer.leakage_power_w,
                             buffer.peak_power_w, buffer.area_mm2))
    routers = -(-len(groups) // hw.noc.macros_per_router)
    noc = p.noc
    out.append(Stock(Component.NOC, noc.name, routers, noc.router_power_w, noc.router_power_w,
                     noc.router_area_mm2))
    if noc.chip_power_w:
        out.append(Stock(Component.NOC, f"{noc.name} (chip)", 1, noc.chip_power_w, noc.chip_power_w,
                         None))
    fixed: dict[str, int] = dict(hw.chip_fixed)
    for g in groups:
        for name, n in g.fixed.items():
            fixed[name] = fixed.get(name, 0) + n
    for name, n in fixed.items():
        part = p.fixed_part(name)
        assert part is not None
        out.append(Stock(Component.FIXED, name, n, part.static_power_w, part.peak_power_w,
                         part.area_mm2))
    if hw.chips > 1:
        out = [Stock(s.component, s.name, s.count * hw.chips, s.static_power_w, s.peak_power_w,
                     s.area_mm2) for s in out]
    return out


def dynamic_energy_pj(counts: Counts, hw: Hardware, buffer_kib: int) -> dict[Component, float]:
    """Dynamic energy of the actions in one macro (whose buffer has ``buffer_kib``), by component."""
    p = hw.parts
    out: dict[Component, float] = {}

    def add(component: Component, pj: float) -> None:
        if pj:
            out[component] = out.get(component, 0.0) + pj

    for action, n in counts.items():
        if not n:
            continue
        if action in _ANALOG:
            part = {Action.XBAR_READ: p.crossbar, Action.DAC: p.dac, Action.ADC: p.adc,
                    Action.SAMPLE_HOLD: p.sample_hold}[action]
            if part is not None:
                add(_ANALOG[action], n * part.action_energy_pj)
        elif action in UNIT_OF:
            unit = p.unit(UNIT_OF[action])
            if unit is not None:
                add(Component(unit.kind.value), n * unit.action_energy_pj / unit.lanes)
        elif action in (Action.BUFFER_READ_BITS, Action.BUFFER_WRITE_BITS):
            buffer = p.buffer(buffer_kib)
            assert buffer is not None
            nj = buffer.read_energy_nj if action is Action.BUFFER_READ_BITS else buffer.write_energy_nj
            add(Component.BUFFER, n * nj * 1e3 / buffer.word_bits)
        elif action is Action.NOC_FLIT_HOPS:
            add(Component.NOC, n * p.noc.flit_hop_energy_pj)
    return out


def static_energy_pj(hw: Hardware, time_ns: float) -> dict[Component, float]:
    """Static energy of the whole chip over ``time_ns``, by component (W x ns = nJ = 1e3 pJ)."""
    out: dict[Component, float] = {}
    for stock in inventory(hw):
        out[stock.component] = out.get(stock.component, 0.0) + \
            stock.static_power_w * stock.count * time_ns * 1e3
    return out


def price(counts_by_macro: Mapping[int, Counts], hw: Hardware, time_ns: float
          ) -> dict[Component, float]:
    """Energy in pJ, by component: the actions in each macro plus static power over ``time_ns``."""
    groups = hw.macro_groups()
    total = static_energy_pj(hw, time_ns)
    for macro, counts in counts_by_macro.items():
        for component, pj in dynamic_energy_pj(counts, hw, groups[macro].buffer_kib).items():
            total[component] = total.get(component, 0.0) + pj
    return {c: e for c, e in total.items() if e}


def peak_power_w(hw: Hardware) -> dict[Component, float]:
    """Power with every part at full activity, W, by component."""
    out: dict[Component, float] = {}
    for stock in inventory(hw):
        out[stock.component] = out.get(stock.component, 0.0) + stock.peak_power_w * stock.count
    return out


def area_mm2(hw: Hardware) -> tuple[dict[Component, float], list[str]]:
    """Area by component, and the names of parts whose area is unknown."""
    out: dict[Component, float] = {}
    unknown = []
    for stock in inventory(hw):
        if stock.area_mm2 is None:
            unknown.append(stock.name)
            continue
        out[stock.component] = out.get(stock.component, 0.0) + stock.area_mm2 * stock.count
    return out, unknown
