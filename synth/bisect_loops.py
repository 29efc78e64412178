"""Stage 4's bisection on the target period, one candidate after the other, compiled.

:func:`synth.allocate_loops.allocate_arrays` computes the work per macro and unit kind and the
fixed costs of a batch's candidates, then hands them here (:func:`allocate_each`). Units: periods
in ns, power in W, area in mm^2. Division by zero gives IEEE infinities (``error_model="numpy"``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from pimsim.model.sums_jit import pairwise_sum

__all__ = ["LACKING", "OK", "TOO_COSTLY", "allocate_each"]

#: A candidate's outcome in :func:`allocate_each`: allocated, lacks a unit kind, or even one of
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
    mult: np.ndarray,
    n_cells: int,
    unified: bool,
    n: int,
) -> np.ndarray:
    """``out`` (k,): units of each kind of a candidate, ``base`` with the cells' counts added
    (each ``mult`` times: whole numbers, exact in any order), or under ``unified`` their maximum,
    times the ``n`` macros."""
    for j in range(len(base)):  # (loops rather than slice assignments: quicker to compile)
        out[j] = base[j]
    for i in range(n_cells):
        if unified:
            out[kinds[i]] = max(out[kinds[i]], counts[i])
        else:
            out[kinds[i]] += counts[i] * mult[i]
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
    mult: np.ndarray,
    n_cells: int,
    peak: np.ndarray,
    unit_mm2: np.ndarray,
    unified: bool,
) -> tuple[float, float]:
    """The units per macro and kind of a candidate's ``n`` macros from ``s0`` (the constant cells
    ``rest`` with its cells' ``counts``, cell ``i`` on the ``mult[i]`` macros from ``macros[i]``;
    unified: every macro the largest of each kind), into
    ``scratch``'s first array, and numpy's sums of their peak power and area over the macros,
    macro by macro (W, mm^2)."""
    full, watts, mm2 = scratch
    k = rest.shape[1]
    for m in range(n):
        for j in range(k):
            full[m, j] = rest[s0 + m, j]
    for i in range(n_cells):
        for m in range(macros[i] - s0, macros[i] - s0 + mult[i]):
            full[m, kinds[i]] = counts[i]
    if unified:
        for j in range(k):
            most = full[0, j]
            for m in range(1, n):
                most = max(most, full[m, j])
            for m in range(n):
                full[m, j] = most
    for m in range(n):
        for j in range(k):
            watts[m * k + j] = full[m, j] * peak[j]
            mm2[m * k + j] = full[m, j] * unit_mm2[j]
    start = np.int64(0)  # (not the literal 0: one compiled pairwise_sum for all callers)
    return pairwise_sum(watts, start, n * k), pairwise_sum(mm2, start, n * k)


@njit(cache=True, error_model="numpy")
def _open_sums(
    o_demand: np.ndarray,
    o_kind: np.ndarray,
    o_mult: np.ndarray,
    n_open: int,
    demand: np.ndarray,
    number: np.ndarray,
) -> None:
    """``demand`` and ``number`` (k,): the open cells' demand and how many there are, per kind
    (a cell of ``mult`` macros counted ``mult`` times)."""
    demand[:] = 0.0
    number[:] = 0.0
    for i in range(n_open):
        demand[o_kind[i]] += o_demand[i] * o_mult[i]
        number[o_kind[i]] += o_mult[i]


@njit(cache=True, error_model="numpy")
def _bound_test(
    settled: np.ndarray,
    open_demand: np.ndarray,
    open_n: np.ndarray,
    period_ns: float,
    fixed_w: float,
    peak: np.ndarray,
    power_w: float,
) -> int:
    """Whether the power test at ``period_ns`` is decided without the open cells' counts: 1 (it
    fits), -1 (it does not) or 0 (count them). A cell's count ``max(ceil(d / T - 1e-9), 1)`` is
    at least ``d / T - 1e-9`` and at most ``d / T + 1``, so a kind's units lie within
    ``settled + D / T - 2e-9 n`` and ``settled + D / T + n`` (``D``, ``n``: its open cells'
    demand and number); the bounds are widened by 1e-12 of themselves and the budget by 1e-12
    of it, far beyond the rounding of these sums and of the exact test (a few hundred terms,
    some 1e-13), so a decision here is the exact test's."""
    low, up = fixed_w, fixed_w
    for j in range(len(peak)):
        q = open_demand[j] / period_ns
        low += (settled[j] + (q * (1.0 - 1e-12) - open_n[j] * 2e-9)) * peak[j]
        up += (settled[j] + (q * (1.0 + 1e-12) + open_n[j])) * peak[j]
    if low > power_w * (1.0 + 1e-12):
        return -1
    if up < power_w * (1.0 - 1e-12):
        return 1
    return 0


