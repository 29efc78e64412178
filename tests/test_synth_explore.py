"""The synthesizer end to end: budgets, determinism, outputs, ablations, the ISAAC baseline."""

from __future__ import annotations

import itertools
import json
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimsim.arch.check import load_architecture
from pimsim.components import load_library
from pimsim.errors import InputError
from pimsim.model.estimate import estimate
from pimsim.model.plan import Plan
from pimsim.network.zoo import zoo_network
from synth.baseline import isaac_baseline
from synth.budget import minimum_budget_w
from synth.cli import main as pimsyn_main
from synth.context import ComboContext
from synth.design import Infeasible, default_partition, peak_power_w, score
from synth.dup import seed
from synth.explore import explore
from synth.settings import Combo, Settings

NET = zoo_network("resnet18-cifar")
QUICK = Settings(power_w=20).quick()
LIB = load_library("pimsyn")


@pytest.fixture(scope="module")
def quick_run():  # type: ignore[no-untyped-def]
    return explore(NET, 20, QUICK, network_source="resnet18-cifar")


def test_quick_exploration_gives_a_design_that_loads_and_estimates(quick_run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ex = quick_run
    path = tmp_path / "arch.json"
    path.write_text(json.dumps(ex.best.model_dump(mode="json", exclude_none=True)))
    loaded = load_architecture(path)
    report = estimate(loaded.arch, Plan(loaded.arch, loaded.network))
    # the written design is exactly the one the search scored
    assert report.tops_per_w == pytest.approx(ex.best_found.tops_per_w, rel=1e-9)
    assert report.period_ns == pytest.approx(ex.best_found.metrics["period_ns"], rel=1e-9)
    assert report.hardware.total_peak_power_w <= 20 + 1e-9
    checked = ex.top[:8]  # the designs made runnable come first, best first
    assert ex.top[0] == ex.best_found and all(
        a.tops_per_w >= b.tops_per_w for a, b in itertools.pairwise(checked)
    )


def test_same_seed_same_design_whatever_the_executor(quick_run) -> None:  # type: ignore[no-untyped-def]
    with ThreadPoolExecutor(max_workers=3) as pool:
        again = explore(NET, 20, QUICK, network_source="resnet18-cifar", executor=pool)
    assert again.best.model_dump() == quick_run.best.model_dump()
    assert [f.key for f in again.top] == [f.key for f in quick_run.top]
    other = explore(NET, 20, replace(QUICK, seed=7), network_source="resnet18-cifar")
    assert other.settings.seed == 7


def test_too_small_a_budget_names_the_smallest_that_works() -> None:
    minimum, _ = minimum_budget_w(NET, LIB, QUICK)
    with pytest.raises(InputError) as info:
        explore(NET, minimum * 0.9, QUICK)
    assert (
        f"smallest budget that works is {math.ceil(minimum * 100) / 100:g} W" in info.value.message
    )
    with pytest.raises(InputError, match="positive"):
        explore(NET, -3, QUICK)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(3, 200),
    st.sampled_from([0.1, 0.2, 0.3]),
    st.sampled_from([128, 256]),
    st.sampled_from([1, 2, 4]),
    st.booleans(),
)
def test_budget_is_never_exceeded(
    power_w: float, ratio: float, xbar: int, dac: int, unified: bool
) -> None:
    ctx = ComboContext.build(Combo(0, ratio, 2, xbar, dac), NET, LIB, power_w)
    problem = ctx.dup_problem()
    if problem.minimum > problem.budget:
        return
    dup = ctx.full_dup(seed(problem))
    try:
        s = score(ctx, dup, default_partition(ctx, dup), power_w, unified)
    except Infeasible as exc:
        assert exc.min_power_w > power_w
        return
    assert s.alloc.peak_power_w <= power_w + 1e-9
    assert peak_power_w(ctx, s.alloc) <= power_w + 1e-9


def test_unified_macros_are_identical_and_sharing_can_be_switched_off() -> None:
    unified = explore(NET, 20, replace(QUICK, macros="unified"))
    groups = unified.best.hardware.macros
    assert len({g.model_dump(exclude={"name", "count"})["crossbars"] for g in groups}) == 1
    assert len({(g.adcs, tuple(sorted(g.units.items())), g.buffer_kib) for g in groups}) == 1
    alone = explore(NET, 20, replace(QUICK, sharing=False))
    assert all(lm.shares_with is None for lm in alone.best.mapping.layers)  # type: ignore[union-attr]
    none = explore(NET, 20, replace(QUICK, dup="none"))
    assert all(lm.dup == 1 for lm in none.best.mapping.layers)  # type: ignore[union-attr]


