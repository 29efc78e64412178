"""The compiled loops' sums are numpy's, to the last bit."""

from __future__ import annotations

import random

import numpy as np
import pytest

from pimsim.components import load_library
from pimsim.model.inventory import PartCounts, stocks
from pimsim.model.kernel import UNITS
from pimsim.model.pricing import COMPONENTS
from pimsim.model.sums_jit import pairwise_sum
from pimsim.network.zoo import zoo_network
from synth.allocate import Allocation, allocate_batch
from synth.context import ComboContext
from synth.design import inventory_batch
from synth.layout import assemble_batch, default_partition
from synth.sample import random_candidates
from synth.settings import Combo


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


def test_inventory_of_a_batch_is_each_allocations_stock_summed_part_by_part() -> None:
    # the one inventory of each allocation alone (pimsim.model.inventory.stocks of its counts:
    # scratchpad sizes in the order of their first macro), its parts' figures added left to
    # right, against the compiled loop over the whole batch; VGG13's designs here have
    # scratchpads of 64, 128 and 256 KiB, first met in different orders
    ctx = ComboContext.build(
        Combo(0, 0.4, 2, 256, 1), zoo_network("vgg13"), load_library("pimsyn"), 49.0
    )
    dups, parts = random_candidates(ctx, 49.0, 6, random.Random(3), tries=600)
    allocs = allocate_batch(ctx, dups, assemble_batch(ctx, dups, parts), 49.0, False)
    allocs = [a for a in allocs if isinstance(a, Allocation)]
    assert len(allocs) >= 2
    stocked = inventory_batch(ctx, allocs)
    for b, a in enumerate(allocs):
        sizes: dict[int, int] = {}
        for kib in a.buffer_kib.tolist():
            sizes[kib] = sizes.get(kib, 0) + 1
        units = {k: float(a.units[:, j].sum()) for j, k in enumerate(UNITS)}
        counts = PartCounts(
            float(a.crossbars.sum()),
            float(a.adcs.sum()),
            units,
            sizes,
            float(len(a.adcs)),
            {},
            True,
            1.0,
        )
        peak_w = area_mm2 = 0.0
        static_w = [0.0] * len(COMPONENTS)
        for s in stocks(ctx.parts, ctx.combo.xbar, counts):
            peak_w += s.peak_power_w * s.count
            area_mm2 += (s.area_mm2 or 0.0) * s.count
            static_w[COMPONENTS.index(s.component)] += s.static_power_w * s.count
        assert stocked.peak_power_w[b] == peak_w
        assert stocked.area_mm2[b] == area_mm2
        assert stocked.static_w[b].tolist() == static_w


def test_layout_refuses_partitions_it_cannot_index() -> None:
    # the compiled layout reads owners and macro counts without bounds checks: an owner outside
    # the weight layers or a count of 0 is refused before it
    ctx = ComboContext.build(
        Combo(0, 0.3, 2, 256, 1), zoo_network("alexnet"), load_library("pimsyn"), 49.0
    )
    dup = np.ones(len(ctx.weight), dtype=int)
    good = default_partition(ctx, dup)
    assert len(assemble_batch(ctx, [dup], [good])) == 1
    for bad in (((len(good), 1), *good[1:]), ((-1, 1), *good[1:]), ((0, 0), *good[1:])):
        with pytest.raises(ValueError, match="owners must be weight layers"):
            assemble_batch(ctx, [dup], [bad])
