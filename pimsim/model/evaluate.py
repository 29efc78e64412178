"""Evaluating designs on a network with the kernel: period, latency and energy per image.

The per-network tables and per-design arrays (:mod:`pimsim.model.tables`) and the results
(:mod:`pimsim.model.evaluation`) are re-exported here. :func:`evaluate_stack` evaluates a whole
population of designs laid end to end (:class:`~pimsim.model.stack.Stack`) with one pass of
array arithmetic and compiled loops (the synthesizer's path); :func:`evaluate_batch` lays separate
designs end to end first, and :func:`evaluate` is a batch of one (the report path,
:func:`pimsim.model.estimate.estimate`), so there is one implementation of every formula.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from pimsim.components.parts import UnitKind
from pimsim.model.actions import Action
from pimsim.model.bounds import layer_bound, port_load, raise_in_place, raise_to
from pimsim.model.evaluation import Evaluation, Figures
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
from pimsim.model.noc_bounds import noc_bounds
from pimsim.model.offchip import interface_port_bits
from pimsim.model.pricing import noc_buffer_bits, price_batch
from pimsim.model.shared_jit import shared_bounds
from pimsim.model.stack import Stack, batch_parts, layer_blocks, segment_argmax, tile
from pimsim.model.sums_jit import flow_sums, segment_sums
from pimsim.model.tables import DesignArrays, NetworkTables
from pimsim.model.wiring import stage_columns, wiring

__all__ = [
    "DesignArrays",
    "Evaluation",
    "Figures",
    "NetworkTables",
    "evaluate",
    "evaluate_batch",
    "evaluate_stack",
]

_SA_UNIT = UNITS.index(UnitKind.SHIFT_ADD)
_ADD_UNIT = UNITS.index(UnitKind.ADD)
_ADD_WORK = WORK.index(Action.ADD)  # the add units' row of the work


def evaluate(t: NetworkTables, d: DesignArrays, latency: bool = True) -> Evaluation:
    """Period, latency and energy of one image of design ``d`` (see :mod:`pimsim.model.kernel`):
    :func:`evaluate_batch` of a batch of one."""
    return evaluate_batch(t, [d], latency)[0]


def evaluate_batch(
    t: NetworkTables, designs: list[DesignArrays], latency: bool = False
) -> list[Evaluation]:
    """:func:`evaluate` of many designs of one network at once (the synthesizer's population):
    :func:`evaluate_stack` of the designs laid end to end (in parts of at most
    :data:`~pimsim.model.stack.PART_SHARES` shares).

    The designs must share their rates and NoC timing (one combination of crossbar, cells, DAC and
    library).
    """
    if not designs:
        return []
    chunks = batch_parts([len(d.share_layer) for d in designs])
    return [ev for i, j in chunks for ev in _evaluate_part(t, Stack.of(t, designs[i:j]), latency)]


def evaluate_stack(t: NetworkTables, st: Stack, latency: bool = False) -> list[Evaluation]:
    """:func:`evaluate` of every design of the stack ``st`` (see :class:`~pimsim.model.stack.Stack`).

    Their shares, macros and layers are laid end to end and every formula runs once over the
    whole batch, with segment reductions where a design's figures are gathered; each design's
    figures are those it gets alone, bit for bit. A stack of more than
    :data:`~pimsim.model.stack.PART_SHARES` shares is evaluated in consecutive parts (each
    design's figures do not depend on the others in its batch). Latency (a walk over the layers,
    per design) is computed only when asked for.
    """
    if st.count == 0:
        return []
    n = len(t.names)
    chunks = batch_parts(np.diff(st.share_start).tolist())
    return [ev for i, j in chunks for ev in _evaluate_part(t, st.part(i, j, n), latency)]


def _evaluate_part(t: NetworkTables, st: Stack, latency: bool) -> list[Evaluation]:
    """:func:`evaluate_stack` of one part."""
    n, count, rates = len(t.names), st.count, st.rates
    lay, glay, macro = st.share_layer, st.layer, st.share_macro
    m_total = len(st.macros.adcs)
    # per batch layer (design x L + layer): its first share, blocks per image, items of a full
    # and the last block
    layer_start, blocks, full, last = layer_blocks(st, t.items)
    frac = st.share_frac
    # a weight share's conversions and shift-and-adds follow its columns (pimsim.model.wiring):
    # where every weight share is wired and every macro has shift-and-add units, those two
    # stages are timed there alone (a layer without weights has no such work)
    wires = wiring(t, st, blocks)
    weight = wires.weight
    columns = stage_columns(t, rates, st, (wires.wired | ~weight).all())
    # the work of each share per image (work_t, one row per action; share_work, a view of it,
    # one row per share), the stage times of its full blocks, the block periods of its full and
    # last blocks and its time of its macro's shift-and-add units (pimsim.model.kernel_jit)
    stage_rows = np.array([STAGE_WORK[c] for c in columns], dtype=np.int64)
    lanes = float(rates.unit_lanes[_SA_UNIT])
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
        np.array([c and c + 1 for c in columns], dtype=np.int64),
        stage_rates(rates, st.macros, columns),
        weight,
        float(rates.bit_iters * rates.read_ns),
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
        float(rates.adc_ghz),
        lanes,
        float(rates.unit_rate[_SA_UNIT]) / lanes if lanes else 0.0,
    )
    lp_full, lp_last, worst = layer_worst(p_full, p_last, layer_start)
    # what sets each design's period (the codes of pimsim.model.bounds): 0 a layer, 1 a macro's
    # busy part, 2 turns, 3 a link, 4 the off-chip interface, 5 a scratchpad port, 6 a router port
    worst_stages, per_image, period, where = layer_bound(
        full_stages, worst, blocks, lp_full, lp_last, count
    )
    cause = np.zeros(count, dtype=np.int64)
    block_lat = (
        block_latency(worst_stages, tile(t.bit_iters, count).astype(float))
        if latency
        else np.zeros(count * n)
    )
    # only the macros holding several shares can be busier than their shares' block periods, or
    # make their shares take the ADC bank or the digital units in turns (pimsim.model.shared_jit)
    m = st.macros
    add_lanes = float(rates.unit_lanes[_ADD_UNIT])
    any_shared, busy_top, busy_cell, turn_top, turn_cell = shared_bounds(
        macro,
        st.macro_start,
        work_t,
        BUSY_WORK,
        m.adcs,
        float(rates.adc_ghz),
        m.port_bits_per_ns,
        m.units,
        rates.unit_rate,
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
        float(rates.unit_rate[_ADD_UNIT]) / add_lanes if add_lanes else 0.0,
        t.edge_src,
        t.edge_dst,
    )
    if any_shared:
        period, cause, where = raise_to(busy_top, 1, busy_cell, period, cause, where)
        period, cause, where = raise_to(turn_top, 2, turn_cell, period, cause, where)
    src, dst, flits, flow_layer, flow_design, flow_made = batch_flows(
        t, st, layer_start, st.flit_bits
    )
    flow_start = np.searchsorted(flow_design, np.arange(count + 1))
    # each flow's routers, each macro's flits sent and received, each design's flit-hops
    # (pimsim.model.sums_jit)
    *ends, ports, hops = flow_sums(src, dst, flits, st.positions, flow_start, m_total)
    noc = (*ends, flits)
    # a link carries only the flows whose leg runs along its row (column): the busiest link of
    # the lines that could pass the period, and a link idled by cross packets on the next one
    # where a row's and the next column's traffic could (pimsim.model.noc_bounds, .crossing)
    margin = st.flit_ns * (1 + 1e-9)  # (a margin for the order of the sums)
    side = int(st.meshes.max())
    flit_ns = float(st.flit_ns)  # (one signature of the compiled loops)
    busy_ns, cell, top, cross_cell = noc_bounds(
        *noc, blocks, flow_made, flow_start, st.meshes, period, margin, flit_ns, side
    )
    period, cause, where = raise_to(busy_ns, 3, cell, period, cause, where)
    period, cause, where = raise_to(top, 3, cross_cell, period, cause, where)
    # scratchpad bits the NoC transfers read and write, every design's macros at once (each bin
    # sees only its design's flows, in their order)
    if st.flit_bits & (st.flit_bits - 1):
        moved_all = noc_buffer_bits(src, dst, flits * st.flit_bits, m_total)
    else:  # flits are bits / a power of two: the same sums, scaled exactly
        moved_all = ports * float(st.flit_bits)
    io_bits = t.io_bits if st.interface_gbit_s else 0.0  # the interface bounds the period
    if io_bits:
        moved_all += interface_port_bits(t, st)  # the input in, outputs out
    # the router ports, the interface and the scratchpad ports raise the period (a port also
    # reads each block sent and writes each one received); each design's NoC scratchpad energy
    noc_pj = _port_bounds(
        ports,
        float(st.flit_ns),
        bool(io_bits),
        io_bits / st.interface_gbit_s if io_bits else 0.0,
        port_load(work_t, macro, moved_all, st.macros.port_bits_per_ns),
        moved_all,
        st.buffer_pj,
        st.macro_start,
        period,
        cause,
        where,
    )
    # pricing, every design at once; a design's flit-hops over its own flows are summed as
    # numpy's .sum() adds (pairwise, pimsim.model.sums_jit)
    totals, energy = price_batch(
        work_t,
        st.share_design,
        macro,
        st.buffer_pj,
        st.energy,
        hops,
        period,
        noc_pj,
        np.full(count, io_bits),
    )
    times = np.zeros((count, 2, n))  # start and finish of each layer, with latency only
    one_image_ns = [0.0] * count
    flow_at = flow_start.tolist()
    macro_at = st.macro_start.tolist()
    for b in range(count if latency else 0):
        f0, f1, l0, l1, m0 = flow_at[b], flow_at[b + 1], b * n, (b + 1) * n, macro_at[b]
        d = st.design(b, n)
        links = np.zeros(n)  # per layer, the busiest link its inputs or its parts' merges take
        loads = route_loads(src[f0:f1] - m0, dst[f0:f1] - m0, flits[f0:f1], d.positions, d.mesh)
        np.maximum.at(links, flow_layer[f0:f1] - l0, loads)
        starts, finishes, one_image_ns[b] = layer_times(
            t, d, block_lat[l0:l1], lp_full[l0:l1], per_image[l0:l1], links * d.flit_ns
        )
        times[b] = starts, finishes
    # each design's figures: views of the batch's, cut when read
    c_count = energy.shape[1]
    figures = Figures(
        t.names,
        side,
        tuple(period.tolist()),
        tuple(cause.tolist()),
        tuple(where.tolist()),
        tuple(segment_sums(energy.ravel(), np.arange(0, (count + 1) * c_count, c_count)).tolist()),
        tuple(hops.tolist()),
        tuple(one_image_ns),
        worst_stages,
        lp_full,
        block_lat,
        per_image,
        times,
        blocks,
        totals,
        work_t.T,
        tuple(st.share_start.tolist()),
        energy,
        moved_all,
        tuple(macro_at),
        io_bits,
    )
    return Evaluation.views(figures)


@njit(cache=True)
def _port_bounds(
    ports, flit_ns, io, io_ns, load, moved, buffer_pj, macro_start, period, cause, where
):
    """The last bounds on each design's period, raised in place in this order (a tie keeps the
    earlier cause; :func:`pimsim.model.bounds.raise_to`): every packet a macro sends takes its
    router's injection port, every packet it receives the ejection port (the router's local port
    of the macro, one flit per flit time): like a link, each port's flits per image (``ports``
    (M, 2)) x ``flit_ns`` (code 6, macro x 2 + side); the off-chip interface's ``io_ns`` per image
    where there is one (``io``, code 4); each scratchpad port's time per image ``load`` (M,) (code
    5, :func:`pimsim.model.bounds.port_load`). Returns each design's energy of the NoC's and the
    interface's scratchpad bits (``moved`` (M, 2) x ``buffer_pj`` (M, 2)) summed over its macros
    as numpy's ``.sum()`` adds (pairwise, :func:`pimsim.model.sums_jit.segment_sums`), pJ."""
    top, cell = segment_argmax(ports.ravel() * flit_ns, macro_start * 2)
    raise_in_place(top, 6, cell, period, cause, where)
    if io:
        raise_in_place(np.full(len(period), io_ns), 4, where, period, cause, where)
    top, cell = segment_argmax(load, macro_start)
    raise_in_place(top, 5, cell, period, cause, where)
    return segment_sums((moved * buffer_pj).ravel(), macro_start * 2)
