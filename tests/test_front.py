"""The Pareto front, the winning objectives and the spread of validated designs, on tiny sets."""

from __future__ import annotations

import math

import numpy as np

from synth.front import edp, matrix, non_dominated, objective_value, pareto_front, spread


def test_non_dominated_on_a_hand_made_set() -> None:
    # (efficiency, throughput), both maximised:
    # 0 (1, 5)  front: best throughput
    # 1 (2, 4)  front
    # 2 (2, 3)  dominated by 1 (same efficiency, less throughput)
    # 3 (3, 1)  front: best efficiency
    # 4 (1, 1)  dominated by everything but itself
    # 5 (2, 4)  equal to 1: only the first of equal rows is kept
    # 6 (2.5, 2) front: nobody has both >= 2.5 and >= 2
    values = np.array([[1, 5], [2, 4], [2, 3], [3, 1], [1, 1], [2, 4], [2.5, 2]], dtype=float)
    assert np.flatnonzero(non_dominated(values)).tolist() == [0, 1, 3, 6]
    assert non_dominated(np.empty((0, 2))).tolist() == []


class _Design:
    def __init__(self, name: str, metrics: dict[str, float]) -> None:
        self.name, self.metrics = name, metrics


def test_equal_designs_are_stood_for_by_the_least_key_whatever_their_order() -> None:
    # a and c have equal figures (both on the front), b is dominated by them, d is alone on it
    a = _Design("a", {"tops_per_w": 2.0, "throughput_ips": 10.0})
    b = _Design("b", {"tops_per_w": 1.0, "throughput_ips": 10.0})
    c = _Design("c", {"tops_per_w": 2.0, "throughput_ips": 10.0})
    d = _Design("d", {"tops_per_w": 0.5, "throughput_ips": 20.0})
    nan = _Design("n", {"tops_per_w": math.nan, "throughput_ips": 30.0})
    for order in ([a, b, c, d], [c, d, b, a], [d, c, a, b]):
        front = pareto_front(order, key=lambda x: x.name)
        assert sorted(x.name for x in front) == ["a", "d"]
        # without a key, the first of the equal ones in the given order
        first = next(x for x in order if x in (a, c))
        assert {x.name for x in pareto_front(order)} == {first.name, "d"}
    # a NaN figure is equal to nothing, itself included: kept as non_dominated keeps it
    assert [x.name for x in pareto_front([nan, a, c], key=lambda x: x.name)] == ["n", "a"]


def test_three_objectives_and_a_minimised_column() -> None:
    rows = [
        {"tops_per_w": 1.0, "throughput_ips": 100.0, "peak_power_w": 40.0},
        {"tops_per_w": 1.0, "throughput_ips": 100.0, "peak_power_w": 30.0},  # dominates row 0
        {"tops_per_w": 0.5, "throughput_ips": 200.0, "peak_power_w": 49.0},  # best throughput
        {"tops_per_w": 0.4, "throughput_ips": 50.0, "peak_power_w": 10.0},  # least power
        {"tops_per_w": 0.4, "throughput_ips": 50.0, "peak_power_w": 11.0},  # dominated by row 3
    ]
    values = matrix(rows)  # no area in these rows: 0 for all, so it decides nothing
    assert values[1].tolist() == [1.0, 100.0, -30.0, 0.0]  # peak power negated: higher is better
    assert np.flatnonzero(non_dominated(values)).tolist() == [1, 2, 3]


def test_no_front_member_is_dominated_by_any_point() -> None:
    rng = np.random.default_rng(0)
    values = rng.integers(0, 6, size=(300, 3)).astype(float)  # many ties, many equal rows
    keep = non_dominated(values)
    for v in values[keep]:
        dominated = np.all(values >= v, axis=1) & np.any(values > v, axis=1)
        assert not dominated.any()
    # and every point off the front is dominated by, or equal to, a front member
    for v in values[~keep]:
        assert np.any(np.all(values[keep] >= v, axis=1))


def test_area_is_a_minimised_objective_too() -> None:
    rows = [
        {"tops_per_w": 1.0, "throughput_ips": 100.0, "peak_power_w": 40.0, "area_mm2": 50.0},
        {"tops_per_w": 1.0, "throughput_ips": 100.0, "peak_power_w": 40.0, "area_mm2": 60.0},
        {"tops_per_w": 0.9, "throughput_ips": 100.0, "peak_power_w": 40.0, "area_mm2": 40.0},
    ]
    # row 1 is row 0 with more area: dominated; row 2 trades efficiency for area: on the front
    assert np.flatnonzero(non_dominated(matrix(rows))).tolist() == [0, 2]


def test_objectives() -> None:
    m = {"tops_per_w": 2.0, "throughput_ips": 10.0, "energy_per_image_pj": 3.0, "latency_ns": 5.0}
    assert edp(m) == 15.0
    assert objective_value(m, "efficiency") == 2.0
    assert objective_value(m, "throughput") == 10.0
    assert objective_value(m, "edp") == -15.0
    assert math.isinf(edp({"energy_per_image_pj": 3.0}))


def test_spread_starts_at_the_winner_and_skips_near_copies() -> None:
    # a front of efficiency vs throughput; rows 1 and 2 are near-copies of row 0 (< 1% apart)
    values = np.array(
        [[2.0, 100.0], [2.01, 100.5], [1.995, 100.2], [1.0, 300.0], [1.5, 200.0], [1.2, 250.0]]
    )
    ranking = values[:, 0]  # by efficiency
    picks = spread(values, ranking, 3)
    # 1 is the most efficient; it is within 1% of 0 and 2 on both figures, so neither follows it;
    # the farthest from 1 (scaled) is 3 (the other end); then the farthest from both is 4
    assert picks == [1, 3, 4]
    # asking for more than there are distinct designs: the near-copies never come back
    every = spread(values, ranking, 10)
    assert sorted(every) == [1, 3, 4, 5]
    for i in every:
        for j in every:
            if i != j:
                assert np.any(np.abs(values[i] - values[j]) / values[j] >= 0.01)
