"""share_times copies a share's figures from the share before it only where every input of them
is the same, bit for bit; each share's figures are those it gets alone."""

from __future__ import annotations

import numpy as np

from pimsim.model.kernel_jit import _repeats, share_times


def _stack() -> tuple:
    """Eight weight shares of one layer (two crossbars of 128 columns a copy; blocks of 4 output
    pixels, the last of 3), each a quarter of the layer, one after the other in crossbars
    (``start``: 0, 2, 4, ...); one timed stage (the load, row 0 of the work) whose rate is 64
    bits/ns in macros 0, 1, 7 and 32 in the others."""
    n = 8
    work_tab = np.array([[10.0], [3.0]])  # (K = 2, one layer) work an item
    lay, glay = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    macro = np.array([0, 1, 2, 3, 4, 5, 6, 0])
    frac = np.full(n, 0.25)
    items_f, full, last, blocks = np.array([19.0]), np.array([4]), np.array([3]), np.array([5])
    rate = np.array([[64.0, 64.0, 32.0, 32.0, 32.0, 32.0, 32.0]])
    weight, wired = np.ones(n, dtype=bool), np.ones(n, dtype=bool)
    most = np.array([128.0, 128.0, 128.0, 128.0, 0.0, -0.0, -0.0, 128.0])
    bits, sa_units = np.full(n, 4.0), np.full(n, 2.0)
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


def test_repeats_by_hand() -> None:
    a = _stack()
    (_, lay, glay, macro, frac, _, full, last, _, _, _, rate, weight, _, wired, most, bits,
     sa_units, columns, start, crossbars, before, set_crossbars, col_prefix, col_start,
     *_) = a  # fmt: skip
    flags = _repeats(lay, glay, macro, rate, frac, weight, wired, most, bits, sa_units, full,
                     last, start, crossbars, columns, before, set_crossbars, col_prefix,
                     col_start)  # fmt: skip
    # columns read (full block of 4 pixels reaching crossbar 8, last of 3 reaching 6):
    # s0 (256, 256), s1 (256, 256), s2 (256, 256), s3 (256, 0), s4..s7 (0, 0)
    # s0: the first; s1: macro 1's rates are macro 0's; s2: macro 2's rate differs;
    # s3: its last block reads no column; s4: its ADC's columns (0) differ (128);
    # s5: -0.0 is not 0.0; s6: all as s5; s7: macro 0 (64) against macro 6 (32)
    assert flags.tolist() == [False, True, False, False, False, False, True, False]


def test_each_share_as_alone() -> None:
    a = _stack()
    together = share_times(*a)
    assert np.isfinite(together[1]).all()
    for s in range(len(a[1])):
        one = [x[s : s + 1] if i in _PER_SHARE else x for i, x in enumerate(a)]
        alone = share_times(*one)
        for got, want in zip(together, alone, strict=True):
            assert got[..., s].tobytes() == want[..., 0].tobytes()


# the arguments of share_times given per share
_PER_SHARE = {1, 2, 3, 4, 12, 14, 15, 16, 17, 18, 19, 20, 21}
