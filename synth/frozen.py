"""Frozen dataclass instances made without their ``__init__`` (:func:`made`), for the objects the
search makes a design (the macros, the allocation and the logged record of every candidate).

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (its own
``__setattr__`` refuses): some 0.3 us a field on the machine of issue 13, about half the cost of
a six-field object. :func:`made` gives the instance its field dict in one step; the object is the
one ``cls(**values)`` makes (same fields, same values, frozen, equal, the same pickle contents).
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")

_new = object.__new__
_set = object.__setattr__


def made(cls: type[T], values: dict[str, Any]) -> T:
    """``cls(**values)`` for a frozen dataclass ``cls`` without ``__post_init__`` or field
    conversions, given every field (in the order of its fields: the instance's dict is
    ``values`` itself, which the caller hands over)."""
    obj = _new(cls)
    _set(obj, "__dict__", values)
    return obj
