"""Output files follow the user's umask (issue 14): a colleague on a shared file system can read a
run when the umask lets them, and nobody can when it does not.

Every file that a real ``pimsyn explore --quick --validate --plot``, ``pimsyn plot``, ``pimsyn
baseline isaac``, ``pimsyn models export`` and ``pimsim run --trace --plot`` write is checked for the
mode ``0o666 & ~umask`` (0644 under umask 022, 0600 under 077), the mode ``open(path, "w")`` gives.
The umask is process-wide, so each test sets it around in-process calls and restores it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import onnx
import pytest

from pimsim.cli.main import main as pimsim_main
from pimsim.fileio import write_atomic
from pimsim.network.onnx_builder import GraphWriter
from synth.cli import main as pimsyn_main


@pytest.fixture
def umask() -> Iterator[Callable[[int], int]]:
    """Set the process umask for the test; the previous one is restored afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


def _tiny_onnx(path: Path) -> Path:
    """conv 3->8 (3x3, pad 1) + ReLU, 2x2 max pool, FC 128->10 on an 8x8 image: a design in seconds."""
    g = GraphWriter("tiny", (3, 8, 8))
    x = g.maxpool(g.relu(g.conv("input", 8, 3, pad=1)), 2, 2)
    x = g.fc(g.flatten(x, 8 * 4 * 4), 10)
    onnx.save(g.model(x), path)
    return path


def _modes(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("mask", [0o022, 0o077], ids=["umask-022", "umask-077"])
def test_every_output_file_follows_the_umask(
    tmp_path: Path, umask: Callable[[int], int], capsys: pytest.CaptureFixture[str], mask: int
) -> None:
    model = _tiny_onnx(tmp_path / "tiny.onnx")
    out = tmp_path / "out"
    run = out / "run"
    umask(mask)
    explore = ["explore", str(model), "--power-w", "5", "--quick", "--jobs", "1"]
    finish = ["--validate", "--top-k", "1", "--images", "1", "--plot", "--out", str(run)]
    assert pimsyn_main([*explore, *finish]) == 0
    for name in ("designs", "breakdown", "layers"):  # written again by `pimsyn plot`
        (run / f"{name}.png").unlink()
    assert pimsyn_main(["plot", str(run)]) == 0
    assert pimsyn_main(["baseline", "isaac", str(model), "-o", str(out / "isaac.json")]) == 0
    assert pimsyn_main(["models", "export", "vgg11-cifar", "-o", str(out / "vgg.onnx")]) == 0
    assert pimsyn_main(["models", "export", "vgg11-cifar", "-o", str(out / "vgg.json")]) == 0
    sim = ["run", str(run / "arch.json"), "--images", "1", "--trace", str(out / "t.json.gz")]
    assert pimsim_main([*sim, "--plot", str(out / "timeline")]) == 0
    capsys.readouterr()

    modes = _modes(out)
    expected = {
        "isaac.json", "vgg.onnx", "vgg.json", "t.json.gz", "t.summary.json",
        "timeline.png", "timeline.svg", "run/arch.json", "run/top.json", "run/report.json",
        "run/run.json", "run/validation.json", "run/exploration.jsonl", "run/units.jsonl",
        "run/designs.png", "run/designs.svg", "run/breakdown.png", "run/layers.svg",
        "run/traces/design0.json.gz", "run/traces/design0.summary.json",
    }  # fmt: skip
    assert expected <= set(modes), sorted(expected - set(modes))
    wrong = {name: oct(mode) for name, mode in modes.items() if mode != 0o666 & ~mask}
    assert not wrong, f"not {oct(0o666 & ~mask)}: {wrong}"
    assert not [p for p in out.rglob("*.tmp")]  # no temporary file left behind


def test_a_replaced_file_keeps_its_mode(tmp_path: Path, umask: Callable[[int], int]) -> None:
    """``--force`` replaces the content, not the permissions the owner chose (0640 stays 0640)."""
    path = tmp_path / "report.json"
    path.write_text("old")
    path.chmod(0o640)
    umask(0o077)
    write_atomic(path, "new", force=True)
    assert path.read_text() == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
