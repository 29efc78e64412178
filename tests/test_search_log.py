"""The exploration log's lines: ``synth.logline.log_line`` writes what ``json_line(to_dict())``
(json's encoder) writes, byte for byte, on random records -- the shapes the search makes and the
odd values it does not (infinities, NaN, -0.0, bools, numpy scalars, metric names that need
escapes, repeat a head field or are not strings), which go to json itself."""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.logline import LineParts, json_line, log_line
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


@settings(max_examples=500, deadline=None)
@given(founds())
def test_log_line_is_json_line_of_to_dict(found: Found) -> None:
    formats = LineParts()
    assert log_line(found, formats) == json_line(found.to_dict())
    assert log_line(found, formats) == json_line(found.to_dict())  # its format kept


@settings(max_examples=200, deadline=None)
@given(st.lists(founds(), min_size=2, max_size=6))
def test_lines_that_share_their_parts(records: list[Found]) -> None:
    """The lines of a unit share one ``LineParts`` and many of their objects (one dup tuple, a
    parent's pairs): each line is json's, whichever record first showed a part."""
    parts = LineParts(most=5)  # (and forgets what it holds every few parts)
    first = records[0]
    for f in records:
        mixed = Found(
            f.tops_per_w, first.combo, first.dup, first.partition[:1] + f.partition, f.metrics
        )
        for record in (f, mixed, first):
            assert log_line(record, parts) == json_line(record.to_dict())


def test_equal_parts_of_other_types() -> None:
    """A dup or a pair equal to one written before but holding a bool is json's ``true``: the
    parts are kept by identity, not by value."""
    metrics = dict.fromkeys(METRICS, 0.5)
    parts = LineParts()
    ints = Found(0.5, Combo(3, 0.2, 2, 256, 1), (1, 2), ((0, 1), (0, 1)), metrics)
    assert '"dup":[1,2],"partition":[[0,1],[0,1]]' in log_line(ints, parts)
    for dup, partition in (((True, 2), ints.partition), (ints.dup, ((0, True), (0, 1)))):
        twin = Found(0.5, ints.combo, dup, partition, metrics)
        assert log_line(twin, parts) == json_line(twin.to_dict())
        assert "true" in log_line(twin, parts)


def test_one_tuple_as_a_dup_and_as_a_pair() -> None:
    """The same tuple object as a dup and as a partition's pair (either first): written as json
    writes each, ``[0,1]`` and ``[[0,1]]`` (a reviewer's case: texts kept by identity alone
    gave the pair the dup's text)."""
    metrics = dict.fromkeys(METRICS, 0.5)
    t = (0, 1)
    combo = Combo(3, 0.2, 2, 256, 1)
    for records in (
        [Found(0.5, combo, t, (t, (0, 1)), metrics)],
        [Found(0.5, combo, (2, 3), (t,), metrics), Found(0.5, combo, t, ((2, 3),), metrics)],
    ):
        parts = LineParts()
        for f in records:
            assert log_line(f, parts) == json_line(f.to_dict())
    line = log_line(records[1], parts)
    assert '"dup":[0,1],"partition":[[2,3]]' in line


def test_a_design_of_the_search_and_its_odd_twins() -> None:
    """A line as the search writes it, then the same record with a value json writes in its own
    way: each line still parses back to the record, and equals json's."""
    metrics = dict.fromkeys(METRICS, 0.5) | {"macros": 129.0, "adcs": 6899.0}
    found = Found(0.5, Combo(3, 0.2, 2, 256, 1), (159, 39), ((0, 53), (0, 53)), metrics)
    formats = LineParts()
    line = log_line(found, formats)
    assert line.startswith('{"rram_ratio":0.2,"cell_bits":2,"xbar":256,"dac_bits":1,"adc_bits":')
    assert '"dup":[159,39],"partition":[[0,53],[0,53]],"tops_per_w":0.5,' in line
    assert line.endswith('"adcs":6899.0,"crossbars":0.5}\n')
    for odd_value in (math.inf, math.nan, True, np.float64(0.25)):
        twin = Found(0.5, found.combo, found.dup, found.partition, metrics | {"tops": odd_value})
        assert log_line(twin, formats) == json_line(twin.to_dict())
        assert json.loads(log_line(twin, formats)).keys() == json.loads(line).keys()
