"""Writing output files without ever losing what the user had: atomic replace, no silent overwrite.

Permissions: a new output file gets the mode the user's umask gives any new file (``0o666 & ~umask``,
e.g. 0644 under umask 022, 0600 under 077), as if it had been written with ``open(path, "w")``; a file
that is replaced (``force``) keeps its permission bits. The temporary file is therefore created with
``os.open(..., 0o666)`` so that the kernel applies the umask itself: reading the umask would need
``os.umask``, which sets it process-wide and is racy when several threads write files at once.
(``tempfile.mkstemp`` would create it 0600 whatever the umask, and the rename keeps that mode.)
"""

from __future__ import annotations

import io
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from pimsim.errors import InputError

_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
)


def _create_temp(folder: Path, name: str) -> tuple[int, Path]:
    """A new, empty temporary file beside the target, created with mode 0666 less the umask.

    ``O_EXCL`` with a random name never opens someone else's file; a name already taken is retried.
    """
    for _ in range(100):
        tmp = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(tmp, _FLAGS, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name for {name} in {folder}")


def refuse_overwrite(target: Path, force: bool) -> None:
    """Refuse an output path that is a folder, or a file that exists unless ``force``.

    Raises:
        InputError: naming the path, with what to do instead.
    """
    if target.is_dir():  # first: --force would not help
        raise InputError(str(target), "", "is a directory", "give a file name")
    if target.exists() and not force:
        raise InputError(
            str(target),
            "",
            "already exists and would be overwritten",
            "choose another path or pass --force",
        )


def write_atomic(path: str | os.PathLike[str], data: bytes | str, force: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    A reader never sees a half-written file, and an interrupted write leaves the old file intact.
    A new file's mode follows the umask; a replaced file keeps its mode (module docstring).

    Raises:
        InputError: ``path`` exists and ``force`` is false, or its folder cannot be written.
    """
    target = Path(path)
    refuse_overwrite(target, force)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create_temp(folder, target.name)
    except OSError as exc:
        raise InputError(str(target), "", f"cannot be written ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
            try:
                os.fchmod(handle.fileno(), stat.S_IMODE(os.stat(target).st_mode))
            except (FileNotFoundError, AttributeError):  # a new file (or no fchmod): umask mode
                pass
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def save_figure(fig: Any, stem: Path, dpi: int = 120) -> list[Path]:
    """A matplotlib figure as ``stem.png`` and ``stem.svg``, rendered in memory and written
    atomically (replacing earlier plots of the same name)."""
    paths = [stem.with_name(f"{stem.name}.png"), stem.with_name(f"{stem.name}.svg")]
    for path in paths:
        data = io.BytesIO()
        fig.savefig(data, format=path.suffix[1:], dpi=dpi, bbox_inches="tight")
        write_atomic(path, data.getvalue(), force=True)
    return paths
