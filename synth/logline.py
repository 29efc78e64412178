"""The lines of ``exploration.jsonl``: one scored design a line as compact JSON (the value of its
``to_dict``), written a batch at a time by :func:`log_lines` with orjson.

The search writes a line for every design it scores (1.8 million under ``--thorough`` on
ResNet18), so the line's cost counts: Python's ``json`` encoder took about 24 us a line, and a
writer of our own that kept the texts of a line's parts across lines still 13.4 (best of 5 over a
thorough ResNet18 unit's 56,130 lines, a loaded machine), 10 of it the shortest ``repr`` of the
ten figures (some 100,000 instructions a line). orjson writes a whole batch of lines in one call
in about 1.6 us a line (its own shortest round-trip float printing), and building each line's
dict about 1.5 more.

The lines hold the values ``json_line(to_dict())`` holds: every float reads back as the same
float (``tests/test_search_log.py`` checks random records). The text is json's too for the
search's designs, but for a float under 1e-4 in size orjson writes ``0.00001`` or ``1e-9`` where
Python writes ``1e-05`` or ``1e-09`` (and before orjson 3.11.7, ``1e16`` for ``1e+16``:
the project asks for 3.12 or later); orjson writes non-ASCII text as UTF-8, json as ``\\u`` escapes.
What orjson cannot write as json does -- an infinite or NaN figure (orjson's ``null``, json's
``Infinity``), a numpy scalar, an int beyond 64 bits, a key that is not a string -- sends the
batch to ``json`` itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

import orjson

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


def log_lines(records: Sequence[LogRecord]) -> bytes:
    """The ``exploration.jsonl`` lines of ``records``, in order, as UTF-8: each the value of
    ``json_line(record.to_dict())`` (see the module). One orjson call writes the batch as a JSON
    array of objects, cut into lines where one object ends and the next begins (``},{``, which
    only a string value could also hold: then the number of cuts is not the number of records,
    and json writes the batch)."""
    if not records:
        return b""
    heads: dict[int, dict[str, Any]] = {}  # by the combination's identity (the batch holds it)
    values = []
    for r in records:
        combo = r.combo
        head = heads.get(id(combo))
        if head is None:
            head = heads[id(combo)] = head_fields(combo)
        values.append({**head, "dup": r.dup, "partition": r.partition, **r.metrics})
    try:
        text = orjson.dumps(values)
    except TypeError:  # (orjson.JSONEncodeError) a value orjson does not write
        text = b""
    if text and b"null" not in text and text.count(b"},{") == len(records) - 1:
        return text[1:-1].replace(b"},{", b"}\n{") + b"\n"
    # what orjson writes otherwise than json does (null for an infinity or NaN), or does not
    # write; json writes a None as null too, so a record holding one comes here as well
    return "".join(json_line(r.to_dict()) for r in records).encode()


def head_fields(c: Combo) -> dict[str, Any]:
    """The fields of a line (and of ``Found.to_dict``) before the dup, in order."""
    return {
        "rram_ratio": c.rram_ratio,
        "cell_bits": c.cell_bits,
        "xbar": c.xbar,
        "dac_bits": c.dac_bits,
        "adc_bits": c.adc_bits,
    }
