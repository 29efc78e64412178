"""Stage 4's compiled bisection (:func:`synth.bisect_loops.allocate_each`) lands on the period,
counts and figures of the plain rule stated here: every cell's count computed afresh at every
period tried, no settled cells, no bounds, no merged macros.

The candidates are made up: runs of macros with the same demands (as a layer's even split gives
them: the compiled loop counts such a run once), a macro alike its predecessor in all kinds but
one, a candidate starting with the macro the one before it ends with (not of its run), cells
without work, power and area budgets near
what the candidate needs, per-kind sums and the unified mode.
"""

from __future__ import annotations

import math

import numpy as np

from synth.bisect_loops import LACKING, OK, TOO_COSTLY, allocate_each


def _counts(demand: np.ndarray, rest: np.ndarray, period_ns: float, unified: bool) -> np.ndarray:
    """(n, k) units per macro and kind at ``period_ns``: ``max(ceil(d / T - 1e-9), 1)`` where
    there is work, the constant count elsewhere; unified: every macro the largest of each kind."""
    out = rest.copy()
    for m in range(demand.shape[0]):
        for j in range(demand.shape[1]):
            if demand[m, j] > 0:
                out[m, j] = max(float(np.ceil(demand[m, j] / period_ns - 1e-9)), 1.0)
    if unified:
        out[:] = out.max(axis=0)
    return out


def _priced(per_kind: np.ndarray, price: np.ndarray) -> float:
    total = 0.0
    for j in range(len(price)):
        total += per_kind[j] * price[j]
    return total


def _fits(c, cand, peak, unit_mm2, power_w, area_mm2, exact: bool) -> bool:
    """The budget test: per-kind totals priced left to right; with ``exact``, numpy's sums over
    the macros decide where a figure lands within 1e-9 of its budget."""
    fixed_w, fixed_mm2 = cand
    per_kind = c.sum(axis=0)  # (whole numbers: exact)
    watts, mm2 = fixed_w + _priced(per_kind, peak), fixed_mm2 + _priced(per_kind, unit_mm2)
    ok = watts <= power_w and mm2 <= area_mm2
    near = abs(watts - power_w) <= 1e-9 * power_w or abs(mm2 - area_mm2) <= 1e-9 * area_mm2
    if exact and near:
        ok = fixed_w + np.sum(c * peak) <= power_w and fixed_mm2 + np.sum(c * unit_mm2) <= area_mm2
    return ok


def _plain(demand, rest, short, xbar_ns, cand, peak, unit_mm2, power_w, area_mm2, unified):
    """(status, period ns, counts, peak W, area mm^2) of one candidate by the plain rule."""
    lo = xbar_ns
    hi = max(max(float(demand.max()), lo), 1e-9)
    if short.any():
        return LACKING, None, None, None, None
    args = (cand, peak, unit_mm2, power_w, area_mm2)
    status = OK
    if _fits(_counts(demand, rest, lo, unified), *args, exact=True):
        hi = lo
    elif not _fits(_counts(demand, rest, hi, unified), *args, exact=True):
        status = TOO_COSTLY
    else:
        for _ in range(40):
            mid = math.sqrt(lo * hi) if lo > 0 else hi / 2
            if _fits(_counts(demand, rest, mid, unified), *args, exact=False):
                hi = mid
            else:
                lo = mid
            if hi - lo <= 1e-4 * hi:
                break
    c = _counts(demand, rest, hi, unified)
    return status, hi, c, cand[0] + np.sum(c * peak), cand[1] + np.sum(c * unit_mm2)


def _candidate(gen: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Demands per ns of period (n, k) in runs of equal macros, and the constant counts."""
    rows, rests = [], []
    for _ in range(int(gen.integers(1, 6))):
        row = gen.uniform(1.0, 400.0, k) * (gen.random(k) < 0.7)
        rest = np.where(row > 0, 0.0, (gen.random(k) < 0.5).astype(float))
        reps = int(gen.integers(1, 5))
        rows += [row] * reps
        rests += [rest] * reps
        if gen.random() < 0.3:  # then a macro alike in all kinds but one (not of the run)
            other = row.copy()
            other[int(gen.integers(k))] += float(gen.uniform(1.0, 50.0))
            rows.append(other)
            rests.append(np.where(other > 0, 0.0, rest))
    return np.array(rows), np.array(rests)


@np.errstate(divide="ignore", invalid="ignore")
def test_compiled_bisection_is_the_plain_rule() -> None:
    gen = np.random.default_rng(11)
    k = 4
    peak, unit_mm2 = gen.uniform(0.001, 0.05, k), gen.uniform(0.0005, 0.01, k)
    bisected = 0
    for trial in range(240):  # (a zero crossbar bound: counts at 0 ns are infinite)
        unified = trial % 3 == 0
        cands = [_candidate(gen, k) for _ in range(int(gen.integers(1, 7)))]
        for b in range(1, len(cands)):  # often a candidate starts as the one before it ends
            if gen.random() < 0.5:
                (d, r), (pd, pr) = cands[b], cands[b - 1]
                cands[b] = np.vstack([pd[-1:], d]), np.vstack([pr[-1:], r])
        demand = np.concatenate([d for d, _ in cands])
        rest = np.concatenate([r for _, r in cands])
        n_m = np.array([len(d) for d, _ in cands], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(n_m)[:-1]]).astype(np.int64)
        short = gen.random(len(demand)) < 0.01
        xbar = gen.uniform(0.0, 20.0, len(cands)) * (gen.random(len(cands)) < 0.9)
        fixed, fixed_mm2 = gen.uniform(0.5, 3.0, len(cands)), gen.uniform(1.0, 5.0, len(cands))
        # budgets near what the first candidate needs at a period between its bounds
        probe = _counts(cands[0][0], cands[0][1], float(gen.uniform(1.0, 60.0)), unified)
        power_w = float(fixed[0] + np.sum(probe * peak)) * float(gen.uniform(0.8, 1.2))
        area_mm2 = math.inf
        if trial % 2:
            area_mm2 = float(fixed_mm2[0] + np.sum(probe * unit_mm2)) * float(gen.uniform(0.9, 1.3))
        got = allocate_each(
            demand, rest, short, starts, n_m, xbar, fixed, fixed_mm2, peak, unit_mm2,
            power_w, area_mm2, unified,
        )  # fmt: skip
        adcs, units, target, peak_w, area, status, need_w, need_mm2 = got
        for b, (d, r) in enumerate(cands):
            s0, e = starts[b], starts[b] + n_m[b]
            want = _plain(
                d, r, short[s0:e], xbar[b], (fixed[b], fixed_mm2[b]), peak, unit_mm2,
                power_w, area_mm2, unified,
            )  # fmt: skip
            assert status[b] == want[0]
            if want[0] == LACKING:
                continue
            if want[0] == TOO_COSTLY:
                assert (need_w[b], need_mm2[b]) == (want[3], want[4])
                continue
            bisected += want[1] > xbar[b]
            assert target[b] == want[1]  # the same bits
            assert np.array_equal(adcs[s0:e], want[2][:, 0])
            assert np.array_equal(units[s0:e], want[2][:, 1:])
            assert (peak_w[b], area[b]) == (want[3], want[4])
    assert bisected > 100  # most candidates were bisected, not settled at a bound
