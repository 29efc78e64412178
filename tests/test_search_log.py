"""The exploration log's lines: ``synth.logline.log_lines`` writes the values
``json_line(to_dict())`` (json's encoder) writes, a batch at a time, on random records -- the
shapes the search makes and the odd values it does not (infinities, NaN, -0.0, bools, numpy
scalars, ints beyond 64 bits, metric names that need escapes, repeat a head field or are not
strings) -- and, for the search's figures, json's very text."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.logline import json_line, log_lines
from synth.search import Found
from synth.settings import Combo

METRICS = (
    "tops_per_w",
    "period_ns",
    "throughput_ips",
    "tops",
    "energy_per_image_pj",
    "peak_power_w",
    "area_mm2",
    "macros",
    "adcs",
    "crossbars",
)
plain = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**30), 10**30)
odd = st.sampled_from([math.inf, -math.inf, math.nan, -0.0, 5e-324, True, np.float64(0.1)])
odd_names = st.sampled_from(['a"b', "x\\y", "dup", "info", "é", "c\n", 7])
#: what json writes its own way in a dup or a partition (or as a float)
odd_ints = st.sampled_from([True, False, 2.0, np.float64(3.0), -0.0])


@st.composite
def founds(draw: st.DrawFn) -> Found:
    layers = draw(st.integers(1, 6))
    combo = Combo(
        draw(st.integers(0, 99)),
        draw(st.sampled_from([0.1, 0.2, 0.3]) | st.floats(0, 1)),
        draw(st.sampled_from([1, 2, 4])),
        draw(st.sampled_from([128, 256])),
        draw(st.sampled_from([1, 2])),
    )
    dup = tuple(draw(st.lists(st.integers(1, 10**6), min_size=layers, max_size=layers)))
    owners = draw(st.lists(st.integers(0, layers - 1), min_size=layers, max_size=layers))
    counts = draw(st.lists(st.integers(1, 500), min_size=layers, max_size=layers))
    if draw(st.integers(0, 9)) == 0:  # a value json writes its own way in the dup
        dup = tuple(draw(odd_ints) if draw(st.booleans()) else d for d in dup)
    if draw(st.integers(0, 9)) == 0:  # ... or in the partition
        counts = [draw(odd_ints) if draw(st.booleans()) else c for c in counts]
    partition = tuple(zip(owners, counts, strict=True))
    keys = list(METRICS[: draw(st.integers(0, len(METRICS)))])
    if draw(st.booleans()):  # a metric name json escapes, or one that repeats a head field
        keys.insert(draw(st.integers(0, len(keys))), draw(odd_names))
    values = draw(st.lists(plain, min_size=len(keys), max_size=len(keys)))
    if keys and draw(st.booleans()):  # half the records with one value json writes its own way
        values[draw(st.integers(0, len(keys) - 1))] = draw(odd)
    tops = draw(st.floats(allow_nan=False))
    return Found(tops, combo, dup, partition, dict(zip(keys, values, strict=True)))


def _same(a: Any, b: Any) -> bool:
    """Equal values, each float the same float (its bits: -0.0 is not 0.0; NaN is NaN)."""
    if isinstance(a, float) or isinstance(b, float):
        return type(a) is type(b) and (a == b or a != a and b != b) and repr(a) == repr(b)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


def _read(text: bytes) -> list[Any]:
    assert text.endswith(b"\n") or not text
    return [json.loads(line) for line in text.decode().split("\n")[:-1]]


@settings(max_examples=300, deadline=None)
@given(st.lists(founds(), min_size=1, max_size=8))
def test_the_lines_read_back_as_json_lines_of_to_dict(records: list[Found]) -> None:
    """A batch, odd values and all: one line a record, each with the values json writes."""
    ours = _read(log_lines(records))
    theirs = [json.loads(json_line(f.to_dict())) for f in records]
    assert len(ours) == len(records)
    assert all(map(_same, ours, theirs))


def test_a_design_of_the_search_and_its_odd_twins() -> None:
    """A line as the search writes it (the text json writes), then the same record with a value
    orjson cannot write as json does: the batch goes to json, every line as json's."""
    metrics = dict.fromkeys(METRICS, 0.5) | {"macros": 129.0, "adcs": 6899.0}
    found = Found(0.5, Combo(3, 0.2, 2, 256, 1), (159, 39), ((0, 53), (0, 53)), metrics)
    line = log_lines([found])
    assert line == json_line(found.to_dict()).encode()
    assert line.startswith(b'{"rram_ratio":0.2,"cell_bits":2,"xbar":256,"dac_bits":1,"adc_bits":')
    assert b'"dup":[159,39],"partition":[[0,53],[0,53]],"tops_per_w":0.5,' in line
    assert line.endswith(b'"adcs":6899.0,"crossbars":0.5}\n')
    odd = (math.inf, math.nan, None, np.float64(0.25), 10**30)
    for odd_value in odd:
        twin = Found(0.5, found.combo, found.dup, found.partition, metrics | {"tops": odd_value})
        batch = log_lines([found, twin, found])
        assert batch == "".join(json_line(f.to_dict()) for f in (found, twin, found)).encode()
    # a metric named so that a line could be cut in two, or not a string
    for name in ("x},{y", 7):
        twin = Found(0.5, found.combo, found.dup, found.partition, {name: 1.0, **metrics})
        assert all(map(_same, _read(log_lines([twin, found])), _read(log_lines([twin]) + line)))
        assert len(_read(log_lines([twin, found]))) == 2


def test_the_search_writes_json_s_text() -> None:
    """Figures of the search's sizes (1e-4 and up, below 1e16): byte for byte json's text, so
    a log compares with one written by json line by line."""
    rng = np.random.default_rng(0)
    combo = Combo(3, 0.2, 2, 256, 1)
    records = []
    for _ in range(200):
        figures = (10.0 ** rng.uniform(-4, 15, len(METRICS))).tolist()
        dup = tuple(int(d) for d in rng.integers(1, 500, 4))
        partition = tuple((int(o), int(n)) for o, n in zip([0, 0, 2, 3], dup, strict=True))
        records.append(
            Found(figures[0], combo, dup, partition, dict(zip(METRICS, figures, strict=True)))
        )
    assert log_lines(records) == "".join(json_line(f.to_dict()) for f in records).encode()


def test_no_records_no_lines() -> None:
    assert log_lines([]) == b""
