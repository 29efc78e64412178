"""Numbers as table text, one rule for every table."""

from __future__ import annotations


def ns_text(value_ns: float, digits: int = 3) -> str:
    """A time given in ns, in the largest unit (s, ms, us, ns) it reaches, to ``digits``
    significant digits: ``ns_text(1234.5)`` is ``1.23us``."""
    for factor, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "us")):
        if abs(value_ns) >= factor:
            return f"{value_ns / factor:.{digits}g}{unit}"
    return f"{value_ns:.{digits}g}ns"
