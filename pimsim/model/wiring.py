"""The busiest ADC of each layer share under the architecture's ADC wiring, in closed form.

A macro's ADCs are wired through muxes to fixed, contiguous runs of its columns
([sim-hardware](../../docs/sim-hardware.md), "ADC mux groups"); a bit's conversions take as long
as the busiest ADC's. Under ``hardware.adc_wiring: "weights"`` (every synthesized design) only the
columns holding weights are wired:

- a share's ``W`` weight columns are its crossbars' (a copy's crossbars tile by tile, slice by
  slice; the layer's crossbars copy by copy, the shares taking consecutive runs of them), summed
  from the per-copy prefix sums of :class:`~pimsim.model.tables.NetworkTables`;
- a macro holding one weight share wires them to all its ``A`` ADCs; a macro holding several gives
  each share its own run of ADCs, in proportion to its conversions per image (weight columns x
  bits x blocks), one each first and the rest by largest remainder (ties to the earlier share);
- ``W`` columns on ``A`` ADCs in contiguous runs: ADC ``j`` takes columns ``ceil(j W / A)`` up to
  ``ceil((j + 1) W / A)``, so the first ADC holds the most, ``ceil(W / A)``; in a block of ``q``
  pixels only the copies ``0 .. q - 1`` are read, a prefix of ``P`` of the share's columns, and the
  busiest ADC converts ``min(P, ceil(W / A))`` a bit.

The same columns are shifted and added: a bit's job of ``P`` elements on the macro's ``n``
shift-and-add units of ``lanes`` lanes is ``a = ceil(P / lanes)`` whole actions on
``k = min(n, a)`` units, ``ceil(a / k)`` action times (:func:`whole_actions`); the units a macro's
shares take in turns are busy ``k x ceil(a / k) / n`` action times a job, summed over its shares'
jobs of an image: a bound on the period where two layers share the macro.

This is the rule the simulator wires (``pimsim.sim.blockwork``), stated here from the mapping alone:
the estimate does not import the simulator. Under ``"slots"`` (ISAAC's fixed wiring, one crossbar
per ADC on its presets), and for a macro with fewer ADCs than weight shares (one bank, taken in
turns), the estimate keeps the even spread over the macro's ADCs: those shares are not *wired* here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimsim.components.parts import UnitKind
from pimsim.model.kernel import STAGES, UNITS, Rates
from pimsim.model.stack import Stack
from pimsim.model.tables import NetworkTables

_ADC, _SHIFT_ADD = STAGES.index("adc"), STAGES.index("shift_add")
_SA_UNIT = UNITS.index(UnitKind.SHIFT_ADD)


@dataclass(frozen=True)
class Wiring:
    """Per share of a :class:`~pimsim.model.stack.Stack`: whether its ADCs are wired here, and on
    how many ADCs its weight columns sit (0 where not wired)."""

    wired: np.ndarray  # (S,) bool
    columns: np.ndarray  # (S,) weight columns of the share (W)
    adcs: np.ndarray  # (S,) ADCs its columns are wired to (A)
    start: np.ndarray  # (S,) its first crossbar among its layer's (copy by copy)
    crossbars: np.ndarray  # (S,)
    own_run: np.ndarray  # (S,) bool: its own run of a bank other weight shares also use


def _columns_upto(t: NetworkTables, lay: np.ndarray, per_copy: np.ndarray, i: np.ndarray):
    """Weight columns of crossbars ``0 .. i - 1`` of each share's layer (copy by copy)."""
    copies, rest = np.divmod(i, np.maximum(per_copy, 1))
    base = t.col_start[lay]
    return copies * t.col_prefix[base + per_copy] + t.col_prefix[base + rest]


