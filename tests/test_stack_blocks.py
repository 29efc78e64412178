"""Each batch layer's first share and blocks (:func:`pimsim.model.stack.layer_blocks`), worked
out by hand."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from pimsim.model.stack import lay_out, layer_blocks


def test_layer_blocks_worked_by_hand() -> None:
    # two designs of a network of 3 layers (items per image 10, 2, 7); design 0 has layer 0 on
    # 2 shares and the others on one, design 1 one share each: batch layers (design x 3 + layer)
    # of the shares 0 0 1 2 | 3 4 5, so each batch layer's first share is 0 2 3 4 5 6 and 7 ends
    items = np.array([10, 2, 7])
    st = SimpleNamespace(
        layer=np.array([0, 0, 1, 2, 3, 4, 5]), per_block=np.array([3, 5, 7, 1, 1, 2]), count=2
    )
    layer_start, blocks, full, last = layer_blocks(st, items)
    assert layer_start.tolist() == [0, 2, 3, 4, 5, 6, 7]
    # 10 items by 3: 4 blocks, 3 in a full one, 10 - 3 x 3 = 1 in the last
    # 2 items by 5 (more per block than items): 1 block of 2, which is also the last
    # 7 by 7: 1 block of 7;  10 by 1: 10 blocks of 1;  2 by 1: 2 of 1;  7 by 2: 4, 2, last 1
    assert blocks.tolist() == [4, 1, 1, 10, 2, 4]
    assert full.tolist() == [3, 2, 7, 1, 1, 2]
    assert last.tolist() == [1, 2, 7, 1, 1, 1]


def test_lay_out_worked_by_hand() -> None:
    # design 0: shares on layers 0 0 1 in its macros 0 1 1 (2 macros); design 1: layers 0 1 in
    # its macros 0 2 (3 macros), ADCs not wired to weights. Network of 2 layers.
    lay = lay_out(
        2,
        [np.array([0, 0, 1]), np.array([0, 1])],
        [np.array([0, 1, 1]), np.array([0, 2])],
        np.array([2, 3]),
        np.array([True, False]),
    )
    assert lay["share_start"].tolist() == [0, 3, 5]
    assert lay["macro_start"].tolist() == [0, 2, 5]
    assert lay["share_design"].tolist() == [0, 0, 0, 1, 1]
    assert lay["layer"].tolist() == [0, 0, 1, 2, 3]  # design x 2 + layer
    assert lay["share_macro"].tolist() == [0, 1, 1, 2, 4]  # design 1's macros from 2
    assert lay["weights_wired"].tolist() == [True, True, True, False, False]


def test_lay_out_refuses_shares_without_macros() -> None:
    # three shares' layers, one share's macro: the compiled pass reads both by share
    with pytest.raises(ValueError, match="3 shares' layers but 1 macros"):
        lay_out(3, [np.array([0, 1, 2])], [np.array([0])], np.array([1]), np.array([True]))
