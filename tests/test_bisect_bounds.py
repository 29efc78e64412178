"""Stage 4's bound test (:func:`synth.bisect_loops._bound_test`) decides a bisection round only
where counting every open cell would decide it the same way."""

from __future__ import annotations

import numpy as np

from synth.bisect_loops import _bound_test, _count


def _exact_w(settled, demand, kind, period_ns, fixed_w, peak) -> float:
    """The round's figure stated plainly: every open cell's count at the period, added per kind,
    priced left to right, W."""
    per_kind = list(settled)
    for d, j in zip(demand, kind, strict=True):
        per_kind[j] += _count(d, period_ns)
    watts = fixed_w
    for j in range(len(peak)):
        watts += per_kind[j] * peak[j]
    return watts


def _exact_fits(settled, demand, kind, period_ns, fixed_w, peak, power_w) -> bool:
    return _exact_w(settled, demand, kind, period_ns, fixed_w, peak) <= power_w


def test_bound_test_agrees_with_counting() -> None:
    # two kinds, three open cells: demands 10, 25 (kind 0) and 7 (kind 1) work-ns; at a period
    # of 5 ns their counts are 2, 5 and 2, so with 1 settled unit of each kind and prices 1 W and
    # 2 W the units draw (1 + 7) * 1 + (1 + 2) * 2 = 14 W on top of 3 W fixed: 17 W.
    settled, peak = np.array([1.0, 1.0]), np.array([1.0, 2.0])
    demand, kind = np.array([10.0, 25.0, 7.0]), np.array([0, 0, 1])
    open_demand, open_n = np.array([35.0, 7.0]), np.array([2.0, 1.0])
    assert _exact_fits(settled, demand, kind, 5.0, 3.0, peak, 17.0)
    assert not _exact_fits(settled, demand, kind, 5.0, 3.0, peak, 16.9)
    # the bounds: kind 0 between 1 + 35 / 5 (less 2 x 2e-9) and 1 + 7 + 2 units, kind 1 between
    # 1 + 1.4 and 1 + 2.4, so 3 + 8 + 4.8 = 15.8 W to 3 + 10 + 6.8 = 19.8 W: a budget within
    # is left to the counts, one outside is decided
    assert _bound_test(settled, open_demand, open_n, 5.0, 3.0, peak, 17.0) == 0
    assert _bound_test(settled, open_demand, open_n, 5.0, 3.0, peak, 40.0) == 1
    assert _bound_test(settled, open_demand, open_n, 5.0, 3.0, peak, 10.0) == -1
    # many made-up rounds: a decision is always the counting's
    gen = np.random.default_rng(7)
    decided = 0
    for _ in range(3000):
        n, k = int(gen.integers(1, 40)), 3
        demand = gen.uniform(0.1, 500.0, n)
        kind = gen.integers(0, k, n)
        settled = gen.integers(0, 50, k).astype(float)
        peak = gen.uniform(0.0, 0.05, k)
        period = float(gen.uniform(0.5, 100.0))
        fixed = float(gen.uniform(0.0, 5.0))
        exact_w = _exact_w(settled, demand, kind, period, fixed, peak)
        budget = float(exact_w * gen.choice([0.5, 0.99, 1.0, 1.01, 2.0]))
        o_d = np.array([demand[kind == j].sum() for j in range(k)])
        o_n = np.array([float((kind == j).sum()) for j in range(k)])
        got = _bound_test(settled, o_d, o_n, period, fixed, peak, budget)
        if got != 0:
            decided += 1
            assert (got > 0) == _exact_fits(settled, demand, kind, period, fixed, peak, budget)
    assert decided > 1000  # the bounds do decide most rounds far from the budget
