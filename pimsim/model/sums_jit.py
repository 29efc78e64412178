"""Sums and maxima per macro and per design of a batch as compiled loops (numba): what
``np.bincount``, ``np.add.at`` and ``np.maximum.reduceat`` gave, in one pass each.

Exact to the last bit: every sum runs in input order from 0.0, as ``np.bincount`` and
``np.add.at`` add (a sum down a column, which numpy adds one row after the other, is the same);
maxima do not depend on the order (no NaN occurs: a missing part gives inf, never 0 / 0 where
it counts, and every such quotient is masked as numpy's ``where`` masked it). Division follows
numpy's rules (``error_model="numpy"``). Arrays are int64 / float64, C-contiguous.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def add_at(target, index, values):
    """``np.add.at(target, index, values)``: each element of ``target`` adds its values in input
    order."""
    for i in range(len(index)):
        target[index[i]] += values[i]


@njit(cache=True)
def segment_argmax(values, starts):
    """Per segment ``values[starts[i]:starts[i + 1]]``: its maximum and the offset of its first
    occurrence (what ``np.argmax`` of the segment alone gives); ``-inf`` and 0 for an empty
    segment."""
    count = len(starts) - 1
    top = np.full(count, -np.inf)
    at = np.zeros(count, dtype=np.int64)
    for b in range(count):
        lo, hi = starts[b], starts[b + 1]
        if hi > lo:
            best, where = values[lo], 0
            for i in range(lo + 1, hi):
                if values[i] > best:
                    best, where = values[i], i - lo
            top[b], at[b] = best, where
    return top, at


@njit(cache=True)
def design_sums(columns, design, count):
    """(count, K) per design, the sum of its columns of the (K, S) ``columns`` (column ``s``
    belongs to design ``design[s]``), added in share order from 0.0."""
    k_count = columns.shape[0]
    out = np.zeros((count, k_count))
    for s in range(columns.shape[1]):  # (the columns' sums side by side: each in share order)
        b = design[s]
        for k in range(k_count):
            out[b, k] += columns[k, s]
    return out


@njit(cache=True)
def component_energy(work_t, design, macro, buffer_pj, action_pj, column_component, n_comp):
    """The dynamic energy of the shares' work by design and component, pJ (see
    :func:`pimsim.model.pricing.price_batch`) and each design's action counts.

    ``work_t`` (K, S): each share's actions per image, share ``s`` of design ``design[s]`` in
    macro ``macro[s]``, whose scratchpad costs ``buffer_pj[macro]`` (read, write) per bit; the
    last two actions are the scratchpad bits read and written. Per design: the actions summed in
    share order (``totals``, (B, K)), each column's energy (``totals x action_pj``; the
    scratchpad columns as the sum in share order of each share's bits x its macro's per-bit
    energy), and per component (``column_component[k]`` for column ``k``) the sum of its columns'
    energies in column order from 0.0. Returns (totals, energy (B, n_comp))."""
    count, k_count = action_pj.shape
    totals = design_sums(work_t, design, count)
    per_column = totals * action_pj
    first = k_count - 2
    for b in range(count):
        per_column[b, first] = per_column[b, first + 1] = 0.0
    for s in range(work_t.shape[1]):
        b, m = design[s], macro[s]
        for j in range(2):
            per_column[b, first + j] += work_t[first + j, s] * buffer_pj[m, j]
    out = np.zeros((count, n_comp))
    for b in range(count):
        for k in range(k_count):
            out[b, column_component[k]] += per_column[b, k]
    return totals, out


@njit(cache=True, error_model="numpy")
def macro_busy(
    work_t, shares, local, n_macros, busy_rows, adcs, adc_ghz, port_bits_per_ns, units, unit_rate
):
    """(n_macros, 2 + U) busy time per image of each listed macro's ADC bank, scratchpad port and
    unit kinds (ns; 0 for no work, inf for work and no part): share ``shares[i]`` (a column of
    the (K, S) ``work_t``) in macro ``local[i]``; each row ``busy_rows`` of the work (the ADC's
    conversions, the port's read and write bits, then each unit kind's actions, in the order of
    the columns of ``units``) summed per macro in share order, the port's
    read and write bits added, over the part's rate (``adcs x adc_ghz``, the port's bits per ns,
    ``units x unit_rate``)."""
    k_rows = len(busy_rows)
    total = np.zeros((n_macros, k_rows))
    for i in range(len(shares)):
        s, m = shares[i], local[i]
        for r in range(k_rows):
            total[m, r] += work_t[busy_rows[r], s]
    n_units = units.shape[1]
    out = np.zeros((n_macros, 2 + n_units))
    for m in range(n_macros):
        work = total[m, 0]
        if work != 0:
            out[m, 0] = work / (adcs[m] * adc_ghz)
        work = total[m, 1] + total[m, 2]
        if work != 0:
            out[m, 1] = work / port_bits_per_ns[m]
        for u in range(n_units):
            work = total[m, 3 + u]
            if work != 0:
                out[m, 2 + u] = work / (units[m, u] * unit_rate[u])
    return out


@njit(cache=True, error_model="numpy")
def _block(a: np.ndarray, start: int, n: int) -> float:
    """numpy's sum of at most 128 values: fewer than 8 left to right, else 8 running sums."""
    if n < 8:
        res = 0.0
        for i in range(start, start + n):
            res += a[i]
        return res
    s = start
    r0, r1, r2, r3 = a[s], a[s + 1], a[s + 2], a[s + 3]
    r4, r5, r6, r7 = a[s + 4], a[s + 5], a[s + 6], a[s + 7]
    i = 8
    whole = n - n % 8
    while i < whole:
        r0 += a[s + i]
        r1 += a[s + i + 1]
        r2 += a[s + i + 2]
        r3 += a[s + i + 3]
        r4 += a[s + i + 4]
        r5 += a[s + i + 5]
        r6 += a[s + i + 6]
        r7 += a[s + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[s + i]
        i += 1
    return res


@njit(cache=True, error_model="numpy")
def pairwise_sum(a: np.ndarray, start: int, n: int) -> float:
    """``a[start:start + n].sum()`` of a contiguous float64 array as numpy adds it, to the last bit:
    fewer than 8 values left to right from 0.0; up to 128, eight running sums added as a tree, then
    the rest one by one; longer runs split in two halves (the first a multiple of 8 long) summed
    alike and added (numpy's ``pairwise_sum``).

    The halving is walked with a stack of its own (numba's cache mishandles recursive functions,
    numba issue 6061): each run longer than 128 is its first part's sum plus its second's."""
    if n <= 128:
        return _block(a, start, n)
    at, length = np.empty(64, dtype=np.int64), np.empty(64, dtype=np.int64)
    stage, left = np.zeros(64, dtype=np.int64), np.zeros(64)
    at[0], length[0], stage[0] = start, n, 0
    top = 0  # the stack's top frame; a frame's stage: 0 new, 1 first part summed
    value = 0.0
    while top >= 0:
        n_top = length[top]
        half = n_top // 2
        half -= half % 8
        if n_top <= 128:
            value = _block(a, at[top], n_top)
        elif stage[top] == 0:  # sum the first part
            at[top + 1], length[top + 1], stage[top + 1] = at[top], half, 0
            top += 1
            continue
        elif stage[top] == 1:  # the first part's sum is in left: sum the second part
            stage[top] = 2
            at[top + 1], length[top + 1], stage[top + 1] = at[top] + half, n_top - half, 0
            top += 1
            continue
        else:  # the second part's sum is in value
            value = left[top] + value
        top -= 1  # hand the value to the frame below
        if top >= 0 and stage[top] == 0:
            stage[top], left[top] = 1, value
    return value


@njit(cache=True)
def segment_sums(values, starts):
    """Per segment ``values[starts[i]:starts[i + 1]]`` its ``.sum()`` (:func:`pairwise_sum`)."""
    count = len(starts) - 1
    out = np.empty(count)
    for b in range(count):
        out[b] = pairwise_sum(values, starts[b], starts[b + 1] - starts[b])
    return out


@njit(cache=True)
def flow_sums(src, dst, flits, positions, flow_start, n_macros):
    """The NoC traffic of a batch's flows (flits per image ``flits``, from macro ``src`` to
    ``dst``; macro ``m``'s router at ``positions[m]`` (row, column); design ``d``'s flows
    ``flow_start[d]`` .. ``flow_start[d + 1] - 1``): each flow's ends (source row, source column,
    destination row, destination column: :func:`pimsim.model.kernel.flow_ends`), (``n_macros``,
    2) the flits each macro sends and receives, summed in flow order from 0.0 (as
    ``np.bincount``), and per design its flit-hops (flits x the X-then-Y route's hops), summed as
    numpy's ``.sum()`` (:func:`pairwise_sum`). Returns (r0, c0, r1, c1, ports, hops)."""
    n = len(flits)
    r0, c0 = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    r1, c1 = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    ports = np.zeros((n_macros, 2))
    hops = np.empty(n)
    for f in range(n):
        a, b = src[f], dst[f]
        r0[f], c0[f], r1[f], c1[f] = (
            positions[a, 0],
            positions[a, 1],
            positions[b, 0],
            positions[b, 1],
        )
        ports[a, 0] += flits[f]
        ports[b, 1] += flits[f]
        hops[f] = flits[f] * (abs(r0[f] - r1[f]) + abs(c0[f] - c1[f]))
    return r0, c0, r1, c1, ports, segment_sums(hops, flow_start)


@njit(cache=True, error_model="numpy")
def port_times(work_t, read_row, write_row, macro, moved, port_bits_per_ns):
    """(M,) each scratchpad port's time per image, ns (:func:`pimsim.model.bounds.port_load`):
    the bits NoC transfers read and write there (``moved`` (M, 2), read + written), plus each
    share's bits read and written (rows ``read_row`` + ``write_row`` of the (K, S) ``work_t``)
    added to its ``macro``'s in share order, over the port's bits per ns; 0 where no bit moves."""
    bits = np.empty(len(moved))
    for m in range(len(moved)):
        bits[m] = moved[m, 0] + moved[m, 1]
    for s in range(len(macro)):
        bits[macro[s]] += work_t[read_row, s] + work_t[write_row, s]
    out = np.zeros(len(moved))
    for m in range(len(moved)):
        if bits[m] > 0:
            out[m] = bits[m] / port_bits_per_ns[m]
    return out
