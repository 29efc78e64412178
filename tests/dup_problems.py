"""A hypothesis strategy shared by the tests of stage 1's move and annealing: small random
duplication problems (1 to 8 conv layers, each its Ho*Wo, crossbars per copy and movement) with a
budget from every dup at 1 to 3,000 crossbars more, and a seed for the generator."""

from __future__ import annotations

from hypothesis import strategies as st

from synth.dup import DupProblem


@st.composite
def dup_problems(draw: st.DrawFn) -> tuple[DupProblem, int]:
    """(problem, seed)."""
    layers = draw(
        st.lists(
            st.tuples(st.integers(1, 400), st.integers(1, 40), st.integers(1, 99)),
            min_size=1,
            max_size=8,
        )
    )
    extra, seed_value = draw(st.integers(0, 3000)), draw(st.integers(0, 10_000))
    pixels, sets, movement = (tuple(c) for c in zip(*layers, strict=True))
    return DupProblem(pixels, sets, movement, sum(sets) + extra), seed_value
