"""Stage 4's arithmetic as compiled loops over a batch's shares, macros and candidates.

:func:`synth.allocate.allocate_batch` lays a batch's candidates end to end (shares, then macros,
each candidate's in its own order) and hands the arrays to :func:`allocate_arrays`, which does for
every candidate what one candidate alone needs: the work per macro and unit kind, the scratchpads,
the fixed costs, and the bisection on the target period with its budget tests. Every sum is taken
in the order numpy took it before (the per-macro work share by share, numpy's pairwise sums
through :func:`synth.sums.pairwise_sum`), so the allocations are the same to the last bit.

Units: periods in ns, work in actions per image, rates in actions per ns (GHz), power in W, area in
mm^2, scratchpads in KiB. Division by zero gives IEEE infinities, as numpy's does
(``error_model="numpy"``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from pimsim.model.sums_jit import pairwise_sum
from synth.bisect_loops import allocate_each
from synth.sums import first_at_least

__all__ = ["allocate_arrays"]


@njit(cache=True, error_model="numpy")
def _buffers_kib(
    layer: np.ndarray,
    frac: np.ndarray,
    xbars: np.ndarray,
    macro: np.ndarray,
    share_end: np.ndarray,
    starts: np.ndarray,
    dup: np.ndarray,
    window: np.ndarray,
    working_bits: np.ndarray,
    host_of: np.ndarray,
    buffer_kib: np.ndarray,
    total: int,
) -> np.ndarray:
    """(total,) the smallest scratchpad of every macro that holds two blocks' input rows and
    outputs of its layers, KiB: the bits summed per macro in share order (candidate ``b``'s
    shares end at ``share_end[b]``, its macros start at ``starts[b]``)."""
    count, w = dup.shape
    bits = np.empty((count, w))
    for b in range(count):
        for p in range(w):
            rows = np.ceil(dup[b, p] / window[p, 0])
            in_rows = min(float(window[p, 1]), window[p, 2] + 2 * rows * window[p, 3])
            bits[b, p] = in_rows * working_bits[p, 0] + (2 * dup[b, p]) * working_bits[p, 1]
    need = np.zeros(total)
    s0 = 0
    for b in range(count):
        for s in range(s0, share_end[b]):
            if xbars[s] > 0:
                need[starts[b] + macro[s]] += bits[b, host_of[layer[s]]] * frac[s]
        s0 = share_end[b]
    kib = np.empty(total, dtype=np.int64)
    last = len(buffer_kib) - 1
    for m in range(total):
        need_kib = need[m] / 8 / 1024
        i = first_at_least(buffer_kib, need_kib)
        kib[m] = buffer_kib[min(i, last)]
    return kib


@njit(cache=True, error_model="numpy")
def allocate_arrays(
    layer: np.ndarray,
    frac: np.ndarray,
    xbars: np.ndarray,
    macro: np.ndarray,
    share_end: np.ndarray,
    crossbars_in: np.ndarray,
    macro_end: np.ndarray,
    dup: np.ndarray,
    floor_kib: np.ndarray,
    work: np.ndarray,
    items: np.ndarray,
    tables: tuple,
    prices: np.ndarray,
    power_w: float,
    area_mm2: float,
    unified: bool,
) -> tuple:
    """Stage 4 of a batch (see :func:`synth.allocate.allocate_batch`).

    Shares (``layer``, ``frac``, ``xbars``, ``macro`` in each candidate's own numbering;
    candidate ``b``'s end at ``share_end[b]``) and macros (``crossbars_in``; candidate ``b``'s end
    at ``macro_end[b]``) laid end to end, as :func:`synth.layout_loops.layout_arrays` gives them; ``dup`` (B, W); ``floor_kib`` raises the scratchpads of each candidate's first
    macros; ``work`` (L, k) work per item of each unit kind (ADCs first), ``items`` (L,) items
    per image; ``tables`` the combination's (rates, peak W and area of one unit of each kind,
    weight layers' layer index, their window (W, 4) and working bits (W, 2), host of each layer,
    scratchpad sizes KiB, scratchpad peak W and area per size, layers' bit iterations, weight mask
    as floats);
    ``prices`` (crossbar W, router W, chip-level NoC W, interface W, crossbar mm^2, router mm^2,
    interface mm^2, crossbar read ns, interface bound ns); the budgets ``power_w`` and ``area_mm2``
    (inf: none).

    Returns per macro ADCs, units (M, k - 1), scratchpad KiB and crossbars; per candidate the
    target period (ns), its peak power and area (numpy's sums over its macros), its outcome
    (:data:`synth.bisect_loops.OK` ...), the cheapest allocation's peak power and
    area, and the fixed costs (W, mm^2); per candidate its macros, ADCs and crossbars (whole
    numbers; the ADCs meaningless for an infeasible candidate)."""
    (
        rate,
        peak,
        unit_mm2,
        weight_layer,
        window,
        working_bits,
        host_of,
        buffer_kib,
        buffer_peak_w,
        size_mm2,
        bit_iters,
        weight_f,
    ) = tables
    xbar_w, router_w, chip_w, io_w = prices[0], prices[1], prices[2], prices[3]
    xbar_mm2, router_mm2, io_mm2 = prices[4], prices[5], prices[6]
    read_ns, io_ns = prices[7], prices[8]
    count = len(macro_end)
    total = len(crossbars_in)
    k = work.shape[1]
    starts, n_m = np.empty(count, dtype=np.int64), np.empty(count, dtype=np.int64)
    for b in range(count):
        starts[b] = macro_end[b - 1] if b > 0 else 0
        n_m[b] = macro_end[b] - starts[b]
    per_macro = np.zeros((total, k))  # work per macro and kind, summed share by share
    s0 = 0
    for b in range(count):
        for s in range(s0, share_end[b]):
            ly, m = layer[s], starts[b] + macro[s]
            f = items[ly] * frac[s]
            for j in range(k):
                per_macro[m, j] += work[ly, j] * f
        s0 = share_end[b]
    demand = np.zeros((total, k))  # per ns of period
    rest = np.zeros((total, k))  # the cells whose count does not depend on the period
    short = np.zeros(total, dtype=np.bool_)  # work for a unit kind the library lacks
    for m in range(total):
        for j in range(k):
            w = per_macro[m, j]
            least = 1.0 if w > 0 or (j == 0 and crossbars_in[m] > 0) else 0.0
            if w > 0:
                demand[m, j] = w / (rate[j] if rate[j] > 0 else 1.0)
                if j > 0 and rate[j] <= 0:
                    short[m] = True
            if not demand[m, j] > 0:
                rest[m, j] = least
    # the crossbars' own bound: the slowest layer's blocks x bit iterations x read time
    n_layers = len(items)
    xbar_bound = np.empty(count)
    per_block = np.ones(n_layers, dtype=np.int64)
    for b in range(count):
        for p in range(len(weight_layer)):
            per_block[weight_layer[p]] = dup[b, p]
        most = -np.inf
        for ly in range(n_layers):
            t = np.ceil(items[ly] / max(1, per_block[ly])) * bit_iters[ly] * read_ns * weight_f[ly]
            most = max(most, t)
        xbar_bound[b] = max(most, io_ns)
    crossbars = crossbars_in.copy()
    kib = _buffers_kib(
        layer,
        frac,
        xbars,
        macro,
        share_end,
        starts,
        dup,
        window,
        working_bits,
        host_of,
        buffer_kib,
        total,
    )
    for b in range(count):
        s0, n = starts[b], n_m[b]
        for m in range(min(n, len(floor_kib))):
            kib[s0 + m] = max(kib[s0 + m], floor_kib[m])
        if unified:
            most_kib, most_xbars = kib[s0], crossbars[s0]
            for m in range(s0 + 1, s0 + n):
                most_kib, most_xbars = max(most_kib, kib[m]), max(most_xbars, crossbars[m])
            for m in range(s0, s0 + n):
                kib[m], crossbars[m] = most_kib, most_xbars
    size = np.empty(total, dtype=np.int64)  # (loops rather than numpy calls: quicker to compile)
    buffer_w = np.empty(total)
    for m in range(total):
        size[m] = first_at_least(buffer_kib, float(kib[m]))
        buffer_w[m] = buffer_peak_w[size[m]]
    fixed, fixed_area = np.empty(count), np.empty(count)
    for b in range(count):
        s0, n = starts[b], n_m[b]
        xs = 0
        area = 0.0
        for m in range(s0, s0 + n):
            xs += crossbars[m]
            area += size_mm2[size[m]]
        fixed[b] = (xs * xbar_w + pairwise_sum(buffer_w, s0, n)) + ((n * router_w + chip_w) + io_w)
        fixed_area[b] = ((float(xs) * xbar_mm2 + area) + n * router_mm2) + io_mm2

    adcs, units, target, peak_w, area_out, status, need_w, need_mm2 = allocate_each(
        demand,
        rest,
        short,
        starts,
        n_m,
        xbar_bound,
        fixed,
        fixed_area,
        peak,
        unit_mm2,
        power_w,
        area_mm2,
        unified,
    )
    # each candidate's totals (an infeasible one's ADCs are not written: its total is meaningless)
    adc_total, xbar_total = np.zeros(count, dtype=np.int64), np.zeros(count, dtype=np.int64)
    for b in range(count):
        for m in range(starts[b], starts[b] + n_m[b]):
            adc_total[b] += adcs[m]
            xbar_total[b] += crossbars[m]
    return (
        (adcs, units, kib, crossbars),
        (target, peak_w, area_out, status, need_w, need_mm2, fixed, fixed_area),
        (n_m, adc_total, xbar_total),
    )
