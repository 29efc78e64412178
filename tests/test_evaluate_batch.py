"""A batch of designs evaluated at once gives each design exactly the figures it gets alone.

The synthesizer scores its candidates in batches (:func:`pimsim.model.evaluate.evaluate_batch`,
:func:`synth.design.score_batch`); the report path evaluates one design. Over many random candidates
of several zoo networks (duplication by the annealing's move, partitions by the EA's mutations, so
shared macros and multi-macro layers occur), every figure -- period and what sets it, latency,
stage times, energy by component, action counts, flit-hops, the allocation -- must be equal with
``==`` whether a design is evaluated alone or in the middle of a shuffled batch.
"""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from pimsim.arch.schema import Architecture
from pimsim.arch.simple import simple_design
from pimsim.components import load_library
from pimsim.model.design import design_from_plan
from pimsim.model.evaluate import (
    DesignArrays,
    Evaluation,
    NetworkTables,
    evaluate,
    evaluate_batch,
)
from pimsim.model.plan import Plan
from pimsim.network.graph import Network
from pimsim.network.zoo import zoo_network
from synth.context import ComboContext
from synth.design import (
    Allocation,
    Infeasible,
    Partition,
    allocate,
    assemble,
    design_arrays,
    score,
    score_batch,
)
from synth.sample import random_candidates
from synth.settings import Combo


def _same(a: object, b: object) -> bool:
    """Field by field equality of two frozen results (arrays element by element, exactly)."""
    assert type(a) is type(b)
    if isinstance(a, Evaluation):  # a view of its batch's figures: each figure as read
        names = Evaluation.FIELDS + ("energy_pj",)
    else:
        names = tuple(f.name for f in dataclasses.fields(a))  # type: ignore[arg-type]
    for name in names:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray):
            if x.shape != y.shape or not np.array_equal(x, y):
                return False
        elif dataclasses.is_dataclass(x):
            if not _same(x, y):
                return False
        elif x != y:
            return False
    return True


def _candidates(
    name: str, power_w: float, count: int, rng: random.Random, ratio: float = 0.3
) -> tuple[ComboContext, list[np.ndarray], list[Partition]]:
    """``count`` random candidates that fit ``power_w``, made the way the search makes them
    (budget-tight duplication vectors, a few EA mutations of the default partition, pairs sharing
    macros included)."""
    ctx = ComboContext.build(
        Combo(0, ratio, 2, 256, 1), zoo_network(name), load_library("pimsyn"), power_w
    )
    dups, parts = random_candidates(ctx, power_w, count, rng, tries=40 * count)
    return ctx, dups, parts


@pytest.mark.parametrize(
    ("name", "power_w", "ratio", "count"),
    [("alexnet", 49.0, 0.3, 24), ("resnet18", 64.0, 0.2, 20), ("vgg13", 100.0, 0.2, 8)],
)
def test_batched_and_single_evaluation_are_bit_identical(
    name: str, power_w: float, ratio: float, count: int
) -> None:
    rng = random.Random(f"batch/{name}")
    ctx, dups, parts = _candidates(name, power_w, count, rng, ratio)
    arrays: list[DesignArrays] = []
    for dup, p in zip(dups, parts, strict=True):
        macros = assemble(ctx, dup, p)
        arrays.append(design_arrays(ctx, dup, macros, allocate(ctx, dup, macros, power_w, False)))
    assert len(arrays) == count
    # the candidates really differ in the ways batching must keep apart
    assert len({len(d.macros.adcs) for d in arrays}) > 1
    assert any(np.bincount(d.share_macro).max() > 1 for d in arrays)
    alone = [evaluate(ctx.tables, d) for d in arrays]
    order = list(range(len(arrays)))
    rng.shuffle(order)
    together = evaluate_batch(ctx.tables, [arrays[i] for i in order], latency=True)
    for i, ev in zip(order, together, strict=True):
        assert _same(alone[i], ev), f"design {i} differs in a batch"
    # without latency: the same period and energy, no latency figures
    fast = evaluate_batch(ctx.tables, arrays)
    for a, ev in zip(alone, fast, strict=True):
        assert ev.period_ns == a.period_ns and ev.period_set_by == a.period_set_by
        assert np.array_equal(ev.energy_by_component_pj, a.energy_by_component_pj)
        assert ev.latency_ns == 0.0 and not ev.finish_ns.any()