def test_isaac_baseline_balances_the_pipeline() -> None:
    net = zoo_network("vgg11-cifar")
    arch = isaac_baseline(net)
    layers = arch.mapping.layers  # type: ignore[union-attr]
    convs = [lm for lm in layers if net[lm.layer].kind.value == "conv"]
    blocks = [math.ceil(net[lm.layer].out_pixels / lm.dup) for lm in convs]
    assert max(blocks) / min(blocks) <= 4
    assert all(lm.dup == 1 for lm in layers if net[lm.layer].kind.value == "fc")
    assert sum(sum(lm.crossbars) for lm in layers) <= 168 * 96
    report = estimate(arch, Plan(arch, net))
    assert report.hardware.total_peak_power_w == pytest.approx(65.8, rel=0.001)


def test_cli_quick_run_writes_every_output_and_refuses_to_overwrite(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    argv = [
        "explore",
        "resnet18-cifar",
        "--power-w",
        "20",
        "--quick",
        "--jobs",
        "1",
        "--out",
        str(out),
    ]
    assert pimsyn_main(argv) == 0
    text = capsys.readouterr().out
    assert "synthesized vs ISAAC" in text and "ratio" in text
    assert {p.name for p in out.iterdir()} == {
        "arch.json",
        "top.json",
        "exploration.jsonl",
        "report.json",
        "run.json",
        "units.jsonl",
    }
    report = json.loads((out / "report.json").read_text())
    assert report["seed"] == 0 and report["settings"]["power_w"] == 20
    assert report["versus_isaac"]["tops_per_w"] > 0
    lines = (out / "exploration.jsonl").read_text().splitlines()
    assert 0 < len(lines) <= report["evaluations"]  # every design that fitted the budget
    assert json.loads(lines[0])["tops_per_w"] > 0
    load_architecture(out / "arch.json")
    assert pimsyn_main(argv) == 2
    assert "already holds a previous run" in capsys.readouterr().err


def test_baseline_command(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "isaac.json"
    assert pimsyn_main(["baseline", "isaac", "vgg11-cifar", "-o", str(out), "--quiet"]) == 0
    assert load_architecture(out).arch.name == "isaac-vgg11-cifar"


def test_dup_vectors_of_the_best_designs_are_feasible(quick_run) -> None:  # type: ignore[no-untyped-def]
    for found in quick_run.top:
        ctx = ComboContext.build(found.combo, NET, LIB, 20)
        dup = np.array(found.dup)
        assert (dup >= 1).all() and int((dup * ctx.sets).sum()) <= ctx.n_xbar
        assert (dup[~ctx.conv] == 1).all()


@pytest.mark.parametrize(
    "argv,cause",
    [
        (
            ["explore", "resnet18-cifar", "--power-w", "0", "--quick"],
            "--power-w: '0' must be a finite",
        ),
        (["explore", "resnet18-cifar", "--power-w", "1", "--quick"], "smallest budget that works"),
        (["explore", "resnet18-cifar", "--quick"], "give the power budget"),
        (
            ["explore", "resnet18-cifar", "--power-w", "20", "--rram-ratios", "1.5"],
            "between 0 and 1",
        ),
        (
            ["explore", "resnet18-cifar", "--power-w", "20", "--xbars", "100"],
            "among [128, 256, 512]",
        ),
        (["explore", "nonesuch", "--power-w", "20"], "neither a zoo model nor a file"),
    ],
)
def test_bad_explore_arguments_exit_2(tmp_path, capsys, argv, cause) -> None:  # type: ignore[no-untyped-def]
    try:
        code = pimsyn_main([*argv, "--out", str(tmp_path / "out"), "--jobs", "1"])
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert cause in err and "Traceback" not in err


def test_explore_plots_are_written_when_matplotlib_is_there(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    assert (
        pimsyn_main(
            [
                "explore",
                "resnet18-cifar",
                "--power-w",
                "20",
                "--quick",
                "--jobs",
                "1",
                "--out",
                str(out),
                "--plot",
            ]
        )
        == 0
    )
    for name in ("designs", "breakdown", "layers"):
        for ext in ("png", "svg"):
            assert (out / f"{name}.{ext}").stat().st_size > 1000
    (out / "designs.png").unlink()
    assert pimsyn_main(["plot", str(out)]) == 0  # re-plot a finished run
    assert (out / "designs.png").exists()
    assert pimsyn_main(["plot", str(tmp_path)]) == 2
    assert "holds no report.json" in capsys.readouterr().err
