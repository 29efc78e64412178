"""The trace inspector: loading, the summary tables at a fixed width, and the app via textual's pilot."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from pimsim.errors import InputError
from pimsim.traceformat.reader import load_trace
from pimsim.tui.app import TraceApp
from pimsim.tui.views import Filters, layers_table, timeline, units_table


def _adc(macro: int) -> dict[str, object]:
    """The unit record (format version 2) of macro ``macro``'s ADC bank."""
    return {"name": f"macro {macro}/ADC bank", "kind": "adc", "macro": macro, "index": 0}


def _trace(tmp_path: Path, version: int = 2) -> Path:
    """Two macros: macro 0's ADC works on layer a (images 0, 1), macro 1's on layer b.

    The display names are deliberately unlike the unit names: readers must take a unit's identity
    from its record, not from its name. ``version=1`` writes the old format (no unit records)."""
    ev: list[dict[str, object]] = [
        {"ph": "M", "name": "process_name", "pid": 0, "args": {"name": "first", "macro": 0}},
        {"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "second", "macro": 1}},
        {
            "ph": "M",
            "name": "thread_name",
            "pid": 0,
            "tid": 1,
            "args": {"name": "x", "unit": _adc(0)},
        },
        {
            "ph": "M",
            "name": "thread_name",
            "pid": 1,
            "tid": 2,
            "args": {"name": "y", "unit": _adc(1)},
        },
    ]
    if version == 1:
        ev = [
            {"ph": "M", "name": "process_name", "pid": 0, "args": {"name": "macro 0"}},
            {"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "macro 1"}},
            {"ph": "M", "name": "thread_name", "pid": 0, "tid": 1, "args": {"name": "ADC bank"}},
            {"ph": "M", "name": "thread_name", "pid": 1, "tid": 2, "args": {"name": "ADC bank"}},
        ]
    for image in (0, 1):
        ev.append(
            {
                "ph": "X",
                "name": "adc a",
                "pid": 0,
                "tid": 1,
                "ts": 10.0 * image,
                "dur": 4.0,
                "args": {
                    "layer": "a",
                    "image": image,
                    "block": 0,
                    "busy_ns": 4000.0,
                    "energy_pj": 10.0,
                },
            }
        )
        ev.append(
            {
                "ph": "X",
                "name": "adc b",
                "pid": 1,
                "tid": 2,
                "ts": 10.0 * image + 4,
                "dur": 6.0,
                "args": {
                    "layer": "b",
                    "image": image,
                    "block": 0,
                    "busy_ns": 6000.0,
                    "energy_pj": 5.0,
                },
            }
        )
    ev.append({"ph": "C", "name": "buffer bits", "pid": 0, "ts": 3.0, "args": {"value": 64}})
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "run.json.gz"
    other = {"format": "pimsim-trace", "format_version": 2} if version == 2 else {}
    with gzip.open(path, "wt") as handle:
        json.dump({"otherData": other, "traceEvents": ev}, handle)
    (tmp_path / "run.summary.json").write_text(
        json.dumps(
            {
                "arch": "tiny",
                "network": "two",
                "images": 2,
                "energy_pj": {"adc": 30.0, "crossbar": 70.0},
                "units": [{"name": "macro 1/ADC bank", "stall_ns": {"input": 2000.0}}],
                "layers": [
                    {"name": "a", "bottleneck": "adc", "utilisation": 0.4},
                    {"name": "b", "bottleneck": "adc", "utilisation": 0.6},
                ],
            }
        )
    )
    return path


def _render(renderable, width: int = 100) -> str:  # type: ignore[no-untyped-def]
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_load_and_summary_tables_at_fixed_width(tmp_path: Path) -> None:
    data = load_trace(_trace(tmp_path))
    assert [t.label for t in data.tracks] == ["macro 0/ADC bank", "macro 1/ADC bank"]
    assert data.end_us == 20.0 and data.images == [0, 1] and data.macros == [0, 1]
    assert list(data.busy_by_track()) == [8000.0, 12000.0]
    units = _render(units_table(data))
    # busy 12 us of 20 us = 60%, sorted first; stall by cause from the summary
    assert units.index("macro 1/ADC bank") < units.index("macro 0/ADC bank")
    assert "60.0%" in units and "40.0%" in units and "2.0 us" in units
    layers = _render(layers_table(data))
    assert "14.00 us" in layers and "20.00 us" in layers and "adc" in layers
    by_name = _render(units_table(data, sort="name"))
    assert by_name.index("macro 0/ADC bank") < by_name.index("macro 1/ADC bank")


def test_units_are_data_and_old_traces_still_load(tmp_path: Path) -> None:
    new = load_trace(_trace(tmp_path / "v2"))
    assert [(t.process, t.name) for t in new.tracks] == [("first", "x"), ("second", "y")]
    assert [t.unit.kind for t in new.tracks] == ["adc", "adc"] and new.macros == [0, 1]
    # version 1 had no unit records: the macro is the pid, the label the process/thread names
    old = load_trace(_trace(tmp_path / "v1", version=1))
    assert [t.label for t in old.tracks] == ["macro 0/ADC bank", "macro 1/ADC bank"]
    assert old.macros == [0, 1] and [t.unit.kind for t in old.tracks] == ["unknown", "unknown"]
    assert list(old.busy_by_track()) == list(new.busy_by_track()) == [8000.0, 12000.0]


def test_newer_or_malformed_traces_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"otherData": {"format_version": 3}, "traceEvents": []}))
    with pytest.raises(InputError, match="format versions 1 to 2"):
        load_trace(path)
    bad = {"ph": "M", "name": "thread_name", "pid": 0, "tid": 1, "args": {"unit": {"kind": 1}}}
    x = {"ph": "X", "pid": 0, "tid": 1, "ts": 0, "dur": 1, "args": {}}
    path.write_text(json.dumps({"traceEvents": [bad, x]}))
    with pytest.raises(InputError, match="malformed unit record"):
        load_trace(path)