def wiring(t: NetworkTables, st: Stack, blocks: np.ndarray) -> Wiring:
    """Each share's weight columns and ADCs under its design's wiring rule (see the module
    docstring); ``blocks`` (B x L,) the blocks per image of every batch layer."""
    lay, glay, macro = st.share_layer, st.layer, st.share_macro
    per_copy = t.set_crossbars[lay]
    weight = t.weight[lay]
    crossbars = np.rint(st.share_frac * st.per_block[glay] * per_copy).astype(int)
    crossbars[~weight] = 0
    ends = np.cumsum(crossbars)
    first = np.searchsorted(glay, glay)  # each share's layer's first share
    start = ends - crossbars - (ends - crossbars)[first]
    columns = _columns_upto(t, lay, per_copy, start + crossbars) - _columns_upto(
        t, lay, per_copy, start
    )
    m_total = len(st.macros.adcs)
    bank = st.macros.adcs[macro]
    sharing = np.bincount(macro, weight, minlength=m_total)[macro]
    wired = weight & st.weights_wired & (bank >= sharing)
    adcs = np.where(wired & (sharing == 1), bank, 0.0)
    split = np.nonzero(wired & (sharing > 1))[0]
    if len(split):
        s_macro = macro[split]
        work = columns[split] * t.bit_iters[lay[split]] * blocks[glay[split]]
        total = np.bincount(s_macro, work, minlength=m_total)[s_macro]
        total = np.where(total > 0, total, 1.0)
        spare = bank[split] - sharing[split]  # one each first, the rest in proportion
        exact = spare * work / total
        counts = 1 + np.floor(exact)
        left = bank[split] - np.bincount(s_macro, counts, minlength=m_total)[s_macro]
        order = np.lexsort((split, -(exact % 1), s_macro))  # by macro, largest remainder first
        rank = np.empty(len(split), dtype=int)
        seg = np.searchsorted(s_macro[order], s_macro[order])
        rank[order] = np.arange(len(split)) - seg
        adcs[split] = counts + (rank < left)
    return Wiring(wired, columns, adcs, start, crossbars, wired & (sharing > 1))


