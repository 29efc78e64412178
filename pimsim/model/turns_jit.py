"""The locked queue of a macro's weight shares at the digital units they take in turns
(:mod:`pimsim.model.turns`, whose docstrings state the rule) as compiled loops (numba): one pass
over the pairs of shares of each macro, where numpy took some thirty array operations a distance
between partners.

Each formula is the numpy one element by element, the float operations in the same order; the
maxima and minima propagate NaN as ``np.maximum`` and ``np.minimum`` do
(:mod:`pimsim.model.scalars_jit`), and division follows numpy's rules (``error_model="numpy"``), so every figure is the
same to the last bit. A share's losses beside its partners are added in the order numpy added
them: by distance between the partners in the macro (in share order), at each distance first as
the earlier share of its pair, then as the later one.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from pimsim.model.scalars_jit import fmax as _max
from pimsim.model.scalars_jit import fmin as _min


@njit(cache=True, error_model="numpy")
def unit_lock_one(arrive_ns, job_ns, held, other_job_ns, other_cycle_ns):
    """:func:`pimsim.model.turns.unit_lock` of one share beside one partner: (wait a bit once
    locked, the partner's jobs per locked bit ``m``, whether the share's bits drift through the
    partner's idle gaps, how far its job overruns the partner's gap)."""
    gap = other_cycle_ns - other_job_ns
    t = arrive_ns - _max(job_ns, gap)
    m = 1.0 if t < 0 else np.floor(t / other_cycle_ns + 1e-9) + 1
    x = t - (m - 1) * other_cycle_ns
    free = (arrive_ns < gap - 1e-9) or (held <= 1 + 1e-9)  # back first, or side by side
    locked = (not free) and (x < other_job_ns - 1e-9)
    wait = other_job_ns - x if locked else 0.0
    in_gap = (not free) and (not locked)
    fixed = job_ns >= gap - 1e-9  # s's job pushes the partner's start: the phase repeats
    overrun = _max(0.0, x + job_ns - other_cycle_ns) if (in_gap and fixed) else 0.0
    return wait, m, in_gap and not fixed, overrun


@njit(cache=True)
def unit_lock_arrays(arrive_ns, job_ns, held, other_job_ns, other_cycle_ns):
    """:func:`unit_lock_one` of every element of five (R,) float arrays."""
    n = len(arrive_ns)
    wait, m, drift, overrun = np.empty(n), np.empty(n), np.empty(n, dtype=np.bool_), np.empty(n)
    for i in range(n):
        wait[i], m[i], drift[i], overrun[i] = unit_lock_one(
            arrive_ns[i], job_ns[i], held[i], other_job_ns[i], other_cycle_ns[i]
        )
    return wait, m, drift, overrun


@njit(cache=True, error_model="numpy")
def fed_lock_one(arrive_ns, job_ns, free_ns, held, delay_ns, other_job_ns):
    """The cycle per block at which share ``s`` and its consumer ``o`` in the same macro lock at
    the units they share (``held``: the fraction of the units their two jobs hold together); 0
    where they do not.

    ``o``'s job for a block is ready ``D = delay_ns`` after the start of the job of ``s`` whose
    block fed it (``s``'s job and the stages after it, ``o``'s load and its bits; ``o`` waits for
    input) and holds the units ``J_o = other_job_ns``; ``s``'s job holds them ``J_s = job_ns``.
    Jobs that fit side by side (``held <= 1``) never wait. Running free, a block every ``c0 =
    free_ns``, ``o``'s job is ready at ``D mod c0`` after one of ``s``'s starts and starts then or
    as ``s``'s job ends (``sigma``); if it still runs when ``s``'s next block is ready (``sigma +
    J_o > c0``), ``s`` waits, its bits stall, and its next block is ready ``A = arrive_ns`` after
    its job starts. Then where ``s``'s block lands inside the job of ``o`` fed ``i`` blocks
    earlier, it starts as that job ends: ``S_k = S_{k - i} + D + J_o``, whichever block of ``s``
    fed it, so the pair does a block every ``c = (D + J_o) / i`` on average. ``s`` is ready ``A``
    after its start, inside the job, ``c - J_o < A <= c``: ``i = floor((D + J_o) / A)``, and the
    pair locks where ``i >= 1`` and ``c < A + J_o`` (else ``s``'s blocks land before ``o``'s
    jobs: charged nothing). No coefficient: ``A``, ``D``, ``c0`` and the jobs are stage times of
    the design."""
    span = delay_ns + other_job_ns
    phase = delay_ns % free_ns if free_ns != 0 else np.nan
    i = np.floor(span / arrive_ns + 1e-9)
    cycle = span / _max(i, 1.0) if i >= 1 else 0.0
    collide = _max(phase, job_ns if phase < job_ns else 0.0) + other_job_ns > free_ns
    locks = collide and held > 1 + 1e-9 and i >= 1 and cycle < arrive_ns + other_job_ns - 1e-9
    return cycle if locks else 0.0


@njit(cache=True, error_model="numpy")
def turn_extra(
    order,
    where,
    cycle_ns,
    job_ns,
    arrive_ns,
    hold,
    jobs,
    stops,
    feeds,
    layer,
    keys,
    span,
    post_ns,
    pre_ns,
    whole,
    has_whole,
):
    """(S,) what each share loses an image beside its macro's other shares at one kind of units
    (:func:`pimsim.model.turns.turn_times` before the image time is added), by position in
    ``order`` (the shares sorted by macro, stably; ``where`` their macros in that order).

    For each pair ``(a, b)`` of one macro (``a`` earlier), what ``a`` waits for ``b``'s jobs and
    ``b`` is pushed by ``a``'s and the other way round (:func:`unit_lock_one`), each share's loss
    the larger of its wait and its push; where one reads the other's blocks (``feeds``: the
    (producer, consumer) layer pairs ``keys``, keyed ``producer x span + consumer``; as many
    blocks an image; the producer its whole layer where ``has_whole``) the fed lock
    (:func:`fed_lock_one`) in place, ``a`` feeding ``b`` winning."""
    n = len(order)
    extra = np.zeros(n)
    loss_a, loss_b = np.empty(n), np.empty(n)
    for d in range(1, n):
        found = False
        for i in range(n - d):
            if where[i] != where[i + d]:
                continue
            found = True
            a, b = order[i], order[i + d]
            waits_a, pushes_b = _losses(a, b, cycle_ns, job_ns, arrive_ns, hold, jobs, stops)
            waits_b, pushes_a = _losses(b, a, cycle_ns, job_ns, arrive_ns, hold, jobs, stops)
            la, lb = _max(waits_a, pushes_a), _max(waits_b, pushes_b)
            if feeds:
                for first in (False, True):  # b feeding a, then a feeding b (which wins)
                    s, o = (a, b) if first else (b, a)
                    pair = layer[s] * span + layer[o]
                    at = min(np.searchsorted(keys, pair), len(keys) - 1)
                    reads = keys[at] == pair and jobs[s] == jobs[o]
                    if has_whole:
                        reads = reads and whole[s]
                    if not reads:
                        continue
                    cycle = fed_lock_one(
                        arrive_ns[s],
                        job_ns[s],
                        _max(cycle_ns[s], cycle_ns[o]),
                        hold[s] + hold[o],
                        post_ns[s] + pre_ns[o],
                        job_ns[o],
                    )
                    lose_s = jobs[s] * _max(0.0, cycle - cycle_ns[s])
                    lose_o = jobs[o] * _max(0.0, cycle - cycle_ns[o])
                    la = lose_s if first else lose_o
                    lb = lose_o if first else lose_s
            loss_a[i], loss_b[i] = la, lb
        if not found:
            break  # sorted by macro: no pair further apart either
        for i in range(n - d):
            if where[i] == where[i + d]:
                extra[i] += loss_a[i]
        for i in range(n - d):
            if where[i] == where[i + d]:
                extra[i + d] += loss_b[i]
    return extra


@njit(cache=True, error_model="numpy", inline="always")
def _losses(s, o, cycle_ns, job_ns, arrive_ns, hold, jobs, stops):
    """What ``s`` (waiting for ``o``'s jobs) and ``o`` (pushed by ``s``'s) lose an image; a
    share regains ``cycle - arrive`` where a locked stretch ends (its job shorter than its
    cycle)."""
    arrive = arrive_ns[s]
    wait, m, _, gap_push = unit_lock_one(
        arrive, job_ns[s], hold[s] + hold[o], job_ns[o], cycle_ns[o]
    )
    locked = _min(jobs[o] / m, jobs[s]) if wait > 0 else 0.0
    waits = locked * _max(0.0, arrive + wait - cycle_ns[s])
    beside = _min(jobs[s], jobs[o] * cycle_ns[o] / _max(cycle_ns[s], arrive))
    pushes = locked * _max(0.0, job_ns[s] - (cycle_ns[o] - job_ns[o])) + (
        beside * gap_push if gap_push > 0 else 0.0
    )
    early_s = cycle_ns[s] - arrive_ns[s] if job_ns[s] < cycle_ns[s] - 1e-9 else 0.0
    early_o = cycle_ns[o] - arrive_ns[o] if job_ns[o] < cycle_ns[o] - 1e-9 else 0.0
    return (
        _max(0.0, waits - (stops[o] * early_s if waits > 0 else 0.0)),
        _max(0.0, pushes - (stops[s] * early_o if pushes > 0 else 0.0)),
    )
