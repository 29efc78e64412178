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
from pimsim.model.bounds import port_load, raise_to, set_by
from pimsim.model.crossing import cross_bounds
from pimsim.model.flows import batch_flows
from pimsim.model.kernel import (
    BUSY_WORK,
    STAGE_WORK,
    UNITS,
    WORK,
    block_latency,
    route_loads,
    stage_rates,
)
from pimsim.model.kernel_jit import layer_worst, share_times
from pimsim.model.latency import layer_times
from pimsim.model.noc_loops import link_bounds
from pimsim.model.offchip import interface_port_bits
from pimsim.model.pricing import BatchTables, noc_buffer_bits, price_batch
from pimsim.model.shared_jit import shared_bounds
from pimsim.model.stack import Stack, batch_parts, segment_argmax, tile
from pimsim.model.sums_jit import flow_sums, segment_sums
from pimsim.model.tables import DesignArrays, NetworkTables
from pimsim.model.wiring import stage_columns, wiring

__all__ = ["DesignArrays", "Evaluation", "NetworkTables", "evaluate", "evaluate_batch"]

_SA_UNIT = UNITS.index(UnitKind.SHIFT_ADD)
_ADD_UNIT = UNITS.index(UnitKind.ADD)
_ADD_WORK = WORK.index(Action.ADD)  # the add units' row of the work


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
    chunks = batch_parts([len(d.share_layer) for d in designs])
    if len(chunks) > 1:  # (each design's figures do not depend on the others in its batch)
        return [ev for i, j in chunks for ev in evaluate_batch(t, designs[i:j], latency)]
    st = Stack.of(t, designs)
    d0, n, count = designs[0], len(t.names), st.count
    lay, glay, macro = st.share_layer, st.layer, st.share_macro
    m_total = len(st.macros.adcs)
    layer_start = np.searchsorted(glay, np.arange(count * n + 1))
    items = tile(t.items, count)
    blocks = -(-items // st.per_block)
    full = np.minimum(st.per_block, items)
    last = items - (blocks - 1) * st.per_block
    frac = st.share_frac
    # a weight share's conversions and shift-and-adds follow its columns (pimsim.model.wiring):
    # where every weight share is wired and every macro has shift-and-add units, those two
    # stages are timed there alone (a layer without weights has no such work)
    wires = wiring(t, st, blocks)
    weight = wires.weight
    columns = stage_columns(t, d0.rates, st, (wires.wired | ~weight).all())
    # the work of each share per image (work_t, one row per action; share_work, a view of it,
    # one row per share), the stage times of its full blocks, the block periods of its full and
    # last blocks and its time of its macro's shift-and-add units (pimsim.model.kernel_jit)
    stage_rows = np.array(STAGE_WORK, dtype=np.int64)[columns]
    lanes = float(d0.rates.unit_lanes[_SA_UNIT])
    work_t, full_stages, p_full, p_last, pool_full, shift_add_ns = share_times(
        t.work_t,
        lay,
        glay,
        macro,
        frac,
        t.items_f,
        full,
        last,
        blocks,
        stage_rows,
        np.where(columns == 0, 0, columns + 1),
        stage_rates(d0.rates, st.macros, columns.tolist()),
        weight,
        float(d0.rates.bit_iters * d0.rates.read_ns),
        wires.wired,
        wires.most,
        wires.bits,
        wires.sa_units,
        wires.columns,
        wires.start,
        wires.crossbars,
        wires.before,
        t.set_crossbars,
        t.col_prefix,
        t.col_start,
        float(d0.rates.adc_ghz),
        lanes,
        float(d0.rates.unit_rate[_SA_UNIT]) / lanes if lanes else 0.0,
    )
    share_work = work_t.T
    lp_full, lp_last, worst = layer_worst(p_full, p_last, layer_start)
    worst_stages = np.ascontiguousarray(np.take(full_stages, worst, axis=1).T)
    block_lat = (
        block_latency(worst_stages, tile(t.bit_iters, count).astype(float))
        if latency
        else np.zeros(count * n)
    )
    per_image = (blocks - 1) * lp_full + lp_last
    # what sets each design's period (the codes of pimsim.model.bounds): 0 a layer, 1 a macro's
    # busy part, 2 turns, 3 a link, 4 the off-chip interface, 5 a scratchpad port, 6 a router port
    slowest = np.argmax(per_image.reshape(count, n), axis=1)
    period = per_image.reshape(count, n)[np.arange(count), slowest]
    cause, where = np.zeros(count, dtype=int), slowest
    # only the macros holding several shares can be busier than their shares' block periods, or
    # make their shares take the ADC bank or the digital units in turns (pimsim.model.shared_jit)
    m = st.macros
    add_lanes = float(d0.rates.unit_lanes[_ADD_UNIT])
    any_shared, busy_top, busy_cell, turn_top, turn_cell = shared_bounds(
        macro,
        st.macro_start,
        work_t,
        BUSY_WORK,
        m.adcs,
        float(d0.rates.adc_ghz),
        m.port_bits_per_ns,
        m.units,
        d0.rates.unit_rate,
        _SA_UNIT,
        _ADD_UNIT,
        shift_add_ns,
        full_stages,
        p_full,
        p_last,
        blocks,
        glay,
        lay,
        t.bit_iters,
        weight,
        wires.own_run,
        pool_full,
        frac,
        full,
        t.work_t[_ADD_WORK],
        add_lanes,
        float(d0.rates.unit_rate[_ADD_UNIT]) / add_lanes if add_lanes else 0.0,
        t.edge_src,
        t.edge_dst,
    )
    if any_shared:
        period, cause, where = raise_to(busy_top, 1, busy_cell, period, cause, where)
        period, cause, where = raise_to(turn_top, 2, turn_cell, period, cause, where)
    src, dst, flits, flow_layer, flow_design, flow_made = batch_flows(
        t, st, layer_start, d0.flit_bits
    )
    flow_start = np.searchsorted(flow_design, np.arange(count + 1))
    # each flow's routers, each macro's flits sent and received, each design's flit-hops
    # (pimsim.model.sums_jit)
    *ends, ports, hops = flow_sums(src, dst, flits, st.positions, flow_start, m_total)
    noc = (*ends, flits)
    # a link carries only the flows whose leg runs along its row (column): the busiest link of
    # the lines that could pass the period, and a link idled by cross packets on the next one
    # where a row's and the next column's traffic could (pimsim.model.noc_loops, .crossing)
    margin = d0.flit_ns * (1 + 1e-9)  # (a margin for the order of the sums)
    side = int(st.meshes.max())
    flit_ns = float(d0.flit_ns)  # (one signature of the compiled loops)
    busy_ns, cell, crossing = link_bounds(
        *noc, flow_start, st.meshes, period, margin, flit_ns, side
    )
    period, cause, where = raise_to(busy_ns, 3, cell, period, cause, where)
    if crossing.any():
        packets = np.take(blocks, flow_made).astype(float)
        top, cell = cross_bounds(
            *noc, packets, flow_start, crossing, st.meshes, period, margin, flit_ns, True, side
        )
        period, cause, where = raise_to(top, 3, cell, period, cause, where)
    # every packet a macro sends takes its router's injection port, every packet it receives the
    # ejection port (the router's local port of the macro, one flit per flit time): like a link,
    # each port's flits per image bound the period
    top, cell = segment_argmax(ports.ravel() * d0.flit_ns, st.macro_start * 2)
    period, cause, where = raise_to(top, 6, cell, period, cause, where)
    io_bits = t.io_bits if d0.interface_gbit_s else 0.0  # the interface bounds the period
    if io_bits:
        bound = io_bits / d0.interface_gbit_s
        period, cause, where = raise_to(bound, 4, where, period, cause, where)
    # scratchpad bits the NoC transfers read and write, every design's macros at once (each bin
    # sees only its design's flows, in their order)
    if d0.flit_bits & (d0.flit_bits - 1):
        moved_all = noc_buffer_bits(src, dst, flits * d0.flit_bits, m_total)
    else:  # flits are bits / a power of two: the same sums, scaled exactly
        moved_all = ports * float(d0.flit_bits)
    moved_all += interface_port_bits(t, st) if io_bits else 0.0  # the input in, outputs out
    # a port also reads each block sent and writes each one received
    top, cell = segment_argmax(
        port_load(work_t, macro, moved_all, st.macros.port_bits_per_ns), st.macro_start
    )
    period, cause, where = raise_to(top, 5, cell, period, cause, where)
    # pricing, every design at once; a design's flit-hops and NoC scratchpad energy over its own
    # flows and macros are summed as numpy's .sum() adds (pairwise, pimsim.model.sums_jit)
    buffer_pj = np.concatenate([d.energy.buffer_pj for d in designs])
    noc_pj = segment_sums((moved_all * buffer_pj).ravel(), st.macro_start * 2)
    totals, energy = price_batch(
        work_t,
        st.share_design,
        macro,
        buffer_pj,
        BatchTables.of([d.energy for d in designs]),
        hops,
        period,
        noc_pj,
        np.full(count, io_bits),
    )
    # each design's figures: rows of (B, L) views and slices (plain Python numbers for the rest)
    worst_b, lp_b, lat_b, image_b, blocks_b = (
        list(x.reshape(count, n, *x.shape[1:]))
        for x in (worst_stages, lp_full, block_lat, per_image, blocks)
    )
    times = np.zeros((count, 2, n))  # start and finish of each layer, with latency only
    share_at, macro_at, flow_at = (x.tolist() for x in (st.share_start, st.macro_start, flow_start))
    out = []
    for b, (d, time_ns, why, at, hop, total, joules) in enumerate(
        zip(
            designs,
            period.tolist(),
            cause.tolist(),
            where.tolist(),
            hops.tolist(),
            list(totals),
            list(energy),
            strict=True,
        )
    ):
        m0 = macro_at[b]
        one_image_ns = 0.0
        if latency:
            f0, f1, l0 = flow_at[b], flow_at[b + 1], b * n
            links = np.zeros(n)  # per layer, the busiest link its inputs or its parts' merges take
            loads = route_loads(src[f0:f1] - m0, dst[f0:f1] - m0, flits[f0:f1], d.positions, d.mesh)
            np.maximum.at(links, flow_layer[f0:f1] - l0, loads)
            starts, finishes, one_image_ns = layer_times(
                t, d, lat_b[b], lp_b[b], image_b[b], links * d.flit_ns
            )
            times[b] = starts, finishes
        out.append(
            Evaluation(
                time_ns,
                set_by(t, why, at, side),
                one_image_ns,
                worst_b[b],
                lp_b[b],
                lat_b[b],
                image_b[b],
                times[b, 0],
                times[b, 1],
                blocks_b[b],
                total,
                share_work[share_at[b] : share_at[b + 1]],
                hop,
                joules,
                moved_all[m0 : macro_at[b + 1]],
                io_bits,
            )
        )
    return out
