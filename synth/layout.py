"""A candidate's macros: the partition genome and the layout of a network's layers on macros.

A *partition* gives every weight layer ``(owner, n)``: ``owner`` is the layer itself, or an earlier
layer whose ``n`` macros it shares (the paper's genome ``owner * 1000 + n``). A layer's crossbars are
split as evenly as possible over its macros; a shared pair's macros hold both layers' crossbars and
use one ADC bank and one set of units in turn. Other layers run on the first macro of their first
producer's macros.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from synth.context import ComboContext
from synth.frozen import made
from synth.layout_loops import layout_arrays

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


def groups_of(partition: Partition) -> tuple[tuple[tuple[int, ...], int, int], ...]:
    """The macro groups of a partition, owners in ascending order: (the weight positions sharing
    the group's macros, its first macro, its macro count)."""
    members: dict[int, list[int]] = {}
    for k, (o, _) in enumerate(partition):
        members.setdefault(o, []).append(k)
    groups, at = [], 0
    for o in sorted(members):
        groups.append((tuple(members[o]), at, partition[o][1]))
        at += partition[o][1]
    return tuple(groups)


@dataclass(frozen=True)
class Macros:
    """The macros of a design, and where each layer's crossbars are."""

    crossbars: np.ndarray  # (M,)
    share_layer: np.ndarray  # (S,) network layer index, sorted
    share_macro: np.ndarray  # (S,)
    share_frac: np.ndarray  # (S,)
    share_xbars: np.ndarray  # (S,) crossbars of the share (0 for layers without weights)
    partition: Partition

    @property
    def groups(self) -> tuple[tuple[tuple[int, ...], int, int], ...]:
        """(weight positions, first macro, n) of each macro group (:func:`groups_of`)."""
        return groups_of(self.partition)


def assemble(ctx: ComboContext, dup: np.ndarray, partition: Partition) -> Macros:
    """Lay out the macros of a partition (:func:`assemble_batch` of one)."""
    return assemble_batch(ctx, [dup], [partition])[0]


class Layouts(tuple):
    """The macros of a batch of candidates (a tuple of :class:`Macros`, one per candidate) with
    the batch's arrays as :func:`synth.layout_loops.layout_arrays` laid them end to end
    (``arrays``: crossbars per macro, the shares' layer, macro (each candidate's own numbering),
    fraction and crossbars, each candidate's end in the macros and in the shares), so that stage 4
    reads the batch without concatenating it again. Each :class:`Macros` is a view of them."""

    arrays: tuple[np.ndarray, ...]

    def __new__(cls, macros: list[Macros], arrays: tuple[np.ndarray, ...]) -> Layouts:
        self = super().__new__(cls, macros)
        self.arrays = arrays
        return self


def assemble_batch(
    ctx: ComboContext, dups: list[np.ndarray], partitions: list[Partition]
) -> Layouts:
    """Lay out the macros of many partitions of ``ctx``'s combination: each group (an owner and
    the layers sharing its macros) gets the next ``n`` macros; a layer's crossbars are split over
    its group's macros as evenly as possible (the first ``need % n`` get one more); a layer without
    weights sits on the first macro of its host weight layer's group. One compiled loop over the
    batch (:func:`synth.layout_loops.layout_arrays`), cut per candidate (a :class:`Layouts`)."""
    count, w = len(partitions), len(ctx.weight)
    flat = itertools.chain.from_iterable(itertools.chain.from_iterable(partitions))
    genome = np.fromiter(flat, dtype=np.int64, count=count * w * 2).reshape(count, w, 2)
    dup = np.array(dups, dtype=np.int64).reshape(count, w)
    arrays = layout_arrays(genome, dup, ctx.sets, ctx.weight, ctx.host_of)
    crossbars, layer, macro, frac, xbars, macro_end, share_end = arrays
    ends, ends_macros = share_end.tolist(), macro_end.tolist()
    macros = [  # (slices: np.split costs more than the layout; made: no __init__ a design)
        made(
            Macros,
            {
                "crossbars": crossbars[m0:m1],
                "share_layer": layer[s0:s1],
                "share_macro": macro[s0:s1],
                "share_frac": frac[s0:s1],
                "share_xbars": xbars[s0:s1],
                "partition": p,
            },
        )
        for s0, s1, m0, m1, p in zip(
            [0, *ends[:-1]], ends, [0, *ends_macros[:-1]], ends_macros, partitions, strict=True
        )
    ]
    return Layouts(macros, arrays)
