"""Shared digital units taken in turns: the locked queue of a macro's weight shares at its units.

The weight shares of a macro that convert on their own runs of its ADCs
(:mod:`pimsim.model.wiring`) still take its digital units in turns: the shift-and-add units a job
a bit, the add units a job a block (a block's row-block partial sums merged once). Both are the
same queue of fixed-length jobs between single-buffered stages, at two item rates
(:func:`turn_times`); :func:`pimsim.model.shared_jit.unit_turns` states each kind's jobs from a
share's stage times and takes each macro's slowest share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimsim.model.turns_jit import turn_extra, unit_lock_arrays


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
    (:func:`pimsim.model.turns_jit.fed_lock_one`)."""

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


def turn_times(k: UnitJobs, macro: np.ndarray) -> np.ndarray:
    """(S,) each share's time per image beside its macro's other shares at the units of one kind
    they take in turns (``k``: its jobs, :class:`UnitJobs`; ``macro`` its macro): the locked
    queue below, at the kind's item rate (a bit, a block); the loop is
    :func:`pimsim.model.turns_jit.turn_extra`. A macro's time is its slowest share's over the
    kinds (:func:`pimsim.model.shared_jit.unit_turns`).

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
    own pace: each of its jobs starts ``D`` after the start of the job of ``s`` whose block fed
    it, and ``s`` may wait for it: the pair locks at the cycle
    :func:`pimsim.model.turns_jit.fed_lock_one` gives, charged to both (each loses ``jobs x
    (cycle - its own cycle)``), in place of the stream form.

    ``s`` takes ``image_s`` + its losses beside every partner; over the kinds, the largest (each
    kind's lock holds the share at its partner's pace; the paces are one, not added); the macro's
    time is its slowest share's. No coefficient: every term is a job, a conversion or a cycle of
    the design.
    """
    order = np.argsort(macro, kind="stable")
    # the (producer, consumer) layer pairs of the network, as sorted keys (block items only)
    feeds = k.layer is not None and k.edges is not None and k.post_ns is not None
    span, keys, none = 0, np.zeros(0, dtype=np.int64), np.zeros(0)
    if feeds:
        assert k.layer is not None and k.edges is not None
        span = int(max(k.layer.max(), k.edges[0].max(initial=0), k.edges[1].max(initial=0))) + 1
        keys = np.unique(k.edges[0] * span + k.edges[1])
    floats = (k.cycle_ns, k.job_ns, k.arrive_ns, k.hold, k.jobs, k.stops)
    extra = turn_extra(
        order,
        np.ascontiguousarray(macro[order], dtype=np.int64),
        *(np.ascontiguousarray(x, dtype=float) for x in floats),
        feeds and len(keys) > 0,
        np.zeros(0, dtype=np.int64) if k.layer is None else k.layer.astype(np.int64),
        keys.astype(np.int64),
        span,
        none if k.post_ns is None else np.ascontiguousarray(k.post_ns, dtype=float),
        none if k.pre_ns is None else np.ascontiguousarray(k.pre_ns, dtype=float),
        np.zeros(0, dtype=bool) if k.whole is None else k.whole.astype(bool),
        k.whole is not None,
    )
    times = np.empty(len(order))
    times[order] = k.image_ns[order] + extra
    return times


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
    :func:`turn_times`. Returns ``s``'s wait a bit once locked to the partner (0 where it does not
    wait); the partner's jobs per locked bit of ``s`` (``m``); whether ``s``'s bits drift
    through the partner's idle gaps (its job fits in a gap, so the landing phase moves from bit to
    bit: waits now and then, left out); and, where ``s``'s job is longer than the partner's gap,
    so that it lands in a gap at the same phase every time, how far its job overruns the gap
    (the partner's next job pushed by that, a job of ``s``; 0 elsewhere)."""
    args = np.broadcast_arrays(arrive_ns, job_ns, held, other_job_ns, other_cycle_ns)
    got = unit_lock_arrays(*(np.ascontiguousarray(x, dtype=float).ravel() for x in args))
    return tuple(x.reshape(args[0].shape) for x in got)
