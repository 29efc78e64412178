"""``--executor dask://HOST:PORT``: the search and the validation on a Dask cluster give exactly the
local results; batching; clear errors without Dask or without a scheduler."""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pimsim.errors import InputError
from pimsim.network.zoo import zoo_network
from synth.cli import main as pimsyn_main
from synth.executors import Runner, open_runner
from synth.explore import explore
from synth.settings import Settings

RUN = [
    "explore",
    "vgg11-cifar",
    "--power-w",
    "12",
    "--quick",
    "--no-baseline",
    "--validate",
    "--top-k",
    "2",
    "--images",
    "2",
]


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A local Dask cluster of two worker processes; yields its ``HOST:PORT``."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address.removeprefix("tcp://")


def _rows(out: Path) -> list[dict[str, object]]:
    rows = json.loads((out / "validation.json").read_text())["rows"]
    for row in rows:  # wall time differs between runs; the trace is named by its folder
        row.pop("wall_s")
        row["trace"] = Path(row["trace"]).relative_to(out).as_posix()
    return rows


def test_a_dask_run_writes_exactly_what_a_local_run_writes(
    scheduler: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    assert pimsyn_main([*RUN, "--jobs", "1", "--out", str(local)]) == 0
    assert pimsyn_main([*RUN, "--executor", f"dask://{scheduler}", "--out", str(cluster)]) == 0
    assert f"running on Dask at tcp://{scheduler} (2 worker threads)" in capsys.readouterr().err
    for name in ("arch.json", "top.json"):
        assert (cluster / name).read_bytes() == (local / name).read_bytes()
    assert sorted((cluster / "exploration.jsonl").read_text().splitlines()) == sorted(
        (local / "exploration.jsonl").read_text().splitlines()
    )
    # the validation ran on the workers too; their traces were sent back into the run folder
    assert _rows(cluster) == _rows(local)
    assert sorted(p.name for p in (cluster / "traces").iterdir()) == sorted(
        p.name for p in (local / "traces").iterdir()
    )
    report = json.loads((cluster / "report.json").read_text())
    assert report["executor"] == f"dask://{scheduler}" and report["complete"] is True


def test_workers_running_other_code_are_refused(
    scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import synth.executors

    # this process's code digest differs; the workers compute theirs from their own files
    monkeypatch.setattr(synth.executors, "code_digest", lambda: "elsewhere")
    with pytest.raises(
        InputError,
        match=r"2 worker\(s\) of tcp://127.0.0.1:\d+ run other pimsyn "
        r"code than this process \(version [\d.]+, code elsewhere\)",
    ):
        open_runner(f"dask://{scheduler}", 1)


def test_units_are_batched_on_a_cluster_and_batching_does_not_change_the_result() -> None:
    cluster = Runner(None, 2, True, "cluster", lambda abort: None)
    assert [cluster.batch_size(n) for n in (1, 4, 8, 9, 63)] == [1, 1, 1, 2, 8]
    assert Runner(None, 0, True, "scaling up", lambda abort: None).batch_size(63) == 1
    assert Runner(None, 2, False, "local pool", lambda abort: None).batch_size(63) == 1
    net, settings = zoo_network("vgg11-cifar"), Settings(power_w=12).quick()
    one = explore(net, 12, settings)
    with ThreadPoolExecutor(max_workers=2) as pool:
        batched = explore(net, 12, settings, executor=pool, batch=3)  # tasks of 3 and 1 units
    assert batched.best.to_json() == one.best.to_json()
    assert [f.to_dict() for f in batched.top] == [f.to_dict() for f in one.top]


def test_no_scheduler_at_the_address_is_an_input_error() -> None:
    pytest.importorskip("distributed")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(InputError) as info:
        open_runner(f"dask://127.0.0.1:{port}", 1, connect_timeout_s=1)
    assert f"no Dask scheduler answers at tcp://127.0.0.1:{port} within 1 s" in info.value.message
    assert "dask scheduler --port PORT" in info.value.message


@pytest.mark.parametrize(
    "spec,message",
    [
        (
            "dask://127.0.0.1:8786",
            (
                "needs Dask (the optional extra 'cluster', dask[distributed]), "
                "which is not installed. Pip install 'pimsyn[cluster]'"
            ),
        ),
        ("slurm", "'slurm' is not an executor. Use local (the default) or dask://HOST:PORT"),
        ("dask://127.0.0.1", "'dask://127.0.0.1' is not an executor"),
    ],
)
def test_executor_errors_exit_2_before_anything_is_written(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    spec: str,
    message: str,
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the extra were not installed
    out = tmp_path / "run"
    assert pimsyn_main([*RUN, "--executor", spec, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    "argv,message",
    [
        (["explore", "nonesuch", "--power-w", "12"], "nonesuch: is neither a zoo model"),
        (["explore", "vgg11-cifar", "--power-w", "0.01", "--quick"], "0.01 W is too small"),
        (["explore", "--resume", "{tmp}/nothing"], "nothing: no such folder"),
    ],
)
def test_the_model_and_the_budget_are_checked_before_connecting(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    message: str,
) -> None:
    import synth.executors

    def never(*args: object) -> Runner:
        raise AssertionError("connected to the scheduler before checking the input")

    monkeypatch.setattr(synth.executors, "_dask_runner", never)  # would wait up to 10 s
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert pimsyn_main([*argv, "--executor", "dask://127.0.0.1:8786"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err


def test_remote_validation_sends_the_traces_back(tmp_path: Path) -> None:
    from synth.validate import validate
    from tests.hand import two_layer_arch

    arch, net = two_layer_arch()
    here = validate([arch], net, images=2, out=tmp_path / "here")
    with ThreadPoolExecutor(max_workers=1) as pool:  # stands for a worker on another machine
        sent = validate([arch], net, images=2, out=tmp_path / "there", executor=pool, remote=True)
    row = sent.rows[0]
    assert row.trace == str(tmp_path / "there" / "traces" / "design0.json.gz")
    assert sorted(p.name for p in (tmp_path / "there" / "traces").iterdir()) == [
        "design0.json.gz",
        "design0.summary.json",
    ]
    assert (row.simulated, row.estimate, row.events) == (
        here.rows[0].simulated,
        here.rows[0].estimate,
        here.rows[0].events,
    )
