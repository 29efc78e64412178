"""The per-macro arrays of a batch of candidates (:func:`synth.design_loops.macro_arrays`): each
macro's scratchpad figures looked up by its size, worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from synth.design_loops import macro_arrays


def test_macro_arrays_look_each_size_up() -> None:
    # sizes 16, 32, 64 KiB with ports of 1, 2, 4 bits/ns and (read, write) pJ per bit
    # (0.1, 0.2), (0.3, 0.4), (0.5, 0.6); macros of 32, 16, 64 and 32 KiB get rows 1, 0, 2, 1
    sizes = np.array([16, 32, 64])
    port = np.array([1.0, 2.0, 4.0])
    bit_pj = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    adcs, units = np.array([1, 2, 3, 4]), np.array([[1, 0], [2, 1], [0, 0], [5, 6]])
    a, u, p, pj = macro_arrays(np.array([32, 16, 64, 32]), adcs, units, sizes, port, bit_pj)
    assert a.dtype == u.dtype == np.float64
    assert a.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert u.tolist() == [[1.0, 0.0], [2.0, 1.0], [0.0, 0.0], [5.0, 6.0]]
    assert p.tolist() == [2.0, 1.0, 4.0, 2.0]
    assert pj.tolist() == [[0.3, 0.4], [0.1, 0.2], [0.5, 0.6], [0.3, 0.4]]


@pytest.mark.parametrize("kib", [48, 128])
def test_macro_arrays_refuse_a_size_the_combination_lacks(kib: int) -> None:
    # 48 falls between two sizes, 128 above them all
    with pytest.raises(ValueError, match="scratchpad size"):
        macro_arrays(
            np.array([kib]),
            np.array([1]),
            np.array([[1]]),
            np.array([16, 32, 64]),
            np.ones(3),
            np.ones((3, 2)),
        )
