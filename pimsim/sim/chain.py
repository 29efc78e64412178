"""Wiring a share's stages into a pipeline: neighbours, item-number modes and lazy completion.

Both run once per share as the machine is built (:mod:`pimsim.sim.machine`), before the run;
the item loop that uses what they set is :class:`~pimsim.sim.stage.Stage`.
"""

from __future__ import annotations

from itertools import pairwise

from pimsim.sim.stage import Stage


def make_lazy(stages: list[Stage]) -> None:
    """Let the middle stages whose pool serves no other stage complete lazily.

    Such a stage's hardware is its own (a share's PE group; an ADC bank or units that no other
    share of the macro uses), so when an item ends matters only to its neighbours: instead of an
    event per item, the item is settled when a neighbour with events of its own looks (completes
    an item, starts one, or waits for it), and a wake-up event is scheduled only when a neighbour
    waits for this item or the next item could start the moment this one ends. Every moment at
    which the eager pipeline would act is still a moment at which the lazy one acts, so the times
    are the same; only the events are fewer. A stage that decides its own readiness (``custom``)
    is left eager, since it may wait on something its neighbours do not announce (input, space),
    unless its class says its readiness is its own state and its neighbours' counts
    (``own_readiness``: a PE group's bits waiting for their DAC conversions, which wake it
    themselves).
    """
    users: dict[int, int] = {}
    for st in stages:
        users[id(st.pool)] = users.get(id(st.pool), 0) + 1
    # in pipeline order: never two lazy neighbours (each needs the other's events)
    for st in stages:
        st.lazy = (
            (not st.custom or getattr(type(st), "own_readiness", False))
            and users[id(st.pool)] == 1
            and (st.up is None or not st.up.lazy)
        )


def link(stages: list[Stage]) -> None:
    """Chain a share's stages (each pokes a neighbour blocked on it when it advances).

    ``in_mode``: a stage's item k (block g, bit b) needs upstream done count k + 1 (0: same item
    kind), (g + 1) x upstream bits (1: upstream per bit, this one per block) or g + 1 (2: upstream
    per block, this one per bit). ``slot_mode``: it needs the downstream started count k (0),
    g at bit 0 (1: this one per bit, downstream per block), (g - 1) x downstream bits + 1 (2).
    """
    for a, b in pairwise(stages):
        a.down, b.up = b, a
        b.in_mode = 0 if a.per_block == b.per_block else (1 if a.per_block > b.per_block else 2)
        a.slot_mode = 0 if a.per_block == b.per_block else (1 if a.per_block > b.per_block else 2)
