"""numba's on-disk cache kept in step with all the source it was compiled from.

The compiled loops (``@njit(cache=True)``) are cached by numba in ``__pycache__`` beside their
module and reused while that module's file is unchanged (its modification time and size). numba
looks at no other file: a compiled function that calls a compiled function of another module, or
reads another module's constant (frozen into its machine code), keeps the old code when only that
other module changes, and silently gives the old results. So each package calls :func:`keep_fresh`
when it is imported, before any compiled function can run: it hashes every module of the package
that uses numba together with every project module those import (transitively), and when the hash
is not the one stored beside the cache it removes the package's cached functions, which numba then
compiles again on their first call (beside the code, or where ``NUMBA_CACHE_DIR`` tells numba to
keep its caches). An installed copy whose ``__pycache__`` cannot be written is
left alone (numba keeps that cache elsewhere, and an installed file changes only by a reinstall,
which rewrites every file).

:func:`start_without_blas_probe` saves a process the import of scipy that numba makes on its first
compiled call, to learn whether BLAS is there (see its docstring).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

#: the file beside a package's cache that holds the hash its cached functions were compiled from
STAMP = "numba-sources.sha256"
#: the project's packages, whose modules' imports are followed
PROJECT = ("pimsim", "synth")


def _module_file(root: Path, module: str) -> Path | None:
    """The source file of the dotted ``module`` under ``root``, if it is one of the project's."""
    base = root.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imports(text: str, project: tuple[str, ...]) -> list[str]:
    """The project modules ``text`` imports: ``import X`` gives X, ``from X import a, b`` gives X,
    X.a and X.b (whichever of them are modules)."""
    names = "|".join(re.escape(p) for p in project)
    out = []
    for match in re.finditer(rf"^\s*import\s+((?:{names})[\w.]*)", text, re.M):
        out.append(match[1])
    for match in re.finditer(
        rf"^\s*from\s+((?:{names})[\w.]*)\s+import\s+(\([^)]*\)|[^\n]*)", text, re.M
    ):
        out.append(match[1])
        for name in re.findall(r"\w+", re.sub(r"#[^\n]*", "", match[2])):
            if name != "as":
                out.append(f"{match[1]}.{name}")
    return out


def sources(package: Path, project: tuple[str, ...] = PROJECT) -> list[Path]:
    """The package's modules that use numba and every project module they import, transitively,
    sorted."""
    root = package.parent
    uses = re.compile(r"^\s*(?:from\s+numba[\w.]*\s+import|import\s+numba)", re.M)
    todo = [
        p
        for p in sorted(package.rglob("*.py"))
        if b"numba" in (data := p.read_bytes()) and uses.search(data.decode())
    ]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in _imports(path.read_text(), project):
            found = _module_file(root, module)
            if found is not None and found not in seen:
                todo.append(found)
    return sorted(seen)


def keep_fresh(package: Path, project: tuple[str, ...] = PROJECT) -> None:
    """Remove ``package``'s cached compiled functions unless they were compiled from the source
    they would run (see the module); a cache that cannot be written is left alone."""
    files = sources(package, project)
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(package.parent)).encode() + b"\0" + path.read_bytes())
    stamp = package / "__pycache__" / STAMP
    try:
        if stamp.read_text() == digest.hexdigest():
            return
    except OSError:
        pass
    compiled = [p for p in files if package in p.parents]
    caches = {p.parent / "__pycache__" for p in compiled}
    if os.environ.get("NUMBA_CACHE_DIR"):  # numba then keeps every cache there, not beside the code
        from numba.core.caching import _CacheLocator  # numba's rule for a file's folder there

        root = Path(os.environ["NUMBA_CACHE_DIR"])
        caches |= {root / _CacheLocator.get_suitable_cache_subpath(str(p)) for p in compiled}
    try:
        for cache in caches:
            for compiled in cache.glob("*.nb[ic]"):
                compiled.unlink(missing_ok=True)
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(digest.hexdigest())
    except OSError:
        return


def start_without_blas_probe() -> None:
    """Import ``numba.np.arraymath`` (which numba's typing loads on a process's first compiled call)
    with ``scipy.linalg`` out of reach, so that it does not import it.

    On import, that module asks whether BLAS is there by importing ``scipy.linalg.cython_blas``
    (0.2-0.3 s: scipy.linalg and what it imports), and the answer only chooses how a compiled
    ``np.correlate``/``np.convolve`` multiplies and adds; every other BLAS or LAPACK function
    (``np.dot``, ``np.linalg``) asks again when it is compiled. The project's compiled loops call
    none of them (``tests/test_jitcache.py`` checks their source), so no compiled loop changes,
    and ``scipy.linalg`` stays importable afterwards. Does nothing when it or that module is
    already imported. Called before the first compiled call of a search (:func:`synth.budget.check_budget`),
    so the work units' processes, forked later, start from it too.
    """
    if "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return
    sys.modules["scipy.linalg"] = None  # type: ignore[assignment]  # its import raises ImportError
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        del sys.modules["scipy.linalg"]
