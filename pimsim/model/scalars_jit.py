"""Scalar helpers of the compiled loops (numba): numpy's NaN-propagating maximum and minimum of two
floats, and a job's whole actions on a macro's digital units (the one statement of that rule)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def fmax(a, b):
    """``np.maximum(a, b)`` of two floats (NaN if either is)."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a >= b else b


@njit(cache=True, inline="always")
def fmin(a, b):
    """``np.minimum(a, b)`` of two floats (NaN if either is)."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a <= b else b


@njit(cache=True, error_model="numpy", inline="always")
def whole_actions_one(elements, units, lanes, ghz):
    """A job of ``elements`` on a macro's ``units`` digital units of ``lanes`` lanes at ``ghz``
    actions per ns: ``a = ceil(elements / lanes - 1e-9)`` whole actions spread over ``k =
    min(units, a)`` units take ``ceil(a / k - 1e-9) / ghz`` ns (the job's time, ns) and hold
    ``k`` of the ``units`` for it: ``k x job / units`` ns of the whole pool (its share of the
    units' load, ns). (0, 0) for no elements."""
    actions = np.ceil(elements / lanes - 1e-9)
    k = fmin(units, actions)
    steps = np.ceil(actions / k - 1e-9) if actions > 0 else 0.0
    job = steps / ghz
    pool = k * job / units if actions > 0 else 0.0
    return job, pool


@njit(cache=True)
def whole_actions_arrays(elements, units, lanes, ghz):
    """:func:`whole_actions_one` of every element of two (R,) float arrays."""
    job, pool = np.empty(len(elements)), np.empty(len(elements))
    for i in range(len(elements)):
        job[i], pool[i] = whole_actions_one(elements[i], units[i], lanes, ghz)
    return job, pool