def active_columns(
    t: NetworkTables, st: Stack, w: Wiring, pixels: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Weight columns each share of ``rows`` reads (and converts, and shifts-and-adds) a bit in a
    block of ``pixels`` (per row) output pixels: its crossbars of copies ``0 .. pixels - 1``."""
    lay, per_copy = st.share_layer[rows], t.set_crossbars[st.share_layer[rows]]
    start, end = w.start[rows], w.start[rows] + w.crossbars[rows]
    active = np.clip(pixels * per_copy, start, end)
    return _columns_upto(t, lay, per_copy, active) - _columns_upto(t, lay, per_copy, start)


def busiest_adc(
    t: NetworkTables, st: Stack, w: Wiring, pixels: np.ndarray, rows: np.ndarray | None = None
) -> np.ndarray:
    """Conversions per bit on the busiest ADC of each wired share (``rows``: those shares; all by
    default) in a block of ``pixels`` (per row) output pixels: ``min(P, ceil(W / A))``."""
    if rows is None:
        rows = np.arange(len(w.wired))
    return _busiest(w, rows, active_columns(t, st, w, pixels, rows))


def _busiest(w: Wiring, rows: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """:func:`busiest_adc` of shares ``rows`` that read ``seen`` columns a bit."""
    with np.errstate(divide="ignore", invalid="ignore"):
        most = np.ceil(w.columns[rows] / w.adcs[rows] - 1e-9)
    return np.minimum(seen, most)


def whole_actions(
    elements: np.ndarray, units: np.ndarray, lanes: float, ghz: float
) -> tuple[np.ndarray, np.ndarray]:
    """A job of ``elements`` on a macro's ``units`` digital units of ``lanes`` lanes at ``ghz``
    actions per ns (each a bit's shift-and-add of a share's columns): ``a = ceil(elements /
    lanes)`` whole actions spread over ``k = min(units, a)`` units take ``ceil(a / k) / ghz`` ns
    (the job's time, ns) and hold ``k`` of the ``units`` for it: ``k x ceil(a / k) / (units x
    ghz)`` ns of the whole pool (its share of the units' load, ns). 0 for no elements."""
    actions = np.ceil(elements / lanes - 1e-9)
    k = np.minimum(units, actions)
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.where(actions > 0, np.ceil(actions / k - 1e-9), 0.0)
        job = steps / ghz
        pool = np.where(actions > 0, k * job / units, 0.0)
    return job, pool


def time_columns(
    t: NetworkTables,
    st: Stack,
    rates: Rates,
    wires: Wiring,
    stages: np.ndarray,
    rows: np.ndarray,
    pixels: np.ndarray,
    at: np.ndarray | None = None,
) -> np.ndarray:
    """Time weight shares ``rows`` (of the stack; their stage rows ``at`` of ``stages``, the same by
    default) by their columns in a block of ``pixels`` (per row) pixels: a wired share's
    conversions on its busiest ADC, every share's shift-and-adds in whole actions
    (:mod:`pimsim.model.wiring`); ``stages`` is updated in place. Returns each row's time of its
    macro's shift-and-add pool in the block, ns."""
    at = rows if at is None else at
    bits = t.bit_iters[st.share_layer[rows]].astype(float)
    wired = wires.wired[rows]
    seen = active_columns(t, st, wires, pixels, rows)
    busiest = _busiest(wires, rows[wired], seen[wired])
    stages[at[wired], _ADC] = bits[wired] * busiest / rates.adc_ghz
    units = st.macros.units[st.share_macro[rows], _SA_UNIT]
    lanes = rates.unit_lanes[_SA_UNIT]
    if not lanes:
        return np.zeros(len(rows))
    has = units > 0
    job, pool = whole_actions(
        seen[has],
        units[has],
        lanes,
        rates.unit_rate[_SA_UNIT] / lanes,
    )
    stages[at[has], _SHIFT_ADD] = bits[has] * job
    out = np.zeros(len(rows))
    out[has] = bits[has] * pool
    return out


def unit_turns(
    cycle_ns: np.ndarray,
    job_ns: np.ndarray,
    adc_ns: np.ndarray,
    hold: np.ndarray,
    jobs: np.ndarray,
    blocks: np.ndarray,
    image_ns: np.ndarray,
    macro: np.ndarray,
    n_macros: int,
) -> np.ndarray:
    """(M,) time per image of a macro whose weight shares convert on their own runs of its ADCs
    but take its shift-and-add units in turns (0 for the others).

    Per share on its own run (``macro``: its macro, of ``n_macros``): ``cycle_ns`` its time per
    bit alone (the block period over the bits), ``job_ns`` a bit's shift-and-add job (ns the job
    holds its units), ``adc_ns`` a bit's conversions, ``hold`` the fraction of the macro's units a
    job holds (``k / n``), ``jobs`` its bits per image, ``blocks`` its blocks per image,
    ``image_ns`` its time per image alone.

    A queue of fixed-length jobs, and every stage single-buffered: a share's ADC starts its next
    bit only once the units have *started* the bit before, so while a converted bit waits for the
    units its ADC idles, and every ns of the wait is lost unless the share's own cycle had room
    for it. Take share ``s`` beside a partner ``o`` whose jobs stream at its own pace (a job of
    ``J_o`` every ``c_o``, the units idle ``g_o = c_o - J_o`` between). Two jobs that fit side by
    side (``hold_s + hold_o <= 1``) never wait. Otherwise, once ``s``'s job has waited, it starts
    the instant ``o``'s job ends (time 0) and holds the units ``j_s``; ``o``'s next bit, converted
    ``g_o`` after that end, takes them at ``max(j_s, g_o)`` and ``o`` goes on at its pace;
    ``s``'s next bit is converted at ``A = adc_s`` (its ADC restarted as its job started, the
    bit already read). If ``A < g_o``, ``s`` is back first and never waits. Else it arrives
    ``t = A - max(j_s, g_o)`` after the start of one of ``o``'s jobs (the ``m``-th since, ``m =
    floor(t / c_o) + 1``; ``m = 1`` and ``t < 0`` when ``o`` queued first): within that job
    (``x = t - (m - 1) c_o < J_o``) it waits ``W = J_o - x`` and starts again the instant the job
    ends, the same phase as before: the two are *locked*, ``s`` converting a bit every ``A + W``
    while ``o`` does ``m`` jobs, ``o`` pushed ``max(0, j_s - g_o)`` each cycle. In ``o``'s idle
    gap it does not wait: with a job longer than the gap (``j_s >= g_o``) it lands at the same
    phase ``x`` every time and pushes ``o``'s next job by ``x + j_s - c_o`` (once a job of ``s``
    while ``o`` streams beside it: ``min(jobs_s, jobs_o c_o / cycle_s)``); with a job that fits
    the gap the phases drift (a wait now and then, left out: charged 0;
    :mod:`pimsim.diagnose.shared` flags it). Locked, ``s`` loses ``A + W - cycle_s`` a bit (what
    its own cycle does not cover) and ``o`` its push, for each of ``min(jobs_o / m, jobs_s)``
    locked bits of ``s`` an image (one per ``m`` of ``o``'s jobs; each layer does one image a
    period). Where a stream stops (at the end of each block of the other), a layer regains the
    ``cycle - adc`` its next bit was converted early (where its job is shorter than its cycle; no
    more than it lost). Where both orientations lock, the two are one alternation: a share's loss
    is the larger of its wait and its push, not both. ``s`` takes ``image_s`` + its losses beside
    every partner; the macro's time is its slowest share's. No coefficient: every term is a job,
    a conversion or a cycle of the design.
    """
    out = np.zeros(n_macros)
    if len(macro) < 2:
        return out
    times = turn_times(cycle_ns, job_ns, adc_ns, hold, jobs, blocks, image_ns, macro)
    np.maximum.at(out, macro, times)
    return out


def turn_times(
    cycle_ns: np.ndarray,
    job_ns: np.ndarray,
    adc_ns: np.ndarray,
    hold: np.ndarray,
    jobs: np.ndarray,
    blocks: np.ndarray,
    image_ns: np.ndarray,
    macro: np.ndarray,
) -> np.ndarray:
    """(S,) each share's time per image beside its macro's other shares at the shift-and-add units
    they take in turns: :func:`unit_turns` before the macro's slowest is taken."""
    order = np.argsort(macro, kind="stable")
    where = macro[order]
    extra = np.zeros(len(order))

    def early(r: np.ndarray) -> np.ndarray:
        """What share ``r`` regains where a locked stretch ends: its next bit was converted
        ``cycle - adc`` early (where its job is shorter than its cycle, else nothing)."""
        return np.where(job_ns[r] < cycle_ns[r] - 1e-9, cycle_ns[r] - adc_ns[r], 0.0)

    def losses(s: np.ndarray, o: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What ``s`` (waiting for ``o``'s jobs) and ``o`` (pushed by ``s``'s) lose an image."""
        arrive = adc_ns[s]
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
            np.maximum(0.0, waits - np.where(waits > 0, blocks[o] * early(s), 0.0)),
            np.maximum(0.0, pushes - np.where(pushes > 0, blocks[s] * early(o), 0.0)),
        )

    for d in range(1, len(order)):
        same = np.nonzero(where[d:] == where[:-d])[0]
        if not len(same):
            break  # sorted by macro: no pair further apart either
        a, b = order[same], order[same + d]
        waits_a, pushes_b = losses(a, b)
        waits_b, pushes_a = losses(b, a)
        # where both lock, the two views are one alternation: each share's loss counted once
        extra[same] += np.maximum(waits_a, pushes_a)
        extra[same + d] += np.maximum(waits_b, pushes_b)
    times = np.empty(len(order))
    times[order] = image_ns[order] + extra
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
