"""Reading JSON input files into pydantic models, with every problem reported as one InputError."""

from __future__ import annotations

import json
import os
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from pimsim.errors import InputError

M = TypeVar("M", bound=BaseModel)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file; a missing, unreadable or malformed file becomes an :class:`InputError`."""
    file = os.fspath(path)
    if not os.path.exists(file):
        raise InputError(file, "", "no such file")
    try:
        with open(file, encoding="utf-8-sig") as handle:  # a byte-order mark is harmless
            return json.load(handle)
    except json.JSONDecodeError as exc:
        raise InputError(
            file, f"line {exc.lineno}, column {exc.colno}", f"is not valid JSON ({exc.msg})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(file, "", f"cannot be read ({exc})") from None
    except RecursionError:
        raise InputError(file, "", "nests arrays or objects too deeply to be read") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise InputError(file, "", f"holds a value that cannot be read ({exc})") from None


def json_path(loc: tuple[int | str, ...]) -> str:
    """``('macros', 0, 'adcs')`` -> ``macros[0].adcs``."""
    text = ""
    for item in loc:
        text += f"[{item}]" if isinstance(item, int) else (f".{item}" if text else str(item))
    return text or "(top level)"


def problems_error(file: str, problems: list[tuple[str, str]], what: str) -> InputError:
    """One InputError listing every ``(json path, problem)``."""
    listed = "; ".join(f"at {path}: {msg}" for path, msg in problems[:20])
    more = f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
    count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
    return InputError(file, what, f"{count}: {listed}{more}")


def validate(model: type[M], data: Any, file: str, what: str) -> M:
    """Validate ``data`` as ``model``; on failure list every problem with its JSON path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            (json_path(tuple(err["loc"])), err["msg"].removeprefix("Value error, "))
            for err in exc.errors()
        ]
        raise problems_error(file, problems, what) from None
