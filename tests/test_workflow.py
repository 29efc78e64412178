"""The explore workflow as a library function, and `pimsyn explore` run twice in one folder."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pimsim.arch.check import load_architecture
from pimsim.errors import InputError
from synth.cli import main as pimsyn_main
from synth.workflow import (
    FINISH_OPTIONS,
    SEARCH_OPTIONS,
    ExploreRequest,
    ExploreResult,
    Observer,
    claim_fresh_folder,
    run_explore,
)

QUICK = ["resnet18-cifar", "--power-w", "20", "--quick", "--jobs", "1", "--no-baseline"]


class Recorder(Observer):
    """Keeps what the workflow told it."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.messages: list[str] = []
        self.results: list[ExploreResult] = []

    def message(self, text: str) -> None:
        self.messages.append(text)

    @contextmanager
    def searching(self, description: str) -> Iterator[None]:
        self.calls.append(f"searching {description}")
        yield
        self.calls.append("searched")

    def unit_done(self, state: Any) -> None:
        self.calls.append("unit")

    def explored(self, result: ExploreResult) -> None:
        self.calls.append("explored")
        self.results.append(result)


def test_the_main_command_works_when_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    first, second = Path("runs/resnet18-cifar-20w"), Path("runs/resnet18-cifar-20w-2")
    for folder in (first, second):
        assert pimsyn_main(["explore", *QUICK]) == 0
        out, err = capsys.readouterr()
        assert f"new run folder: {folder}" in err  # named as soon as it is made
        assert f"wrote {folder}/arch.json" in out
        load_architecture(folder / "arch.json")
    assert sorted(p.name for p in Path("runs").iterdir()) == [first.name, second.name]
    # an explicit --out keeps its protection
    assert pimsyn_main(["explore", *QUICK, "--out", str(first)]) == 2
    assert "already holds a previous run" in capsys.readouterr().err


def test_the_workflow_runs_from_python(tmp_path: Path) -> None:
    seen = Recorder()
    request = ExploreRequest(
        "resnet18-cifar", 20, out=str(tmp_path / "run"), quick=True, no_baseline=True
    )
    result = run_explore(request, seen)
    assert result.folder == tmp_path / "run" and result.exit_code == 0
    assert result.interrupted is None and result.validation is None and result.plots == ()
    assert result.baseline is None and result.request.seed == 0  # the default filled in
    assert result.exploration is not None and result.best is not None
    assert load_architecture(result.folder / "arch.json").arch.name == result.exploration.best.name
    # the observer saw the search, one call per work unit, then the written result
    units = json.loads((result.folder / "report.json").read_text())["units_total"]
    assert seen.calls == [
        "searching exploring resnet18-cifar at 20 W",
        *["unit"] * units,
        "searched",
        "explored",
    ]
    assert seen.results == [result] and seen.messages == []  # an explicit folder: no note
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.exit_code = 3  # type: ignore[misc]


def test_bad_requests_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="give the power budget"):
        run_explore(ExploreRequest("resnet18-cifar", out=str(tmp_path / "a")))
    with pytest.raises(InputError, match="--seed cannot be given"):
        run_explore(ExploreRequest(resume=str(tmp_path), seed=3))
    assert not list(tmp_path.iterdir())  # nothing written


def test_a_request_from_parsed_options() -> None:
    class Namespace:
        model, power_w, seed, jobs, handler = "vgg11-cifar", 12.0, None, 2, print

    request = ExploreRequest.of(Namespace())
    assert (request.model, request.power_w, request.seed, request.jobs) == (
        "vgg11-cifar",
        12.0,
        None,
        2,
    )
    assert ExploreRequest.of({"quick": True, "other": 1}) == ExploreRequest(quick=True)


def test_every_explore_option_reaches_the_request() -> None:
    """An option added to `pimsyn explore` needs a field of the request (and, if a search or
    finishing option, a default in SEARCH_OPTIONS or FINISH_OPTIONS), else it would be dropped."""
    import argparse

    from synth.cli_explore import add_explore

    parser = argparse.ArgumentParser()
    add_explore(parser.add_subparsers())
    explore = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[
        "explore"
    ]
    dests = {a.dest for a in explore._actions} - {"help"}
    names = {f.name for f in dataclasses.fields(ExploreRequest)}
    assert dests == names
    assert set(SEARCH_OPTIONS) | set(FINISH_OPTIONS) <= names


def test_fresh_folders_are_claimed_in_order(tmp_path: Path) -> None:
    base = tmp_path / "runs" / "m-1w"
    (tmp_path / "runs" / "m-1w-2").mkdir(parents=True)  # taken: skipped, never reused
    assert claim_fresh_folder(base) == base
    assert claim_fresh_folder(base) == tmp_path / "runs" / "m-1w-3"
    assert claim_fresh_folder(base) == tmp_path / "runs" / "m-1w-4"
