"""The compiled loops' sums are numpy's, to the last bit."""

from __future__ import annotations

import numpy as np

from synth.sums import pairwise_sum


def test_pairwise_sum_is_numpys_sum_of_a_run() -> None:
    # numpy sums a run pairwise (8 running sums from 8 values, halves beyond 128): on values of
    # very different magnitudes the order shows in the last bits, so every length class is tried,
    # starting anywhere in the array
    rng = np.random.default_rng(0)
    lengths = [*range(0, 300), 511, 512, 513, 1000, 1025, 4097, 10_000]
    for n in lengths:
        for _ in range(4):
            a = rng.random(n + 5) * 10.0 ** rng.integers(-6, 6, n + 5)
            s = int(rng.integers(0, 5))
            assert pairwise_sum(a, s, n) == np.add.reduce(a[s : s + n]), n
