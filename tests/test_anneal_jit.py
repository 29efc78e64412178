"""Stage 1's compiled annealing (synth.anneal_jit) is the generic annealing (synth.anneal.anneal with
synth.dup.Neighbours and the paper or max energy): the same archive, energies to the last bit, and
the random generator left in the same state, on the paper networks' problems and on hand-made
corner cases."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimsim.components.library import load_library
from pimsim.network.zoo import zoo_network
from synth import anneal_jit
from synth.anneal import anneal
from synth.anneal_jit import MAX, PAPER, _word, anneal_dup, energy, exact
from synth.context import ComboContext
from synth.dup import DupProblem, Neighbours, candidates, max_energy, paper_energy, seed
from synth.settings import SAParams, Settings, combos
from tests.dup_problems import dup_problems

SMALL = {"chains": 2, "iterations": 12, "cooling": 0.7, "final_ratio": 1e-2, "archive": 10}


def both(problem: DupProblem, kind: int, seed_value: int, init: tuple[int, ...] | None = None):  # type: ignore[no-untyped-def]
    """The generic and the compiled annealing of ``problem`` from ``init`` (default: the seed),
    each with its own generator seeded alike: (archive, generator) of each."""
    start = seed(problem) if init is None else init
    plain = paper_energy(problem, 0.1) if kind == PAPER else max_energy(problem)
    a, b = random.Random(seed_value), random.Random(seed_value)
    generic = anneal(start, plain, Neighbours(problem), a, **SMALL)
    compiled = anneal_dup(
        start, problem.pixels, problem.sets, problem.movement, problem.budget, kind, 0.1, b, **SMALL
    )
    return (generic, a), (compiled, b)


def assert_same(problem: DupProblem, kind: int, seed_value: int, init=None) -> list:  # type: ignore[no-untyped-def]
    (generic, a), (compiled, b) = both(problem, kind, seed_value, init)
    assert compiled == generic  # states, energies (floats compared exactly) and order
    assert all(type(e) is float and all(type(d) is int for d in s) for e, s in compiled)
    assert b.getstate() == a.getstate() and b.random() == a.random()
    return compiled


def test_the_words_drawn_ahead_are_the_generators_draws() -> None:
    """A block of 32 * m bits is m draws of 32 bits, the first in the lowest bits (what the
    compiled loop reads); past the block's end the loop gets 0 and the index marks it."""
    rng, ahead = random.Random(11), random.Random(11)
    block = ahead.getrandbits(32 * 2000).to_bytes(4 * 2000, "little")
    words = np.append(np.frombuffer(block, "<u4").astype(np.int64), 0)
    assert [_word(words) for _ in range(2000)] == [rng.getrandbits(32) for _ in range(2000)]
    assert words[-1] == 2000 and ahead.getstate() == rng.getstate()
    assert _word(words) == 0 and words[-1] == len(words)  # ran out: the caller draws more


