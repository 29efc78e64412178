"""Runaway runs stop with a partial result; tiny scratchpads and saturated links run or deadlock.

``--max-cycles`` and ``--max-wall-s`` (:class:`pimsim.sim.SimOptions`) stop a run early: the result
says why (``stopped``), its throughput and latency come from the images that finished, and the CLI
exits with 3. A guarded run that finishes in time is the same run as an unguarded one. Designs with
scratchpads too small for their dataflow stop with the deadlock report, and a NoC slowed a
ten-thousandfold still runs to the end (with the stalls named), never hangs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pimsim.arch.check import load_architecture
from pimsim.cli.main import PARTIAL, main
from pimsim.model.plan import Plan
from pimsim.sim import SimDeadlock, SimOptions, simulate

EXAMPLE = Path(__file__).parents[1] / "configs" / "arch" / "examples" / "vgg11-cifar-simple.json"


@pytest.fixture(scope="module")
def plan() -> Plan:
    loaded = load_architecture(EXAMPLE)
    return Plan(loaded.arch, loaded.network)


@pytest.fixture(scope="module")
def full(plan: Plan):  # type: ignore[no-untyped-def]
    return simulate(plan, SimOptions(images=3))


def test_a_cycle_limit_stops_the_run_with_the_images_that_finished(plan: Plan, full) -> None:  # type: ignore[no-untyped-def]
    limit = int(full.image_finish_ns[1] * plan.arch.hardware.clock_ghz) + 1  # after image 1
    r = simulate(plan, SimOptions(images=3, max_cycles=limit))
    assert r.stopped is not None and "cycle limit" in r.stopped
    assert len(r.image_finish_ns) == 2 and r.image_finish_ns == full.image_finish_ns[:2]
    assert r.time_ns <= limit / plan.arch.hardware.clock_ghz
    assert r.period_ns == pytest.approx(full.image_finish_ns[1] - full.image_finish_ns[0])
    # each share's work over the blocks it stored, static power over the measured period
    assert r.energy_per_image_pj == pytest.approx(full.energy_per_image_pj, rel=1e-3)


def test_no_finished_image_means_no_figures_per_image(plan: Plan, full) -> None:  # type: ignore[no-untyped-def]
    r = simulate(plan, SimOptions(images=3, max_cycles=int(full.image_finish_ns[0] / 2)))
    assert r.stopped and r.image_finish_ns == () and r.period_ns == 0
    assert r.energy_pj == {} and r.throughput_ips == 0 and r.counts


def test_a_guard_that_is_not_reached_changes_nothing(plan: Plan, full) -> None:  # type: ignore[no-untyped-def]
    r = simulate(plan, SimOptions(images=3, max_cycles=10**12, max_wall_s=3600))
    assert r.stopped is None
    assert (r.period_ns, r.latency_ns, r.energy_pj, r.time_ns) == (
        full.period_ns,
        full.latency_ns,
        full.energy_pj,
        full.time_ns,
    )


def test_the_wall_clock_guard_stops_a_long_run(plan: Plan) -> None:
    r = simulate(plan, SimOptions(images=50, max_wall_s=0.2))
    assert r.stopped is not None and "wall-clock" in r.stopped
    assert len(r.image_finish_ns) < 50 and r.wall_s < 5


def test_cli_marks_a_partial_run_and_exits_with_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(EXAMPLE), "--images", "2", "--max-cycles", "1000"]) == PARTIAL
    out = " ".join(capsys.readouterr().out.split())
    assert "PARTIAL: 0 of them finished" in out and "cycle limit (1,000 cycles)" in out
    assert "n/a (no image finished)" in out


@pytest.mark.parametrize(
    "flag,value",
    [("--max-cycles", "0"), ("--max-wall-s", "0"), ("--max-wall-s", "nan"), ("--max-wall-s", "-1")],
)
def test_cli_rejects_guards_out_of_range(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run", str(EXAMPLE), flag, value])
    assert exc.value.code == 2 and flag in capsys.readouterr().err


def test_scratchpads_too_small_for_the_dataflow_stop_with_the_deadlock_report(plan: Plan) -> None:
    arch = plan.arch
    hw = arch.hardware
    groups = [g.model_copy(update={"buffer_kib": 1}) for g in hw.macros]
    one_kib = hw.parts.buffers[0].model_copy(update={"size_kib": 1})
    parts = hw.parts.model_copy(update={"buffers": [*hw.parts.buffers, one_kib]})
    tiny = arch.model_copy(
        update={"hardware": hw.model_copy(update={"macros": groups, "parts": parts})}
    )
    with pytest.raises(SimDeadlock) as exc:
        simulate(Plan(tiny, plan.network), SimOptions(images=2, max_wall_s=120))
    assert "waits for" in exc.value.message and "scratchpad" in exc.value.message


def test_a_saturated_noc_runs_slowly_with_its_stalls_named(plan: Plan, full) -> None:  # type: ignore[no-untyped-def]
    hw = plan.arch.hardware
    noc = hw.parts.noc.model_copy(update={"flit_latency_ns": hw.parts.noc.flit_latency_ns * 10000})
    slow = plan.arch.model_copy(
        update={
            "hardware": hw.model_copy(update={"parts": hw.parts.model_copy(update={"noc": noc})})
        }
    )
    r = simulate(Plan(slow, plan.network), SimOptions(images=3, max_wall_s=120))
    assert r.stopped is None and len(r.image_finish_ns) == 3
    assert r.period_ns > 5 * full.period_ns
    assert r.stall_ns().get("noc", 0) > 0