def test_filters_restrict_every_view(tmp_path: Path) -> None:
    data = load_trace(_trace(tmp_path))
    assert int(data.mask(image=1).sum()) == 2 and int(data.mask(layer="b").sum()) == 2
    assert int(data.mask(macro=0).sum()) == 2
    text = _render(timeline(data, Filters(macro=1), 0, 20, 20))
    assert "macro 1/ADC bank" in text and "macro 0/ADC bank" not in text
    row = next(line for line in text.splitlines() if line.startswith("macro 1"))
    cells = row[23:43]
    assert cells == "....AAAAAA....AAAAAA".replace("A", "B")


def test_timeline_zoom_shows_the_window(tmp_path: Path) -> None:
    data = load_trace(_trace(tmp_path))
    row = next(
        line
        for line in _render(timeline(data, Filters(), 4, 10, 6)).splitlines()
        if line.startswith("macro 1")
    )
    assert row[23:29] == "BBBBBB"


def test_bad_trace_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_trace(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="not a readable trace"):
        load_trace(bad)


def test_app_navigation_sorting_filtering_zoom(tmp_path: Path) -> None:
    data = load_trace(_trace(tmp_path))

    async def scenario() -> None:
        app = TraceApp(data)
        async with app.run_test(size=(120, 40)) as pilot:
            assert app.t1 == 20.0
            await pilot.press("plus")
            assert (app.t0, app.t1) == (5.0, 15.0)
            await pilot.press("right")
            assert (app.t0, app.t1) == (7.5, 17.5)
            await pilot.press("0")
            assert (app.t0, app.t1) == (0.0, 20.0)
            await pilot.press("s")
            assert app.sort == "busy"
            await pilot.press("2")
            assert app.query_one("TabbedContent").active == "units"
            await pilot.press("slash")
            await pilot.press(*"b", "enter")
            assert app.filters.layer == "b"
            await pilot.press("question_mark")
            await pilot.press("q")

    asyncio.run(scenario())


def test_trace_command_summary_on_the_sample_trace(capsys) -> None:  # type: ignore[no-untyped-def]
    from pimsim.cli.main import main as pimsim_main
    from tests.conftest import ROOT

    sample = next((ROOT / "traces").glob("*.json.gz"))
    assert pimsim_main(["trace", str(sample), "--summary", "--limit", "5"]) == 0
    out = capsys.readouterr().out
    assert "units (sorted by utilisation)" in out and "layers" in out and "energy per image" in out
    assert pimsim_main(["trace", str(sample.with_name("missing.json.gz")), "--summary"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_plots_are_written_or_skipped(tmp_path: Path) -> None:
    from pimsim.cli.plot_sim import utilisation_timeline

    data = load_trace(_trace(tmp_path))
    written = utilisation_timeline(data, tmp_path / "timeline")
    assert [p.suffix for p in written] == [".png", ".svg"]
    assert all(p.stat().st_size > 1000 for p in written)
