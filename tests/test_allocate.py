"""Stage 4's allocation is the closed form at the period it reports, and that period is the shortest
the budgets allow, to the bisection's tolerance.

The counts are worked out again here by a plain loop over each candidate's shares (work per macro
and kind, then ``max(ceil(work / rate / T - 1e-9), minimum)``), independently of the flat arrays
:func:`synth.allocate.allocate_batch` computes them with; the budgets are checked through the
inventory.
"""

from __future__ import annotations

import dataclasses
import math
import random

import numpy as np
import pytest

from pimsim.components import load_library
from pimsim.model.actions import Action
from pimsim.model.kernel import UNIT_COLUMNS, K
from pimsim.network.zoo import zoo_network
from synth.allocate import Allocation, Allocations, allocate_batch, interface_bound_ns
from synth.context import ComboContext
from synth.design import inventory_batch, inventory_figures
from synth.layout import Macros, assemble_batch
from synth.sample import random_candidates
from synth.settings import Combo


def _counts_by_hand(ctx: ComboContext, macros: Macros, target_ns: float) -> np.ndarray:
    """(macros, 1 + units) ADCs and units of each kind per macro at ``target_ns``: the work of
    each kind summed per macro share by share, over the rate, rounded up, at least one where
    there is work (and one ADC wherever there are crossbars)."""
    t = ctx.tables
    cols = [K[Action.ADC], *UNIT_COLUMNS]
    rates = [ctx.rates.adc_ghz, *ctx.rates.unit_rate.tolist()]
    work = [[0.0] * len(cols) for _ in range(len(macros.crossbars))]
    for layer, macro, frac in zip(
        macros.share_layer.tolist(),
        macros.share_macro.tolist(),
        macros.share_frac.tolist(),
        strict=True,
    ):
        for j, col in enumerate(cols):
            work[macro][j] += float(t.work[layer, col]) * (float(t.items[layer]) * frac)
    out = np.zeros((len(work), len(cols)))
    for m, row in enumerate(work):
        for j, w in enumerate(row):
            least = 1 if w > 0 or (j == 0 and macros.crossbars[m] > 0) else 0
            need = math.ceil(w / rates[j] / target_ns - 1e-9) if w > 0 else 0
            out[m, j] = max(need, least)
    return out


def _crossbar_bound_ns(ctx: ComboContext, dup: np.ndarray) -> float:
    """The period below which no ADC helps: the slowest layer's crossbar reads, or the
    interface."""
    t = ctx.tables
    per_block = np.ones(len(t.names), dtype=int)
    per_block[ctx.weight] = dup
    reads = np.ceil(t.items / per_block) * t.bit_iters * ctx.rates.read_ns * t.weight
    return max(float(reads.max()), interface_bound_ns(ctx))


@pytest.mark.parametrize(
    ("name", "ratio", "made_for_w", "power_w"),
    [("alexnet", 0.3, 49.0, 46.0), ("resnet18", 0.2, 64.0, 60.0)],
)
def test_allocation_is_the_closed_form_at_the_shortest_period_that_fits(
    name: str, ratio: float, made_for_w: float, power_w: float
) -> None:
    ctx = ComboContext.build(
        Combo(0, ratio, 2, 256, 1), zoo_network(name), load_library("pimsyn"), made_for_w
    )
    dups, parts = random_candidates(ctx, made_for_w, 12, random.Random(name), tries=600)
    macros = assemble_batch(ctx, dups, parts)
    allocs = allocate_batch(ctx, dups, macros, power_w, False)
    bound_by_budget = 0
    for dup, m, alloc in zip(dups, macros, allocs, strict=True):
        if not isinstance(alloc, Allocation):
            continue
        counts = _counts_by_hand(ctx, m, alloc.target_ns)
        assert np.array_equal(alloc.adcs, counts[:, 0])
        assert np.array_equal(alloc.units, counts[:, 1:])
        peak_w, _ = inventory_figures(ctx, alloc)
        assert peak_w <= power_w * (1 + 1e-12)
        assert alloc.peak_power_w == pytest.approx(peak_w, rel=1e-12)
        if alloc.target_ns <= _crossbar_bound_ns(ctx, dup):
            continue  # at the crossbars' own bound: no shorter period exists
        # the bisection stops within 1e-4 of the period: a period 2e-4 shorter does not fit
        shorter = _counts_by_hand(ctx, m, alloc.target_ns * (1 - 2e-4))
        faster = dataclasses.replace(
            alloc, adcs=shorter[:, 0].astype(int), units=shorter[:, 1:].astype(int)
        )
        assert inventory_figures(ctx, faster)[0] > power_w
        bound_by_budget += 1
    assert bound_by_budget >= 3  # the check above was not skipped for all


def test_a_batchs_totals_and_arrays_are_its_allocations() -> None:
    """``allocate_batch``'s :class:`~synth.allocate.Allocations`: each candidate's macro, ADC
    and crossbar totals are its allocation's; the inventory of the whole batch read from its
    arrays is the one of its allocations concatenated."""
    ctx = ComboContext.build(
        Combo(0, 0.3, 2, 256, 1), zoo_network("alexnet"), load_library("pimsyn"), 49.0
    )
    dups, parts = random_candidates(ctx, 49.0, 8, random.Random(3), tries=600)
    allocs = allocate_batch(ctx, dups, assemble_batch(ctx, dups, parts), 49.0, False)
    assert isinstance(allocs, Allocations)
    assert all(isinstance(a, Allocation) for a in allocs)
    for b, a in enumerate(allocs):
        assert allocs.macros[b] == len(a.adcs) == len(a.crossbars)
        assert allocs.adcs[b] == sum(a.adcs.tolist())
        assert allocs.crossbars[b] == sum(a.crossbars.tolist())
    whole, one_by_one = inventory_batch(ctx, allocs), inventory_batch(ctx, list(allocs))
    for name in ("peak_power_w", "area_mm2", "static_w"):
        assert np.array_equal(getattr(whole, name), getattr(one_by_one, name))
    # a batch with an infeasible candidate (whose arrays are not written) is refused, not read
    starved = allocate_batch(ctx, dups, assemble_batch(ctx, dups, parts), 0.1, False)
    assert not any(isinstance(a, Allocation) for a in starved)
    with pytest.raises(ValueError, match="infeasible"):
        inventory_batch(ctx, starved)
