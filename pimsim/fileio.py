"""Writing output files without ever losing what the user had: atomic replace, no silent overwrite."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

from pimsim.errors import InputError


def write_atomic(path: str | os.PathLike[str], data: bytes | str, force: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    A reader never sees a half-written file, and an interrupted write leaves the old file intact.

    Raises:
        InputError: ``path`` exists and ``force`` is false, or its folder cannot be written.
    """
    target = Path(path)
    if target.exists() and not force:
        raise InputError(
            str(target),
            "",
            "already exists and would be overwritten",
            "choose another path or pass --force",
        )
    if target.is_dir():
        raise InputError(str(target), "", "is a directory")
    folder = target.parent if str(target.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(str(target), "", f"cannot be written ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
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
