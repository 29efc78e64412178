"""Groups of rows that repeat an earlier group bit for bit (numba): a batch's designs are mostly
variants of one another, so most of their macros hold shares whose every figure another macro of
the batch already has; a figure that is a function of those rows alone is computed once a
distinct group and copied to its repeats (the same bits in, the same bits out)."""

from __future__ import annotations

import numpy as np
from numba import njit

_FNV_PRIME = 1099511628211  # (64-bit FNV; int64 products wrap)


@njit(cache=True)
def first_alike(rows, starts):
    """(G,) per group ``g`` (the rows ``starts[g]:starts[g + 1]`` of the (N, F) int64 ``rows``,
    floats compared as their bits: 0.0 and -0.0 differ, a NaN equals the same NaN), the first
    group whose rows are the same as its own, in the same order, bit for bit (``g`` itself where
    no earlier group is). Groups are hashed into an open-addressing table twice their number (a
    probe always ends at an empty slot) and compared field by field where the hash matches."""
    n_groups, width = len(starts) - 1, rows.shape[1]
    size = 2
    while size < 2 * n_groups:
        size *= 2
    table = np.full(size, -1, dtype=np.int64)
    first = np.empty(n_groups, dtype=np.int64)
    for g in range(n_groups):
        lo, hi = starts[g], starts[g + 1]
        h = np.int64(hi - lo)
        for i in range(lo, hi):
            for f in range(width):
                h = (h ^ rows[i, f]) * _FNV_PRIME
        h ^= h >> 29
        slot = h & (size - 1)
        first[g] = g
        while table[slot] >= 0:
            other = table[slot]
            if _same(rows, starts, other, g):
                first[g] = other
                break
            slot = (slot + 1) & (size - 1)
        if first[g] == g:
            table[slot] = g
    return first


@njit(cache=True)
def _same(rows, starts, a, b):
    """Whether groups ``a`` and ``b`` hold the same rows in the same order, bit for bit."""
    n = starts[a + 1] - starts[a]
    if starts[b + 1] - starts[b] != n:
        return False
    for i in range(n):
        for f in range(rows.shape[1]):
            if rows[starts[a] + i, f] != rows[starts[b] + i, f]:
                return False
    return True
