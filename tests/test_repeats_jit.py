"""Groups repeating an earlier group bit for bit (pimsim.model.repeats_jit.first_alike): worked out
by hand, and against a plain statement of the rule (a dict of each group's rows) on random groups
drawn from few values, so that most repeat."""

from __future__ import annotations

import numpy as np

from pimsim.model.repeats_jit import first_alike


def _bits(rows: list[list[float]]) -> np.ndarray:
    return np.array(rows, dtype=float).reshape(len(rows), -1).view(np.int64)


def test_a_group_takes_the_first_group_with_the_same_rows_in_the_same_order() -> None:
    # groups: 0 = [a, b], 1 = [b, a] (same rows, other order), 2 = [a, b], 3 = [a], 4 = [b, a],
    # 5 = [a, b, a] (a longer group starting alike)
    a, b = [1.0, 2.0], [1.0, 3.0]
    rows = _bits([a, b, b, a, a, b, a, b, a, a, b, a])
    starts = np.array([0, 2, 4, 6, 7, 9, 12])
    assert first_alike(rows, starts, np.array([1])).tolist() == [0, 1, 0, 3, 1, 5]


def test_floats_are_compared_as_their_bits() -> None:
    # 0.0 and -0.0 are equal floats but differ in bits (x / -0.0 is -inf); a NaN is not equal
    # to itself as a float but its bits are
    rows = _bits([[0.0], [-0.0], [0.0], [np.nan], [np.nan]])
    assert first_alike(rows, np.arange(6), np.array([0])).tolist() == [0, 1, 0, 3, 3]


def test_first_alike_is_the_first_group_with_the_same_rows_on_random_groups() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        sizes = rng.integers(0, 4, size=rng.integers(1, 60))
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        width = int(rng.integers(1, 4))
        rows = rng.choice([0.5, 1.5, -0.0], size=(int(starts[-1]), width)).reshape(-1, width)
        seen: dict[bytes, int] = {}
        expected = []
        for g in range(len(sizes)):
            key = rows[starts[g] : starts[g + 1]].tobytes() + bytes([int(sizes[g])])
            expected.append(seen.setdefault(key, g))
        for fields in ([0], list(range(width)), []):  # the hash only picks the slot
            got = first_alike(rows.view(np.int64), starts, np.array(fields, dtype=np.int64))
            assert got.tolist() == expected


def test_a_lone_share_is_timed_as_beside_others() -> None:
    """A macro's time on its digital units is its own shares' (``unit_turns``): a share alone in
    the call gets the time it gets beside another macro's share, so a design's figure does not
    depend on its batch -- even when repeats leave one share to solve. The share: 2 blocks an
    image of periods 100 (full) and 60 (last) ns, 4 bits, shift-and-adds 8 ns a block and no
    add jobs: alone it takes (2 - 1) x 100 + 60 = 160 ns an image, and its own jobs (2 ns a bit
    every 25 ns) never wait for each other, so 160."""
    from pimsim.model.kernel import STAGES
    from pimsim.model.shared_jit import unit_turns

    def call(n: int) -> np.ndarray:
        stages = np.zeros((len(STAGES), n))
        stages[STAGES.index("mvm")], stages[STAGES.index("adc")] = 40.0, 20.0
        stages[STAGES.index("shift_add")] = 8.0
        full, ones = np.full(n, 100.0), np.ones(n)
        layers, none = np.arange(n, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return unit_turns(stages, full, np.full(n, 60.0), 2 * ones, 4 * ones, 8 * ones,
                          np.zeros(n), ones, 0.0, 0.0, layers, none, none, ones == 1,
                          layers, n)  # fmt: skip

    assert call(1)[0] == call(2)[0] == 160.0
