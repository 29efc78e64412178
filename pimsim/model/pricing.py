"""The one function that turns action counts into energy (the inventory of parts: :mod:`pimsim.model.inventory`).

:func:`price_arrays` = dynamic energy of every action (count x energy per action of the part that
performs it) + static energy of every part on the chip (static power x count x time). The analytical
estimate, the synthesizer and the simulator all call it (the simulator through :func:`price`, which
takes its counts as dictionaries): they differ only in where the counts and the time come from.

Energy per action: crossbar read, DAC/ADC conversion, sample-and-hold: the part's
``dynamic_power_w x latency_ns``; a digital unit processes ``lanes`` elements per action, so an element
costs 1/lanes of that; a buffer access moves ``word_bits`` at the part's read or write energy (charged
per bit, so partial words cost their share), and so does every bit a NoC transfer reads at the
sending macro and writes at the receiving one; a flit costs the router's ``flit_hop_energy_pj`` plus
the link's ``link_flit_energy_pj`` per hop; a bit across the off-chip interface costs its
``energy_per_bit_pj``. Static power covers every router and the interface.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from pimsim.arch.schema import Hardware, Parts
from pimsim.model.actions import UNIT_OF, Action, Counts
from pimsim.model.inventory import Component, PartCounts, chip_counts, stocks
from pimsim.model.kernel import WORK
from pimsim.model.sums_jit import component_energy


@dataclass(frozen=True)
class EnergyTable:
    """What one action of each kind costs on a given hardware, and the static power by component."""

    action_pj: np.ndarray  # (K,) per action of each work column; buffer columns are 0 here
    buffer_pj: np.ndarray  # (M, 2) per bit read and written, by macro
    flit_hop_pj: float  # one flit over one hop: router traversal + link
    static_w: np.ndarray  # (C,) static power by component, W
    interface_bit_pj: float = 0.0  # one bit across the off-chip interface

    @property
    def static_total_w(self) -> float:
        """Static power of the whole design, W."""
        return float(self.static_w.sum())


COMPONENTS = tuple(Component)
#: The component that each work column's energy is booked to.
_COLUMN_COMPONENT = np.array(
    [
        COMPONENTS.index(c)
        for c in (
            Component.CROSSBAR,
            Component.DAC,
            Component.ADC,
            Component.SAMPLE_HOLD,
            Component.SHIFT_ADD,
            Component.ADD,
            Component.ACTIVATION,
            Component.SIGMOID,
            Component.POOL,
            Component.ELTWISE,
            Component.BUFFER,
            Component.BUFFER,
        )
    ]
)


def action_energy_pj(parts: Parts) -> np.ndarray:
    """(K,) energy of one action of each work column on ``parts``, pJ (buffer columns 0: a buffer's
    bits are priced per macro, :func:`buffer_bit_pj`)."""
    action = np.zeros(len(WORK))
    for act, part in (
        (Action.XBAR_READ, parts.crossbar),
        (Action.DAC, parts.dac),
        (Action.ADC, parts.adc),
        (Action.SAMPLE_HOLD, parts.sample_hold),
    ):
        if part is not None:
            action[WORK.index(act)] = part.action_energy_pj
    for act, kind in UNIT_OF.items():
        unit = parts.unit(kind)
        if unit is not None:
            action[WORK.index(act)] = unit.action_energy_pj / unit.lanes
    return action


def buffer_bit_pj(parts: Parts, sizes_kib: Sequence[int]) -> np.ndarray:
    """(len(sizes_kib), 2) energy of one bit read and one bit written in a scratchpad of each
    size, pJ (a word's energy over its bits)."""
    per_kib = {}
    for kib in set(sizes_kib):
        b = parts.buffer(kib)
        assert b is not None
        per_kib[kib] = (b.read_energy_nj * 1e3 / b.word_bits, b.write_energy_nj * 1e3 / b.word_bits)
    return np.array([per_kib[k] for k in sizes_kib], dtype=float).reshape(-1, 2)


def energy_table(
    parts: Parts, xbar_size: int, counts: PartCounts, macro_buffers_kib: Sequence[int]
) -> EnergyTable:
    """Energy per action of every kind, from ``parts``; static power from ``counts``;
    ``macro_buffers_kib[m]`` is the scratchpad size of macro ``m``."""
    static = np.zeros(len(COMPONENTS))
    for stock in stocks(parts, xbar_size, counts):
        static[COMPONENTS.index(stock.component)] += stock.static_power_w * stock.count
    return EnergyTable(
        action_energy_pj(parts),
        buffer_bit_pj(parts, macro_buffers_kib),
        parts.noc.hop_energy_pj,
        static,
        parts.interface.energy_per_bit_pj if parts.interface is not None else 0.0,
    )


def hardware_energy_table(hw: Hardware) -> EnergyTable:
    """:func:`energy_table` of a whole architecture."""
    table = energy_table(
        hw.parts, hw.xbar_size, chip_counts(hw), [g.buffer_kib for g in hw.macro_groups()]
    )
    if hw.chips > 1 and hw.parts.noc.chip_power_w:
        table.static_w[COMPONENTS.index(Component.NOC)] += hw.parts.noc.chip_power_w * (
            hw.chips - 1
        )
    return table


@dataclass(frozen=True)
class BatchTables:
    """The per-design constants of several :class:`EnergyTable`, stacked (one row per design);
    the per-macro buffer energies are gathered by the caller."""

    action_pj: np.ndarray  # (B, K)
    flit_hop_pj: np.ndarray  # (B,)
    static_w: np.ndarray  # (B, C)
    interface_bit_pj: np.ndarray  # (B,)

    @classmethod
    def of(cls, tables: Sequence[EnergyTable]) -> BatchTables:
        return cls(
            np.array([t.action_pj for t in tables], dtype=float).reshape(len(tables), len(WORK)),
            np.array([t.flit_hop_pj for t in tables], dtype=float),
            np.array([t.static_w for t in tables], dtype=float).reshape(len(tables), -1),
            np.array([t.interface_bit_pj for t in tables], dtype=float),
        )


def price_batch(
    work_t: np.ndarray,
    design: np.ndarray,
    macro: np.ndarray,
    buffer_pj: np.ndarray,
    tables: BatchTables,
    flit_hops: np.ndarray,
    time_ns: np.ndarray,
    noc_buffer_pj: np.ndarray,
    interface_bits: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`price_arrays` of B designs at once: (B, K) action counts and (B, C) energy in pJ by
    component.

    ``work_t`` (K, S) holds the action counts of every design's shares, share ``s`` belonging to
    design ``design[s]`` and performed in macro ``macro[s]``, whose scratchpad's per-bit read and
    write energies are ``buffer_pj[macro[s]]``; per design: ``flit_hops``, ``time_ns``,
    ``interface_bits`` and ``noc_buffer_pj``, the energy of the scratchpad bits NoC transfers
    read and write (pJ). Every figure is the one :func:`price_arrays` gives the design alone, bit
    for bit (sums per design in share order, per component in column order:
    :func:`pimsim.model.sums_jit.component_energy`)."""
    totals, out = component_energy(
        work_t,
        design,
        macro,
        buffer_pj,
        tables.action_pj,
        _COLUMN_COMPONENT,
        len(COMPONENTS),
    )
    _add_fixed(
        out,
        flit_hops,
        tables.flit_hop_pj,
        noc_buffer_pj,
        interface_bits,
        tables.interface_bit_pj,
        tables.static_w,
        time_ns,
        _NOC,
        _BUFFER,
        _INTERFACE,
    )
    return totals, out


_NOC, _BUFFER, _INTERFACE = (
    COMPONENTS.index(c) for c in (Component.NOC, Component.BUFFER, Component.INTERFACE)
)


@njit(cache=True, error_model="numpy")
def _add_fixed(
    out, hops, hop_pj, noc_buffer_pj, io_bits, io_bit_pj, static_w, time_ns, noc, buffer, io
):
    """Adds to each design's (row of ``out``) dynamic energy by component, in place: its
    flit-hops x the flit-hop energy (NoC), its NoC scratchpad energy (buffer), its interface bits
    x the bit energy (interface), then to every component its static power x ``time_ns`` x 1e3
    (W x ns = 1e3 pJ) -- the element-wise operations of the numpy form, in its order."""
    for b in range(out.shape[0]):
        out[b, noc] += hops[b] * hop_pj[b]
        out[b, buffer] += noc_buffer_pj[b]
        out[b, io] += io_bits[b] * io_bit_pj[b]
        for c in range(out.shape[1]):
            out[b, c] = out[b, c] + static_w[b, c] * time_ns[b] * 1e3


def price_arrays(
    work: np.ndarray,
    macro: np.ndarray,
    flit_hops: float,
    time_ns: float,
    table: EnergyTable,
    noc_buffer_bits: np.ndarray | None = None,
    interface_bits: float = 0.0,
) -> np.ndarray:
    """THE pricing function: energy in pJ by component (``COMPONENTS`` order); :func:`price_batch`
    of one design.

    ``work`` (S, K) holds action counts, row s performed in macro ``macro[s]``; ``flit_hops`` the NoC
    traffic (each at the router's and the link's energy); ``noc_buffer_bits`` (M, 2) the scratchpad
    bits each macro reads to send over the NoC and writes on receiving (at that macro's per-bit
    read and write energy, booked to the buffer); ``interface_bits`` the bits crossing the off-chip
    interface; ``time_ns`` the time over which static power is charged (W x ns = nJ = 1e3 pJ).
    """
    noc_pj = 0.0
    if noc_buffer_bits is not None and len(noc_buffer_bits):
        noc_pj = float((noc_buffer_bits * table.buffer_pj[: len(noc_buffer_bits)]).sum())
    return price_batch(
        np.ascontiguousarray(work.T),
        np.zeros(len(work), dtype=np.int64),
        np.asarray(macro, dtype=np.int64),
        np.ascontiguousarray(table.buffer_pj, dtype=float),
        BatchTables.of([table]),
        np.array([flit_hops], dtype=float),
        np.array([time_ns], dtype=float),
        np.array([noc_pj]),
        np.array([interface_bits], dtype=float),
    )[1][0]


def noc_buffer_bits(
    src: np.ndarray, dst: np.ndarray, bits: np.ndarray, n_macros: int
) -> np.ndarray:
    """(M, 2) scratchpad bits read (column 0, at the sender) and written (column 1, at the receiver)
    by NoC transfers of ``bits`` from macro ``src`` to macro ``dst``."""
    out = np.zeros((n_macros, 2))
    out[:, 0] = np.bincount(src, weights=bits, minlength=n_macros)[:n_macros]
    out[:, 1] = np.bincount(dst, weights=bits, minlength=n_macros)[:n_macros]
    return out


def price(
    counts_by_macro: Mapping[int, Counts], hw: Hardware, time_ns: float
) -> dict[Component, float]:
    """Energy in pJ by component of the actions performed in each macro, plus static power over
    ``time_ns``: :func:`price_arrays` for counts kept as dictionaries (the simulator's).

    Flit-hops and interface bits may be booked to any key (a macro, or -1 for the chip);
    ``NOC_BUFFER_READ_BITS`` / ``NOC_BUFFER_WRITE_BITS`` are priced at the scratchpad of the macro
    they are booked to."""
    macros = sorted(counts_by_macro)
    work = np.array(
        [[counts_by_macro[m].get(a, 0.0) for a in WORK] for m in macros], dtype=float
    ).reshape(-1, len(WORK))
    hops = sum(c.get(Action.NOC_FLIT_HOPS, 0.0) for c in counts_by_macro.values())
    io_bits = sum(c.get(Action.INTERFACE_BITS, 0.0) for c in counts_by_macro.values())
    noc_bits = np.zeros((hw.n_macros, 2))
    for m, c in counts_by_macro.items():
        if 0 <= m < hw.n_macros:
            noc_bits[m] = (
                c.get(Action.NOC_BUFFER_READ_BITS, 0.0),
                c.get(Action.NOC_BUFFER_WRITE_BITS, 0.0),
            )
    energy = price_arrays(
        work,
        np.array(macros, dtype=int),
        hops,
        time_ns,
        hardware_energy_table(hw),
        noc_bits,
        io_bits,
    )
    return {c: float(e) for c, e in zip(COMPONENTS, energy, strict=True) if e}


#: The actions no design of the network can avoid: each weight's crossbar reads, the DAC
#: conversions driving them and the ADC conversions reading them out (the compute floor).
FLOOR_ACTIONS = {
    Action.XBAR_READ: Component.CROSSBAR,
    Action.DAC: Component.DAC,
    Action.ADC: Component.ADC,
}


def floor_action_pj(parts: Parts) -> dict[str, float]:
    """Dynamic energy of one floor action (crossbar read, DAC and ADC conversion), pJ."""
    return {
        str(Action.XBAR_READ): parts.crossbar.action_energy_pj,
        str(Action.DAC): parts.dac.action_energy_pj,
        str(Action.ADC): parts.adc.action_energy_pj,
    }


def floor_pj(
    counts: Mapping[str, float], per_action_pj: Mapping[str, float]
) -> dict[Component, float]:
    """The compute floor by component: the dynamic energy of the floor actions in ``counts``, pJ
    (per image when the counts are)."""
    return {
        c: counts.get(str(a), 0.0) * per_action_pj.get(str(a), 0.0)
        for a, c in FLOOR_ACTIONS.items()
    }
