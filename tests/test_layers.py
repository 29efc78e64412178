"""The package layering, without exceptions: no import reaches up a level, no import circles.

Imports are read with ``ast`` from every module of ``pimsim`` and ``synth``, including imports inside
functions (they run too, only later). The levels, lowest first (``docs/architecture.md``):

0. the shared helpers: ``pimsim`` itself, ``pimsim.errors``, ``pimsim.fileio``, ``pimsim.jsonio``;
1. the bottom: ``pimsim.network``, ``pimsim.components``, ``pimsim.traceformat`` (siblings: none
   imports another);
2. ``pimsim.arch``; 3. ``pimsim.model``; 4. ``pimsim.sim``;
5. the libraries on top: ``pimsim.render``, ``pimsim.tui``, ``pimsim.diagnose`` (siblings);
6. the synthesizer's library: ``synth`` but its command line;
7. the command lines: ``pimsim.cli``, ``synth.cli``, ``synth.cli_explore``.

A module may import its own group and lower levels only. Besides, ``pimsim`` never imports
``synth``, only ``pimsim.sim`` touches SimPy, nothing reads SimPy's private attributes, and the
simulator takes no timing or per-pixel work from the estimate (only the plan, the action names, the
window geometry and the one pricing function).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx
import simpy

ROOT = Path(__file__).resolve().parent.parent

#: (level, group name, module prefixes) lowest first; a module belongs to its longest prefix.
LEVELS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (0, "helpers", ("pimsim", "pimsim.errors", "pimsim.fileio", "pimsim.jsonio")),
    (1, "network", ("pimsim.network",)),
    (1, "components", ("pimsim.components",)),
    (1, "traceformat", ("pimsim.traceformat",)),
    (2, "arch", ("pimsim.arch",)),
    (3, "model", ("pimsim.model",)),
    (4, "sim", ("pimsim.sim",)),
    (5, "render", ("pimsim.render",)),
    (5, "diagnose", ("pimsim.diagnose",)),
    (5, "tui", ("pimsim.tui",)),
    (6, "synth", ("synth",)),
    (7, "cli", ("pimsim.cli", "synth.cli", "synth.cli_explore")),
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    files = [*(ROOT / "pimsim").rglob("*.py"), *(ROOT / "synth").rglob("*.py")]
    return {_module_name(p): p for p in sorted(files)}


MODULES = _modules()


def _imports(name: str, source: str, is_package: bool) -> set[str]:
    """Every module (or package) module ``name`` imports, anywhere in its ``source``; relative
    imports resolved, ``from package import module`` counted as importing the module."""
    package = name if is_package else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.add(full if full in MODULES else base)
    return out


IMPORTS = {
    name: _imports(name, path.read_text(), path.name == "__init__.py")
    for name, path in MODULES.items()
}


def _group(module: str) -> tuple[int, str] | None:
    best = None
    for level, group, prefixes in LEVELS:
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), level, group)
    return None if best is None else (best[1], best[2])


def test_every_module_has_a_level() -> None:
    assert [m for m in MODULES if _group(m) is None] == []


def test_no_import_reaches_up_or_sideways() -> None:
    offenders = []
    for name, imported in IMPORTS.items():
        level, group = _group(name)  # type: ignore[misc]
        for target in imported:
            where = _group(target)
            if where is None:  # not ours (the standard library, numpy, simpy, ...)
                continue
            if where[1] != group and where[0] >= level:
                offenders.append(f"{name} ({group}, level {level}) imports {target} ({where[1]})")
    assert offenders == []


def test_no_import_circles() -> None:
    graph = nx.DiGraph()
    graph.add_nodes_from(MODULES)
    graph.add_edges_from(
        (name, target)
        for name, imported in IMPORTS.items()
        for target in imported
        if target in MODULES
    )
    assert [sorted(c) for c in nx.simple_cycles(graph)] == []
    assert graph.number_of_edges() > 200  # the graph was read (the project has ~400 edges)


def test_the_checks_see_what_they_forbid() -> None:
    """The readers above on crafted sources: imports inside a function, relative ones, a cycle."""
    src = "def f():\n    from pimsim.model import plan\n    from . import trace\n    import numpy\n"
    assert _imports("pimsim.sim.x", src, False) == {
        "pimsim.model.plan",
        "pimsim.sim.trace",
        "numpy",
    }
    assert _imports("pimsim.sim", "from .core import Pool\n", True) == {"pimsim.sim.core"}
    assert _group("pimsim.cli.main") == (7, "cli") and _group("synth.cli_explore") == (7, "cli")
    assert _group("synth.workflow") == (6, "synth") and _group("pimsim") == (0, "helpers")
    assert _group("pimsim.traceformat.reader") == (1, "traceformat") and _group("numpy") is None
    assert list(nx.simple_cycles(nx.DiGraph([("a", "b"), ("b", "c"), ("c", "a")])))


def test_pimsim_never_imports_synth() -> None:
    offenders = [
        name
        for name, imported in IMPORTS.items()
        if name.split(".")[0] == "pimsim" and any(t.split(".")[0] == "synth" for t in imported)
    ]
    assert offenders == []


#: What the simulator may take from the model: the placement, the names of actions, the window
#: geometry, the result figures, the inventory of parts and the one pricing function. Not the
#: estimate's work tables, bit time (design.bit_ns: the PE group times its DACs, reads and samples
#: itself), stage times or periods (kernel, evaluate, estimate, tables, latency): then the
#: validation would compare two copies of one number.
SIM_MAY_USE = {
    "pimsim.model",
    "pimsim.model.plan",
    "pimsim.model.actions",
    "pimsim.model.windows",
    "pimsim.model.figures",
    "pimsim.model.pricing",
    "pimsim.model.inventory",
}
ESTIMATE_TABLES = re.compile(r"\b(pixel_work|other_work|stage_times|interleaved_busy)\b")


def test_the_simulator_takes_no_work_or_timing_from_the_estimate() -> None:
    sim = {n: p for n, p in MODULES.items() if _group(n) == (4, "sim")}
    borrowed = [
        f"{name} imports {target}"
        for name in sim
        for target in IMPORTS[name]
        if target.startswith("pimsim.model") and target not in SIM_MAY_USE
    ]
    named = [name for name, path in sim.items() if ESTIMATE_TABLES.search(path.read_text())]
    assert borrowed == [] and named == []
    assert len(sim) > 10 and any(t in SIM_MAY_USE for n in sim for t in IMPORTS[n])


def test_only_the_simulator_uses_simpy() -> None:
    offenders = [
        name
        for name, imported in IMPORTS.items()
        if any(t.split(".")[0] == "simpy" for t in imported) and _group(name)[1] != "sim"  # type: ignore[index]
    ]
    assert offenders == []


def test_no_simpy_private_attributes() -> None:
    """SimPy's private state (``_now``, ``_queue``, ``_eid``, an event's ``_value``, ...) is read
    nowhere: the simulator uses the public API only, so a SimPy release may change them."""
    env = simpy.Environment()
    event = env.event()
    private = {a for obj in (env, event) for a in vars(obj) if re.fullmatch(r"_[a-z]\w*", a)}
    assert {"_now", "_queue", "_eid"} <= private
    used = [
        f"{name}: {node.attr}"
        for name, path in MODULES.items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr in private
    ]
    assert used == []


def test_one_version_from_the_package_metadata() -> None:
    """The version is written only in pyproject.toml; both packages report the installed one."""
    import importlib.metadata

    import pimsim
    import synth

    assert pimsim.__version__ == synth.__version__ == importlib.metadata.version("pimsyn")
    literal = re.compile(r"""__version__\s*=\s*["']\d+\.\d+""")  # a release number
    assert [n for n, p in MODULES.items() if literal.search(p.read_text())] == []
