"""The scratchpad figures of a batch's macros (:func:`synth.design_loops.buffer_figures`), each
looked up by its size, worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from synth.design_loops import buffer_figures


def test_buffer_figures_look_each_size_up() -> None:
    # sizes 16, 32, 64 KiB with ports of 1, 2, 4 bits/ns and (read, write) pJ per bit
    # (0.1, 0.2), (0.3, 0.4), (0.5, 0.6); macros of 32, 16, 64 and 32 KiB get rows 1, 0, 2, 1
    sizes = np.array([16, 32, 64])
    port = np.array([1.0, 2.0, 4.0])
    bit_pj = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    p, pj = buffer_figures(np.array([32, 16, 64, 32]), sizes, port, bit_pj)
    assert p.tolist() == [2.0, 1.0, 4.0, 2.0]
    assert pj.tolist() == [[0.3, 0.4], [0.1, 0.2], [0.5, 0.6], [0.3, 0.4]]


@pytest.mark.parametrize("kib", [48, 128])
def test_buffer_figures_refuse_a_size_the_combination_lacks(kib: int) -> None:
    # 48 falls between two sizes, 128 above them all
    with pytest.raises(ValueError, match="scratchpad size"):
        buffer_figures(np.array([kib]), np.array([16, 32, 64]), np.ones(3), np.ones((3, 2)))
