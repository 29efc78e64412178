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

from synth.sums import pairwise_sum

__all__ = ["OK", "LACKING", "TOO_COSTLY", "allocate_arrays"]

#: A candidate's outcome in :func:`allocate_arrays`: allocated, lacks a unit kind, or even one of
#: every needed unit per macro exceeds a budget.
OK, LACKING, TOO_COSTLY = 0, 1, 2


@njit(cache=True, error_model="numpy")
def _count(demand: float, period_ns: float) -> float:
    """Units of a cell with work at ``period_ns``: ``max(ceil(demand / period - 1e-9), 1)``."""
    c = np.ceil(demand / period_ns - 1e-9)
    return 1.0 if c < 1.0 else c


@njit(cache=True, error_model="numpy")
def _per_kind(
    out: np.ndarray,
    base: np.ndarray,
    counts: np.ndarray,
    kinds: np.ndarray,
    n_cells: int,
    unified: bool,
    n: int,
) -> np.ndarray:
    """``out`` (k,): units of each kind of a candidate, ``base`` with the cells' counts added
    (whole numbers: exact in any order), or under ``unified`` their maximum, times the ``n``
    macros."""
    out[:] = base
    for i in range(n_cells):
        if unified:
            out[kinds[i]] = max(out[kinds[i]], counts[i])
        else:
            out[kinds[i]] += counts[i]
    if unified:
        out *= n
    return out


@njit(cache=True, error_model="numpy")
def _weighted(per_kind: np.ndarray, price: np.ndarray) -> float:
    """``(per_kind * price).sum()`` of fewer than 8 kinds: left to right, as numpy sums them."""
    res = 0.0
    for j in range(len(per_kind)):
        res += per_kind[j] * price[j]
    return res


@njit(cache=True, error_model="numpy")
def _figures(
    scratch: tuple,
    rest: np.ndarray,
    s0: int,
    n: int,
    counts: np.ndarray,
    kinds: np.ndarray,
    macros: np.ndarray,
    n_cells: int,
    peak: np.ndarray,
    unit_mm2: np.ndarray,
    unified: bool,
) -> tuple[float, float]:
    """The units per macro and kind of a candidate's ``n`` macros from ``s0`` (the constant cells
    ``rest`` with its cells' ``counts``; unified: every macro the largest of each kind), into
    ``scratch``'s first array, and numpy's sums of their peak power and area over the macros,
    macro by macro (W, mm^2)."""
    full, watts, mm2 = scratch
    k = rest.shape[1]
    full[:n] = rest[s0 : s0 + n]
    for i in range(n_cells):
        full[macros[i] - s0, kinds[i]] = counts[i]
    if unified:
        for j in range(k):
            most = full[0, j]
            for m in range(1, n):
                most = max(most, full[m, j])
            full[:n, j] = most
    for m in range(n):
        for j in range(k):
            watts[m * k + j] = full[m, j] * peak[j]
            mm2[m * k + j] = full[m, j] * unit_mm2[j]
    return pairwise_sum(watts, 0, n * k), pairwise_sum(mm2, 0, n * k)


@njit(cache=True, error_model="numpy")
def _fits_exactly(
    c: np.ndarray, n_cells: int, cell: tuple, figures: tuple, scratch: tuple, unified: bool
) -> bool:
    """Whether a candidate fits its budgets at its cells' counts ``c``: by the per-kind sums, and
    by numpy's sums over its macros where a figure is within 1e-9 of its budget. ``cell``: the
    candidate's constant counts per kind, its cells' kinds and macros, the constant cells of the
    batch, its first macro and macro count; ``figures``: its fixed W and mm^2, peak W and area of
    one unit of each kind, the budgets; ``scratch``: room for the per-kind and per-macro units."""
    base, kinds, macros, rest, s0, n = cell
    fixed_w, fixed_mm2, peak, unit_mm2, power_w, area_mm2 = figures
    per_kind = _per_kind(scratch[0], base, c, kinds, n_cells, unified, n)
    watts = fixed_w + _weighted(per_kind, peak)
    ok, near = watts <= power_w, abs(watts - power_w) <= 1e-9 * power_w
    if np.isfinite(area_mm2):
        mm2 = fixed_mm2 + _weighted(per_kind, unit_mm2)
        ok = ok and mm2 <= area_mm2
        near = near or abs(mm2 - area_mm2) <= 1e-9 * area_mm2
    if near:
        w, a = _figures(
            scratch[1:], rest, s0, n, c, kinds, macros, n_cells, peak, unit_mm2, unified
        )
        ok = fixed_w + w <= power_w and fixed_mm2 + a <= area_mm2
    return ok


