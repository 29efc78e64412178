"""The bounds of the macros that hold several shares, as one compiled pass (numba): their parts'
busy times, their weight shares taking the ADC bank in turns, and the shares on their own runs
of the bank taking the digital units in turns (the locked queue of :mod:`pimsim.model.turns`).

Only the macros holding several shares are numbered (compactly, in batch order); every other
macro's figures would be 0. Each formula is the numpy one it replaced element by element, the
float operations in the same order; sums per macro run in share order from 0.0 (as
``np.bincount``); maxima propagate NaN as ``np.maximum`` does; division follows numpy's rules
(``error_model="numpy"``). So each figure is the same to the last bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from pimsim.model.kernel import STAGES
from pimsim.model.repeats_jit import by_macro, first_alike, run_rows
from pimsim.model.scalars_jit import fmax as _max
from pimsim.model.scalars_jit import fmin as _min
from pimsim.model.scalars_jit import whole_actions_one
from pimsim.model.sums_jit import macro_busy, segment_argmax
from pimsim.model.turns_jit import turn_extra

_LOAD, _MVM, _ADC, _SHIFT_ADD, _ADD = (
    STAGES.index(n) for n in ("load", "mvm", "adc", "shift_add", "add")
)
_N_STAGES = len(STAGES)
# the columns of a run share's row (pimsim.model.repeats_jit.run_rows) that place its macro in
# the table of repeats (any: the hash only picks the slot)
_RUN_KEYS = (_ADC, _SHIFT_ADD, _N_STAGES, _N_STAGES + 1, _N_STAGES + 4, _N_STAGES + 7)


@njit(cache=True, error_model="numpy")
def _argmax_cells(values, shared, shared_start, macro_start):
    """Per design, the largest of ``values`` (one row per listed macro, in batch order; design
    ``b``'s rows from ``shared_start[b]``) and where: macro (numbered in the design) x row width +
    column, the first of equals (as ``np.argmax`` of each design's rows, flattened)."""
    width = values.shape[1]
    top, offset = segment_argmax(values.ravel(), shared_start * width)
    cell = np.empty(len(top), dtype=np.int64)
    for b in range(len(top)):
        row, col = offset[b] // width, offset[b] % width
        at = min(shared_start[b] + row, len(shared) - 1)
        cell[b] = (shared[at] - macro_start[b]) * width + col
    return top, cell


@njit(cache=True, error_model="numpy")
def interleaved_busy(stages, period, blocks, bits, macro, n_macros):
    """(n_macros,) time per image of a macro whose ADC bank and shift-and-add units two weight
    layers share, when they take them in turns bit by bit (0 for the others).

    Per weight share ``s`` (``stages[:, s]`` its full-block stage times, ``period`` its block
    period, ``blocks`` its blocks per image, ``bits`` its bit iterations per block, ``macro`` its
    macro): alone a share does a bit in ``c = period / bits``. While both have work, each bit of
    one waits for a bit of the other on the bank and the units (first come, first served), and
    one crossbar read cannot run ahead of its conversion (one sample-and-hold between them): a
    pair of bits takes ``p = max(adc_a + adc_b, shift_add_a + shift_add_b, mvm_a, mvm_b)`` per bit
    (per-bit stage times: a block's over its bits). With ``n_a`` and ``n_b`` bits per image,
    ``min(n) x p`` of them go in pairs and the rest alone: ``min(n) p + (n_a - min(n)) c_a + (n_b
    - min(n)) c_b``, more than the summed busy time whenever the pair's bank time exceeds a
    crossbar read. The pairs are consecutive shares of a macro (in share order); a macro's time
    is its largest pair's."""
    out = np.zeros(n_macros)
    n = len(macro)
    if n < 2:
        return out
    order = by_macro(macro, n_macros)
    for i in range(n - 1):
        a, b = order[i], order[i + 1]
        if macro[a] != macro[b]:
            continue
        mvm_a, adc_a = stages[_MVM, a] / bits[a], stages[_ADC, a] / bits[a]
        mvm_b, adc_b = stages[_MVM, b] / bits[b], stages[_ADC, b] / bits[b]
        sa_a, sa_b = stages[_SHIFT_ADD, a] / bits[a], stages[_SHIFT_ADD, b] / bits[b]
        p = _max(_max(_max(adc_a + adc_b, sa_a + sa_b), mvm_a), mvm_b)
        n_a, n_b = blocks[a] * bits[a], blocks[b] * bits[b]
        both = _min(n_a, n_b)
        time = both * p + (n_a - both) * period[a] / bits[a] + (n_b - both) * period[b] / bits[b]
        out[macro[a]] = _max(out[macro[a]], time)
    return out


@njit(cache=True, error_model="numpy")
def _kind_times(order, where, image, cycle, job, arrive, hold, jobs, stops, feeds, layer, keys,
                span, post, pre, whole, has_whole):  # fmt: skip
    """(R,) each share's time per image beside its macro's other shares at one kind of units:
    its time alone plus :func:`pimsim.model.turns_jit.turn_extra` (``order`` the shares sorted
    by macro, ``where`` their macros in that order)."""
    extra = turn_extra(order, where, cycle, job, arrive, hold, jobs, stops, feeds, layer, keys,
                       span, post, pre, whole, has_whole)  # fmt: skip
    times = np.empty(len(order))
    for i in range(len(order)):
        times[order[i]] = image[order[i]] + extra[i]
    return times


@njit(cache=True, error_model="numpy")
def unit_turns(
    stages,
    period,
    last_period,
    blocks,
    bits,
    pool,
    add_elements,
    add_units,
    add_lanes,
    add_ghz,
    layer,
    edge_src,
    edge_dst,
    whole,
    macro,
    n_macros,
):
    """(n_macros,) time per image of a macro whose weight shares convert on their own runs of its
    ADCs but take its digital units in turns (0 for the others): the locked queue of
    :func:`pimsim.model.turns.turn_times` at the shift-and-add units (a job a bit) and at the add
    units (a job a block); a share takes the larger of its two times, a macro its slowest
    share's.

    Per share (on its own run; ``macro`` its macro): ``stages`` (stages, R) its full-block stage
    times, ``period`` and ``last_period`` its full and last block periods, ``blocks`` its blocks
    per image (whole numbers), ``bits`` its bit iterations (floats), ``pool`` its time of its
    macro's shift-and-add units a block; ``add_elements`` its partial sums a block on its macro's
    ``add_units`` add units of ``add_lanes`` lanes at ``add_ghz`` actions per ns (no add jobs for
    ``add_lanes`` 0); ``layer`` its network layer, ``edge_src`` / ``edge_dst`` the network's
    producer and consumer layers, ``whole`` whether it is its whole layer.

    Alone a share takes ``(blocks - 1) x period + last_period`` an image. Its shift-and-add jobs:
    a bit's cycle ``period / bits``, job ``shift_add / bits``, the next bit converted ``adc /
    bits`` after a job starts, holding ``pool / shift_add`` of the units, ``blocks x bits`` jobs
    stopping once a block. Its add jobs (one a block, in whole actions as
    :func:`pimsim.model.wiring.whole_actions` counts them): the cycle ``period``; while a block
    waits for the units the next block's bits stall, one in each per-bit stage (bit 0 converted,
    bit 1 read), so once the job starts the next block is ready after the slowest of ``(bits -
    2) mvm + adc + sa``, ``(bits - 1) adc + sa`` and ``bits sa`` (per-bit stage times); from a
    job's start its block is stored after the job and the stages after it (``post``); a
    consumer's job starts after its load and its bits' fill (``pre``: the load, the per-bit
    stages and ``bits - 1`` bit cycles)."""
    out = np.zeros(n_macros)
    n = len(macro)
    if n == 0:  # (a lone share is timed as any other: a macro's time is its shares' alone)
        return out
    order = by_macro(macro, n_macros)
    where = macro[order]
    image = np.empty(n)
    cycle, job, arrive, hold = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    jobs, stops = np.empty(n), np.empty(n)
    for i in range(n):
        image[i] = (blocks[i] - 1) * period[i] + last_period[i]
        sa = stages[_SHIFT_ADD, i]
        hold[i] = pool[i] / sa if sa > 0 else 0.0  # the fraction of units a job holds
        cycle[i] = period[i] / bits[i]
        job[i] = sa / bits[i]
        arrive[i] = stages[_ADC, i] / bits[i]
        jobs[i] = blocks[i] * bits[i]
        stops[i] = blocks[i]
    none_f, none_i, none_b = np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.bool_)
    times = _kind_times(order, where, image, cycle, job, arrive, hold, jobs, stops, False, none_i,
                        none_i, 0, none_f, none_f, none_b, False)  # fmt: skip
    extra = np.empty(n)
    for i in range(n):
        extra[i] = times[i] - image[i]
    if add_lanes != 0:
        post, pre = np.empty(n), np.empty(n)
        for i in range(n):
            elements, units = add_elements[i], add_units[i]
            job[i] = pool_i = 0.0
            if units > 0 and elements > 0:
                job[i], pool_i = whole_actions_one(elements, units, add_lanes, add_ghz)
            hold[i] = pool_i / job[i] if job[i] > 0 else 0.0
            mvm, adc = stages[_MVM, i] / bits[i], stages[_ADC, i] / bits[i]
            sa = stages[_SHIFT_ADD, i] / bits[i]
            bit_cycle = _max(_max(mvm, adc), sa)
            # stalled, the next block's bit 0 waits at the shift-and-add, bit 1 at the ADC
            # (read), bit 2 at the read: the last bit is done after the slowest of three paths
            first = (bits[i] - 2) * mvm + adc + sa if bits[i] >= 2 else 0.0
            arrive[i] = _max(_max(first, (bits[i] - 1) * adc + sa), bits[i] * sa)
            after = stages[_ADD + 1, i]
            for r in range(_ADD + 2, _N_STAGES):
                after += stages[r, i]
            post[i] = job[i] + after
            pre[i] = stages[_LOAD, i] + (mvm + adc + sa) + (bits[i] - 1) * bit_cycle
            cycle[i] = period[i]
            jobs[i] = blocks[i]
            stops[i] = 1.0
        # the (producer, consumer) layer pairs of the network, as sorted keys
        top = layer.max()
        for e in range(len(edge_src)):
            top = max(top, edge_src[e], edge_dst[e])
        span = top + 1
        keys = np.unique(edge_src * span + edge_dst)
        times = _kind_times(order, where, image, cycle, job, arrive, hold, jobs, stops,
                            len(keys) > 0, layer, keys, span, post, pre, whole, True)  # fmt: skip
        for i in range(n):
            extra[i] = _max(extra[i], times[i] - image[i])
    for i in range(n):
        out[macro[i]] = _max(out[macro[i]], image[i] + extra[i])
    return out


@njit(cache=True)
def _gather(rows, stages, period, blocks, glay, bit_iters, lay, local, macro):
    """The figures of the shares ``rows`` (in that order): their full-block stage times
    (stages, R), block periods, blocks per image and bit iterations (floats), and their macros'
    compact numbers ``local``."""
    n_rows = len(rows)
    out = np.empty((stages.shape[0], n_rows))
    for r in range(stages.shape[0]):
        for i in range(n_rows):
            out[r, i] = stages[r, rows[i]]
    at_period, at_blocks, at_bits = np.empty(n_rows), np.empty(n_rows), np.empty(n_rows)
    at_macro = np.empty(n_rows, dtype=np.int64)
    for i in range(n_rows):
        s = rows[i]
        at_period[i], at_blocks[i] = period[s], float(blocks[glay[s]])
        at_bits[i], at_macro[i] = float(bit_iters[lay[s]]), local[macro[s]]
    return out, at_period, at_blocks, at_bits, at_macro


@njit(cache=True, error_model="numpy")
def shared_bounds(
    macro,
    macro_start,
    work_t,
    busy_rows,
    adcs,
    adc_ghz,
    port_bits_per_ns,
    units,
    unit_rate,
    sa_unit,
    add_unit,
    shift_add_ns,
    stages,
    period,
    last_period,
    blocks,
    glay,
    lay,
    bit_iters,
    weight,
    own_run,
    pool,
    frac,
    full,
    add_work,
    add_lanes,
    add_ghz,
    edge_src,
    edge_dst,
):
    """Per design, the bounds of its macros holding several shares on its period, ns, and where
    (:func:`_argmax_cells`): (whether any macro of the batch holds several shares; the largest
    busy time of a part, :func:`pimsim.model.sums_jit.macro_busy` with the shift-and-add units
    in whole actions, the shares' ``shift_add_ns`` summed per macro in share order, and its
    cell; the largest time of a macro's shares taking its ADC bank (:func:`interleaved_busy`, the
    weight shares not on their own runs of the bank) or its digital units (:func:`unit_turns`,
    the shares on their own runs) in turns, and its macro).

    Per share of the stack: ``macro`` its batch macro (each design's from ``macro_start``),
    ``work_t`` (K, S) its work per image, ``stages`` (stages, S) its full-block stage times,
    ``period`` / ``last_period`` its full and last block periods, ``glay`` / ``lay`` its batch
    and network layer, ``weight``, ``own_run``, ``pool`` its time of the shift-and-add units a
    block, ``frac``; per batch layer ``blocks`` and ``full`` (items a full block); per network
    layer ``bit_iters`` and ``add_work`` (partial sums an item); per macro ``adcs``, ``units``
    (M, U) and ``port_bits_per_ns``; the unit kinds' columns ``sa_unit`` and ``add_unit``."""
    n, m_total = len(macro), len(adcs)
    residents = np.zeros(m_total, dtype=np.int64)
    for s in range(n):
        residents[macro[s]] += 1
    local = np.full(m_total, -1, dtype=np.int64)
    n_shared = 0
    for m in range(m_total):
        if residents[m] > 1:
            local[m] = n_shared
            n_shared += 1
    empty = (np.zeros(0), np.zeros(0, dtype=np.int64))
    if n_shared == 0:
        return False, empty[0], empty[1], empty[0], empty[1]
    shared = np.empty(n_shared, dtype=np.int64)
    for m in range(m_total):
        if local[m] >= 0:
            shared[local[m]] = m
    shared_start = np.searchsorted(shared, macro_start)
    # the shares of those macros, their weight shares not on their own runs of the bank (which
    # take it in turns) and the shares on their own runs (in shared macros), each in share order
    n_in = n_pairs = n_runs = 0
    for s in range(n):
        if local[macro[s]] >= 0:
            n_in += 1
            n_pairs += weight[s] and not own_run[s]
        n_runs += own_run[s]
    shares = np.empty(n_in, dtype=np.int64)
    pairs = np.empty(n_pairs, dtype=np.int64)
    runs = np.empty(n_runs, dtype=np.int64)
    i_in = i_pairs = i_runs = 0
    for s in range(n):
        if local[macro[s]] >= 0:
            shares[i_in] = s
            i_in += 1
            if weight[s] and not own_run[s]:
                pairs[i_pairs] = s
                i_pairs += 1
        if own_run[s]:
            runs[i_runs] = s
            i_runs += 1
    # the parts' busy times, the shift-and-add units in whole actions (each job holding the
    # units it spreads over) where the macro has such units
    where = np.empty(n_in, dtype=np.int64)
    in_whole = np.zeros(n_shared)
    for i in range(n_in):
        where[i] = local[macro[shares[i]]]
        in_whole[where[i]] += shift_add_ns[shares[i]]
    n_units = units.shape[1]
    shared_adcs, shared_port = np.empty(n_shared), np.empty(n_shared)
    shared_units = np.empty((n_shared, n_units))
    for j in range(n_shared):
        m = shared[j]
        shared_adcs[j], shared_port[j] = adcs[m], port_bits_per_ns[m]
        for u in range(n_units):
            shared_units[j, u] = units[m, u]
    busy = macro_busy(
        work_t,
        shares,
        where,
        n_shared,
        busy_rows,
        shared_adcs,
        adc_ghz,
        shared_port,
        shared_units,
        unit_rate,
    )
    for j in range(n_shared):
        if not np.isinf(busy[j, 2 + sa_unit]):
            busy[j, 2 + sa_unit] = in_whole[j]
    busy_top, busy_cell = _argmax_cells(busy, shared, shared_start, macro_start)
    # the weight shares that take the bank in turns
    p_stages, p_period, p_blocks, p_bits, p_macro = _gather(
        pairs, stages, period, blocks, glay, bit_iters, lay, local, macro
    )
    turns = interleaved_busy(p_stages, p_period, p_blocks, p_bits, p_macro, n_shared)
    # shares on their own runs of the bank convert at once: they take only the units in turns
    # (the units' load bounds the period through the busy times); own runs are in shared macros.
    # A macro's time is a function of its shares' rows alone: computed once a distinct macro
    rows, starts, r_macro = run_rows(runs, stages, period, last_period, blocks, glay, lay,
                                      bit_iters, pool, add_work, frac, full, units, add_unit,
                                      macro, local, n_shared)  # fmt: skip
    first = first_alike(rows.view(np.int64), starts, np.array(_RUN_KEYS))
    kept = 0
    for g in range(len(first)):
        kept += (starts[g + 1] - starts[g]) if first[g] == g else 0
    n_st = stages.shape[0]
    r_stages, r_float = np.empty((n_st, kept)), np.empty((7, kept))
    r_lay, r_whole = np.empty(kept, dtype=np.int64), np.empty(kept, dtype=np.bool_)
    r_local = np.empty(kept, dtype=np.int64)
    k = 0
    for g in range(len(first)):
        if first[g] != g:
            continue
        for i in range(starts[g], starts[g + 1]):
            for r in range(n_st):
                r_stages[r, k] = rows[i, r]
            for c in range(7):
                r_float[c, k] = rows[i, n_st + c]
            r_lay[k], r_whole[k] = int(rows[i, n_st + 7]), rows[i, n_st + 8] == 1.0
            r_local[k] = r_macro[g]
            k += 1
    own = unit_turns(
        r_stages,
        r_float[0],
        r_float[1],
        r_float[2],
        r_float[3],
        r_float[4],
        r_float[5],
        r_float[6],
        add_lanes,
        add_ghz,
        r_lay,
        edge_src,
        edge_dst,
        r_whole,
        r_local,
        n_shared,
    )
    for g in range(len(first)):
        own[r_macro[g]] = own[r_macro[first[g]]]
    slowest = np.empty((n_shared, 1))
    for j in range(n_shared):
        slowest[j, 0] = _max(turns[j], own[j])
    turn_top, turn_cell = _argmax_cells(slowest, shared, shared_start, macro_start)
    return True, busy_top, busy_cell, turn_top, turn_cell
