"""Stage 1's annealing with the ``paper`` and ``max`` energies as one compiled loop (numba).

:func:`anneal_dup` runs what :func:`synth.anneal.anneal` runs with :class:`synth.dup.Neighbours` as the
move and :func:`synth.dup.paper_energy` or :func:`synth.dup.max_energy` as the energy, and returns
the same archive with ``rng`` left in the same state. The rule is the same, step for step:

- *the random draws*: the words come from ``rng`` itself. A copy of the generator draws a block of
  32-bit words ahead (``getrandbits(32 * m)`` is m draws of ``getrandbits(32)``, the first in the
  lowest bits); the loop reads them in order (more are drawn and the loop run again if it runs out),
  then ``rng`` draws as many words as the loop read, so it ends where the generic loop leaves it.
  ``getrandbits(k)`` (1 <= k <= 32) takes one word and returns its top k bits, ``getrandbits(0)``
  takes none; ``random()`` takes two words w1, w2 and returns
  ``((w1 >> 5) * 2**26 + (w2 >> 6)) / 2**53`` (CPython's rules; tests/test_anneal_jit.py checks
  them): the loop draws the integers as ``randrange`` and ``choice`` do
  (:func:`synth.dup._below`) and the acceptance test's uniform number so, in the generic loop's
  order.
- *the move*: the same integer steps, the lists of lowerable and fitting layers kept in layer order
  in small arrays, an element removed by shifting the ones after it (as ``del`` does).
- *the energies*: ``max`` is integer arithmetic; ``paper`` does the float operations of
  :func:`synth.dup.paper_energy` in its order (sums left to right, the integer sums exact and
  divided once, ``math.sqrt`` and ``math.exp`` the C library's, as CPython's). The integer sums are
  turned into floats before the division, which is exact only below 2**53: :func:`exact` checks
  that the largest sum of squares a feasible vector can reach stays below it (and the budget and
  the pixel counts), and the caller falls back to the generic annealing otherwise (no paper
  network comes near it: at their budgets, the largest bound is VGG16's at 100 W, 5.5e13, under
  1% of 2**53).
- *the archive*: the loop returns every candidate with its energy (the energy is a pure function
  of the vector, so a state met again has the same one); Python makes the states at or below the
  archive's threshold distinct and ranks them as :func:`synth.anneal.anneal` does.

Only the states and energies cross into Python; the temperatures, the moves and the acceptance test
stay in the loop. No ``fastmath``: every float operation is the one CPython does.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np
from numba import njit

from synth.anneal import initial_temperature, ranked

PAPER, MAX = 0, 1  # the energies the loop knows
#: words drawn ahead per move (a ResNet18 move takes about 20); a loop that runs out runs again
#: with four times as many
WORDS_PER_MOVE = 32


@njit(cache=True)
def _word(words: np.ndarray) -> int:
    """The next of the generator's 32-bit ``words`` (drawn beforehand, in draw order; the last
    entry is the index of the next one). Past the end it gives 0 and marks the index with the
    array's length: the caller draws more words and runs again."""
    i = words[-1]
    if i >= words.shape[0] - 1:
        words[-1] = words.shape[0]
        return 0
    words[-1] = i + 1
    return words[i]


@njit(cache=True)
def _bits(words: np.ndarray, k: int) -> int:
    """``getrandbits(k)`` for 0 <= k <= 32: the top k bits of one word (none taken for k = 0)."""
    if k == 0:
        return 0
    return _word(words) >> (32 - k)


@njit(cache=True)
def _below(words: np.ndarray, n: int) -> int:
    """A uniform integer in [0, n), n >= 1, as ``randrange(n)`` draws it: n's bit length of bits,
    again until below n."""
    k, m = 0, n
    while m:
        m >>= 1
        k += 1
    r = _bits(words, k)
    while r >= n:
        r = _bits(words, k)
    return r


@njit(cache=True)
def _uniform(words: np.ndarray) -> float:
    """``random()``: 53 bits from two words, in [0, 1)."""
    a = _word(words) >> 5
    b = _word(words) >> 6
    return (a * 67108864.0 + b) / 9007199254740992.0