@pytest.mark.parametrize(
    ("name", "power_w", "slower"), [("alexnet", 49.0, 5), ("vgg13", 100.0, 30)]
)
def test_a_slow_noc_batches_exactly_and_finds_the_busiest_link(
    name: str, power_w: float, slower: int
) -> None:
    """With a slower NoC (flit time scaled) links, ports and layers set the periods. The batch
    lays link grids only along the mesh lines whose traffic could exceed a design's period and
    bounds the links idled by cross packets only where a row's and a column's traffic could: every
    figure is still the one the design gets alone, and where a link sets the period it is the
    busiest link of the design's full grids or the longest cross-packet bound over all its links
    (all its flows on every line), to the last bit."""
    from pimsim.model.crossing import cross_idle_bounds
    from pimsim.model.flows import batch_flows
    from pimsim.model.kernel import busiest_link, flow_ends, link_of
    from pimsim.model.stack import Stack

    rng = random.Random("slow noc")
    ctx, dups, parts = _candidates(name, power_w, 12, rng, 0.2)
    arrays = []
    for dup, p in zip(dups, parts, strict=True):
        macros = assemble(ctx, dup, p)
        d = design_arrays(ctx, dup, macros, allocate(ctx, dup, macros, power_w, False))
        arrays.append(dataclasses.replace(d, flit_ns=d.flit_ns * slower))
    t = ctx.tables
    alone = [evaluate(t, d) for d in arrays]
    order = list(range(len(arrays)))
    rng.shuffle(order)
    together = evaluate_batch(t, [arrays[i] for i in order], latency=True)
    for i, ev in zip(order, together, strict=True):
        assert _same(alone[i], ev), f"design {i} differs in a batch"
    linked = idled = 0
    for d, ev in zip(arrays, alone, strict=True):
        if not ev.period_set_by.startswith("NoC link"):
            continue
        st = Stack.of(t, [d])
        layer_start = np.searchsorted(st.layer, np.arange(len(t.names) + 1))
        src, dst, flits, _, _, made = batch_flows(t, st, layer_start, d.flit_bits)
        busy_ns, link = busiest_link(src, dst, flits, d.positions, d.mesh, d.flit_ns)
        # the cross packets' bound over every link of the design (no line left out)
        side = max(d.mesh)
        packets = (-(-t.items // st.per_block))[made].astype(float)
        ends = flow_ends(src, dst, d.positions)
        one = np.zeros(len(src), dtype=int)
        cross, cell = cross_idle_bounds(
            ends, flits, packets, one, np.ones(1, bool), side, d.flit_ns
        )
        assert ev.period_ns == max(busy_ns, cross[0])
        if cross[0] > busy_ns:
            grid, rest = divmod(int(cell[0]), side * side)
            link = link_of(grid, *divmod(rest, side))
            idled += 1
        assert ev.period_set_by == f"NoC link {link[0]}->{link[1]}"
        linked += 1
    # AlexNet: 6 of the 12 (4 by ports, 2 by layers), none idled by cross packets; VGG13: 6 (4 by
    # two layers taking turns, 2 by layers), 2 of them idled by cross packets
    assert 3 <= linked < len(arrays)
    assert idled >= (name == "vgg13")


def test_a_large_batch_is_evaluated_in_parts_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch of more than PART_SHARES shares is evaluated in consecutive parts (kept in the
    cache): each design's figures are those of the whole batch at once."""
    import pimsim.model.stack as stack_module

    ctx, dups, parts = _candidates("alexnet", 49.0, 10, random.Random("parts"))
    arrays = []
    for dup, p in zip(dups, parts, strict=True):
        macros = assemble(ctx, dup, p)
        arrays.append(design_arrays(ctx, dup, macros, allocate(ctx, dup, macros, 49.0, False)))
    whole = evaluate_batch(ctx.tables, arrays, latency=True)
    monkeypatch.setattr(stack_module, "PART_SHARES", 200)  # 2 or 3 designs a part
    assert len(stack_module.batch_parts([len(d.share_layer) for d in arrays])) >= 4
    in_parts = evaluate_batch(ctx.tables, arrays, latency=True)
    assert all(_same(a, b) for a, b in zip(whole, in_parts, strict=True))


def test_batched_and_single_scoring_are_bit_identical() -> None:
    """Stage 4 side by side (macros end to end, one bisection per candidate) and the kernel together
    give each candidate its allocation and figures alone; infeasible ones stay infeasible."""
    rng = random.Random("score")
    ctx, dups, parts = _candidates("alexnet", 49.0, 24, rng)
    power_w = 46.0  # a budget below the one they were made for: some cannot fit
    batch = score_batch(ctx, dups, parts, power_w, False)
    kinds = set()
    for dup, p, together in zip(dups, parts, batch, strict=True):
        try:
            alone = score(ctx, dup, p, power_w, False)
        except Infeasible as exc:
            assert isinstance(together, Infeasible) and together.min_power_w == exc.min_power_w
            kinds.add("infeasible")
            continue
        assert not isinstance(together, Infeasible)
        assert isinstance(together.alloc, Allocation)
        assert _same(alone.alloc, together.alloc) and _same(alone.evaluation, together.evaluation)
        assert (alone.tops_per_w, alone.dup, alone.partition) == (
            together.tops_per_w,
            together.dup,
            together.partition,
        )
        kinds.add("scored")
    assert kinds == {"scored", "infeasible"}


def test_the_searchs_stack_is_its_designs_laid_end_to_end() -> None:
    """Offsets and round trips: the search's stack (``design_stack``, laid out at once from its
    batch arrays) has every field, offsets included (first shares and macros, batch layers and
    macros), of the same candidates' own ``DesignArrays`` laid end to end (``Stack.of``); a part
    of it is ``Stack.of`` of those designs; ``Stack.of(ds).design(b)`` gives ``ds[b]`` back; and
    its designs evaluate as they do alone. Both sides are this code's: that the search's figures
    are the written design's, estimated through the mapping (``Plan``), is checked independently
    by tests/test_synth_explore.py::test_quick_exploration_gives_a_design_that_loads_and_estimates."""
    from pimsim.model.evaluate import evaluate_stack
    from pimsim.model.stack import Stack
    from synth.design import allocate_batch, assemble_batch, design_stack, inventory_batch

    rng = random.Random("stack")
    ctx, dups, parts = _candidates("resnet18", 64.0, 10, rng, 0.2)
    macros = [assemble(ctx, dup, p) for dup, p in zip(dups, parts, strict=True)]
    allocs = [allocate(ctx, dup, m, 64.0, False) for dup, m in zip(dups, macros, strict=True)]
    st = design_stack(ctx, dups, macros, allocs, inventory_batch(ctx, allocs).static_w)
    arrays = [design_arrays(ctx, *x) for x in zip(dups, macros, allocs, strict=True)]
    laid = Stack.of(ctx.tables, arrays)
    for f in dataclasses.fields(Stack):
        assert _same_value(getattr(st, f.name), getattr(laid, f.name)), f.name
    # as the search hands it a batch: one layout and one allocation call, their arrays read
    batch = assemble_batch(ctx, dups, parts)
    held = allocate_batch(ctx, dups, batch, 64.0, False)
    whole = design_stack(ctx, dups, batch, held, inventory_batch(ctx, held).static_w)
    for f in dataclasses.fields(Stack):
        assert _same_value(getattr(whole, f.name), getattr(laid, f.name)), f.name
    n = len(ctx.tables.names)
    part = st.part(3, 7, n)
    for f in dataclasses.fields(Stack):
        assert _same_value(
            getattr(part, f.name), getattr(Stack.of(ctx.tables, arrays[3:7]), f.name)
        )
    for b, d in enumerate(arrays):
        assert _same(laid.design(b, n), d)
    stacked = evaluate_stack(ctx.tables, st, latency=True)
    alone = [evaluate(ctx.tables, d) for d in arrays]
    assert all(_same(a, b) for a, b in zip(alone, stacked, strict=True))


def _same_value(x: object, y: object) -> bool:
    """Equal values of the same type (arrays: dtype, shape and elements)."""
    if isinstance(x, np.ndarray):
        return isinstance(y, np.ndarray) and x.dtype == y.dtype and np.array_equal(x, y)
    if dataclasses.is_dataclass(x):
        return _same(x, y)
    return type(x) is type(y) and x == y


def _spread_pair() -> tuple[list[Architecture], list[DesignArrays], Network]:
    net = zoo_network("resnet18")
    lib = load_library("pimsyn")
    archs, arrays = [], []
    for dup in (2, 4):
        dups = {x.name: dup for x in net.weight_layers if x.kind.value == "conv"}
        arch = simple_design(net, "resnet18", lib, dups=dups, max_crossbars=64)
        assert arch.mapping is not None
        spread = [x.name for x in net.weight_layers][1:6]
        arch = arch.model_copy(
            update={"mapping": arch.mapping.model_copy(update={"spread": spread})}
        )
        archs.append(arch)
        arrays.append(design_from_plan(Plan(arch, net)))
    return archs, arrays, net


def test_report_designs_with_spread_layers_batch_exactly() -> None:
    """Two report-path designs of one network (spread producers: parts sent share to share)."""
    _, arrays, net = _spread_pair()
    assert all(d.spread is not None and d.spread.any() for d in arrays)
    tables = NetworkTables.build(net, 128, 2, 1)
    alone = [evaluate(tables, d) for d in arrays]
    together = evaluate_batch(tables, [arrays[1], arrays[0], arrays[1]], latency=True)
    assert _same(alone[1], together[0]) and _same(alone[0], together[1])
    assert _same(alone[1], together[2])


def test_a_stacked_design_comes_back_with_its_wiring_and_spread() -> None:
    """``Stack.of(ds).design(b)`` is ``ds[b]``: a spread design, one without a spread (None), one
    whose spread spreads nothing (all False: no design of the stack spreads, yet it comes back
    an array), each with its own ADC wiring."""
    from pimsim.model.stack import Stack

    _, arrays, net = _spread_pair()
    tables = NetworkTables.build(net, 128, 2, 1)
    n = len(tables.names)
    d = arrays[0]
    none = dataclasses.replace(d, spread=None, adc_wiring="weights")
    flat = dataclasses.replace(arrays[1], spread=np.zeros(n, bool), adc_wiring="slots")
    assert d.adc_wiring != none.adc_wiring
    for ds in ([d, none, flat], [none, flat]):
        st = Stack.of(tables, ds)
        assert (st.spread is None) == (len(ds) == 2)
        for b, x in enumerate(ds):
            back = st.design(b, n)
            assert (back.spread is None) == (x.spread is None) and back.adc_wiring == x.adc_wiring
            assert _same(back, x)


def test_a_batch_must_share_its_rates() -> None:
    ctx, dups, parts = _candidates("alexnet", 49.0, 1, random.Random(0))
    macros = assemble(ctx, dups[0], parts[0])
    d = design_arrays(ctx, dups[0], macros, allocate(ctx, dups[0], macros, 60.0, False))
    other = dataclasses.replace(d, flit_ns=d.flit_ns * 2)
    with pytest.raises(ValueError, match="share their rates"):
        evaluate_batch(ctx.tables, [d, other])


def test_batched_inventory_is_the_inventory() -> None:
    """Peak power, area and static power of a batch of allocations (scaled per-part figures,
    summed as arrays) equal those of each allocation's own inventory (``stocks`` of its part
    counts, summed part by part), with ``==``; some designs use scratchpads of two sizes."""
    from collections import Counter

    from pimsim.model.inventory import PartCounts, stocks
    from pimsim.model.kernel import UNITS
    from pimsim.model.pricing import COMPONENTS
    from synth.design import inventory_batch

    ctx, dups, parts = _candidates("resnet18", 64.0, 12, random.Random("inventory"), 0.2)
    allocs = []
    for dup, p in zip(dups, parts, strict=True):
        allocs.append(allocate(ctx, dup, assemble(ctx, dup, p), 64.0, False))
    assert max(len(set(a.buffer_kib.tolist())) for a in allocs) > 1
    batch = inventory_batch(ctx, allocs)
    for i, a in enumerate(allocs):
        units = a.units.sum(axis=0).tolist()
        counts = PartCounts(
            float(a.crossbars.sum()),
            float(a.adcs.sum()),
            {k: float(units[j]) for j, k in enumerate(UNITS)},
            dict(Counter(a.buffer_kib.tolist())),
            float(len(a.adcs)),  # one router per macro
            {},
            chip_noc=True,
            interfaces=1.0,
        )
        stock = stocks(ctx.parts, ctx.combo.xbar, counts)
        static = np.zeros(len(COMPONENTS))
        for s in stock:
            static[COMPONENTS.index(s.component)] += s.static_power_w * s.count
        assert batch.peak_power_w[i] == sum(s.peak_power_w * s.count for s in stock)
        assert batch.area_mm2[i] == sum((s.area_mm2 or 0.0) * s.count for s in stock)
        assert np.array_equal(batch.static_w[i], static)


def test_the_layer_bound_is_the_numpy_statement() -> None:
    """``bounds.layer_bound`` (one compiled pass) against the rule in numpy on hand-made layers:
    ties (the first slowest layer), a NaN (0 x inf: a single block on a macro lacking a part; the
    first NaN wins, as ``np.argmax``), infinities; 3 designs of 4 layers, 5 shares, 2 stages."""
    from pimsim.model.bounds import layer_bound

    inf = np.inf
    full_stages = np.arange(10, dtype=float).reshape(2, 5)
    worst = np.array([0, 4, 2, 2, 1, 3, 0, 4, 4, 4, 1, 0])
    blocks = np.array([3, 1, 2, 2, 1, 1, 4, 1, 2, 2, 2, 2])
    lp_full = np.array([1.0, 5.0, 2.0, 2.0, inf, 1.0, 1.0, 2.0, 0.5, 3.0, 1.0, 3.0])
    lp_last = np.array([1.0, 1.0, 2.0, 2.0, 1.0, 9.0, 2.0, 1.0, 0.5, 0.5, inf, 0.5])
    stages, per_image, period, where = layer_bound(full_stages, worst, blocks, lp_full, lp_last, 3)
    with np.errstate(invalid="ignore"):
        expected = (blocks - 1) * lp_full + lp_last
    assert np.array_equal(per_image, expected, equal_nan=True)
    # design 0: 3, 1, 4, 4 (the first 4); design 1: NaN (0 x inf), 9, 5, 1; design 2: 1, 3.5,
    # inf, 3.5
    slowest = np.argmax(expected.reshape(3, 4), axis=1)
    assert where.tolist() == slowest.tolist() == [2, 0, 2]
    assert period[0] == 4.0 and np.isnan(period[1]) and period[2] == inf
    assert np.array_equal(stages, full_stages[:, worst].T)
