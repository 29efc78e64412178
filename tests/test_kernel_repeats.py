"""share_times gives a share the figures of the share before it only where every input of them is
the same, bit for bit: each share's figures are those it gets alone."""

from __future__ import annotations

import numpy as np

from pimsim.model.kernel_jit import share_times

# the arguments of share_times given per share
_PER_SHARE = {1, 2, 3, 4, 12, 14, 15, 16, 17, 18, 19, 20, 21}


def _stack() -> tuple:
    """Twelve weight shares of one layer (two crossbars of 128 columns a copy; blocks of 40
    output pixels, the last of 3), one after the other in crossbars (``start``: 0, 2, 4, ...);
    one timed stage (the load, row 0 of the work), 64 bits/ns in macros 0, 1, 7, 8, 9 and 32 in
    the others.

    Each share reads all its 256 columns in a full block; in its last block (crossbars 0 .. 5)
    shares 0-2 read 256, the others none. Against the share before it: s1 the same (macro 1's
    rate is macro 0's); s2 its rate; s3 its last block's columns; s4 its busiest ADC's columns
    (0 < 128); s5 -0.0 for 0.0 there (its conversions take -0.0 ns alone); s6 the same; s7 its
    rate; s8 its bit iterations; s9 its shift-and-add units; s10 not wired; s11 its fraction.
    Each difference changes a figure of the share alone."""
    n = 12
    work_tab = np.array([[10.0], [3.0]])  # (K = 2, one layer) work an item
    lay, glay = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    macro = np.array([0, 1, 2, 3, 4, 5, 6, 0, 7, 8, 9, 9])
    frac = np.array([0.25] * 11 + [0.5])
    items_f, full, last, blocks = np.array([163.0]), np.array([40]), np.array([3]), np.array([5])
    rate = np.array([[64.0, 64.0, 32.0, 32.0, 32.0, 32.0, 32.0, 64.0, 64.0, 64.0]])
    weight = np.ones(n, dtype=bool)
    wired = np.array([True] * 10 + [False] * 2)
    most = np.array([128.0] * 4 + [0.0, -0.0, -0.0] + [128.0] * 5)
    bits = np.array([4.0] * 8 + [8.0] * 4)
    sa_units = np.array([2.0] * 9 + [1.0] * 3)
    start = np.arange(n, dtype=np.int64) * 2
    crossbars = np.full(n, 2, dtype=np.int64)
    before = start * 128.0
    columns = np.full(n, 256.0)
    set_crossbars, col_start = np.array([2]), np.array([0])
    col_prefix = np.array([0.0, 128.0, 256.0])
    return (
        work_tab, lay, glay, macro, frac, items_f, full, last, blocks, np.array([0]),
        np.array([0]), rate, weight, 400.0, wired, most, bits, sa_units, columns, start,
        crossbars, before, set_crossbars, col_prefix, col_start, 0.5, 8.0, 1.0,
    )  # fmt: skip


def _alone(a: tuple, s: int) -> tuple:
    """share_times of share ``s`` of the stack ``a`` alone."""
    return share_times(*(x[s : s + 1] if i in _PER_SHARE else x for i, x in enumerate(a)))


def test_each_share_as_alone() -> None:
    a = _stack()
    together = share_times(*a)
    for s in range(len(a[1])):
        for got, want in zip(together, _alone(a, s), strict=True):
            assert got[..., s].tobytes() == want[..., 0].tobytes(), s


def test_every_difference_shows() -> None:
    # each share but s1 and s6 differs from the share before it in a figure of its own (so a
    # share wrongly given its predecessor's figures fails the test above)
    a = _stack()
    alone = [_alone(a, s) for s in range(len(a[1]))]
    differs = [
        any(x.tobytes() != y.tobytes() for x, y in zip(alone[s], alone[s - 1], strict=True))
        for s in range(1, len(alone))
    ]
    assert differs == [False, True, True, True, True, False, True, True, True, True, True]
    # the conversions of s5 take -0.0 ns: bits x min(256 columns, -0.0) / 0.5
    adc = alone[5][1][2, 0]
    assert adc == 0.0 and np.signbit(adc)
