"""A line of ``exploration.jsonl``: one scored design as compact JSON (:func:`json_line` of its
``to_dict``), written by :func:`log_line` without json's encoder -- the search writes one a
design -- and byte for byte what json writes."""

from __future__ import annotations

import json
from collections.abc import Callable
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

#: The types :func:`log_line` writes itself: json writes an ``int`` or a ``float`` by its repr,
#: as ``%r`` does (not a bool, nor a subclass, nor a numpy scalar)
_NUMBERS = frozenset({int, float})
_INTS = frozenset({int})
_NEW = object()  # a list of metric names not met yet


class LineParts:
    """What :func:`log_line` keeps across the lines of one unit: the text of each combination
    and each duplication vector (the line's head), of each (owner, macros) pair of a partition,
    and the ``%`` format of the metrics of each list of metric names.

    A line's dup and most of its pairs are objects an earlier line had (the search shares a
    batch's dup tuple between its designs, and a child partition keeps its parent's pairs but
    one or two), so their texts are kept by the objects' identity: no hashing of the values,
    and no check of their types again. Every object whose id is a key is held (``held``), so
    no other object can have that id while the texts are kept. Only immutable objects (a
    ``Combo``, tuples) are kept, at most ``most`` of them (then all are forgotten at once: a
    few MB at most)."""

    __slots__ = ("held", "most", "texts", "pair_texts", "tails")

    def __init__(self, most: int = 1 << 16) -> None:
        self.most = most  # objects held at most (a unit's partitions make two new pairs a line)
        self.held: list[object] = []
        self.texts: dict[int, str | None] = {}  # by id: a combo's head, a dup's
        self.pair_texts: dict[int, str | None] = {}  # by id: a pair's (one tuple may be both)
        self.tails: dict[tuple[Any, ...], str | None] = {}

    def text(self, obj: Any, write: Callable[[Any], str | None], pair: bool = False) -> str | None:
        """``write(obj)``, kept by the object's identity if it is immutable (a pair's apart: the
        same tuple may be a dup and a pair, written differently)."""
        key, texts = id(obj), self.pair_texts if pair else self.texts
        if key in texts:
            return texts[key]
        out = write(obj)
        if type(obj) is tuple or type(obj) is Combo:
            if len(self.held) >= self.most:  # forget them all (and the ids with them)
                self.held.clear()
                self.texts.clear()
                self.pair_texts.clear()
            self.held.append(obj)
            texts[key] = out
        return out


def log_line(found: LogRecord, parts: LineParts) -> str:
    """``json_line(found.to_dict())``, one line of ``exploration.jsonl``, put together from the
    texts of its parts kept in ``parts`` across the lines of a unit (:class:`LineParts`) and one
    ``%`` format of its metrics (json's encoder took about 24 us of a design's ~300 under
    ``--thorough``; one ``%`` format of the whole line, checking the type of each of its ~75
    values, 15; this 10.6, 4.5 of it the metrics' float reprs: best of 7 on the thorough
    run's lines, a loaded machine).

    The same bytes as json (``tests/test_search_log.py`` checks random records): json writes a
    Python int or float by its repr, as ``%r`` does; a record with any other value (a bool, a
    numpy scalar), an infinite or NaN figure (json's ``Infinity``), or a metric named like a head
    field or needing escapes (no format) is written by json itself."""
    metrics, texts, combo, dup = found.metrics, parts.texts, found.combo, found.dup
    pair_texts = parts.pair_texts
    # (None: not kept yet, or kept as one json writes; parts.text tells them apart)
    head = texts.get(id(combo)) or parts.text(combo, _head_text)
    dup_text = texts.get(id(dup)) or parts.text(dup, _ints_text)
    names = tuple(metrics)
    tail = parts.tails.get(names, _NEW)
    if tail is _NEW:
        tail = parts.tails[names] = _tail_format(names)
    partition = found.partition
    pairs = list(map(pair_texts.get, map(id, partition)))
    if None in pairs:  # a pair not seen yet (a child's new one or two), or not one of ints
        pairs = [
            parts.text(pair, _pair_text, True) if text is None else text
            for pair, text in zip(partition, pairs, strict=True)
        ]
    values = tuple(metrics.values())
    if (
        head is not None
        and dup_text is not None
        and tail is not None
        and None not in pairs
        and set(map(type, values)) <= _NUMBERS
    ):
        figures = tail % values
        if "inf" not in figures and "nan" not in figures:  # no metric name holds either
            return f'{head}"dup":[{dup_text}],"partition":[{",".join(pairs)}]{figures}'
    return json_line(found.to_dict())


def _head_text(c: Combo) -> str | None:
    """``{"rram_ratio":...,"adc_bits":...,`` of a combination (None: a field json writes its own
    way)."""
    values = (c.rram_ratio, c.cell_bits, c.xbar, c.dac_bits, c.adc_bits)
    if not set(map(type, values)) <= _NUMBERS or any(
        "inf" in text or "nan" in text for text in map(repr, values)
    ):
        return None
    return "{" + "".join(f'"{k}":{v!r},' for k, v in zip(_HEAD, values, strict=False))


def _ints_text(values: Any) -> str | None:
    """The ints of a dup or a pair, comma-separated (None: a value that is not an int)."""
    values = tuple(values)
    return ",".join(map(repr, values)) if set(map(type, values)) <= _INTS else None


def _pair_text(pair: Any) -> str | None:
    """``[owner,macros]`` (None: a value that is not an int)."""
    if type(pair) is tuple and len(pair) == 2 and type(pair[0]) is int and type(pair[1]) is int:
        return f"[{pair[0]!r},{pair[1]!r}]"  # (the partitions' pairs: no tuple, no type set)
    text = _ints_text(pair)
    return None if text is None else f"[{text}]"


def _tail_format(names: tuple[Any, ...]) -> str | None:
    """The ``%`` format of the metrics part of a line (``,"name":%r`` each, then ``}``), None when
    a name is not a string (json writes it as one), would need escapes in JSON, or repeats a head
    field (json's order then differs), or holds "inf" or "nan" (the line's check)."""
    if not all(
        isinstance(k, str) and k.isidentifier() and k.isascii() and k not in _HEAD for k in names
    ):
        return None
    if any("inf" in k or "nan" in k for k in names):
        return None
    return "".join(f',"{k}":%r' for k in names) + "}\n"
