"""The inventory of a batch of allocations as one compiled loop (:func:`inventory_arrays`).

:func:`synth.design.inventory_batch` describes the inventory's parts (one of every part,
``ComboContext.unit_stock``) as arrays, and this loop counts each allocation's parts and adds their
figures part by part in the inventory's order.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from pimsim.model.sums_jit import pairwise_sum
from synth.sums import first_at_least

__all__ = [
    "ADC",
    "BUFFER",
    "CROSSBAR",
    "MACRO",
    "ONE",
    "PER_ROW",
    "UNIT",
    "inventory_arrays",
]

#: How a part is counted: per crossbar, per crossbar row (DACs, sample-and-holds), per ADC, one per
#: chip, one per macro (routers), per unit of one kind, per scratchpad of one size.
CROSSBAR, PER_ROW, ADC, ONE, MACRO, UNIT, BUFFER = range(7)


@njit(cache=True, error_model="numpy")
def inventory_arrays(
    n_m: np.ndarray,
    crossbars: np.ndarray,
    adcs: np.ndarray,
    units: np.ndarray,
    kib: np.ndarray,
    sizes: np.ndarray,
    part: np.ndarray,
    figures: np.ndarray,
    xbar: int,
    n_components: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Peak power (W), area (mm^2) and static power by component (W) of each allocation of a
    batch, laid end to end (``n_m`` macros each: ``crossbars``, ``adcs``, ``units`` (M, U),
    scratchpads ``kib`` of ``sizes``).

    ``part`` (P, 3): each part's count rule (:data:`CROSSBAR` ...), its unit kind or scratchpad
    size (the r-th scratchpad part is the r-th size), and its component; ``figures`` (P, 3): its
    static W, peak W and area. Every part adds its figure times its count, in the inventory's
    order; the scratchpads are added where the last of them is, each allocation's sizes in the
    order of its first macro using them (the sizes it lacks after, adding exact zeros). Peak power
    and area are added left to right, as numpy reduces a (parts, designs) array down its rows;
    a batch of one is a single column, which numpy sums pairwise, and so is it here."""
    count, n_r, n_parts = len(n_m), len(sizes), part.shape[0]
    peak_w, area_mm2 = np.empty(count), np.empty(count)
    static_w = np.zeros((count, n_components))
    buffer_part = np.empty(n_r, dtype=np.int64)  # the r-th scratchpad part
    r = 0
    for p in range(n_parts):
        if part[p, 0] == BUFFER:
            buffer_part[r] = p
            r += 1
    rows_w, rows_mm2 = np.empty(n_parts), np.empty(n_parts)
    s0 = 0
    for b in range(count):
        n = n_m[b]
        xbars, adc = 0.0, 0.0
        kinds = np.zeros(units.shape[1])
        held = np.zeros(n_r, dtype=np.int64)
        first = np.empty(n_r, dtype=np.int64)  # the first macro with each size
        first[:] = n + 1
        for m in range(s0, s0 + n):
            xbars += crossbars[m]
            adc += adcs[m]
            for j in range(units.shape[1]):
                kinds[j] += units[m, j]
            size = first_at_least(sizes, float(kib[m]))
            held[size] += 1
            first[size] = min(first[size], m - s0)
        order = np.empty(n_r, dtype=np.int64)  # first seen, first (a stable insertion sort)
        for r in range(n_r):
            at = r
            while at > 0 and first[order[at - 1]] > first[r]:
                order[at] = order[at - 1]
                at -= 1
            order[at] = r
        row, seen = 0, 0
        for p in range(n_parts):
            rule = part[p, 0]
            if rule == BUFFER:
                seen += 1
                if seen < n_r:
                    continue
                for r in range(n_r):
                    q = buffer_part[order[r]]
                    c = float(held[order[r]])
                    static_w[b, part[q, 2]] += figures[q, 0] * c
                    rows_w[row], rows_mm2[row] = figures[q, 1] * c, figures[q, 2] * c
                    row += 1
                continue
            if rule == CROSSBAR:
                c = xbars
            elif rule == PER_ROW:
                c = xbars * xbar
            elif rule == ADC:
                c = adc
            elif rule == MACRO:
                c = float(n)
            elif rule == UNIT:
                c = kinds[part[p, 1]]
            else:
                c = 1.0
            static_w[b, part[p, 2]] += figures[p, 0] * c
            rows_w[row], rows_mm2[row] = figures[p, 1] * c, figures[p, 2] * c
            row += 1
        if count == 1:
            start = np.int64(0)  # (not the literal 0: one compiled pairwise_sum)
            peak_w[b] = pairwise_sum(rows_w, start, row)
            area_mm2[b] = pairwise_sum(rows_mm2, start, row)
        else:
            w, a = 0.0, 0.0
            for i in range(row):
                w += rows_w[i]
                a += rows_mm2[i]
            peak_w[b], area_mm2[b] = w, a
        s0 += n
    return peak_w, area_mm2, static_w
