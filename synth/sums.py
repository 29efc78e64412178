"""numpy's own summation order (and its sorted search), compiled: the synthesizer's compiled loops (:mod:`synth.allocate_loops`,
:mod:`synth.layout_loops`) reproduce the figures numpy computed before them to the last bit.

``np.add.reduce`` of a contiguous float64 run sums pairwise (numpy's ``pairwise_sum``): fewer than 8
values from left to right, up to 128 values in 8 interleaved running sums added as a tree, longer runs
split in two halves (the first a multiple of 8 long) summed alike. :func:`pairwise_sum` is that
algorithm; ``tests/test_compiled_loops.py`` checks it against numpy on runs of 0 to 10,000 values.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["first_at_least", "pairwise_sum"]


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
    """``np.add.reduce(a[start:start + n])`` of a float64 array, in numpy's order (see the module).

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


@njit(cache=True, error_model="numpy")
def first_at_least(sizes: np.ndarray, value: float) -> int:
    """``np.searchsorted(sizes, value)`` for a short ascending ``sizes``: the first place whose
    size is at least ``value`` (``len(sizes)`` if none is; a NaN is above every size)."""
    for i in range(len(sizes)):
        if sizes[i] >= value:
            return i
    return len(sizes)