@njit(cache=True)
def energy(
    dup: np.ndarray, pixels: np.ndarray, movement: np.ndarray, kind: int, alpha: float
) -> float:
    """The energy of one vector, as :func:`synth.dup.max_energy` (``kind`` MAX: the largest block
    count, ceil(Ho*Wo / dup)) or :func:`synth.dup.paper_energy` (PAPER: CV(Ho*Wo / dup) + alpha *
    CV(dup * movement), CV = population stdev / mean from the sum and the sum of squares, the float
    sums left to right, the integer sums exact) computes it. Dimensionless."""
    n = dup.shape[0]
    if kind == MAX:
        worst = 0
        for j in range(n):
            c = -(-pixels[j] // dup[j])
            if c > worst:
                worst = c
        return float(worst)
    if n < 2:
        return 0.0
    total = 0.0
    for j in range(n):
        total += pixels[j] / dup[j]
    mean = total / n
    balance = 0.0
    if mean > 0:
        squares = 0.0
        for j in range(n):
            b = pixels[j] / dup[j]
            squares += b * b
        var = squares / n - mean * mean
        balance = (math.sqrt(var) if var >= 0.0 else 0.0) / mean
    moved = 0
    moved_sq = 0
    for j in range(n):
        m = dup[j] * movement[j]
        moved += m
        moved_sq += m * m
    mean = moved / n
    spread = 0.0
    if mean > 0:
        var = moved_sq / n - mean * mean
        spread = (math.sqrt(var) if var >= 0.0 else 0.0) / mean
    return balance + alpha * spread


@njit(cache=True)
def _move(state, new, words, pixels, sets, budget, mean_set, lowerable, fits) -> None:  # type: ignore[no-untyped-def]
    """:class:`synth.dup.Neighbours`'s move from ``state`` into ``new`` (every array int64; the
    same draws in the same order; ``lowerable`` and ``fits`` are scratch arrays of n)."""
    n = state.shape[0]
    for j in range(n):
        new[j] = state[j]
    i = _below(words, n)
    used = 0
    for j in range(n):
        used += state[j] * sets[j]
    ni, si = new[i], sets[i]
    quarter = ni // 4 if ni >= 8 else 1
    spare = (budget - used) // si
    room = (spare if spare > 0 else 0) + quarter
    if pixels[i] - ni < room:
        room = pixels[i] - ni
    if room > 0:
        step = 1 + _below(words, room)
    elif ni > 1:
        step = -1 - _below(words, quarter)
    else:
        step = 0
    new[i] = ni + step
    used += step * si
    if used > budget:
        m = 0  # every layer but i with dup > 1, in layer order
        for j in range(n):
            if j != i and new[j] > 1:
                lowerable[m] = j
                m += 1
        while used > budget:
            if m:
                r = _below(words, m)
                j = lowerable[r]
                if new[j] == 2:
                    for q in range(r, m - 1):
                        lowerable[q] = lowerable[q + 1]
                    m -= 1
            elif new[i] > 1:
                j = i
                _below(words, 1)  # the draw of a choice from the rule's one-element list
            else:
                for q in range(n):
                    new[q] = state[q]  # no neighbour: the move gives the state back
                return
            new[j] -= 1
            used -= sets[j]
    spare = budget - used
    if spare >= mean_set:
        f = 0
        for j in range(n):
            if sets[j] <= spare and new[j] < pixels[j]:
                fits[f] = j
                f += 1
        while spare >= mean_set and f:
            j = fits[_below(words, f)]
            new[j] += 1
            spare -= sets[j]
            g = 0
            for q in range(f):
                k = fits[q]
                if sets[k] <= spare and new[k] < pixels[k]:
                    fits[g] = k
                    g += 1
            f = g


@njit(cache=True)
def _anneal(  # type: ignore[no-untyped-def]
    words, init, pixels, sets, movement, budget, mean_set, kind, alpha, start, temperatures,
    chains, iterations,
):  # fmt: skip
    """:func:`synth.anneal.anneal`'s chains with the move and energy above, each chain through the
    schedule ``temperatures``. Returns (states, energies): ``init`` and then every candidate of
    every move, in order, with its energy (a state met twice is there twice, with the same
    energy); ``words`` is read from its index on."""
    n = init.shape[0]
    states = np.empty((chains * iterations * len(temperatures) + 1, n), dtype=np.int64)
    energies = np.empty(states.shape[0], dtype=np.float64)
    state = np.empty(n, dtype=np.int64)
    lowerable, fits = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    states[0] = init
    energies[0] = start
    count = 1
    for _ in range(chains):
        state[:] = init
        e = start
        for temperature in temperatures:
            for _ in range(iterations):
                new = states[count]
                _move(state, new, words, pixels, sets, budget, mean_set, lowerable, fits)
                ce = energies[count] = energy(new, pixels, movement, kind, alpha)
                count += 1
                if ce <= e:
                    accept = True
                else:
                    accept = _uniform(words) < math.exp((e - ce) / temperature)
                if accept:
                    state[:] = new
                    e = ce
    return states, energies


def exact(
    pixels: Sequence[int], sets: Sequence[int], movement: Sequence[int], budget: int, kind: int
) -> bool:
    """Whether the loop computes what CPython computes for every feasible vector of the problem.
    Its integers are int64 and become floats in a few places, which is exact below 2**53: the
    budget (the move compares the spare crossbars with the mean set size), the pixel counts (the
    paper energy divides them by the dup) and, for PAPER, the sums of dup * movement and of its
    squares (CPython divides the exact integers by the layer count, the loop their floats)."""
    limit = 2**53
    if not (0 <= budget < limit and all(0 < p < limit for p in pixels)):
        return False
    if kind == MAX:
        return True
    minimum = sum(sets)
    largest = [
        min(p, (budget - minimum + s) // s) * m
        for p, s, m in zip(pixels, sets, movement, strict=True)
    ]
    return sum(x * x for x in largest) < limit


def anneal_dup(
    init: tuple[int, ...],
    pixels: Sequence[int],
    sets: Sequence[int],
    movement: Sequence[int],
    budget: int,
    kind: int,
    alpha: float,
    rng: random.Random,
    *,
    chains: int,
    iterations: int,
    cooling: float,
    final_ratio: float,
    archive: int,
) -> list[tuple[float, tuple[int, ...]]]:
    """:func:`synth.anneal.anneal` from the feasible ``init`` with :class:`synth.dup.Neighbours`
    and the energy ``kind`` (PAPER with ``alpha``, or MAX): the same archive, ``rng`` advanced by
    the same draws. The caller checks :func:`exact` first."""
    if not 0 < cooling < 1:
        raise ValueError("cooling must be in (0, 1)")
    ints = {"dtype": np.int64}
    arrays = [np.array(x, **ints) for x in (init, pixels, sets, movement)]
    mean_set = sum(sets) / len(sets) if sets else 0.0
    start = energy(arrays[0], arrays[1], arrays[3], kind, float(alpha))
    t0 = initial_temperature(start)
    schedule = []  # the temperatures of a chain, as the generic loop steps through them
    t = t0
    while t > t0 * final_ratio:
        schedule.append(t)
        t *= cooling
    temperatures = np.array(schedule, dtype=np.float64)
    need = WORDS_PER_MOVE * max(1, chains * iterations * len(schedule))
    while True:
        ahead = random.Random()
        ahead.setstate(rng.getstate())
        words = np.empty(need + 1, dtype=np.int64)
        words[:need] = np.frombuffer(
            ahead.getrandbits(32 * need).to_bytes(4 * need, "little"), "<u4"
        )
        words[need] = 0  # the index of the next word
        states, energies = _anneal(
            words, arrays[0], arrays[1], arrays[2], arrays[3], int(budget), float(mean_set),
            int(kind), float(alpha), float(start), temperatures, int(chains), int(iterations),
        )  # fmt: skip
        if words[need] <= need:
            break
        need *= 4
    if words[need]:
        rng.getrandbits(32 * int(words[need]))  # the words the loop took, from rng itself
    if archive <= 0:
        return []
    # the archive's threshold is at most the archive-th lowest distinct energy value (each value
    # is at least one distinct state), so only the states at or below it are made distinct
    values = np.unique(energies)
    low = energies <= values[min(archive, len(values)) - 1]
    rows, first = np.unique(states[low], axis=0, return_index=True)
    kept = energies[low][first]
    return ranked([(float(e), tuple(r.tolist())) for e, r in zip(kept, rows, strict=True)], archive)