@njit(cache=True, error_model="numpy")
def _fits_exactly(
    c: np.ndarray, n_cells: int, cell: tuple, figures: tuple, scratch: tuple, unified: bool
) -> bool:
    """Whether a candidate fits its budgets at its cells' counts ``c``: by the per-kind sums, and
    by numpy's sums over its macros where a figure is within 1e-9 of its budget. ``cell``: the
    candidate's constant counts per kind, its cells' kinds, first macros and macro counts, the
    constant cells of the batch, its first macro and macro count; ``figures``: its fixed W and
    mm^2, peak W and area of one unit of each kind, the budgets; ``scratch``: room for the per-kind and per-macro units."""
    base, kinds, macros, mult, rest, s0, n = cell
    fixed_w, fixed_mm2, peak, unit_mm2, power_w, area_mm2 = figures
    per_kind = _per_kind(scratch[0], base, c, kinds, mult, n_cells, unified, n)
    watts = fixed_w + _weighted(per_kind, peak)
    ok, near = watts <= power_w, abs(watts - power_w) <= 1e-9 * power_w
    if np.isfinite(area_mm2):
        mm2 = fixed_mm2 + _weighted(per_kind, unit_mm2)
        ok = ok and mm2 <= area_mm2
        near = near or abs(mm2 - area_mm2) <= 1e-9 * area_mm2
    if near:
        w, a = _figures(
            scratch[1:], rest, s0, n, c, kinds, macros, mult, n_cells, peak, unit_mm2, unified
        )
        ok = fixed_w + w <= power_w and fixed_mm2 + a <= area_mm2
    return ok