@njit(cache=True, error_model="numpy")
def _buffers_kib(
    layer: np.ndarray,
    frac: np.ndarray,
    xbars: np.ndarray,
    macro: np.ndarray,
    design: np.ndarray,
    dup: np.ndarray,
    window: np.ndarray,
    working_bits: np.ndarray,
    host_of: np.ndarray,
    buffer_kib: np.ndarray,
    total: int,
) -> np.ndarray:
    """(total,) the smallest scratchpad of every macro that holds two blocks' input rows and
    outputs of its layers, KiB: the bits summed per macro in share order."""
    count, w = dup.shape
    bits = np.empty((count, w))
    for b in range(count):
        for p in range(w):
            rows = np.ceil(dup[b, p] / window[p, 0])
            in_rows = min(float(window[p, 1]), window[p, 2] + 2 * rows * window[p, 3])
            bits[b, p] = in_rows * working_bits[p, 0] + (2 * dup[b, p]) * working_bits[p, 1]
    need = np.zeros(total)
    for s in range(len(layer)):
        if xbars[s] > 0:
            need[macro[s]] += bits[design[s], host_of[layer[s]]] * frac[s]
    kib = np.empty(total, dtype=np.int64)
    last = len(buffer_kib) - 1
    for m in range(total):
        need_kib = need[m] / 8 / 1024
        i = np.searchsorted(buffer_kib, need_kib)
        kib[m] = buffer_kib[min(i, last)]
    return kib


