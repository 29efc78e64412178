"""Groups of rows that repeat an earlier group bit for bit (numba): a batch's designs are mostly
variants of one another, so most of their macros hold shares whose every figure another macro of
the batch already has; a figure that is a function of those rows alone is computed once a
distinct group and copied to its repeats (the same bits in, the same bits out)."""

from __future__ import annotations

import numpy as np
from numba import njit

_ODD = -7046029254386353131  # 0x9E3779B97F4A7C15 as int64 (products wrap modulo 2^64)
_MIX = -49064778989728563  # 0xFF51AFD7ED558CCD as int64


@njit(cache=True)
def first_alike(rows, starts, fields):
    """(G,) per group ``g`` (the rows ``starts[g]:starts[g + 1]`` of the (N, F) int64 ``rows``,
    floats compared as their bits: 0.0 and -0.0 differ, a NaN equals the same NaN), the first
    group whose rows are the same as its own, in the same order, bit for bit (``g`` itself where
    no earlier group is). Groups are hashed on the columns ``fields`` (any: the hash only picks
    the slot; every field is compared) into an open-addressing table twice their number (a probe
    always ends at an empty slot)."""
    n_groups = len(starts) - 1
    size = 2
    while size < 2 * n_groups:
        size *= 2
    table = np.full(size, -1, dtype=np.int64)
    first = np.empty(n_groups, dtype=np.int64)
    width, flat = rows.shape[1], rows.ravel()  # (each group's rows: one stretch of flat)
    at = starts * width
    for g in range(n_groups):
        h = np.int64(starts[g + 1] - starts[g])
        for i in range(at[g], at[g + 1], width):
            row = np.int64(0)
            for f in range(len(fields)):
                row += flat[i + fields[f]] * (_ODD + 2 * f)
            h = (h ^ row) * _MIX
        h ^= h >> 33  # (the low bits of a product see only the low bits of its factors)
        h *= _ODD
        h ^= h >> 29
        slot = h & (size - 1)
        first[g] = g
        while table[slot] >= 0:
            if _same(flat, at, table[slot], g):
                first[g] = table[slot]
                break
            slot = (slot + 1) & (size - 1)
        if first[g] == g:
            table[slot] = g
    return first


@njit(cache=True)
def _same(flat, at, a, b):
    """Whether the stretches ``at[a]:at[a + 1]`` and ``at[b]:at[b + 1]`` of ``flat`` are the
    same, element by element."""
    n = at[a + 1] - at[a]
    if at[b + 1] - at[b] != n:
        return False
    for i in range(n):
        if flat[at[a] + i] != flat[at[b] + i]:
            return False
    return True


@njit(cache=True)
def by_macro(macro, n_macros):
    """The positions of ``macro`` (each in ``0 .. n_macros - 1``) sorted by macro, in their order
    within a macro: ``np.argsort(macro, kind="stable")``, by counting (numba's merge sort took
    some 40 ns an element)."""
    first = np.zeros(n_macros + 1, dtype=np.int64)
    for i in range(len(macro)):
        first[macro[i] + 1] += 1
    for m in range(n_macros):
        first[m + 1] += first[m]
    order = np.empty(len(macro), dtype=np.int64)
    for i in range(len(macro)):
        order[first[macro[i]]] = i
        first[macro[i]] += 1
    return order


@njit(cache=True)
def run_rows(runs, stages, period, last_period, blocks, glay, lay, bit_iters, pool, add_work,
              frac, full, units, add_unit, macro, local, n_shared):  # fmt: skip
    """The shares on their own runs of the bank (``runs``) grouped by macro (its compact number
    ``local``; in share order within it): per share a row of what its units' turns read, as
    floats (its full-block stage times; its full and last block periods, blocks per image, bit
    iterations, time of the shift-and-add units a block, partial sums a block, its macro's add
    units; its network layer; 1.0 where it is its whole layer, else 0.0), each macro's first row
    and its number (G + 1 and G)."""
    n, n_st = len(runs), stages.shape[0]
    r_local = np.empty(n, dtype=np.int64)
    for i in range(n):
        r_local[i] = local[macro[runs[i]]]
    order = by_macro(r_local, n_shared)
    rows = np.empty((n, n_st + 9))
    n_groups = 0
    for i in range(n):
        n_groups += i == 0 or r_local[order[i]] != r_local[order[i - 1]]
    starts, group_macro = np.empty(n_groups + 1, dtype=np.int64), np.empty(n_groups, dtype=np.int64)
    g = -1
    for i in range(n):
        r = runs[order[i]]
        if i == 0 or r_local[order[i]] != r_local[order[i - 1]]:
            g += 1
            starts[g], group_macro[g] = i, r_local[order[i]]
        for s in range(n_st):
            rows[i, s] = stages[s, r]
        rows[i, n_st], rows[i, n_st + 1] = period[r], last_period[r]
        rows[i, n_st + 2], rows[i, n_st + 3] = float(blocks[glay[r]]), float(bit_iters[lay[r]])
        rows[i, n_st + 4] = pool[r]
        rows[i, n_st + 5] = add_work[lay[r]] * frac[r] * full[glay[r]]
        rows[i, n_st + 6] = units[macro[r], add_unit]
        rows[i, n_st + 7] = float(lay[r])
        rows[i, n_st + 8] = 1.0 if frac[r] > 1 - 1e-9 else 0.0
    starts[n_groups] = n
    return rows, starts, group_macro
