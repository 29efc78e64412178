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
from pimsim.traceformat.events import FORMAT_VERSION, summary_path
from tests.test_sim_hand import add_two, run, two_convs


def load(path: Path) -> dict[str, Any]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
        return json.load(handle)


def busy_by_unit(trace: dict[str, Any]) -> dict[str, float]:
    """Busy ns per unit (all its lanes), the unit named by the record its tracks carry."""
    events = trace["traceEvents"]
    unit = {
        (e["pid"], e["tid"]): e["args"]["unit"]
        for e in events
        if e["ph"] == "M" and e["name"] == "thread_name"
    }
    busy: dict[str, float] = defaultdict(float)
    for e in events:
        if e["ph"] == "X":
            busy[unit[(e["pid"], e["tid"])]["name"]] += e["args"]["busy_ns"]
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
    assert trace["otherData"]["format_version"] == FORMAT_VERSION
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


def test_tracks_carry_their_unit_as_data(tmp_path: Path) -> None:
    """Written by the simulator, read back by the inspector's reader: who each track is."""
    from pimsim.traceformat.reader import load_trace

    path = tmp_path / "run.json"
    run(two_convs(), trace=str(path))
    data = load_trace(path)
    # two_convs: conv y alone on macro 0, conv z alone on macro 1 (share 0 each). A conv share's
    # stages use the scratchpad port (load, store), its PE group, the ADC bank, shift-and-add units
    # and add units (partial sums); y's output leaves through macro 0's injection port on (0,0),
    # crosses one link, macro 0 at (0,0) to macro 1 at (1,0), and macro 1's ejection port there.
    kinds = ["spm_port", "pe", "adc", "shift_add", "add"]
    expected = {
        (m, kind, layer if kind == "pe" else None)
        for m, layer in ((0, "y"), (1, "z"))
        for kind in kinds
    }
    noc = ("link", "inject", "eject")
    got = {(t.unit.macro, t.unit.kind, t.unit.layer) for t in data.tracks if t.unit.kind not in noc}
    assert got == expected
    ports = {(t.unit.kind, t.unit.link) for t in data.tracks if t.unit.kind in noc[1:]}
    assert ports == {("inject", ((0, 0), (0, 0))), ("eject", ((1, 0), (1, 0)))}
    assert {t.unit.share for t in data.tracks if t.unit.kind == "pe"} == {0}
    links = [t.unit for t in data.tracks if t.unit.kind == "link"]
    assert [(u.macro, u.link, u.name) for u in links] == [
        (None, ((0, 0), (1, 0)), "NoC/link (0,0)->(1,0)")
    ]
    assert data.macros == [0, 1]
