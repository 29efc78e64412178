"""A sorted search compiled for the synthesizer's loops: :func:`first_at_least` is
``np.searchsorted`` on a short ascending array. (numpy's pairwise summation order, which those loops
also follow, is :func:`pimsim.model.sums_jit.pairwise_sum`.)"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["first_at_least"]


@njit(cache=True, error_model="numpy")
def first_at_least(sizes: np.ndarray, value: float) -> int:
    """``np.searchsorted(sizes, value)`` for a short ascending ``sizes``: the first place whose
    size is at least ``value`` (``len(sizes)`` if none is; a NaN is above every size)."""
    for i in range(len(sizes)):
        if sizes[i] >= value:
            return i
    return len(sizes)