def test_a_loop_that_runs_out_of_words_is_run_again_with_more(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With one word drawn ahead per move (a move takes several), the loop runs out, runs again
    with more, and still ends as the generic annealing, the generator in the same state."""
    monkeypatch.setattr(anneal_jit, "WORDS_PER_MOVE", 1)
    problem = DupProblem(pixels=(4096,) * 12, sets=(3,) * 12, movement=(1,) * 12, budget=400)
    assert_same(problem, PAPER, 5)


def test_the_loops_exp_and_sqrt_are_cpythons() -> None:
    """The acceptance test's exp((e - ce) / T) (arguments <= 0, from 1e-12 to 1e3 in size, and
    some far outside) and the energy's sqrt, compiled, give CPython's floats bit for bit."""
    from numba import njit

    @njit
    def both(xs: np.ndarray, exps: np.ndarray, roots: np.ndarray) -> None:
        for k in range(xs.shape[0]):
            exps[k] = math.exp(xs[k])
            roots[k] = math.sqrt(-xs[k])

    rng = random.Random(3)
    xs = [-rng.random() * 10 ** rng.uniform(-12, 3) for _ in range(200_000)]
    xs += [-rng.uniform(0, 800) for _ in range(20_000)]
    arguments = np.array(xs)
    exps, roots = np.empty_like(arguments), np.empty_like(arguments)
    both(arguments, exps, roots)
    assert exps.tolist() == [math.exp(x) for x in xs]
    assert roots.tolist() == [math.sqrt(-x) for x in xs]


@pytest.mark.parametrize(
    ("network", "power_w"),
    [("alexnet", 49.0), ("vgg13", 100.0), ("vgg16", 100.0), ("msra_a", 100.0), ("resnet18", 49.0)],
)
def test_the_paper_networks_anneal_alike(network: str, power_w: float) -> None:
    """Two problems of each paper network at its budget (the smallest and the largest crossbar
    budget among the combinations), both energies."""
    net, lib = zoo_network(network), load_library("pimsyn")
    problems = []
    for combo in combos(Settings(power_w=power_w)):
        if combo.xbar == 128 and combo.cell_bits == 2 and combo.dac_bits == 1:
            problem = ComboContext.build(combo, net, lib, power_w).dup_problem()
            if problem.budget >= problem.minimum:
                problems.append(problem)
    problems.sort(key=lambda p: p.budget)
    assert len(problems) >= 2
    for k, problem in enumerate((problems[0], problems[-1])):
        for kind in (PAPER, MAX):
            assert exact(problem.pixels, problem.sets, problem.movement, problem.budget, kind)
            archive = assert_same(problem, kind, 2 * k + kind)
            assert len(archive) == SMALL["archive"]


def test_hand_made_corners_anneal_alike() -> None:
    # one layer: the paper energy is 0 (always balanced), so T0 = 1; 13 copies fill the budget, and
    # every move raises (up to a quarter more), lowers back within the budget and refills: the
    # archive is the seed alone, and each move draws 3 words or more
    one = DupProblem((50,), (3,), (10,), 40)
    assert assert_same(one, PAPER, 1) == [(0.0, (13,))]
    assert assert_same(one, MAX, 2) == [(4.0, (13,))]  # ceil(50 / 13)
    # budget-tight: the budget is every dup at 1, so every move gives the state back (raise one,
    # then lower it again: no other layer can go lower); the archive is the seed alone
    tight = DupProblem((9, 16, 4), (2, 3, 5), (7, 8, 9), 10)
    for kind in (PAPER, MAX):
        assert [s for _, s in assert_same(tight, kind, 3)] == [(1, 1, 1)]
    # every dup at its bound (dup = Ho*Wo) and the budget far above it: a move can only lower
    full = DupProblem((4, 2, 3), (1, 2, 1), (5, 6, 7), 100)
    assert seed(full) == full.pixels
    for kind in (PAPER, MAX):
        assert full.pixels in [s for _, s in assert_same(full, kind, 4)]
    # a budget that fits the seed exactly, started from all ones: moves raise, lower and refill
    snug = DupProblem((30, 12, 20, 6), (2, 5, 3, 4), (11, 40, 25, 60), 60)
    for kind in (PAPER, MAX):
        assert_same(snug, kind, 5, init=(1, 1, 1, 1))


@settings(max_examples=60, deadline=None)
@given(dup_problems())
def test_random_problems_anneal_alike(case) -> None:  # type: ignore[no-untyped-def]
    problem, seed_value = case
    for kind in (PAPER, MAX):
        assert_same(problem, kind, seed_value + kind)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 50_000), st.integers(1, 64), st.integers(1, 5_000)),
        min_size=1,
        max_size=24,
    ),
    st.floats(0.0, 10.0),
    st.randoms(use_true_random=False),
)
def test_the_compiled_energies_are_the_plain_ones(layers, alpha, rnd) -> None:  # type: ignore[no-untyped-def]
    """On random vectors of random problems (large counts too, the sums of squares below 2**53):
    the same float, bit for bit."""
    pixels, sets, movement = (tuple(c) for c in zip(*layers, strict=True))
    problem = DupProblem(pixels, sets, movement, 10**6)
    dup = tuple(rnd.randint(1, min(p, 2_000)) for p in pixels)
    arrays = [np.array(x, dtype=np.int64) for x in (dup, pixels, movement)]
    assert energy(*arrays, PAPER, alpha) == paper_energy(problem, alpha)(dup)
    assert energy(*arrays, MAX, alpha) == max_energy(problem)(dup)


def test_candidates_compile_only_where_the_loop_is_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """dup * movement up to 10^4 * 10^6 on 3 layers: its squares pass 2**53, where the compiled
    division of the sums would round twice, so candidates anneal the paper energy generically
    (the same result as the generic annealing run here); the max energy has no such sum and is
    compiled; a budget of 2**53 is too large for either."""
    assert (2**53 + 1) / 3 != float(2**53 + 1) / 3  # CPython divides the exact integer
    huge = DupProblem((10**4, 10**4, 4), (1, 1, 1), (10**6, 3, 7), 2 * 10**4)
    assert not exact(huge.pixels, huge.sets, huge.movement, huge.budget, PAPER)
    assert exact(huge.pixels, huge.sets, huge.movement, huge.budget, MAX)
    assert not exact(huge.pixels, huge.sets, huge.movement, 2**53, MAX)
    compiled: list[int] = []

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        compiled.append(args[5])
        return anneal_dup(*args, **kwargs)

    monkeypatch.setattr("synth.dup.anneal_dup", counted)
    for name, plain in (("paper", paper_energy(huge, 0.1)), ("max", max_energy(huge))):
        a, b = random.Random(6), random.Random(6)
        got = candidates(huge, "sa", SAParams(energy=name, **SMALL), a)  # type: ignore[arg-type]
        generic = anneal(seed(huge), plain, Neighbours(huge), b, **SMALL)
        assert got == [seed(huge)] + [s for _, s in generic if s != seed(huge)]
        assert a.getstate() == b.getstate()
    assert compiled == [MAX]
    small = DupProblem((30, 12, 20, 6), (2, 5, 3, 4), (11, 40, 25, 60), 60)
    candidates(small, "sa", SAParams(**SMALL), random.Random(0))
    assert compiled == [MAX, PAPER]
