"""Shared digital units taken in turns: the locked queue of a macro's weight shares at its units.

The weight shares of a macro that convert on their own runs of its ADCs
(:mod:`pimsim.model.wiring`) still take its digital units in turns: the shift-and-add units a job
a bit, the add units a job a block (a block's row-block partial sums merged once). Both are the
same queue of fixed-length jobs between single-buffered stages, at two item rates
(:func:`unit_turns`); :func:`bit_jobs` and :func:`block_jobs` state each kind's jobs from a
share's stage times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimsim.components.parts import UnitKind
from pimsim.model.kernel import STAGES, UNITS, Rates
from pimsim.model.wiring import whole_actions

_LOAD, _MVM, _ADC, _SHIFT_ADD, _ADD = (
    STAGES.index(n) for n in ("load", "mvm", "adc", "shift_add", "add")
)
_ADD_UNIT = UNITS.index(UnitKind.ADD)


@dataclass(frozen=True)
class UnitJobs:
    """One kind of a macro's digital units, taken in turns by the weight shares on their own runs
    of its ADCs: each share's jobs on them, per *item* (a bit for the shift-and-add units, a block
    for the add units, which merge a block's row-block partial sums once), all (S,) arrays.

    ``cycle_ns`` its time per item alone; ``job_ns`` an item's job (ns it holds its units);
    ``arrive_ns`` how long after its job starts its next item is ready, its upstream stalled
    until then (a bit: the ADC's conversions; a block: the rest of the next block's bits, ``(bits
    - 1)`` bit cycles and the last bit's shift-and-add); ``hold`` the fraction of the macro's
    units a job holds (``k / n``); ``jobs`` its items per image; ``stops`` how often its stream
    stops an image (once a block for bits, once an image for blocks); ``image_ns`` its time per
    image alone. For block items also ``layer`` (its network layer), ``edges`` (the network's
    producer and consumer layer indices), ``post_ns`` (from a job's start to its block stored:
    the job and the stages after it) and ``pre_ns`` (from a block's load to its job's start, its
    input there: the load and the bits' fill) and ``whole`` (the share is its whole layer): a
    layer reading a whole partner's blocks is fed by the partner, not a stream at its own pace
    (:func:`fed_lock`)."""

    cycle_ns: np.ndarray
    job_ns: np.ndarray
    arrive_ns: np.ndarray
    hold: np.ndarray
    jobs: np.ndarray
    stops: np.ndarray
    image_ns: np.ndarray
    layer: np.ndarray | None = None
    edges: tuple[np.ndarray, np.ndarray] | None = None
    post_ns: np.ndarray | None = None
    pre_ns: np.ndarray | None = None
    whole: np.ndarray | None = None


def unit_turns(kinds: tuple[UnitJobs, ...], macro: np.ndarray, n_macros: int) -> np.ndarray:
    """(M,) time per image of a macro whose weight shares convert on their own runs of its ADCs
    but take its digital units in turns (0 for the others): for each unit kind (``kinds``, one
    :class:`UnitJobs` each, the same shares in the same order; ``macro`` their macro, of
    ``n_macros``) the locked queue below, at the kind's item rate (a bit, a block).

    A queue of fixed-length jobs, and every stage single-buffered: a share's upstream stage (the
    ADC for bits; the bit pipeline for blocks) starts its next item only once the units have
    *started* the item before, so while an item waits for the units its upstream idles, and every
    ns of the wait is lost unless the share's own cycle had room for it. Take share ``s`` beside a
    partner ``o`` whose jobs stream at its own pace (a job of ``J_o`` every ``c_o``, the units idle
    ``g_o = c_o - J_o`` between). Two jobs that fit side by side (``hold_s + hold_o <= 1``) never
    wait. Otherwise, once ``s``'s job has waited, it starts the instant ``o``'s job ends (time 0)
    and holds the units ``j_s``; ``o``'s next item, ready ``g_o`` after that end, takes them at
    ``max(j_s, g_o)`` and ``o`` goes on at its pace; ``s``'s next item is ready at ``A =
    arrive_s`` (its upstream restarted as its job started). If ``A < g_o``, ``s`` is back first
    and never waits. Else it arrives ``t = A - max(j_s, g_o)`` after the start of one of ``o``'s
    jobs (the ``m``-th since, ``m = floor(t / c_o) + 1``; ``m = 1`` and ``t < 0`` when ``o``
    queued first): within that job (``x = t - (m - 1) c_o < J_o``) it waits ``W = J_o - x`` and
    starts again the instant the job ends, the same phase as before: the two are *locked*, ``s``
    doing an item every ``A + W`` while ``o`` does ``m`` jobs, ``o`` pushed ``max(0, j_s - g_o)``
    each cycle. In ``o``'s idle gap it does not wait: with a job longer than the gap (``j_s >=
    g_o``) it lands at the same phase ``x`` every time and pushes ``o``'s next job by ``x + j_s -
    c_o`` (once a job of ``s`` while ``o`` streams beside it: ``min(jobs_s, jobs_o c_o /
    cycle_s)``); with a job that fits the gap the phases drift (a wait now and then, left out:
    charged 0; :mod:`pimsim.diagnose.shared` flags it). Locked, ``s`` loses ``A + W - cycle_s`` an
    item (what its own cycle does not cover) and ``o`` its push, for each of ``min(jobs_o / m,
    jobs_s)`` locked items of ``s`` an image (one per ``m`` of ``o``'s jobs; each layer does one
    image a period). Where a stream stops (``stops`` times an image), a layer regains the ``cycle
    - arrive`` its next item was ready early (where its job is shorter than its cycle; no more than
    it lost). Where both orientations lock, the two are one alternation: a share's loss is the
    larger of its wait and its push, not both.

    At the block rate a partner that *reads* ``s``'s blocks (its consumer, as many blocks an
    image), where ``s`` is its whole layer (its blocks are the layer's; a layer spread over
    macros feeds a block when its last share has stored it, not this one), does not stream at its
    own pace: each of its jobs starts ``D`` after the start of the
    job of ``s`` whose block fed it, and ``s`` may wait for it: the pair locks at the cycle
    :func:`fed_lock` gives, charged to both (each loses ``jobs x (cycle - its own cycle)``), in
    place of the stream form.

    ``s`` takes ``image_s`` + its losses beside every partner; over the kinds, the largest (each
    kind's lock holds the share at its partner's pace; the paces are one, not added); the macro's
    time is its slowest share's. No coefficient: every term is a job, a conversion or a cycle of
    the design.
    """
    out = np.zeros(n_macros)
    if len(macro) < 2:
        return out
    image = kinds[0].image_ns
    extra = np.max([turn_times(k, macro) - image for k in kinds], axis=0)
    np.maximum.at(out, macro, image + extra)
    return out


def turn_times(k: UnitJobs, macro: np.ndarray) -> np.ndarray:
    """(S,) each share's time per image beside its macro's other shares at the units of one kind
    they take in turns: :func:`unit_turns` of that kind before the macro's slowest is taken."""
    cycle_ns, job_ns, arrive_ns, hold, jobs = k.cycle_ns, k.job_ns, k.arrive_ns, k.hold, k.jobs
    order = np.argsort(macro, kind="stable")
    where = macro[order]
    extra = np.zeros(len(order))

    def early(r: np.ndarray) -> np.ndarray:
        """What share ``r`` regains where a locked stretch ends: its next item was ready
        ``cycle - arrive`` early (where its job is shorter than its cycle, else nothing)."""
        return np.where(job_ns[r] < cycle_ns[r] - 1e-9, cycle_ns[r] - arrive_ns[r], 0.0)

    def losses(s: np.ndarray, o: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What ``s`` (waiting for ``o``'s jobs) and ``o`` (pushed by ``s``'s) lose an image."""
        arrive = arrive_ns[s]
        wait, m, _, gap_push = unit_lock(
            arrive, job_ns[s], hold[s] + hold[o], job_ns[o], cycle_ns[o]
        )
        locked = np.where(wait > 0, np.minimum(jobs[o] / m, jobs[s]), 0.0)
        waits = locked * np.maximum(0.0, arrive + wait - cycle_ns[s])
        # locked, o's next job waits for s's; landing in o's idle gap, s's job overruns it
        # (fixed phase): once a job of s while o streams beside it
        beside = np.minimum(jobs[s], jobs[o] * cycle_ns[o] / np.maximum(cycle_ns[s], arrive))
        pushes = locked * np.maximum(0.0, job_ns[s] - (cycle_ns[o] - job_ns[o])) + np.where(
            gap_push > 0, beside * gap_push, 0.0
        )
        return (
            np.maximum(0.0, waits - np.where(waits > 0, k.stops[o] * early(s), 0.0)),
            np.maximum(0.0, pushes - np.where(pushes > 0, k.stops[s] * early(o), 0.0)),
        )

    # the (producer, consumer) layer pairs of the network, as sorted keys (block items only)
    feeds = k.layer is not None and k.edges is not None and k.post_ns is not None
    if feeds:
        assert k.layer is not None and k.edges is not None
        span = int(max(k.layer.max(), k.edges[0].max(initial=0), k.edges[1].max(initial=0))) + 1
        keys = np.unique(k.edges[0] * span + k.edges[1])

    def fed(s: np.ndarray, o: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Where ``o`` reads ``s``'s blocks (as many an image; ``s`` its whole layer): whether,
        and what each loses at the pair's locked cycle (:func:`fed_lock`); None for no pair."""
        if not feeds or not len(keys):
            return None
        assert k.layer is not None and k.post_ns is not None and k.pre_ns is not None
        pair = k.layer[s] * span + k.layer[o]
        at = np.minimum(np.searchsorted(keys, pair), len(keys) - 1)
        reads = (keys[at] == pair) & (jobs[s] == jobs[o])
        if k.whole is not None:
            reads &= k.whole[s]
        if not reads.any():
            return None
        cycle = fed_lock(
            arrive_ns[s],
            job_ns[s],
            np.maximum(cycle_ns[s], cycle_ns[o]),
            hold[s] + hold[o],
            k.post_ns[s] + k.pre_ns[o],
            job_ns[o],
        )
        return (
            reads,
            np.where(reads, jobs[s] * np.maximum(0.0, cycle - cycle_ns[s]), 0.0),
            np.where(reads, jobs[o] * np.maximum(0.0, cycle - cycle_ns[o]), 0.0),
        )

    for d in range(1, len(order)):
        same = np.nonzero(where[d:] == where[:-d])[0]
        if not len(same):
            break  # sorted by macro: no pair further apart either
        a, b = order[same], order[same + d]
        waits_a, pushes_b = losses(a, b)
        waits_b, pushes_a = losses(b, a)
        # where both lock, the two views are one alternation: each share's loss counted once
        loss_a, loss_b = np.maximum(waits_a, pushes_a), np.maximum(waits_b, pushes_b)
        # a producer and its consumer: the fed lock in place of the streams
        for got, first in ((fed(b, a), False), (fed(a, b), True)):  # a feeding b wins
            if got is not None:
                reads, lose_s, lose_o = got
                loss_a = np.where(reads, lose_s if first else lose_o, loss_a)
                loss_b = np.where(reads, lose_o if first else lose_s, loss_b)
        extra[same] += loss_a
        extra[same + d] += loss_b
    times = np.empty(len(order))
    times[order] = k.image_ns[order] + extra
    return times


def fed_lock(
    arrive_ns: np.ndarray,
    job_ns: np.ndarray,
    free_ns: np.ndarray,
    held: np.ndarray,
    delay_ns: np.ndarray,
    other_job_ns: np.ndarray,
) -> np.ndarray:
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
    with np.errstate(divide="ignore", invalid="ignore"):
        phase = np.mod(delay_ns, free_ns)
        i = np.floor(span / arrive_ns + 1e-9)
        cycle = np.where(i >= 1, span / np.maximum(i, 1), 0.0)
    collide = np.maximum(phase, np.where(phase < job_ns, job_ns, 0.0)) + other_job_ns > free_ns
    locks = collide & (held > 1 + 1e-9) & (i >= 1) & (cycle < arrive_ns + other_job_ns - 1e-9)
    return np.where(locks, cycle, 0.0)


def unit_lock(
    arrive_ns: np.ndarray,
    job_ns: np.ndarray,
    held: np.ndarray,
    other_job_ns: np.ndarray,
    other_cycle_ns: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Share ``s`` (its next bit converted ``arrive_ns`` after its job of ``job_ns`` starts)
    beside a partner streaming jobs of ``other_job_ns`` every ``other_cycle_ns`` at the units they
    share (``held``: the fraction of the units their two jobs hold together), as in
    :func:`unit_turns`. Returns ``s``'s wait a bit once locked to the partner (0 where it does not
    wait); the partner's jobs per locked bit of ``s`` (``m``); whether ``s``'s bits drift
    through the partner's idle gaps (its job fits in a gap, so the landing phase moves from bit to
    bit: waits now and then, left out); and, where ``s``'s job is longer than the partner's gap,
    so that it lands in a gap at the same phase every time, how far its job overruns the gap
    (the partner's next job pushed by that, a job of ``s``; 0 elsewhere)."""
    gap = other_cycle_ns - other_job_ns
    t = arrive_ns - np.maximum(job_ns, gap)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(t < 0, 1.0, np.floor(t / other_cycle_ns + 1e-9) + 1)
    x = t - (m - 1) * other_cycle_ns
    free = (arrive_ns < gap - 1e-9) | (held <= 1 + 1e-9)  # back first, or side by side
    locked = ~free & (x < other_job_ns - 1e-9)
    wait = np.where(locked, other_job_ns - x, 0.0)
    in_gap = ~free & ~locked
    fixed = job_ns >= gap - 1e-9  # s's job pushes the partner's start: the phase repeats
    overrun = np.where(in_gap & fixed, np.maximum(0.0, x + job_ns - other_cycle_ns), 0.0)
    return wait, m, in_gap & ~fixed, overrun


def bit_jobs(
    stages: np.ndarray,
    bits: np.ndarray,
    period_ns: np.ndarray,
    hold: np.ndarray,
    blocks: np.ndarray,
    image_ns: np.ndarray,
) -> UnitJobs:
    """The shift-and-add jobs (one a bit) of shares with full-block stage times ``stages``
    (STAGES, R), ``bits`` bits a block, block period ``period_ns``, ``hold`` the fraction of the
    units a job holds, ``blocks`` an image and time per image alone ``image_ns``: a bit's next
    one is converted by the ADC, ``adc`` after its job starts."""
    return UnitJobs(
        period_ns / bits,
        stages[_SHIFT_ADD] / bits,
        stages[_ADC] / bits,
        hold,
        blocks * bits,
        blocks,
        image_ns,
    )


def block_jobs(
    stages: np.ndarray,
    bits: np.ndarray,
    period_ns: np.ndarray,
    elements: np.ndarray,
    units: np.ndarray,
    rates: Rates,
    blocks: np.ndarray,
    image_ns: np.ndarray,
    layer: np.ndarray,
    edges: tuple[np.ndarray, np.ndarray],
    whole: np.ndarray,
) -> UnitJobs | None:
    """The add jobs (one a block, ``elements`` partial sums on the macro's ``units`` add units, in
    whole actions as :func:`~pimsim.model.wiring.whole_actions` counts them) of shares with the
    arguments of :func:`bit_jobs` (``layer`` their network layers, ``edges`` the network's
    producer and consumer layers, ``whole`` whether each is its whole layer); None without an
    add part. While a block waits for the units the next block's bits stall, one in each per-bit
    stage (bit 0 converted, bit 1 read): once the job starts the next block is ready after the
    slowest of ``(bits - 2) mvm + adc + sa``, ``(bits - 1) adc + sa`` and ``bits sa`` (per bit:
    read, conversions, shift-and-add). From a job's start its block is stored after the job and
    the stages after it (``post``); a consumer's job starts after its load and its bits' fill
    (``pre``)."""
    lanes = rates.unit_lanes[_ADD_UNIT]
    if not lanes:
        return None
    has = (units > 0) & (elements > 0)
    job, pool = np.zeros(len(bits)), np.zeros(len(bits))
    job[has], pool[has] = whole_actions(
        elements[has], units[has], lanes, rates.unit_rate[_ADD_UNIT] / lanes
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        hold = np.where(job > 0, pool / job, 0.0)
    per_bit = stages[[_MVM, _ADC, _SHIFT_ADD]] / bits
    bit_cycle = per_bit.max(axis=0)
    mvm, adc, shift_add = per_bit
    # stalled, the next block's bit 0 waits at the shift-and-add, bit 1 at the ADC (read), bit 2
    # at the read: the last bit is done after the slowest of the three paths
    arrive = np.maximum.reduce(
        [
            np.where(bits >= 2, (bits - 2) * mvm + adc + shift_add, 0.0),
            (bits - 1) * adc + shift_add,
            bits * shift_add,
        ]
    )
    return UnitJobs(
        period_ns,
        job,
        arrive,
        hold,
        blocks,
        np.ones(len(bits)),
        image_ns,
        layer,
        edges,
        job + stages[_ADD + 1 :].sum(axis=0),
        stages[_LOAD] + per_bit.sum(axis=0) + (bits - 1) * bit_cycle,
        whole,
    )
