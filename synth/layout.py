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


def counts_of(ctx: ComboContext, k: int, dup: int) -> tuple[int, ...]:
    """:func:`allowed_counts` of weight layer ``k`` at ``dup`` copies, kept in ``ctx`` (the search
    asks for the same few keys thousands of times per combination)."""
    key = (int(ctx.row_blocks[k]), int(dup))
    counts = ctx.counts.get(key)
    if counts is None:
        counts = ctx.counts[key] = tuple(allowed_counts(*key))
    return counts


def default_partition(ctx: ComboContext, dup: np.ndarray, cap: int = 128) -> Partition:
    """No sharing; each layer on the fewest allowed macros of at most ``cap`` crossbars (its finest
    even split when none is that small). The EA's starting point."""
    out = []
    for k, (d, s) in enumerate(zip(np.asarray(dup).tolist(), ctx.sets.tolist(), strict=True)):
        need = d * s
        counts = counts_of(ctx, k, d)
        out.append((k, next((c for c in counts if need / c <= cap), counts[-1])))
    return tuple(out)


#: Unified mode's macro sizes (crossbars per macro): 32 to 512 in steps of 32, as the paper and the
#: released code draw them.
UNIFIED_SIZES = tuple(range(32, 513, 32))


def unified_partition(ctx: ComboContext, dup: np.ndarray, size: int) -> Partition:
    """Identical macros of at most ``size`` crossbars, no sharing: each layer on the fewest macros
    of an even split that holds at most ``size`` crossbars each (or its finest even split, when even
    that is larger: the macros are then as large as that split): :func:`default_partition` with
    ``size`` as its cap."""
    return default_partition(ctx, dup, size)


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
    """Lay out the macros of a partition (:func:`assemble_batch` of one)."""
    return assemble_batch(ctx, [dup], [partition])[0]


def assemble_batch(
    ctx: ComboContext, dups: list[np.ndarray], partitions: list[Partition]
) -> list[Macros]:
    """Lay out the macros of many partitions of ``ctx``'s combination: each group (an owner and
    the layers sharing its macros) gets the next ``n`` macros; a layer's crossbars are split over
    its group's macros as evenly as possible (the first ``need % n`` get one more); a layer without
    weights sits on the first macro of its host weight layer's group.

    The groups are found per partition (a few Python steps a layer); the splits, the crossbars per
    macro and the shares sorted by layer are computed for the whole batch at once, with the
    candidates' layers and macros laid end to end (a share's key is design x layers + layer; a
    stable sort of the keys keeps each design's shares in the order it alone gives them), then cut
    per candidate."""
    w, count = len(ctx.weight), len(partitions)
    n_of: list[int] = []  # (B x W,) macros of each layer's group
    first_of: list[int] = []  # (B x W,) the group's first macro, counted over the whole batch
    groups_of: list[tuple[tuple[tuple[int, ...], int, int], ...]] = []
    macros_of: list[int] = []
    offset = 0
    for p in partitions:
        members: dict[int, list[int]] = {}
        for k, (o, _) in enumerate(p):
            members.setdefault(o, []).append(k)
        start: dict[int, int] = {}
        groups = []
        at = 0
        for o in sorted(members):
            start[o] = at
            groups.append((tuple(members[o]), at, p[o][1]))
            at += p[o][1]
        n_of += [p[o][1] for o, _ in p]
        first_of += [offset + start[o] for o, _ in p]
        groups_of.append(tuple(groups))
        macros_of.append(at)
        offset += at
    n, first = np.array(n_of, dtype=int), np.array(first_of, dtype=int)
    need = (np.array(dups, dtype=int).reshape(count, w) * ctx.sets).ravel()
    q, r = np.divmod(need, n)
    rep = np.repeat(np.arange(count * w), n)
    i = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n)
    size = q[rep] + (i < r[rep])
    macro = first[rep] + i
    crossbars = np.bincount(macro, weights=size, minlength=offset).astype(int)
    keep = size > 0
    rep, macro, size = rep[keep], macro[keep], size[keep]
    others, layers = ctx.others, len(ctx.tables.names)
    design = np.concatenate([rep // w, np.repeat(np.arange(count), len(others))])
    layer = np.concatenate([ctx.weight[rep % w], np.tile(others, count)])
    hosts = (np.arange(count)[:, None] * w + ctx.host_of[others]).ravel()
    order = np.argsort(design * layers + layer, kind="stable")
    share_macro = np.concatenate([macro, first[hosts]])
    base = np.cumsum(macros_of) - macros_of  # each design's first macro in the batch
    share_macro = (share_macro - base[design])[order]
    share_frac = np.concatenate([size / need[rep], np.ones(len(hosts))])[order]
    share_xbars = np.concatenate([size, np.zeros(len(hosts), dtype=int)])[order]
    layer = layer[order]
    ends = np.cumsum(np.bincount(design, minlength=count)).tolist()
    ends_macros = np.cumsum(macros_of).tolist()
    return [  # (slices: np.split costs more than the layout)
        Macros(
            crossbars[m0:m1],
            layer[s0:s1],
            share_macro[s0:s1],
            share_frac[s0:s1],
            share_xbars[s0:s1],
            groups,
        )
        for s0, s1, m0, m1, groups in zip(
            [0, *ends[:-1]], ends, [0, *ends_macros[:-1]], ends_macros, groups_of, strict=True
        )
    ]
