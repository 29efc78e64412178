"""The one rule for times in tables (pimsim.render.text)."""

from __future__ import annotations

from pimsim.render.text import ns_text


def test_times_take_the_largest_unit_they_reach() -> None:
    assert ns_text(999) == "999ns" and ns_text(0) == "0ns"
    assert ns_text(1234.56) == "1.23us" and ns_text(1234.56, 4) == "1.235us"
    assert (
        ns_text(2.5e6) == "2.5ms" and ns_text(-2.5e6, 4) == "-2.5ms"
    )  # a difference may be negative
    assert ns_text(3e9) == "3s"
