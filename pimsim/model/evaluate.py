"""Evaluating designs on a network with the kernel: period, latency and energy per image.

The per-network tables and per-design arrays (:mod:`pimsim.model.tables`) are re-exported here.
:func:`evaluate_batch` evaluates a whole population of designs with one pass of array arithmetic
(the synthesizer's path); :func:`evaluate` is a batch of one (the report path,
:func:`pimsim.model.estimate.estimate`), so there is one implementation of every formula.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimsim.components.parts import UnitKind
from pimsim.model.actions import Action
from pimsim.model.kernel import (
    BUSY_NAMES,
    STAGE_WORK,
    STAGES,
    UNITS,
    WORK,
    block_latency,
    block_period,
    busiest_links,
    interleaved_busy,
    layer_max,
    link_grids,
    link_of,
    macro_busy,
    route_loads,
    stage_times,
)
from pimsim.model.latency import layer_times
from pimsim.model.offchip import interface_port_bits
from pimsim.model.pricing import noc_buffer_bits, price_arrays
from pimsim.model.stack import Stack, segment_argmax, segment_sum
from pimsim.model.tables import DesignArrays, NetworkTables
from pimsim.model.wiring import time_columns, unit_turns, wiring

__all__ = ["DesignArrays", "Evaluation", "NetworkTables", "evaluate", "evaluate_batch"]

_SA_UNIT = UNITS.index(UnitKind.SHIFT_ADD)


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate` finds; times in ns, energies in pJ per image."""

    period_ns: float
    period_set_by: str
    latency_ns: float
    stages: np.ndarray  # (L, stages) full-block stage times in each layer's slowest share
    block_period_ns: np.ndarray  # (L,)
    block_latency_ns: np.ndarray  # (L,)
    per_image_ns: np.ndarray  # (L,)
    start_ns: np.ndarray
    finish_ns: np.ndarray
    blocks: np.ndarray
    action_counts: np.ndarray  # (K,) per image
    share_work: np.ndarray  # (S, K) per image
    flit_hops: float
    energy_by_component_pj: np.ndarray  # (C,) in pimsim.model.pricing.COMPONENTS order
    noc_buffer_bits: np.ndarray | None = None  # (M, 2) bits read / written: NoC and interface
    interface_bits: float = 0.0  # per image, across the off-chip interface

    @property
    def energy_pj(self) -> float:
        return float(self.energy_by_component_pj.sum())


