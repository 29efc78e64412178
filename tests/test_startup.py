"""What a ``pimsyn`` command costs before and after its work: the modules it imports, its exit."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from synth.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, text=True, check=True,
                         capture_output=True, cwd=ROOT)  # fmt: skip
    return out.stdout


def test_the_console_script_freezes_what_is_left_before_the_exit() -> None:
    """As the console script (no argument list) ``main`` freezes the objects alive when it starts
    and those left at its end: after ``pimsyn models --json`` its parser, consoles and what the
    zoo caches (some 300 objects) are frozen too; everything before it already was."""
    code = (
        "import gc, sys\nfrom synth.cli import main\ngc.freeze()\nbefore = gc.get_freeze_count()"
        "\ntry:\n    main()\nexcept SystemExit as e:\n"
        "    print(e.code, gc.get_freeze_count() - before > 100)"
    )
    assert _python(code, "models", "--json").split()[-2:] == ["0", "True"]


def test_a_call_from_python_freezes_nothing(capsys) -> None:  # type: ignore[no-untyped-def]
    frozen = gc.get_freeze_count()
    assert main(["models", "--json"]) == 0
    assert gc.get_freeze_count() == frozen


def test_explore_does_not_import_what_only_other_commands_need() -> None:
    """``import synth.cli`` (all ``pimsyn explore`` imports before it runs) leaves out onnx's
    evaluator (a graph with constant subgraphs to fold asks for it), the validation (and the
    diagnosis it prints), the plots, the model table and the PIMCOMP export; and numba's first
    compiled call no longer brings scipy.linalg (``pimsim.jitcache.start_without_blas_probe``); of
    the simulator, only its compiler (the runnable check's scratchpad needs) is loaded."""
    later = [
        "onnx.reference",
        "synth.validate",
        "pimsim.diagnose",
        "synth.spread",
        "synth.plots",
        "matplotlib",
        "pimsim.render.network",
        "pimsim.network.pimcomp_export",
        "scipy.linalg",
        "pimsim.sim.engine",
    ]
    code = "import sys, synth.cli; print(*(m in sys.modules for m in sys.argv[1:]))"
    assert _python(code, *later).split() == ["False"] * len(later)