@njit(cache=True, error_model="numpy")
def allocate_arrays(
    layer: np.ndarray,
    frac: np.ndarray,
    xbars: np.ndarray,
    macro: np.ndarray,
    design: np.ndarray,
    crossbars_in: np.ndarray,
    starts: np.ndarray,
    n_m: np.ndarray,
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

    Shares (``layer``, ``frac``, ``xbars``, ``macro`` numbered over the batch, ``design``) and
    macros (``crossbars_in``; candidate ``b``'s are ``starts[b]`` on, ``n_m[b]`` of them) laid end
    to end; ``dup`` (B, W); ``floor_kib`` raises the scratchpads of each candidate's first
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
    (:data:`OK`, :data:`LACKING`, :data:`TOO_COSTLY`), the cheapest allocation's peak power and
    area, and the fixed costs (W, mm^2)."""
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
    bounded = np.isfinite(area_mm2)
    count = len(starts)
    total = len(crossbars_in)
    k = work.shape[1]
    per_macro = np.zeros((total, k))  # work per macro and kind, summed share by share
    for s in range(len(layer)):
        ly, m = layer[s], macro[s]
        f = items[ly] * frac[s]
        for j in range(k):
            per_macro[m, j] += work[ly, j] * f
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
        layer, frac, xbars, macro, design, dup, window, working_bits, host_of, buffer_kib, total
    )
    for b in range(count):
        s0, n = starts[b], n_m[b]
        for m in range(min(n, len(floor_kib))):
            kib[s0 + m] = max(kib[s0 + m], floor_kib[m])
        if unified:
            kib[s0 : s0 + n] = kib[s0 : s0 + n].max()
            crossbars[s0 : s0 + n] = crossbars[s0 : s0 + n].max()
    size = np.searchsorted(buffer_kib, kib)
    buffer_w = buffer_peak_w[size]
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

    adcs = np.empty(total, dtype=np.int64)
    units = np.empty((total, k - 1), dtype=np.int64)
    target = np.empty(count)
    peak_w, area_out = np.zeros(count), np.zeros(count)
    status = np.zeros(count, dtype=np.int64)
    need_w, need_mm2 = np.zeros(count), np.zeros(count)
    # room for the largest candidate's cells with work and macros, used by one after the other
    most_cells, most_macros = 0, 0
    for b in range(count):
        s0, n = starts[b], n_m[b]
        n_cells = 0
        for m in range(s0, s0 + n):
            for j in range(k):
                if demand[m, j] > 0:
                    n_cells += 1
        most_cells, most_macros = max(most_cells, n_cells), max(most_macros, n)
    c_demand, c_kind = np.empty(most_cells), np.empty(most_cells, dtype=np.int64)
    c_macro = np.empty(most_cells, dtype=np.int64)
    cheapest, at_lo, c = np.empty(most_cells), np.empty(most_cells), np.empty(most_cells)
    o_demand, o_kind = np.empty(most_cells), np.empty(most_cells, dtype=np.int64)
    o_lo, o_hi = np.empty(most_cells), np.empty(most_cells)
    base, settled, per_kind = np.zeros(k), np.zeros(k), np.zeros(k)
    full = np.empty((most_macros, k))
    products = (full, np.empty(most_macros * k), np.empty(most_macros * k))
    scratch = (per_kind, *products)
    for b in range(count):
        s0, n = starts[b], n_m[b]
        # the candidate's cells with work, macro by macro, kind by kind
        base[:] = 0.0  # the constant cells per kind (unified: their maximum)
        n_cells = 0
        most = 0.0
        lacking = False
        for m in range(s0, s0 + n):
            lacking = lacking or short[m]
            for j in range(k):
                most = max(most, demand[m, j])
                base[j] = max(base[j], rest[m, j]) if unified else base[j] + rest[m, j]
                if demand[m, j] > 0:
                    c_demand[n_cells], c_kind[n_cells], c_macro[n_cells] = demand[m, j], j, m
                    n_cells += 1
        lo = xbar_bound[b]
        hi = max(max(most, lo), 1e-9)
        for i in range(n_cells):
            cheapest[i] = _count(c_demand[i], hi)
            at_lo[i] = _count(c_demand[i], lo)
        cell = (base, c_kind, c_macro, rest, s0, n)
        figures = (fixed[b], fixed_area[b], peak, unit_mm2, power_w, area_mm2)
        cheap_fits = _fits_exactly(cheapest, n_cells, cell, figures, scratch, unified)
        done = not cheap_fits or lacking
        if not done and _fits_exactly(at_lo, n_cells, cell, figures, scratch, unified):
            hi, done = lo, True
        # the open cells (count at lo differs from count at hi); the others are settled
        settled[:] = base
        n_open = 0
        for i in range(n_cells):
            if at_lo[i] != cheapest[i]:
                o_demand[n_open], o_kind[n_open] = c_demand[i], c_kind[i]
                o_lo[n_open], o_hi[n_open] = at_lo[i], cheapest[i]
                n_open += 1
            elif unified:
                settled[c_kind[i]] = max(settled[c_kind[i]], cheapest[i])
            else:
                settled[c_kind[i]] += cheapest[i]
        for _ in range(40):  # bisection on the period, in geometric midpoints
            if done:
                break
            mid = np.sqrt(lo * hi) if lo > 0 else hi / 2
            per_kind[:] = settled
            for i in range(n_open):
                ci = _count(o_demand[i], mid)
                c[i] = ci
                if unified:
                    per_kind[o_kind[i]] = max(per_kind[o_kind[i]], ci)
                else:
                    per_kind[o_kind[i]] += ci
            if unified:
                per_kind *= n
            ok = fixed[b] + _weighted(per_kind, peak) <= power_w
            if bounded:
                ok = ok and fixed_area[b] + _weighted(per_kind, unit_mm2) <= area_mm2
            if ok:
                hi = mid
            else:
                lo = mid
            done = hi - lo <= 1e-4 * hi
            kept = 0
            for i in range(n_open):  # the count at hi where mid fit, at lo where not
                if ok:
                    o_hi[i] = c[i]
                else:
                    o_lo[i] = c[i]
                if o_lo[i] == o_hi[i]:
                    if unified:
                        settled[o_kind[i]] = max(settled[o_kind[i]], o_hi[i])
                    else:
                        settled[o_kind[i]] += o_hi[i]
                else:
                    o_demand[kept], o_kind[kept] = o_demand[i], o_kind[i]
                    o_lo[kept], o_hi[kept] = o_lo[i], o_hi[i]
                    kept += 1
            n_open = kept
        target[b] = hi
        if lacking:
            status[b] = LACKING
            continue
        if not cheap_fits:
            status[b] = TOO_COSTLY
            w, a = _figures(
                products, rest, s0, n, cheapest, c_kind, c_macro, n_cells, peak, unit_mm2, unified
            )
            need_w[b], need_mm2[b] = fixed[b] + w, fixed_area[b] + a
            continue
        for i in range(n_cells):
            c[i] = _count(c_demand[i], hi)
        w, a = _figures(products, rest, s0, n, c, c_kind, c_macro, n_cells, peak, unit_mm2, unified)
        peak_w[b], area_out[b] = fixed[b] + w, fixed_area[b] + a
        for m in range(n):
            adcs[s0 + m] = int(full[m, 0])
            for j in range(1, k):
                units[s0 + m, j - 1] = int(full[m, j])
    return (adcs, units, kib, crossbars), (
        target,
        peak_w,
        area_out,
        status,
        need_w,
        need_mm2,
        fixed,
        fixed_area,
    )
