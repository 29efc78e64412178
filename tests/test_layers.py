"""The package layering: pimsim never imports synth; only pimsim.sim touches SimPy."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_pimsim_never_imports_synth() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "pimsim").rglob("*.py")
        if any(n == "synth" or n.startswith("synth.") for n in _imports(p))
    ]
    assert offenders == []


def test_only_the_simulator_uses_simpy() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in [*(ROOT / "pimsim").rglob("*.py"), *(ROOT / "synth").rglob("*.py")]
        if any(n.split(".")[0] == "simpy" for n in _imports(p))
        and "pimsim/sim/" not in str(p.relative_to(ROOT)).replace("\\", "/")
    ]
    assert offenders == []


def test_the_model_does_not_reach_up() -> None:
    """network < components < arch < model < sim < cli/tui: lower packages never import higher."""
    order = [
        "pimsim.network",
        "pimsim.components",
        "pimsim.arch",
        "pimsim.model",
        "pimsim.sim",
        "pimsim.tui",
        "pimsim.cli",
    ]
    allowed_up = {("pimsim.arch", "pimsim.model")}  # arch checks use the mapping geometry
    for level, package in enumerate(order):
        folder = ROOT / Path(*package.split("."))
        for path in folder.rglob("*.py"):
            for name in _imports(path):
                for higher in order[level + 1 :]:
                    if name.startswith(higher) and (package, higher) not in allowed_up:
                        raise AssertionError(f"{path.relative_to(ROOT)} imports {name}")
