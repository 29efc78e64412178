"""``synth.explore._run``: units' results as they finish, none lost before a failing one, and a
finished unit's result (with its log lines) let go once the caller has it."""

from __future__ import annotations

import gc
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from unittest import mock

import pytest

from synth.explore import _run
from synth.search import Unit


class _Result:
    def __init__(self, unit: int) -> None:
        self.unit = unit


def _units(n: int) -> list[Unit]:
    return [Unit(i, ()) for i in range(n)]


def test_the_units_before_a_failing_one_all_come_out() -> None:
    """One worker runs the units last first: 5, 4, 3, 2 finish, then 1 fails. Every one of the
    four comes out before the error, in the order they finished (run six times: the order of a
    set of finished futures is not theirs)."""

    def search(batch: tuple[Unit, ...], *_: Any) -> list[_Result]:
        (unit,) = batch
        time.sleep(0.02)
        if unit.index == 1:
            raise RuntimeError("unit 1 failed")
        return [_Result(unit.index)]

    for _ in range(6):
        seen: list[int] = []
        with ThreadPoolExecutor(1) as pool, mock.patch("synth.explore.search_units", search):
            with pytest.raises(RuntimeError, match="unit 1 failed"):
                stream = _run(_units(6)[1:], None, None, None, pool, 1)  # type: ignore[arg-type]
                for result in stream:
                    seen.append(result.unit)
        assert seen == [5, 4, 3, 2]


def test_a_finished_unit_is_let_go() -> None:
    """Once the caller has moved on to the next unit, nothing holds an earlier unit's result
    (a unit's log lines are tens of MB under ``--thorough``)."""

    def search(batch: tuple[Unit, ...], *_: Any) -> list[_Result]:
        return [_Result(batch[0].index)]

    refs: list[weakref.ref[_Result]] = []
    with ThreadPoolExecutor(1) as pool, mock.patch("synth.explore.search_units", search):
        for result in _run(_units(5), None, None, None, pool, 1):  # type: ignore[arg-type]
            refs.append(weakref.ref(result))
            del result
            gc.collect()
            assert [r() for r in refs[:-1]] == [None] * (len(refs) - 1)
    assert len(refs) == 5