@njit(cache=True, error_model="numpy")
def allocate_each(
    demand: np.ndarray,
    rest: np.ndarray,
    short: np.ndarray,
    starts: np.ndarray,
    n_m: np.ndarray,
    xbar_bound: np.ndarray,
    fixed: np.ndarray,
    fixed_area: np.ndarray,
    peak: np.ndarray,
    unit_mm2: np.ndarray,
    power_w: float,
    area_mm2: float,
    unified: bool,
) -> tuple:
    """Each candidate's units for the shortest period its budgets allow.

    ``demand`` (M, k): work per ns of period of every macro and unit kind (ADCs first; 0: none),
    ``rest`` (M, k): the counts that do not depend on the period, ``short`` (M,): work for a unit
    kind the library lacks; candidate ``b`` has ``n_m[b]`` macros from ``starts[b]``, the
    crossbars' own bound ``xbar_bound[b]`` (ns) and the fixed costs ``fixed[b]`` (W) and
    ``fixed_area[b]`` (mm^2); ``peak`` and ``unit_mm2`` (k,) one unit's peak power and area.

    A cell with work has ``max(ceil(demand / T - 1e-9), 1)`` units at period ``T``. The period is
    bisected (geometric midpoints, at most 40 rounds, to 1e-4 of it) between the crossbars' bound
    and the period where every such cell has one unit; a cell whose count is the same at both
    ends is settled and added once to the constant counts (counts only fall as the period grows),
    so its count at the period found is the one it settled at (kept, not computed again). A round
    whose outcome the bounds on the open cells' counts already decide (:func:`_bound_test`; power
    budget only, not unified) moves the bracket without counting them.
    The budget test prices the units per kind (whole numbers, added in any order) left to right;
    where it lands within 1e-9 of a budget, numpy's pairwise sum over the macros decides.

    The bracket's lower end is tested first: in the searches nearly every candidate fits there
    (ResNet18 at 49 W, thorough: 33,083 of 33,118 allocations), and then it also fits at the
    upper end, whose counts are no larger (a count only falls as the period grows; every price is
    non-negative, so both sums are monotone in each count; and the two sums of one allocation
    differ by rounding only, some 1e-13 of it, far inside the 1e-9 band where the pairwise sum
    decides), so the counts at the upper end are computed only for a candidate that does not.

    Returns per macro ADCs and units (M, k - 1), and per candidate the period (ns), its peak
    power and area (numpy's sums over its macros), its outcome (:data:`OK`, :data:`LACKING`,
    :data:`TOO_COSTLY`) and the cheapest allocation's peak power and area."""
    count, total, k = len(starts), demand.shape[0], demand.shape[1]
    bounded = np.isfinite(area_mm2)
    adcs = np.empty(total, dtype=np.int64)
    units = np.empty((total, k - 1), dtype=np.int64)
    target = np.empty(count)
    peak_w, area_out = np.zeros(count), np.zeros(count)
    status = np.zeros(count, dtype=np.int64)
    need_w, need_mm2 = np.zeros(count), np.zeros(count)
    # room for the largest candidate's cells and macros, used by one after the other
    most_macros = 0
    for b in range(count):
        most_macros = max(most_macros, n_m[b])
    most_cells = most_macros * k
    c_demand, c_kind = np.empty(most_cells), np.empty(most_cells, dtype=np.int64)
    c_macro, c_mult = np.empty(most_cells, dtype=np.int64), np.empty(most_cells, dtype=np.int64)
    cheapest, at_lo, c = np.empty(most_cells), np.empty(most_cells), np.empty(most_cells)
    at_hi = np.empty(most_cells)  # each cell's count at the period found, once it is known
    o_demand, o_kind = np.empty(most_cells), np.empty(most_cells, dtype=np.int64)
    o_lo, o_hi = np.empty(most_cells), np.empty(most_cells)
    o_cell = np.empty(most_cells, dtype=np.int64)  # the open cells' places among the cells
    o_mult = np.empty(most_cells, dtype=np.int64)
    base, settled, per_kind = np.zeros(k), np.zeros(k), np.zeros(k)
    open_demand, open_n = np.zeros(k), np.zeros(k)
    full = np.empty((most_macros, k))
    products = (full, np.empty(most_macros * k), np.empty(most_macros * k))
    scratch = (per_kind, *products)
    for b in range(count):
        s0, n = starts[b], n_m[b]
        # the candidate's cells with work, macro by macro, kind by kind; a macro whose demands
        # are its predecessor's (most of a layer's even split) adds to the predecessor's cells'
        # macro counts instead of cells of its own
        base[:] = 0.0  # the constant cells per kind (unified: their maximum)
        n_cells = np.int64(0)  # (not the literal 0: one compiled version of the callees)
        row_first, row_end = 0, 0  # the cells of the last macro with cells of its own
        most = 0.0
        lacking = False
        for m in range(s0, s0 + n):
            lacking = lacking or short[m]
            same = m > s0
            for j in range(k):
                most = max(most, demand[m, j])
                base[j] = max(base[j], rest[m, j]) if unified else base[j] + rest[m, j]
                same = same and demand[m, j] == demand[m - 1, j]
            if same:
                for i in range(row_first, row_end):
                    c_mult[i] += 1
                continue
            row_first = n_cells
            for j in range(k):
                if demand[m, j] > 0:
                    c_demand[n_cells], c_kind[n_cells], c_macro[n_cells] = demand[m, j], j, m
                    c_mult[n_cells] = 1
                    n_cells += 1
            row_end = n_cells
        lo = xbar_bound[b]
        hi = max(max(most, lo), 1e-9)
        cell = (base, c_kind, c_macro, c_mult, rest, s0, n)
        figures = (fixed[b], fixed_area[b], peak, unit_mm2, power_w, area_mm2)
        # most candidates fit at the crossbars' bound; then they fit with the fewer units at hi too
        for i in range(n_cells):
            at_lo[i] = _count(c_demand[i], lo)
        lo_fits = not lacking and _fits_exactly(at_lo, n_cells, cell, figures, scratch, unified)
        cheap_fits, done = lo_fits, lo_fits or lacking
        n_open = 0
        if lo_fits:
            hi = lo
        elif not lacking:
            for i in range(n_cells):
                cheapest[i] = at_hi[i] = _count(c_demand[i], hi)
            cheap_fits = _fits_exactly(cheapest, n_cells, cell, figures, scratch, unified)
            done = not cheap_fits
            # the open cells (count at lo differs from count at hi); the others are settled
            for j in range(k):
                settled[j] = base[j]
            for i in range(n_cells):
                if at_lo[i] != cheapest[i]:
                    o_demand[n_open], o_kind[n_open] = c_demand[i], c_kind[i]
                    o_lo[n_open], o_hi[n_open] = at_lo[i], cheapest[i]
                    o_cell[n_open], o_mult[n_open] = i, c_mult[i]
                    n_open += 1
                elif unified:
                    settled[c_kind[i]] = max(settled[c_kind[i]], cheapest[i])
                else:
                    settled[c_kind[i]] += cheapest[i] * c_mult[i]
        # the open cells' demand and number per kind, for the bounds on their counts
        _open_sums(o_demand, o_kind, o_mult, n_open, open_demand, open_n)
        for _ in range(40):  # bisection on the period, in geometric midpoints
            if done:
                break
            mid = np.sqrt(lo * hi) if lo > 0 else hi / 2
            decided = (
                0
                if unified or bounded
                else _bound_test(settled, open_demand, open_n, mid, fixed[b], peak, power_w)
            )
            if decided != 0:  # the bounds on the open cells' counts decide: no count needed
                ok = decided > 0
                if ok:
                    hi = mid
                else:
                    lo = mid
                done = hi - lo <= 1e-4 * hi
                continue
            for j in range(k):
                per_kind[j] = settled[j]
            for i in range(n_open):
                ci = _count(o_demand[i], mid)
                c[i] = ci
                if unified:
                    per_kind[o_kind[i]] = max(per_kind[o_kind[i]], ci)
                else:
                    per_kind[o_kind[i]] += ci * o_mult[i]
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
                if o_lo[i] == o_hi[i]:  # (o_lo >= count at lo >= count at hi >= o_hi)
                    at_hi[o_cell[i]] = o_hi[i]
                    if unified:
                        settled[o_kind[i]] = max(settled[o_kind[i]], o_hi[i])
                    else:
                        settled[o_kind[i]] += o_hi[i] * o_mult[i]
                else:
                    o_demand[kept], o_kind[kept] = o_demand[i], o_kind[i]
                    o_lo[kept], o_hi[kept], o_cell[kept] = o_lo[i], o_hi[i], o_cell[i]
                    o_mult[kept] = o_mult[i]
                    kept += 1
            n_open = kept
            _open_sums(o_demand, o_kind, o_mult, n_open, open_demand, open_n)
        for i in range(n_open):  # the cells still open: their counts at the period found
            at_hi[o_cell[i]] = _count(o_demand[i], hi)
        target[b] = hi
        if lacking:
            status[b] = LACKING
            continue
        if not cheap_fits:
            status[b] = TOO_COSTLY
            w, a = _figures(
                products,
                rest,
                s0,
                n,
                cheapest,
                c_kind,
                c_macro,
                c_mult,
                n_cells,
                peak,
                unit_mm2,
                unified,
            )
            need_w[b], need_mm2[b] = fixed[b] + w, fixed_area[b] + a
            continue
        # the counts at the period found: a settled cell's count holds over its last interval
        final = at_lo if lo_fits else at_hi
        w, a = _figures(
            products, rest, s0, n, final, c_kind, c_macro, c_mult, n_cells, peak, unit_mm2, unified
        )
        peak_w[b], area_out[b] = fixed[b] + w, fixed_area[b] + a
        for m in range(n):
            adcs[s0 + m] = int(full[m, 0])
            for j in range(1, k):
                units[s0 + m, j - 1] = int(full[m, j])
    return adcs, units, target, peak_w, area_out, status, need_w, need_mm2
