"""A candidate's macros: the partition genome and the layout of a network's layers on macros.

A *partition* gives every weight layer ``(owner, n)``: ``owner`` is the layer itself, or an earlier
layer whose ``n`` macros it shares (the paper's genome ``owner * 1000 + n``). A layer's crossbars are
split as evenly as possible over its macros; a shared pair's macros hold both layers' crossbars and
use one ADC bank and one set of units in turn. Other layers run on the first macro of their first
producer's macros.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from synth.context import ComboContext

Partition = tuple[tuple[int, int], ...]


def allowed_counts(row_blocks: int, dup: int) -> list[int]:
    """Macro counts that split a layer evenly: products of divisors of row blocks and of dup."""

    def divisors(n: int) -> list[int]:
        small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
        return sorted(set(small + [n // d for d in small]))

    return sorted({a * b for a in divisors(row_blocks) for b in divisors(dup)})


def default_partition(ctx: ComboContext, dup: np.ndarray, cap: int = 128) -> Partition:
    """No sharing; each layer on the fewest allowed macros of at most ``cap`` crossbars (the EA's
    starting point)."""
    out = []
    for k in range(len(ctx.weight)):
        need = int(dup[k] * ctx.sets[k])
        counts = allowed_counts(int(ctx.row_blocks[k]), int(dup[k]))
        n = next((c for c in counts if need / c <= cap), counts[-1])
        out.append((k, n))
    return tuple(out)


#: Unified mode's macro sizes (crossbars per macro): 32 to 512 in steps of 32, as the paper and the
#: released code draw them.
UNIFIED_SIZES = tuple(range(32, 513, 32))


def unified_partition(ctx: ComboContext, dup: np.ndarray, size: int) -> Partition:
    """Identical macros of at most ``size`` crossbars, no sharing: each layer on the fewest macros
    of an even split that holds at most ``size`` crossbars each (or its finest even split, when even
    that is larger: the macros are then as large as that split)."""
    out = []
    for k in range(len(ctx.weight)):
        need = int(dup[k] * ctx.sets[k])
        counts = allowed_counts(int(ctx.row_blocks[k]), int(dup[k]))
        out.append((k, next((c for c in counts if need / c <= size), counts[-1])))
    return tuple(out)


@dataclass(frozen=True)
class Macros:
    """The macros of a design, and where each layer's crossbars are."""

    crossbars: np.ndarray  # (M,)
    share_layer: np.ndarray  # (S,) network layer index, sorted
    share_macro: np.ndarray  # (S,)
    share_frac: np.ndarray  # (S,)
    share_xbars: np.ndarray  # (S,) crossbars of the share (0 for layers without weights)
    groups: tuple[tuple[tuple[int, ...], int, int], ...]  # (weight positions, first macro, n)


def assemble(ctx: ComboContext, dup: np.ndarray, partition: Partition) -> Macros:
    """Lay out the macros of a partition: each group (an owner and the layers sharing its macros)
    gets the next ``n`` macros; a layer's crossbars are split over its group's macros as evenly as
    possible (the first ``need % n`` get one more); a layer without weights sits on the first macro
    of its host weight layer's group."""
    members: dict[int, list[int]] = {}
    for k, (o, _) in enumerate(partition):
        members.setdefault(o, []).append(k)
    owners = sorted(members)
    group_of = {o: g for g, o in enumerate(owners)}
    group_n = np.array([partition[o][1] for o in owners], dtype=int)
    group_start = np.cumsum(group_n) - group_n
    gi = np.array([group_of[o] for o, _ in partition], dtype=int)
    first, n = group_start[gi], group_n[gi]  # (W,) per weight layer
    need = dup * ctx.sets
    q, r = np.divmod(need, n)
    rep = np.repeat(np.arange(len(partition)), n)
    i = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    size = q[rep] + (i < r[rep])
    macro = first[rep] + i
    crossbars = np.bincount(macro, weights=size, minlength=int(group_n.sum())).astype(int)
    keep = size > 0
    rep, macro, size = rep[keep], macro[keep], size[keep]
    others = ctx.others
    layer = np.concatenate([ctx.weight[rep], others])
    order = np.argsort(layer, kind="stable")
    zeros = np.zeros(len(others), dtype=int)
    groups = tuple(
        (tuple(members[o]), st, c)
        for o, st, c in zip(owners, group_start.tolist(), group_n.tolist(), strict=True)
    )
    return Macros(
        crossbars,
        layer[order],
        np.concatenate([macro, first[ctx.host_of[others]]])[order],
        np.concatenate([size / need[rep], np.ones(len(others))])[order],
        np.concatenate([size, zeros])[order],
        groups,
    )
