"""numba's cache checks only a compiled function's own file; pimsim.jitcache clears a package's
cached functions when any source they were compiled from changes. Shown on a two-module package
in a temporary folder: ``a.g`` (compiled, cached) calls ``b.f`` (compiled in another module)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from pimsim.jitcache import keep_fresh, sources

A = """from numba import njit
from pkg.b import f


@njit(cache=True)
def g():
    return f() + 1
"""
B = """from numba import njit


@njit(cache=True)
def f():
    return {value}
"""


def _run(root: Path, fresh: bool, cache_dir: Path | None = None) -> int:
    """g() in a new process (the cache on disk is all it shares with the others), numba's caches
    beside the code or in ``cache_dir`` (``NUMBA_CACHE_DIR``)."""
    guard = "keep_fresh(Path('pkg').resolve(), ('pkg',)); " if fresh else ""
    code = f"from pathlib import Path; from pimsim.jitcache import keep_fresh; {guard}"
    code += "from pkg.a import g; print(g())"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), *sys.path])}
    env.pop("NUMBA_CACHE_DIR", None)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, text=True, check=True,
                         capture_output=True)  # fmt: skip
    return int(out.stdout)


def _package(root: Path, value: int) -> None:
    (root / "pkg").mkdir(exist_ok=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "a.py").write_text(A)
    (root / "pkg" / "b.py").write_text(B.format(value=value))


def test_sources_follow_the_imports_of_the_compiled_modules(tmp_path: Path) -> None:
    _package(tmp_path, 1)
    (tmp_path / "pkg" / "c.py").write_text("x = 1\n")  # neither compiled nor imported
    assert sources(tmp_path / "pkg", ("pkg",)) == [tmp_path / "pkg" / "a.py", tmp_path / "pkg" / "b.py"]  # fmt: skip


def test_a_change_of_a_callee_module_recompiles_its_callers(tmp_path: Path) -> None:
    _package(tmp_path, 1)
    assert _run(tmp_path, fresh=False) == 2  # compiled and cached
    time.sleep(0.01)
    _package(tmp_path, 5)  # only b changes
    assert _run(tmp_path, fresh=False) in (2, 6)  # numba 0.68 alone: 2, a.g's stale code
    assert _run(tmp_path, fresh=True) == 6  # the guard clears the package's cache
    assert _run(tmp_path, fresh=True) == 6  # and then keeps it (its stamp matches)
    stamp = tmp_path / "pkg" / "__pycache__" / "numba-sources.sha256"
    assert stamp.is_file() and any((tmp_path / "pkg" / "__pycache__").glob("a.g-*.nbi"))


def test_the_stamp_is_left_alone_when_nothing_changed(tmp_path: Path) -> None:
    _package(tmp_path, 1)
    keep_fresh(tmp_path / "pkg", ("pkg",))
    stamp = tmp_path / "pkg" / "__pycache__" / "numba-sources.sha256"
    before = stamp.stat().st_mtime_ns
    keep_fresh(tmp_path / "pkg", ("pkg",))
    assert stamp.stat().st_mtime_ns == before


def test_the_guard_also_clears_numbas_own_cache_folder(tmp_path: Path) -> None:
    """With ``NUMBA_CACHE_DIR`` set numba keeps no cache beside the code; the guard clears the
    package's caches there."""
    _package(tmp_path, 1)
    cache = tmp_path / "numba-cache"
    assert _run(tmp_path, fresh=True, cache_dir=cache) == 2
    assert any(cache.rglob("a.g-*.nbi")) and not any((tmp_path / "pkg").rglob("*.nbi"))
    time.sleep(0.01)
    _package(tmp_path, 5)
    assert _run(tmp_path, fresh=True, cache_dir=cache) == 6


def test_numba_starts_without_importing_scipy_linalg(tmp_path: Path) -> None:
    """:func:`pimsim.jitcache.start_without_blas_probe` before a first compiled call: the call
    works, numba has imported no ``scipy.linalg`` (its BLAS probe found none), and scipy.linalg
    can still be imported afterwards."""
    _package(tmp_path, 3)
    code = (
        "import sys; from pimsim.jitcache import start_without_blas_probe; "
        "start_without_blas_probe(); from pkg.a import g; value = g(); "
        "import numba.np.arraymath as m; probe = 'scipy.linalg' in sys.modules; "
        "import scipy.linalg; print(value, probe, m._HAVE_BLAS, scipy.linalg.__name__)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, text=True,
                         check=True, capture_output=True)  # fmt: skip
    assert out.stdout.split() == ["4", "False", "False", "scipy.linalg"]


def test_no_compiled_loop_uses_what_the_blas_probe_decides() -> None:
    """The probe's answer only chooses how a compiled ``np.correlate``/``np.convolve`` adds its
    products: no module of the project with a compiled function calls them."""
    root = Path(__file__).resolve().parent.parent
    compiled = [
        p
        for package in ("pimsim", "synth")
        for p in sorted((root / package).rglob("*.py"))
        if re.search(r"^@njit", p.read_text(), re.M)
    ]
    assert len(compiled) > 10  # the kernel's, the layout's, stage 4's, the annealing's loops
    for path in compiled:
        assert not re.search(r"\b(correlate|convolve)\b", path.read_text()), path
