"""Nothing lost: an interrupted ``pimsyn explore`` keeps its log and best design, and ``--resume``
finishes it with exactly the bytes an uninterrupted run writes."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pimsim.network.zoo import zoo_network
from synth.cli import main as pimsyn_main
from synth.explore import explore
from synth.settings import Settings
from tests.conftest import ROOT

NET = zoo_network("vgg11-cifar")
EXPLORE = importlib.import_module("synth.explore")  # the module (``synth.explore`` is the function)
BUDGET = importlib.import_module("synth.budget")
RUN = ["explore", "vgg11-cifar", "--power-w", "12", "--quick", "--no-baseline", "--jobs", "1"]
#: 12 work units instead of --quick's 4, for the runs that are stopped by a real signal
WIDE = ["--rram-ratios", "0.1,0.2,0.3,0.4", "--xbars", "128,256,512"]


def _files(out: Path) -> tuple[bytes, bytes, list[str]]:
    return (
        (out / "arch.json").read_bytes(),
        (out / "top.json").read_bytes(),
        sorted((out / "exploration.jsonl").read_text().splitlines()),
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted run."""
    out = tmp_path_factory.mktemp("reference") / "run"
    assert pimsyn_main([*RUN, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same run, Ctrl-C'd while its third work unit runs (two are finished)."""
    out = tmp_path_factory.mktemp("interrupted") / "run"
    real, calls = EXPLORE.search_unit, []

    def third_is_interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(EXPLORE, "search_unit", third_is_interrupted)
    try:
        assert pimsyn_main([*RUN, "--out", str(out)]) == 130
    finally:
        mp.undo()
    return out


def test_explore_with_done_units_equals_an_uninterrupted_exploration() -> None:
    settings = Settings(power_w=12).quick()
    full = explore(NET, 12, settings)
    finished = {}

    def stop_after_one(result, progress):  # type: ignore[no-untyped-def]
        finished[result.unit] = result
        assert (progress.units_done, progress.units_total) == (1, 4)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        explore(NET, 12, settings, on_unit=stop_after_one)
    seen, new, seconds = [], [], []

    def track(result, progress):  # type: ignore[no-untyped-def]
        new.append(result.evaluations)
        seconds.append(result.seconds)
        seen.append((result.unit, progress.units_done))
        # the rate counts the evaluations of this session only, not those of the finished units
        assert progress.session_evaluations == sum(new) < progress.evaluations

    resumed = explore(NET, 12, settings, done=finished, on_unit=track)
    assert seen == [(1, 2), (2, 3), (3, 4)]  # only the missing units ran; progress counts all
    assert resumed.best.to_json() == full.best.to_json()
    assert [f.to_dict() for f in resumed.top] == [f.to_dict() for f in full.top]
    assert resumed.evaluations == full.evaluations and resumed.complete
    assert resumed.session_evaluations == sum(new) == full.evaluations - finished[0].evaluations
    assert resumed.evaluations_per_s == pytest.approx(sum(new) / resumed.seconds)
    # the units' own search times, over both sessions
    assert resumed.unit_seconds == pytest.approx(finished[0].seconds + sum(seconds))


def test_interrupted_run_keeps_its_best_and_resumes_to_the_same_bytes(
    interrupted: Path, reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = json.loads((interrupted / "report.json").read_text())
    assert (report["complete"], report["units_done"], report["units_total"]) == (False, 2, 4)
    units = (interrupted / "units.jsonl").read_text().splitlines()
    assert [json.loads(u)["unit"] for u in units] == [0, 1]
    designs = sum(json.loads(u)["designs"] for u in units)
    assert len((interrupted / "exploration.jsonl").read_text().splitlines()) == designs
    assert report["best"]["tops_per_w"] > 0 and (interrupted / "arch.json").exists()
    run = tmp_path / "run"
    shutil.copytree(interrupted, run)
    # a kill in the middle of writing: a torn unit record, and design lines of an unfinished unit
    with open(run / "units.jsonl", "a") as handle:
        handle.write('{"unit":2,"combos":[')
    with open(run / "exploration.jsonl", "a") as handle:
        handle.write((reference / "exploration.jsonl").read_text().splitlines()[0] + "\n")
    capsys.readouterr()
    assert pimsyn_main(["explore", "--resume", str(run)]) == 0
    assert "resuming" in capsys.readouterr().err
    assert _files(run) == _files(reference)
    assert json.loads((run / "report.json").read_text())["complete"] is True
    # resuming a finished run only writes its results again
    assert pimsyn_main(["explore", "--resume", str(run)]) == 0
    assert _files(run) == _files(reference)
    # ... and searched nothing: no rate made of the first sessions' evaluations over a moment
    report, first = (json.loads((r / "report.json").read_text()) for r in (run, reference))
    assert report["evaluations"] == first["evaluations"] and report["session_evaluations"] == 0
    assert report["evaluations_per_s"] == 0
    records = [json.loads(u) for u in (run / "units.jsonl").read_text().splitlines()]
    assert report["unit_seconds"] == pytest.approx(sum(r["seconds"] for r in records))
    assert first["session_evaluations"] == first["evaluations"]
    assert first["evaluations_per_s"] == pytest.approx(first["evaluations"] / first["seconds"])


def test_interruption_message_and_folder_protection(
    interrupted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    shutil.copytree(interrupted, run)
    assert pimsyn_main([*RUN, "--out", str(run)]) == 2  # never silently overwritten
    err = capsys.readouterr().err
    assert "already holds a previous run" in err and f"--resume {run}" in err


def _broken(run: Path, what: str) -> None:
    if what == "fingerprint":
        data = json.loads((run / "run.json").read_text())
        data["fingerprint"] = "0" * 16
        (run / "run.json").write_text(json.dumps(data))
    elif what == "schema":
        data = json.loads((run / "run.json").read_text())
        data["settings"]["seeds"] = 3
        (run / "run.json").write_text(json.dumps(data))
    elif what == "bad line":
        lines = (run / "units.jsonl").read_text().splitlines()
        (run / "units.jsonl").write_text("\n".join(["{oops", *lines[1:]]) + "\n")
    elif what == "foreign unit":
        lines = (run / "units.jsonl").read_text().splitlines()
        record = json.loads(lines[1])
        record["combos"] = [0, 1, 2]
        (run / "units.jsonl").write_text("\n".join([lines[0], json.dumps(record)]) + "\n")
    elif what == "not a run":
        (run / "run.json").unlink()


@pytest.mark.parametrize(
    "what,argv,message",
    [
        ("not a run", [], "holds no run.json, so it is not a `pimsyn explore` run"),
        ("fingerprint", [], "run.json, fingerprint: the model vgg11-cifar has changed"),
        ("schema", [], "run.json, run record: 1 problem: at settings.seeds"),
        ("bad line", [], "units.jsonl, line 1: is not valid JSON"),
        ("foreign unit", [], "units.jsonl, line 2: records unit 1 with combinations [0, 1, 2]"),
        (None, ["--power-w", "20", "--seed", "3"], "so --power-w, --seed cannot be given with it"),
        (None, ["vgg16-cifar"], "so MODEL cannot be given with it"),
        # given is given, even when it is the default (the run may have used another value)
        (
            None,
            ["--seed", "0", "--dup", "sa", "--no-sharing"],
            "so --seed, --dup, --no-sharing cannot be given with it",
        ),
    ],
)
def test_resume_refuses_what_does_not_match(
    interrupted: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    what: str | None,
    argv: list[str],
    message: str,
) -> None:
    run = tmp_path / "run"
    shutil.copytree(interrupted, run)
    if what is not None:
        _broken(run, what)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    assert pimsyn_main(["explore", *argv, "--resume", str(run)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before  # nothing touched


def test_finishing_options_given_on_resume_win_even_when_they_are_the_defaults(
    interrupted: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(interrupted, run)
    record = json.loads((run / "run.json").read_text())
    record["options"].update(validate=True, top_k=1, images=1, tolerance=0.0, no_baseline=True)
    (run / "run.json").write_text(json.dumps(record))
    # --tolerance 5 is the default, but given: it wins over the stored 0
    assert pimsyn_main(["explore", "--resume", str(run), "--tolerance", "5"]) == 0
    validation = json.loads((run / "validation.json").read_text())
    assert (validation["tolerance_pct"], validation["images"], len(validation["rows"])) == (5, 1, 1)
    assert "isaac_baseline" not in json.loads((run / "report.json").read_text())
    (run / "validation.json").unlink()
    # the stored switches can be turned off again
    assert pimsyn_main(["explore", "--resume", str(run), "--no-validate", "--baseline"]) == 0
    assert not (run / "validation.json").exists()
    assert "isaac_baseline" in json.loads((run / "report.json").read_text())
    assert json.loads((run / "run.json").read_text())["options"] == record["options"]


class _Unhandled(Exception):
    """SIGTERM reached the test's own handler: pimsyn had none installed."""


def _unhandled(signum: int, frame: object) -> None:
    raise _Unhandled


@pytest.mark.parametrize("where", ["budget", "scheduler"])
def test_sigterm_before_the_search_exits_143(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    import synth.executors

    def terminated(real):  # type: ignore[no-untyped-def]
        def stop(*args, **kwargs):  # type: ignore[no-untyped-def]
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises in here
            return real(*args, **kwargs)

        return stop

    if where == "budget":  # while the budget is checked (the model is loaded)
        monkeypatch.setattr(BUDGET, "minimum_budget_w", terminated(BUDGET.minimum_budget_w))
        argv = [*RUN, "--out", str(tmp_path / "run")]
    else:  # while connecting to a Dask scheduler
        monkeypatch.setattr(synth.executors, "_dask_runner", terminated(None))
        argv = [*RUN, "--executor", "dask://127.0.0.1:8786", "--out", str(tmp_path / "run")]
    previous = signal.signal(signal.SIGTERM, _unhandled)
    try:
        code = pimsyn_main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)
    err = capsys.readouterr().err
    assert code == 143 and "interrupted" in err, err
    assert not (tmp_path / "run").exists()


def test_a_stop_signal_survives_pickling() -> None:
    import pickle

    from synth.resume import Stopped, exit_code

    stop = pickle.loads(pickle.dumps(Stopped(signal.SIGTERM)))
    assert isinstance(stop, Stopped) and exit_code(stop) == 143


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


#: The CLI in a fresh interpreter whose worker processes each run one work unit, then take 30 s per
#: unit: a signal then reliably lands while the workers are busy, and the run must stop them rather
#: than wait for their units (the results are unchanged).
SLOW_CLI = """
import signal, sys, time
# a shell that ran the tests in the background left SIGINT ignored, and Python keeps it so: Ctrl-C
signal.signal(signal.SIGINT, signal.default_int_handler)
import synth.search
real, calls = synth.search.search_unit, []
def slow(*args, **kwargs):
    calls.append(1)
    if len(calls) > 1:
        time.sleep(30)
    return real(*args, **kwargs)
synth.search.search_unit = slow
from synth.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _stop_midway(argv: list[str], units: Path, signum: int, group: bool) -> tuple[int, str]:
    """Run the CLI, send ``signum`` once a new unit has finished; return its code and stderr, after
    checking that its worker processes are gone."""
    before = units.read_text().count("\n") if units.exists() else 0
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_CLI, *argv],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not (units.exists() and units.read_text().count("\n") > before):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
        time.sleep(0.05)
    workers = _children(proc.pid)
    if group:  # Ctrl-C in a terminal, scancel, systemd signal the whole process group
        os.killpg(proc.pid, signum)
    else:  # kill / a batch scheduler signals the main process
        proc.send_signal(signum)
    start = time.monotonic()
    _, err = proc.communicate(timeout=60)
    # a worker's unit takes 30 s: stopping well before that means the run did not wait for it
    assert time.monotonic() - start < 25, "the run waited for its workers' units"
    assert workers and not [w for w in workers if Path(f"/proc/{w}").exists()], "orphan workers"
    return proc.returncode, err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigint_and_sigterm_stop_the_workers_and_resume_finishes_the_run(tmp_path: Path) -> None:
    run, ref = tmp_path / "run", tmp_path / "reference"
    argv = [*RUN[:-1], "2", *WIDE, "--out", str(run)]
    code, err = _stop_midway(argv, run / "units.jsonl", signal.SIGINT, group=True)
    assert code == 130 and "Traceback" not in err, err
    assert f"resume with: pimsyn explore --resume {run}" in err
    first = json.loads((run / "report.json").read_text())
    assert first["complete"] is False and 1 <= first["units_done"] < 12
    code, err = _stop_midway(
        ["explore", "--resume", str(run), "--jobs", "2"],
        run / "units.jsonl",
        signal.SIGTERM,
        group=False,
    )
    assert code == 143 and "Traceback" not in err, err
    second = json.loads((run / "report.json").read_text())
    assert first["units_done"] < second["units_done"] < 12 and second["complete"] is False
    # SIGTERM to the whole process group (SLURM's scancel, systemd): the workers get it too
    code, err = _stop_midway(
        ["explore", "--resume", str(run), "--jobs", "2"],
        run / "units.jsonl",
        signal.SIGTERM,
        group=True,
    )
    assert code == 143 and "Traceback" not in err, err
    third = json.loads((run / "report.json").read_text())
    assert second["units_done"] < third["units_done"] < 12 and third["complete"] is False
    assert pimsyn_main(["explore", "--resume", str(run)]) == 0
    assert pimsyn_main([*RUN, *WIDE, "--out", str(ref)]) == 0
    assert _files(run) == _files(ref)
