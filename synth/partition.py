"""Stage 3: macro partitioning by a (mu + lambda) evolutionary algorithm.

Rules: (a) a layer may occupy one or more macros; (b) two layers may share the same macros;
(c) layer ``i`` uses at most ``dup_i * row_blocks_i`` macros, each with at least one crossbar. Macro
counts are products of divisors of the row blocks and of dup, so every macro holds whole row blocks
of whole copies.

Operators (no crossover, as in the paper): ``mutate_num`` gives one layer (or shared pair) another
allowed macro count; ``mutate_share`` pairs a layer with an earlier unshared layer (their common macro
count allowed for both) or splits a pair. Each generation makes ``children`` mutated copies of random
parents; the survivors are the best ``population`` of parents and children together, so an improving
child is always kept (the released code discarded them). Fitness is the candidate's effective power
efficiency after stage 4.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field

from synth.context import ComboContext
from synth.design import Partition, allowed_counts
from synth.frozen import made
from synth.layout import counts_of


@dataclass(frozen=True)
class PartitionSpace:
    """Allowed macro counts per weight layer for one duplication vector."""

    counts: tuple[tuple[int, ...], ...]
    need: tuple[int, ...]  # crossbars of each layer (dup x set)
    cap: int  # most crossbars per macro
    sharing: bool
    #: :meth:`pair_counts` by pair, kept as they are asked for (the EA asks for the same pairs
    #: many times: every earlier unshared layer is a candidate partner)
    pairs: dict[tuple[int, int], tuple[int, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )
    #: :meth:`_partners` by layer, kept as they are asked for
    partners: dict[int, frozenset[int]] = field(default_factory=dict, compare=False, repr=False)
    #: :meth:`_other_counts` and :meth:`_nearest` by (identity of the counts, count)
    others: dict[tuple[int, int], tuple[int, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )
    near: dict[tuple[int, int], int] = field(default_factory=dict, compare=False, repr=False)

    def __getstate__(self) -> dict[str, object]:
        """Pickled (or copied) without :attr:`others` and :attr:`near`: their keys are the ids
        of this space's tuples, which a loaded space's tuples do not have."""
        return {**self.__dict__, "others": {}, "near": {}}

    @classmethod
    def of(
        cls, row_blocks: list[int], dup: list[int], need: list[int], cap: int, sharing: bool
    ) -> PartitionSpace:
        """Allowed counts per layer: even splits whose macros hold at most ``cap`` crossbars (the
        largest split if none does)."""
        options = [allowed_counts(rb, d) for rb, d in zip(row_blocks, dup, strict=True)]
        return cls._within(options, need, cap, sharing)

    @classmethod
    def _within(
        cls, options: Sequence[Sequence[int]], need: list[int], cap: int, sharing: bool
    ) -> PartitionSpace:
        """The space of layers with these allowed counts: those within ``cap`` (the largest if
        none is)."""
        counts = [
            tuple(c for c in o if -(-n // c) <= cap) or (o[-1],)
            for o, n in zip(options, need, strict=True)
        ]
        return cls(tuple(counts), tuple(need), cap, sharing)

    @classmethod
    def of_combo(
        cls, ctx: ComboContext, dup: Sequence[int], cap: int, sharing: bool
    ) -> PartitionSpace:
        """:meth:`of` for a design of ``ctx``'s combination with the full duplication vector
        ``dup``: its layers' row blocks, and dup x set size crossbars a layer."""
        dups = [int(d) for d in dup]
        need = [d * s for d, s in zip(dups, ctx.sets.tolist(), strict=True)]
        options = [counts_of(ctx, k, d) for k, d in enumerate(dups)]
        return cls._within(options, need, cap, sharing)

    def pair_counts(self, a: int, b: int) -> list[int]:
        """Macro counts a shared pair may use: allowed for both, both layers within the cap."""
        return list(self._pair(a, b))

    def _pair(self, a: int, b: int) -> tuple[int, ...]:
        """:meth:`pair_counts` as the kept tuple (no copy: the operators only read it)."""
        counts = self.pairs.get((a, b))
        if counts is None:
            both = self.need[a] + self.need[b]
            common = set(self.counts[a]) & set(self.counts[b])
            counts = self.pairs[a, b] = tuple(
                sorted(c for c in common if -(-both // c) <= self.cap)
            )
        return counts

    def _other_counts(self, options: tuple[int, ...], n: int) -> tuple[int, ...]:
        """``options`` (one of the kept tuples: a layer's counts or a pair's) without ``n``,
        kept by the tuple's identity and ``n`` (the space holds the tuple)."""
        key = (id(options), n)
        out = self.others.get(key)
        if out is None:
            out = self.others[key] = tuple([c for c in options if c != n])
        return out

    def _nearest(self, options: tuple[int, ...], n: int) -> int:
        """:func:`nearest` of one of the kept tuples, kept as :meth:`_other_counts` is."""
        key = (id(options), n)
        out = self.near.get(key)
        if out is None:
            out = self.near[key] = nearest(options, n)
        return out

    def _partners(self, k: int) -> frozenset[int]:
        """The earlier layers that layer ``k`` may share macros with (a common count allowed)."""
        out = self.partners.get(k)
        if out is None:
            out = self.partners[k] = frozenset(j for j in range(k) if self._pair(j, k))
        return out


def owners(p: Partition) -> dict[int, list[int]]:
    """Members of each macro group, by owner."""
    out: dict[int, list[int]] = {}
    for k, (owner, _) in enumerate(p):
        members = out.get(owner)
        if members is None:
            out[owner] = [k]
        else:
            members.append(k)
    return out


@dataclass(frozen=True)
class Groups:
    """A partition's macro groups as the operators read them: the owners in ascending order, the
    members of each by owner, and the owners that are alone in their group (ascending). Only the
    grouping matters, not the macro counts, so :func:`mutate_num`'s result has its input's
    groups and a caller may pass them on (the EA computes them once per parent, and keeps them
    for a child that only :func:`mutate_num` changed)."""

    owners: tuple[int, ...]
    members: dict[int, list[int]]
    alone: tuple[int, ...]

    @classmethod
    def of(cls, p: Partition) -> Groups:
        """The groups of ``p``: :func:`owners` and the owners alone in theirs, in one pass (an
        owner is not alone once another layer joins it, or when its one member is not itself)."""
        members: dict[int, list[int]] = {}
        joined = []  # owners not alone in their group
        for k, (owner, _) in enumerate(p):
            group = members.get(owner)
            if group is None:
                members[owner] = [k]
                if owner != k:
                    joined.append(owner)
            else:
                group.append(k)
                joined.append(owner)
        ordered = tuple(sorted(members))
        if joined:
            taken = set(joined)
            alone = tuple([j for j in ordered if j not in taken])
        else:
            alone = ordered
        return made(cls, {"owners": ordered, "members": members, "alone": alone})


def mutate_num(
    p: Partition,
    space: PartitionSpace,
    rng: random.Random,
    groups: Groups | None = None,
) -> Partition:
    """Change the macro count of one layer, or of one shared pair (both members). ``groups``:
    ``Groups.of(p)`` if the caller has it."""
    g = Groups.of(p) if groups is None else groups
    owner = rng.choice(g.owners)
    members = g.members[owner]
    options = space.counts[owner] if len(members) == 1 else space._pair(*members)
    choices = space._other_counts(options, p[owner][1])
    if not choices:
        return p
    n = rng.choice(choices)
    out = list(p)
    for k in members:
        out[k] = (owner, n)
    return tuple(out)


def mutate_share(
    p: Partition,
    space: PartitionSpace,
    rng: random.Random,
    groups: Groups | None = None,
) -> Partition:
    """Split a shared pair, or pair an unshared layer with an earlier unshared one. ``groups``:
    ``Groups.of(p)`` if the caller has it."""
    g = Groups.of(p) if groups is None else groups
    k = rng.randrange(len(p))
    owner = p[k][0]
    pair = g.members[owner]
    if len(pair) == 2:  # split the pair: each keeps the count if allowed, else its nearest
        out = list(p)
        for member in pair:
            out[member] = (member, space._nearest(space.counts[member], p[owner][1]))
        return tuple(out)
    if not space.sharing:
        return p
    # the earlier layers alone in their group (each its own owner) that may share with k, in
    # ascending order (those of ``g.alone`` that are partners of k)
    partners = sorted(space._partners(k).intersection(g.alone))
    if not partners:
        return p
    j = rng.choice(partners)
    n = space._nearest(space._pair(j, k), max(p[j][1], p[k][1]))
    out = list(p)
    out[j] = (j, n)
    out[k] = (j, n)
    return tuple(out)


def nearest(options: Sequence[int], n: int) -> int:
    """The allowed count nearest ``n`` (the smaller of two as near): ``n`` itself if allowed."""
    return n if n in options else min(options, key=lambda c: (abs(c - n), c))


#: A search of :func:`evolution`: yields batches to score, is sent their fitness, returns survivors.
Search = Generator[list[Partition], list[float], list[tuple[float, Partition]]]


def evolution(
    start: Partition,
    space: PartitionSpace,
    rng: random.Random,
    *,
    population: int,
    children: int,
    generations: int,
    p_num: float,
    p_share: float,
) -> Search:
    """The (mu + lambda) search from ``start`` as a generator: it yields each batch of partitions
    it needs scored (a generation's new ones, in the order it first meets them), is sent their
    fitness (maximised; ``-inf`` for a partition that cannot be scored; never NaN, which would
    leave the ranks without an order), and returns (fitness,
    partition) of the survivors, best first. Each partition is asked for once. Driven by
    :func:`evolve` (one search) or :func:`lockstep` (several side by side)."""
    #: each scored partition's place in the pool's order, (-fitness, partition): best first,
    #: then by partition (its fitness too: a negation is exact); while a batch waits for its
    #: fitness, its new partitions' places among its new ones
    rank: dict[Partition, tuple[float, Partition] | int] = {}
    #: the groups of each partition that was a parent, by the partition's identity (the object
    #: is held in the entry, so its id stays its own; an equal partition that is another object
    #: gets its own entry, of the same groups)
    grouped: dict[int, tuple[Partition, Groups]] = {}

    def child(parent: Partition) -> Partition:
        entry = grouped.get(id(parent))
        if entry is None:
            entry = grouped[id(parent)] = (parent, Groups.of(parent))
        groups = entry[1]
        c = parent
        if rng.random() < p_num:
            c = mutate_num(c, space, rng, groups)  # the same groups as its parent
        if rng.random() < p_share:
            shared = mutate_share(c, space, rng, groups)
            if shared is not c:  # (its groups are not its parent's)
                c = shared
                if c == parent:
                    c = mutate_num(c, space, rng, groups)
                return c
        if c == parent:
            c = mutate_num(c, space, rng, groups)
        if c is not parent:  # its parent's groups, kept for when it is a parent in turn
            grouped[id(c)] = (c, groups)
        return c

    def ranked(
        batch: list[Partition], pool_keys: dict[int, tuple[float, Partition]]
    ) -> Generator[list[Partition], list[float], list[tuple[float, Partition]]]:
        """The ranks of ``batch``'s distinct partitions, sorted; those not scored yet are first
        yielded to be scored (in the order the batch first has them). The pool's partitions are
        known by their identity (``pool_keys``: their ranks by id; the pool holds them), the
        others looked up by value once (hashing a partition of ResNet18's 21 layers costs about a
        microsecond): a partition scored before has its rank, one not scored yet is entered with
        its place among the new ones, so an equal one later in the batch is not asked for again.
        A rank is one object per partition value, so the batch's distinct ranks are those of
        distinct identity."""
        known: dict[int, tuple[float, Partition]] = {}  # the batch's ranks, by their identity
        new: list[Partition] = []
        for p in batch:
            key = pool_keys.get(id(p))
            if key is None:
                key = rank.setdefault(p, len(new))
                if isinstance(key, int):  # not scored yet
                    if key == len(new):  # (else an equal one is already among the new)
                        new.append(p)
                    continue
            known[id(key)] = key
        if not new:
            return sorted(known.values())
        fitness = yield new
        fresh = [(-f, p) for p, f in zip(new, fitness, strict=True)]
        rank.update((p, key) for key, p in zip(fresh, new, strict=True))
        return sorted([*known.values(), *fresh])

    pool = [start]
    while len(pool) < population:
        pool.append(child(rng.choice(pool)))
    pool_keys: dict[int, tuple[float, Partition]] = {}  # the pool's ranks (none yet)
    for _ in range(generations):
        offspring = [child(rng.choice(pool)) for _ in range(children)]
        keys = yield from ranked(pool + offspring, pool_keys)
        pool_keys = {id(key[1]): key for key in keys[:population]}
        pool = [p for _, p in keys[:population]]
    keys = yield from ranked(pool, pool_keys)
    return [(-f, p) for f, p in keys]


def lockstep(
    searches: Sequence[Search],
    fitness: Callable[[list[tuple[int, list[Partition]]]], list[list[float]]],
) -> list[list[tuple[float, Partition]]]:
    """Run several :func:`evolution` searches side by side and return each one's survivors.

    Each round, ``fitness`` gets (index in ``searches``, batch) of every search that asks for a
    batch, in the order of ``searches``, and returns their fitness lists in that order, so a
    caller can score them all in one go. A search's random stream is its own, and the fitness of a
    partition does not depend on the round it is scored in, so every search ends exactly as it
    would alone."""
    out: list[list[tuple[float, Partition]] | None] = [None] * len(searches)
    asking: dict[int, list[Partition]] = {}

    def step(i: int, sent: list[float] | None) -> None:
        try:
            asking[i] = searches[i].send(sent)  # type: ignore[arg-type]
        except StopIteration as stop:
            out[i] = stop.value

    for i in range(len(searches)):
        step(i, None)
    while asking:
        batches = [(i, asking.pop(i)) for i in sorted(asking)]
        for (i, _), scores in zip(batches, fitness(batches), strict=True):
            step(i, scores)
    assert all(o is not None for o in out)  # every search has run to its end
    return out  # type: ignore[return-value]


def evolve(
    search: Search, fitness: Callable[[list[Partition]], list[float]]
) -> list[tuple[float, Partition]]:
    """Run one :func:`evolution` search alone: ``fitness`` scores each batch it asks for (a
    generation's new partitions together; maximised, ``-inf`` for a partition it cannot score);
    returns (fitness, partition) of the survivors, best first. Each partition is scored once."""
    (survivors,) = lockstep([search], lambda batches: [fitness(b) for _, b in batches])
    return survivors
