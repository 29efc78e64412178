"""A line of ``exploration.jsonl``: one scored design as compact JSON (:func:`json_line` of its
``to_dict``), written by :func:`log_line` without json's encoder -- the search writes one a
design -- and byte for byte what json writes."""

from __future__ import annotations

import json
from itertools import chain
from typing import Any, Protocol

from synth.settings import Combo


class LogRecord(Protocol):
    """What a line is made of (``synth.search.Found``)."""

    @property
    def combo(self) -> Combo: ...
    @property
    def dup(self) -> tuple[int, ...]: ...
    @property
    def partition(self) -> tuple[tuple[int, int], ...]: ...
    @property
    def metrics(self) -> dict[str, float]: ...
    def to_dict(self) -> dict[str, Any]: ...


def json_line(value: dict[str, Any]) -> str:
    """One line of a JSON-lines log, compact. json, not pydantic's serializer: floats round-trip
    exactly, infinities included."""
    return json.dumps(value, separators=(",", ":")) + "\n"


#: The fields of ``Found.to_dict`` before the metrics, in order.
_HEAD = ("rram_ratio", "cell_bits", "xbar", "dac_bits", "adc_bits", "dup", "partition")


def log_line(found: LogRecord, formats: dict[tuple[Any, ...], str | None]) -> str:
    """``json_line(found.to_dict())``, one line of ``exploration.jsonl``, written by one ``%``
    format (the search writes a line a design: json's encoder took about 24 us of a design's
    ~300 under ``--thorough``, this about 17, most of it the floats' reprs). ``formats``: the
    format of each record shape (lengths of dup and partition, metric names), kept by the caller
    across lines.

    The same bytes as json (``tests/test_search_log.py`` checks random records): json writes a
    Python int or float by its repr, as ``%r`` does; a record with any other value (a bool, a
    numpy scalar), an infinite or NaN figure (json's ``Infinity``), or a metric named like a head
    field or needing escapes (the shape has no format) is written by json itself."""
    c, metrics = found.combo, found.metrics
    shape = (len(found.dup), len(found.partition), *metrics)
    fmt = formats.get(shape)
    if shape not in formats:
        fmt = formats[shape] = _line_format(*shape[:2], tuple(metrics))
    values = (
        c.rram_ratio,
        c.cell_bits,
        c.xbar,
        c.dac_bits,
        c.adc_bits,
        *found.dup,
        *chain.from_iterable(found.partition),
        *metrics.values(),
    )
    if fmt is not None and set(map(type, values)) <= {int, float}:
        line = fmt % values
        if "inf" not in line and "nan" not in line:  # no metric name holds either
            return line
    return json_line(found.to_dict())


def _line_format(dups: int, pairs: int, names: tuple[str, ...]) -> str | None:
    """The ``%`` format of a log line with these lengths and metric names (None when a name is not
    a string (json writes it as one), would need escapes in JSON, or repeats a head field: json's
    order then differs)."""
    if not all(
        isinstance(k, str) and k.isidentifier() and k.isascii() and k not in _HEAD for k in names
    ):
        return None
    if any("inf" in k or "nan" in k for k in names):
        return None
    head = "".join(f'"{k}":%r,' for k in _HEAD[:5])
    dup = ",".join(["%r"] * dups)
    partition = ",".join(["[%r,%r]"] * pairs)
    tail = "".join(f',"{k}":%r' for k in names)
    return "{" + head + f'"dup":[{dup}],"partition":[{partition}]' + tail + "}\n"
