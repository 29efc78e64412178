"""The area budget (``pimsyn explore --area-mm2``), asserted the way the power budget is: through the
one inventory, over many budgets, and end to end."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimsim.arch.check import load_architecture
from pimsim.components import load_library
from pimsim.errors import InputError
from pimsim.model.estimate import estimate
from pimsim.network.zoo import zoo_network
from synth.budget import minimum_area_mm2
from synth.context import ComboContext
from synth.design import Infeasible, default_partition, design_area_mm2, peak_power_w, score
from synth.dup import seed
from synth.explore import explore
from synth.settings import Combo, Settings

NET = zoo_network("resnet18-cifar")
QUICK = Settings(power_w=20).quick()
LIB = load_library("pimsyn")


@settings(max_examples=60, deadline=None)
@given(
    st.floats(2, 40),
    st.floats(3, 60),
    st.sampled_from([0.1, 0.2, 0.3]),
    st.sampled_from([128, 256]),
    st.sampled_from([1, 2, 4]),
    st.booleans(),
)
def test_area_budget_is_never_exceeded(
    area: float, power_w: float, ratio: float, xbar: int, dac: int, unified: bool
) -> None:
    ctx = ComboContext.build(Combo(0, ratio, 2, xbar, dac), NET, LIB, power_w)
    problem = ctx.dup_problem()
    if problem.minimum > problem.budget:
        return
    dup = ctx.full_dup(seed(problem))
    try:
        s = score(ctx, dup, default_partition(ctx, dup), power_w, unified, area_mm2=area)
    except Infeasible as exc:
        assert exc.min_power_w > power_w or exc.min_area_mm2 > area
        return
    assert s.alloc.area_mm2 <= area + 1e-9
    assert design_area_mm2(ctx, s.alloc) == pytest.approx(s.alloc.area_mm2, rel=1e-9)
    assert design_area_mm2(ctx, s.alloc) <= area + 1e-9
    assert peak_power_w(ctx, s.alloc) <= power_w + 1e-9


def test_too_small_an_area_names_the_smallest_that_works() -> None:
    minimum, _ = minimum_area_mm2(NET, LIB, QUICK)
    with pytest.raises(InputError) as info:
        explore(NET, 20, replace(QUICK, area_mm2=minimum * 0.9))
    assert (
        f"smallest area that works is {math.ceil(minimum * 100) / 100:g} mm^2" in info.value.message
    )
    with pytest.raises(InputError, match="positive"):
        explore(NET, 20, replace(QUICK, area_mm2=-1.0))


def test_a_library_without_areas_refuses_an_area_budget() -> None:
    with pytest.raises(InputError, match="no area for"):
        explore(NET, 20, replace(QUICK, library="pimsyn-released", area_mm2=50.0))


def test_explored_design_keeps_within_the_area(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The unbounded quick design's area, then 70% of it: the design found keeps within it."""
    free = explore(NET, 20, QUICK).best_found.metrics["area_mm2"]
    bound = 0.7 * free
    ex = explore(NET, 20, replace(QUICK, area_mm2=bound), network_source="resnet18-cifar")
    assert all(f.metrics["area_mm2"] <= bound + 1e-9 for f in ex.top)
    path = tmp_path / "arch.json"
    path.write_text(json.dumps(ex.best.model_dump(mode="json", exclude_none=True)))
    hw = estimate(load_architecture(path).arch).hardware
    assert not hw.area_unknown_parts and hw.total_area_mm2 <= bound + 1e-9
    assert hw.total_peak_power_w <= 20 + 1e-9
