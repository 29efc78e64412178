"""The cross-packet bound of a NoC link (pimsim.model.crossing) worked out by hand on three flows:
X crosses L then L', Y takes L only, Z takes L' only (the catalogue's hand design,
tests/test_catalogue_links.py, where the simulator runs it). 10 ns flits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pimsim.model.crossing import cross_idle_bounds
from pimsim.model.kernel import link_of

FLIT_NS = 10.0


def bound(
    routes: list[tuple[tuple[int, int], tuple[int, int]]],
    flits: list[float],
    packets: list[float],
    side: int = 3,
) -> tuple[float, tuple[tuple[int, int], tuple[int, int]]]:
    """The bound of one design whose flows run from ``routes[i][0]`` to ``routes[i][1]`` (routers
    (row, column)), and its link."""
    ends = tuple(np.array([r[i][j] for r in routes]) for i in (0, 1) for j in (0, 1))
    n = len(routes)
    top, cell = cross_idle_bounds(
        ends,
        np.array(flits, dtype=float),
        np.array(packets, dtype=float),
        np.zeros(n, dtype=int),
        np.ones(1, dtype=bool),
        side,
        FLIT_NS,
    )
    grid, rest = divmod(int(cell[0]), side * side)
    return float(top[0]), link_of(grid, *divmod(rest, side))


def test_one_cross_packet_an_image() -> None:
    # X: 16 packets of 64 flits (640 ns); Y: 1024 flits (10240 ns); Z: one packet of 512 flits
    # (5120 ns). L carries 20480 ns. One gap an image (min(1, 16)): Z's 5120 ns less X's one
    # packet (640) less what Y brings meanwhile (10240 / T of it): T = 20480 + 5120 (1 - 10240 /
    # T) - 640, T^2 - 24960 T + 52428800 = 0
    root = (24960 + math.sqrt(24960**2 - 4 * 52428800)) / 2  # 22644.72 ns
    east = [((0, 0), (0, 2)), ((0, 0), (0, 1)), ((0, 1), (0, 2))]
    flows = ([1024, 1024, 512], [16, 16, 1])
    top, link = bound(east, *flows)
    assert top == pytest.approx(root, rel=1e-12) and link == ((0, 0), (0, 1))
    # the same, mirrored (west) and turned (north, along a column): the same bound on L
    west = [((0, 2), (0, 0)), ((0, 2), (0, 1)), ((0, 1), (0, 0))]
    top, link = bound(west, *flows)
    assert top == pytest.approx(root, rel=1e-12) and link == ((0, 2), (0, 1))
    north = [((2, 1), (0, 1)), ((2, 1), (1, 1)), ((1, 1), (0, 1))]
    top, link = bound(north, *flows)
    assert top == pytest.approx(root, rel=1e-12) and link == ((2, 1), (1, 1))
    # X turning at (0,1) into the column (east then south): Z on the turn's link
    turn = [((0, 0), (2, 1)), ((0, 0), (0, 1)), ((0, 1), (2, 1))]
    top, link = bound(turn, *flows)
    assert top == pytest.approx(root, rel=1e-12) and link == ((0, 0), (0, 1))


def test_two_next_links_add_their_gaps() -> None:
    # X1 (0,0)->(0,2) goes straight on to L1' = (0,1)->(0,2), X2 (0,0)->(1,1) turns to L2' =
    # (0,1)->(1,1); 16 packets of 64 flits each (10240 ns an image). Z1 on L1' and Z2 on L2': one
    # packet of 512 flits (5120 ns) each. L carries 20480 ns. For Z1's packet X1 is the waiting
    # flow (640 ns) and X2 fills at its pace (10240 / T), for Z2's the other way round:
    # T = 20480 + 2 (5120 (1 - 10240 / T) - 640), T^2 - 29440 T + 104857600 = 0
    root = (29440 + math.sqrt(29440**2 - 4 * 104857600)) / 2  # 25294.5 ns
    routes = [((0, 0), (0, 2)), ((0, 0), (1, 1)), ((0, 1), (0, 2)), ((0, 1), (1, 1))]
    top, link = bound(routes, [1024, 1024, 512, 512], [16, 16, 1, 1])
    assert top == pytest.approx(root, rel=1e-12) and link == ((0, 0), (0, 1))


def test_no_idle_where_the_cross_packet_is_filled() -> None:
    # Y brings 10240 ns an image: X's 640 ns and Y's share of Z's 1280 ns packet (at T about
    # 10880: 1280 x 10240 / 10880 = 1205 ns) fill it: no link idles, no bound (L's busy time,
    # 10880 ns, is the link bound's)
    top, _ = bound(
        [((0, 0), (0, 2)), ((0, 0), (0, 1)), ((0, 1), (0, 2))], [64, 1024, 512], [1, 16, 4]
    )
    assert top == -np.inf


def test_the_designs_filter_bounds_the_term() -> None:
    # The first design (east): L = (0,0)->(0,1) carries X and Y, L' = (0,1)->(0,2) X and Z. The
    # filter's bound of L is what its next links carry (L': X 1024 + Z 512 flits) plus the flows
    # ending at its end (Y: 1024): 2560 flits, 25,600 ns, above the term's 22,644.7 ns; of L',
    # nothing after it plus X and Z ending there: 1536.
    from pimsim.model.crossing import next_link_bounds

    ends = tuple(np.array(x) for x in ([0, 0, 0], [0, 0, 1], [0, 0, 0], [2, 1, 2]))
    flits, design = np.array([1024.0, 1024.0, 512.0]), np.zeros(3, dtype=int)
    near, ending = next_link_bounds(ends, flits, design, np.array([[1, 3]]))
    assert ending[0, 0, 0].tolist() == [1024.0, 1536.0, 0.0]  # Y ends after L; X, Z after L'
    assert near.tolist() == [2560.0]
    top, _ = bound(
        [((0, 0), (0, 2)), ((0, 0), (0, 1)), ((0, 1), (0, 2))], [1024, 1024, 512], [16, 16, 1]
    )
    assert top < 2560 * FLIT_NS