def _flows(
    t: NetworkTables, st: Stack, flit_bits: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(src macro, dst macro, flits, batch layer) of every flow of one image between different
    macros, grouped by design (in each design: inputs by edge, then merges, then spread parts).

    A consumer's input goes from the producer's output macro (its first share) to each of the
    consumer's shares in proportion (the flow's layer: the consumer); every share of a layer but the
    first sends its results to the first (the flow's layer: that layer). A *spread* producer's
    output is not gathered: each of its shares sends its part to each consumer share.
    """
    n = len(t.names)
    lay, glay, macro, frac = st.share_layer, st.layer, st.share_macro, st.share_frac
    layers = np.arange(st.count * n)
    starts = np.searchsorted(glay, layers)
    ends = np.searchsorted(glay, layers, side="right")
    first = macro[starts]
    shift = (np.arange(st.count) * n)[:, None]
    e_src, e_dst = (shift + t.edge_src).ravel(), (shift + t.edge_dst).ravel()
    e_bits = np.tile(t.edge_bits, st.count)
    count = (ends - starts)[e_dst]
    edge = np.repeat(np.arange(len(e_dst)), count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    share = starts[e_dst][edge] + offset
    not_first = np.ones(len(lay), dtype=bool)
    not_first[starts] = False
    rest = np.nonzero(not_first)[0]
    src = np.concatenate([first[e_src][edge], macro[rest]])
    dst = np.concatenate([macro[share], first[glay[rest]]])
    bits = np.concatenate([e_bits[edge] * frac[share], t.out_bits[lay[rest]] * frac[rest]])
    layer = np.concatenate([e_dst[edge], glay[rest]])
    if st.spread is not None:
        gathered = ~np.concatenate([st.spread[e_src[edge]], st.spread[glay[rest]]])
        src, dst, bits, layer = src[gathered], dst[gathered], bits[gathered], layer[gathered]
        more = [
            (macro[ps], macro[cs], e_bits[e] * frac[cs] * frac[ps], e_dst[e])
            for e in np.nonzero(st.spread[e_src])[0]
            for cs in range(starts[e_dst[e]], ends[e_dst[e]])
            for ps in range(starts[e_src[e]], ends[e_src[e]])
        ]
        if more:
            ms, md, mb, ml = (np.array(x) for x in zip(*more, strict=True))
            src, dst = np.concatenate([src, ms]), np.concatenate([dst, md])
            bits, layer = np.concatenate([bits, mb]), np.concatenate([layer, ml])
    keep = src != dst
    src, dst, bits, layer = src[keep], dst[keep], bits[keep], layer[keep]
    order = np.argsort(layer // n, kind="stable")
    return src[order], dst[order], bits[order] / flit_bits, layer[order]


def port_load(
    share_work: np.ndarray, share_macro: np.ndarray, moved: np.ndarray, port_bits_per_ns: np.ndarray
) -> np.ndarray:
    """(M,) each scratchpad port's time per image, ns: every share's window loads and result
    stores in the macro (``share_work``, per image) plus the bits NoC transfers read there to send
    and write there on arrival (``moved``, (M, 2)), at the port's bits per ns. A closed-form bound
    on the period: a port moves one access at a time."""
    bits = moved.sum(axis=1)
    own = (
        share_work[:, WORK.index(Action.BUFFER_READ_BITS)]
        + share_work[:, WORK.index(Action.BUFFER_WRITE_BITS)]
    )
    np.add.at(bits, share_macro, own)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bits > 0, bits / port_bits_per_ns, 0.0)


def evaluate(t: NetworkTables, d: DesignArrays, latency: bool = True) -> Evaluation:
    """Period, latency and energy of one image of design ``d`` (see :mod:`pimsim.model.kernel`):
    :func:`evaluate_batch` of a batch of one."""
    return evaluate_batch(t, [d], latency)[0]


def evaluate_batch(
    t: NetworkTables, designs: list[DesignArrays], latency: bool = False
) -> list[Evaluation]:
    """:func:`evaluate` of many designs of one network at once (the synthesizer's population).

    The designs must share their rates and NoC timing (one combination of crossbar, cells, DAC and
    library). Their shares, macros and layers are laid end to end and every formula runs once over
    the whole batch, with segment reductions where a design's figures are gathered; each design's
    figures are those it gets alone, bit for bit. Latency (a walk over the layers, per design) is
    computed only when asked for.
    """
    if not designs:
        return []
    st = Stack.of(t, designs)
    d0, n, count = designs[0], len(t.names), st.count
    lay, glay, macro = st.share_layer, st.layer, st.share_macro
    s_total, m_total = len(lay), len(st.macros.adcs)
    first = np.searchsorted(glay, np.arange(count * n))
    items = np.tile(t.items, count)
    blocks = -(-items // st.per_block)
    full = np.minimum(st.per_block, items)
    last = items - (blocks - 1) * st.per_block
    base = t.work[lay] * st.share_frac[:, None]
    weight = t.weight[lay]
    staged = base[:, STAGE_WORK]  # the work the stages time
    full_stages = stage_times(staged * full[glay][:, None], weight, macro, d0.rates, st.macros)
    # a weight share's conversions and shift-and-adds follow its columns (pimsim.model.wiring)
    wires = wiring(t, st, blocks)
    timed = np.nonzero(weight)[0]
    pool_full = time_columns(t, st, d0.rates, wires, full_stages, timed, full[glay[timed]])
    pool_last = pool_full.copy()  # each weight share's time of its macro's shift-and-add units
    p_full = block_period(full_stages)
    p_last = p_full.copy()  # the last block differs only where the blocks do not divide the items
    short = np.nonzero((last != full)[glay])[0]
    if len(short):
        last_stages = stage_times(
            staged[short] * last[glay[short]][:, None],
            weight[short],
            macro[short],
            d0.rates,
            st.macros,
        )
        on = np.nonzero(weight[short])[0]
        rows = short[on]
        cut = np.searchsorted(timed, rows)  # their places among the weight shares
        pool_last[cut] = time_columns(
            t, st, d0.rates, wires, last_stages, rows, last[glay[rows]], on
        )
        p_last[short] = block_period(last_stages)
    shift_add_ns = np.zeros(s_total)  # per image
    shift_add_ns[timed] = (blocks[glay[timed]] - 1) * pool_full + pool_last
    lp_full, lp_last = layer_max(p_full, first), layer_max(p_last, first)
    # each layer's slowest share (the last of equals, in share order)
    hits = np.flatnonzero(p_full == lp_full[glay])
    worst = hits[np.searchsorted(hits, np.append(first[1:], s_total)) - 1]
    block_lat = (
        block_latency(full_stages[worst], np.tile(t.bit_iters, count).astype(float))
        if latency
        else np.zeros(count * n)
    )
    per_image = (blocks - 1) * lp_full + lp_last
    share_work = base * t.items[lay][:, None]
    # what sets each design's period: 0 a layer, 1 a macro's busy part, 2 turns, 3 a link,
    # 4 the off-chip interface, 5 a scratchpad port
    slowest = np.argmax(per_image.reshape(count, n), axis=1)
    period = per_image.reshape(count, n)[np.arange(count), slowest]
    cause, where = np.zeros(count, dtype=int), slowest
    residents = np.bincount(macro, minlength=m_total)
    in_shared = residents[macro] > 1
    if in_shared.any():
        busy = macro_busy(share_work[in_shared], macro[in_shared], d0.rates, st.macros)
        # the shift-and-add units in whole actions, each job holding the units it spreads over
        whole = np.bincount(macro[in_shared], shift_add_ns[in_shared], minlength=m_total)
        column = busy[:, 2 + _SA_UNIT]  # (inf where a macro has the work but no units)
        busy[:, 2 + _SA_UNIT] = np.where(np.isinf(column), column, whole)
        top, cell = segment_argmax(busy.ravel(), st.macro_start * busy.shape[1])
        better = top > period
        period, cause, where = (
            np.where(better, top, period),
            np.where(better, 1, cause),
            np.where(better, cell, where),
        )
        turns = interleaved_busy(
            full_stages,
            p_full,
            blocks[glay].astype(float),
            t.bit_iters[lay].astype(float),
            macro,
            # shares on their own runs of the bank convert at once: they take only the units in
            # turns (unit_turns, below; the units' load bounds the period through macro_busy)
            t.weight[lay].astype(bool) & ~wires.own_run,
            m_total,
        )
        bits = t.bit_iters[lay].astype(float)
        share_image = (blocks[glay] - 1) * p_full + p_last
        job = full_stages[:, STAGES.index("shift_add")] / bits
        own = unit_turns(
            p_full / bits,
            job,
            full_stages[:, STAGES.index("adc")] / bits,
            blocks[glay] * bits,
            share_image,
            macro,
            wires.own_run,
            m_total,
        )
        top, cell = segment_argmax(np.maximum(turns, own), st.macro_start)
        better = top > period
        period, cause, where = (
            np.where(better, top, period),
            np.where(better, 2, cause),
            np.where(better, cell, where),
        )
    src, dst, flits, flow_layer = _flows(t, st, d0.flit_bits)
    flow_design = flow_layer // n
    flow_start = np.searchsorted(flow_design, np.arange(count + 1))
    flit_hops = flits * np.abs(st.positions[src] - st.positions[dst]).sum(axis=1)
    # no link can carry more than all the traffic (a margin for the order of the sum)
    loaded = segment_sum(flits, flow_start) * d0.flit_ns * (1 + 1e-9) > period
    side = 1
    if loaded.any():
        on = loaded[flow_design]
        grids = link_grids(src[on], dst[on], flits[on], st.positions, flow_design[on], st.meshes)
        side = grids.shape[3]
        best, grid, cell = busiest_links(grids)
        busy_ns = best * d0.flit_ns
        better = loaded & (busy_ns > period)
        period, cause, where = (
            np.where(better, busy_ns, period),
            np.where(better, 3, cause),
            np.where(better, grid * side * side + cell, where),
        )
    # every packet a macro sends takes its router's injection port, every packet it receives the
    # ejection port (the router's local port of the macro, one flit per flit time): like a link,
    # each port's flits per image bound the period
    ports = np.zeros((m_total, 2))
    ports[:, 0] = np.bincount(src, flits, minlength=m_total)
    ports[:, 1] = np.bincount(dst, flits, minlength=m_total)
    top, cell = segment_argmax(ports.ravel() * d0.flit_ns, st.macro_start * 2)
    better = top > period
    period, cause, where = (
        np.where(better, top, period),
        np.where(better, 6, cause),
        np.where(better, cell, where),
    )
    io_bits = t.io_bits if d0.interface_gbit_s else 0.0  # the interface bounds the period
    if io_bits:
        better = io_bits / d0.interface_gbit_s > period
        period, cause = (
            np.where(better, io_bits / d0.interface_gbit_s, period),
            np.where(better, 4, cause),
        )
    # scratchpad bits the NoC transfers read and write, every design's macros at once (each bin
    # sees only its design's flows, in their order)
    moved_all = noc_buffer_bits(src, dst, flits * d0.flit_bits, m_total)
    moved_all += interface_port_bits(t, st) if io_bits else 0.0  # the input in, outputs out
    # a port also reads each block sent and writes each one received
    top, cell = segment_argmax(
        port_load(share_work, macro, moved_all, st.macros.port_bits_per_ns), st.macro_start
    )
    better = top > period
    period, cause, where = (
        np.where(better, top, period),
        np.where(better, 5, cause),
        np.where(better, cell, where),
    )
    out = []
    for b, d in enumerate(designs):
        s0, s1, l0 = st.share_start[b], st.share_start[b + 1], b * n
        f0, f1 = flow_start[b], flow_start[b + 1]
        work, hops = share_work[s0:s1], float(flit_hops[f0:f1].sum())
        m0, m1 = st.macro_start[b], st.macro_start[b + 1]
        moved = moved_all[m0:m1]
        total = work.sum(axis=0)
        energy = price_arrays(
            work, d.share_macro, hops, float(period[b]), d.energy, moved, io_bits, total
        )
        starts = finishes = np.zeros(n)
        one_image_ns = 0.0
        if latency:
            links = np.zeros(n)  # per layer, the busiest link its inputs or its parts' merges take
            loads = route_loads(src[f0:f1] - m0, dst[f0:f1] - m0, flits[f0:f1], d.positions, d.mesh)
            np.maximum.at(links, flow_layer[f0:f1] - l0, loads)
            starts, finishes, one_image_ns = layer_times(
                t,
                d,
                block_lat[l0 : l0 + n],
                lp_full[l0 : l0 + n],
                per_image[l0 : l0 + n],
                links * d.flit_ns,
            )
        out.append(
            Evaluation(
                float(period[b]),
                _set_by(t, int(cause[b]), int(where[b]), side),
                one_image_ns if latency else 0.0,
                full_stages[worst[l0 : l0 + n]],
                lp_full[l0 : l0 + n],
                block_lat[l0 : l0 + n],
                per_image[l0 : l0 + n],
                starts,
                finishes,
                blocks[l0 : l0 + n],
                total,
                work,
                hops,
                energy,
                moved,
                io_bits,
            )
        )
    return out


def _set_by(t: NetworkTables, cause: int, where: int, side: int) -> str:
    """What sets a design's period, in words (see :func:`evaluate_batch`'s ``cause``)."""
    if cause == 0:
        return f"layer {t.names[where]}"
    if cause == 4:
        return "off-chip interface"
    if cause == 5:
        return f"scratchpad port of macro {where} (NoC transfers included)"
    if cause == 6:
        macro, side = divmod(where, 2)
        return f"NoC {('injection', 'ejection')[side]} port of macro {macro}"
    if cause in (1, 2):
        r, c = divmod(where, len(BUSY_NAMES))
        if cause == 2:
            return f"two layers taking turns in macro {where}"
        return f"{BUSY_NAMES[c]} of macro {r}"
    grid, cell = divmod(where, side * side)
    a, b = divmod(cell, side)
    link = link_of(grid, a, b)
    return f"NoC link {link[0]}->{link[1]}"
