"""Traces: Chrome Trace Event JSON that parses, names every track, never overlaps slices on a track,
and whose busy times and energies add up to the run's summary."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from pimsim.arch.schema import Hardware
from pimsim.errors import InputError
from pimsim.model.pricing import hardware_energy_table
from pimsim.sim import SimResult
from pimsim.sim.trace import summary_path
from tests.test_sim_hand import add_two, run, two_convs


def load(path: Path) -> dict[str, Any]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
        return json.load(handle)


def busy_by_unit(trace: dict[str, Any]) -> dict[str, float]:
    events = trace["traceEvents"]
    process = {
        e["pid"]: e["args"]["name"]
        for e in events
        if e["ph"] == "M" and e["name"] == "process_name"
    }
    thread = {
        (e["pid"], e["tid"]): e["args"]["name"]
        for e in events
        if e["ph"] == "M" and e["name"] == "thread_name"
    }
    busy: dict[str, float] = defaultdict(float)
    for e in events:
        if e["ph"] == "X":
            name = thread[(e["pid"], e["tid"])].split(" [")[0]  # lanes of one unit
            busy[f"{process[e['pid']]}/{name}"] += e["args"]["busy_ns"]
    return busy


def check(trace: dict[str, Any], r: SimResult, hw: Hardware) -> None:
    events = trace["traceEvents"]
    named = {(e["pid"], e.get("tid")) for e in events if e["ph"] == "M"}
    tracks: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
    for e in events:
        if e["ph"] == "X":
            assert (e["pid"], e["tid"]) in named and (e["pid"], None) in named
            assert {"layer", "image", "busy_ns", "energy_pj"} <= set(e["args"])
            tracks[(e["pid"], e["tid"])].append((e["ts"], e["ts"] + e["dur"]))
    for slices in tracks.values():  # one track per unit (and lane): slices never overlap
        slices.sort()
        assert all(b[0] >= a[1] - 1e-9 for a, b in pairwise(slices))
    busy = busy_by_unit(trace)
    units = {u.name: u.busy_ns for u in r.units}
    assert set(busy) == set(units)
    for name, ns in units.items():
        assert busy[name] == pytest.approx(ns, abs=1e-6), name
    # slices carry the dynamic energy of the run: the energy per image less static power
    static = hardware_energy_table(hw).static_total_w * r.period_ns * 1e3
    dynamic = sum(e["args"]["energy_pj"] for e in events if e["ph"] == "X")
    assert dynamic == pytest.approx((r.energy_per_image_pj - static) * r.images, rel=1e-9)


@pytest.mark.parametrize("level", ["bit", "block", "layer"])
def test_trace_parses_and_adds_up(tmp_path: Path, level: str) -> None:
    path = tmp_path / f"run-{level}.json.gz"
    plan = add_two(10.0)
    r = run(plan, images=2, trace=str(path), trace_level=level)
    trace = load(path)
    check(trace, r, plan.arch.hardware)
    assert trace["otherData"]["trace_level"] == level and trace["displayTimeUnit"] == "ns"
    counters = {e["name"] for e in trace["traceEvents"] if e["ph"] == "C"}
    assert "SPM occupancy (bits)" in counters and "queue link (0,1)->(0,2)" in counters
    summary = json.loads(summary_path(path).read_text())
    assert summary_path(path).name == f"run-{level}.summary.json"
    assert {u["name"]: u["busy_ns"] for u in summary["units"]} == {
        u.name: u.busy_ns for u in r.units
    }
    assert summary["trace_level"] == level and summary["period_ns"] == r.period_ns


def test_levels_differ_in_slices_not_totals(tmp_path: Path) -> None:
    counts = {}
    for level in ("bit", "block", "layer"):
        path = tmp_path / f"t-{level}.json"
        run(two_convs(), images=2, trace=str(path), trace_level=level)
        trace = load(path)
        counts[level] = sum(1 for e in trace["traceEvents"] if e["ph"] == "X")
        assert busy_by_unit(trace) == pytest.approx(busy_by_unit(load(tmp_path / "t-bit.json")))
    assert counts["bit"] > counts["block"] > counts["layer"]


def test_trace_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    run(two_convs(), trace=str(path))
    with pytest.raises(InputError, match="already exists"):
        run(two_convs(), trace=str(path))
    run(two_convs(), trace=str(path), overwrite=True)
    with pytest.raises(InputError, match="trace-level"):
        run(two_convs(), trace=str(tmp_path / "x.json"), trace_level="cycle")
    assert not list(tmp_path.glob(".*.tmp"))
