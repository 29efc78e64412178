"""Unified mode as in the paper: identical macros, one macro size searched over 32..512 crossbars."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pimsim.components import load_library
from pimsim.network.zoo import zoo_network
from synth.context import ComboContext
from synth.design import UNIFIED_SIZES, allowed_counts, assemble, unified_partition
from synth.explore import explore
from synth.settings import Combo, Settings

NET = zoo_network("resnet18-cifar")
LIB = load_library("pimsyn")


def test_sizes_are_the_papers() -> None:
    assert UNIFIED_SIZES[0] == 32 and UNIFIED_SIZES[-1] == 512 and len(UNIFIED_SIZES) == 16


def test_unified_partition_fills_macros_of_the_size() -> None:
    """Each layer is on the fewest even split of at most ``size`` crossbars per macro; a layer
    whose finest even split is larger (row blocks x dup macros) gets that finest split."""
    ctx = ComboContext.build(Combo(0, 0.3, 2, 128, 1), NET, LIB, 49)
    dup = np.full(len(ctx.weight), 2)
    for size in (32, 96, 512):
        partition = unified_partition(ctx, dup, size)
        assert all(owner == k for k, (owner, _) in enumerate(partition))  # no sharing
        for k, (_, n) in enumerate(partition):
            need = int(dup[k] * ctx.sets[k])
            counts = allowed_counts(int(ctx.row_blocks[k]), 2)
            fewer = [c for c in counts if c < n]
            assert need / n <= size or n == counts[-1]
            assert all(need / c > size for c in fewer)  # no smaller split would do
        macros = assemble(ctx, dup, partition)
        finest = int((ctx.sets // ctx.row_blocks).max())  # need / (row blocks x dup)
        assert macros.crossbars.max() <= max(size, finest)


def test_unified_exploration_makes_identical_macros_of_a_searched_size() -> None:
    ex = explore(NET, 20, replace(Settings(power_w=20).quick(), macros="unified"))
    groups = ex.best.hardware.macros
    assert (
        len({(g.crossbars, g.adcs, tuple(sorted(g.units.items())), g.buffer_kib) for g in groups})
        == 1
    )
    assert all(lm.shares_with is None for lm in ex.best.mapping.layers)  # type: ignore[union-attr]
