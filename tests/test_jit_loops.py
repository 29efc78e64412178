"""The compiled loops' small rules against their plain statements on hand-made inputs: sums in
input order (``np.add.at``'s), the first maximum of each segment, the sums per design in share
order, numpy's pairwise ``.sum()``, numpy's NaN-propagating maximum, and a job's whole actions worked out by hand."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from pimsim.model.repeats_jit import by_macro
from pimsim.model.scalars_jit import fmax, fmin, whole_actions_one
from pimsim.model.sums_jit import add_at, design_sums, pairwise_sum, segment_argmax, segment_sums


def test_add_at_adds_each_value_in_input_order() -> None:
    # 0.1 + 0.2 + 0.3 in that order is 0.6000000000000001; 0.3 + 0.2 + 0.1 is 0.6: the order shows
    target = np.zeros(3)
    add_at(target, np.array([1, 0, 1, 1, 2]), np.array([0.1, 5.0, 0.2, 0.3, -1.0]))
    assert target.tolist() == [5.0, (0.1 + 0.2) + 0.3, -1.0]
    assert target[1] != 0.6
    reference = np.zeros(3)
    np.add.at(reference, np.array([1, 0, 1, 1, 2]), np.array([0.1, 5.0, 0.2, 0.3, -1.0]))
    assert target.tolist() == reference.tolist()


def test_segment_argmax_takes_the_first_of_equal_maxima_and_fills_empty_segments() -> None:
    # segments [3, 7, 7], [], [-inf], [2, 9]
    values = np.array([3.0, 7.0, 7.0, -np.inf, 2.0, 9.0])
    top, at = segment_argmax(values, np.array([0, 3, 3, 4, 6]))
    assert top.tolist() == [7.0, -np.inf, -np.inf, 9.0]
    assert at.tolist() == [1, 0, 0, 1]  # offsets in each segment (the first 7; 0 when empty)


def test_design_sums_add_each_designs_shares_in_order() -> None:
    # (K = 2, S = 4): shares 0, 1, 3 of design 0, share 2 of design 1
    columns = np.array([[0.1, 0.2, 4.0, 0.3], [1.0, 2.0, 3.0, 4.0]])
    out = design_sums(columns, np.array([0, 0, 1, 0]), 2)
    assert out.tolist() == [[(0.1 + 0.2) + 0.3, 7.0], [4.0, 3.0]]


def test_fmax_and_fmin_propagate_nan_as_numpy_does() -> None:
    nan = float("nan")
    for a, b in ((1.0, 2.0), (2.0, 1.0), (nan, 1.0), (1.0, nan), (-np.inf, 0.0)):
        assert np.array_equal(fmax(a, b), np.maximum(a, b), equal_nan=True)
        assert np.array_equal(fmin(a, b), np.minimum(a, b), equal_nan=True)


def test_whole_actions_by_hand() -> None:
    # 70 elements on 32-lane units: ceil(70 / 32) = 3 actions. On 2 units: 2 units busy for
    # ceil(3 / 2) = 2 action times of 0.5 ns (2 GHz) = 1 ns, holding the whole pool: 2 x 1 / 2
    assert whole_actions_one(70.0, 2.0, 32.0, 2.0) == (1.0, 1.0)
    # on 8 units: 3 of them for 1 action time, 0.5 ns; 3 / 8 of the pool for it, 0.1875 ns
    assert whole_actions_one(70.0, 8.0, 32.0, 2.0) == (0.5, 3 * 0.5 / 8)
    # exactly 64 elements are 2 actions, not 3 (the 1e-9 guard against float noise)
    assert whole_actions_one(64.0, 1.0, 32.0, 1.0) == (2.0, 2.0)
    assert whole_actions_one(0.0, 4.0, 32.0, 1.0) == (0.0, 0.0)  # no elements: no job


def test_pairwise_sum_adds_as_numpy_sum_does() -> None:
    # 9 values: eight running sums, then the ninth; 1e16 + 1.0 + ... loses the ones one by one in
    # a sequential sum (1e16 + 1 rounds to 1e16), while the running sums pair them first
    values = np.array([1e16, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    running = ((1e16 + 1.0) + (1.0 + 1.0)) + ((1.0 + 1.0) + (1.0 + 1.0))
    assert pairwise_sum(values, 0, 9) == running + 1.0 == values.sum()
    assert pairwise_sum(values, 0, 9) != sum(values.tolist())  # (sequential: 1e16 + 8)
    assert pairwise_sum(values, 1, 7) == 7.0 and pairwise_sum(values, 0, 0) == 0.0
    # longer runs (halves, blocks of 128, any start) of values of many magnitudes
    rng = np.random.default_rng(0)
    x = rng.standard_normal(3000) * 10.0 ** rng.integers(-8, 8, 3000)
    for lo, n in [(0, 8), (5, 127), (3, 128), (1, 129), (7, 300), (0, 2048), (11, 2989)]:
        assert pairwise_sum(x, lo, n) == x[lo : lo + n].sum()
    starts = np.array([0, 0, 5, 200, 3000])
    assert segment_sums(x, starts).tolist() == [x[a:b].sum() for a, b in pairwise(starts)]


def test_by_macro_is_numpys_stable_argsort() -> None:
    # shares of macros 2, 0, 2, 1, 0: macro 0's (positions 1, 4), 1's (3), 2's (0, 2)
    assert by_macro(np.array([2, 0, 2, 1, 0]), 4).tolist() == [1, 4, 3, 0, 2]
    rng = np.random.default_rng(0)
    for size in (0, 1, 7, 300):
        macro = rng.integers(0, 9, size)
        assert by_macro(macro, 9).tolist() == np.argsort(macro, kind="stable").tolist()
