"""The mesh rule (:func:`pimsim.model.plan.mesh_shapes`, ``ceil(sqrt(n))`` rows and
``ceil(n / rows)`` columns) and the snake of routers on it
(:func:`pimsim.model.plan.snake_positions`; both at once for designs of one router per macro,
:func:`pimsim.model.plan.router_grid`), on meshes worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from pimsim.model.plan import mesh_shape, mesh_shapes, router_grid, snake_positions


def test_mesh_shapes_worked_by_hand() -> None:
    # n: sqrt(n) -> rows, ceil(n / rows) -> columns
    # 0: 0 -> 1 (at least 1), 0 -> 1;  1: 1 -> 1, 1;  2: 1.41 -> 2, 1;  4: 2 (exact) -> 2, 2
    # 5: 2.24 -> 3, 5/3 -> 2;  10: 3.16 -> 4, 10/4 -> 3;  16: 4 -> 4, 4;  17: 4.12 -> 5, 17/5 -> 4
    # 400: 20 -> 20, 20;  401: 20.02 -> 21, 401/21 = 19.1 -> 20
    counts = np.array([0, 1, 2, 4, 5, 10, 16, 17, 400, 401])
    assert mesh_shapes(counts).tolist() == [
        [1, 1],
        [1, 1],
        [2, 1],
        [2, 2],
        [3, 2],
        [4, 3],
        [4, 4],
        [5, 4],
        [20, 20],
        [21, 20],
    ]
    # rows given: 10 routers on 2 rows take 5 columns, on 3 rows 4 (3 x 3 = 9 < 10)
    assert mesh_shapes(np.array([10, 10]), np.array([2, 3])).tolist() == [[2, 5], [3, 4]]


def test_mesh_shape_keeps_what_the_architecture_gives() -> None:
    assert mesh_shape(10) == (4, 3)
    assert mesh_shape(10, rows=2) == (2, 5)
    assert mesh_shape(10, cols=7) == (4, 7)  # 4 rows by the rule, the columns as given
    assert mesh_shape(10, rows=1, cols=12) == (1, 12)


def test_the_snake_worked_by_hand() -> None:
    # 8 routers on 3 columns: row 0 left to right (0, 1, 2), row 1 right to left (3 at column 2,
    # 4 at 1, 5 at 0), row 2 left to right again (6, 7)
    pos = snake_positions(np.arange(8), np.full(8, 3))
    assert pos.tolist() == [[0, 0], [0, 1], [0, 2], [1, 2], [1, 1], [1, 0], [2, 0], [2, 1]]
    # each router on its own mesh: one column (a line down), two columns (router 2 in row 1,
    # reversed: column 1; router 3 column 0), four columns (router 5 in row 1: column 4 - 1 - 1)
    pos = snake_positions(np.array([3, 2, 3, 5]), np.array([1, 2, 2, 4]))
    assert pos.tolist() == [[3, 0], [1, 1], [1, 0], [1, 2]]


def test_router_grid_worked_by_hand() -> None:
    # one router per macro: designs of 0, 3 and 5 macros. Meshes: 0 -> 1 x 1 (at least 1);
    # 3 -> ceil(1.73) = 2 rows, ceil(3 / 2) = 2 columns; 5 -> ceil(2.24) = 3 rows, 2 columns.
    # The 3 macros' snake: 0 at (0, 0), 1 at (0, 1), 2 in row 1 right to left: column 1.
    # The 5 macros': (0, 0), (0, 1), then row 1 reversed (1, 1), (1, 0), then row 2 (2, 0).
    meshes, positions = router_grid(np.array([0, 3, 5]))
    assert meshes.tolist() == [[1, 1], [2, 2], [3, 2]]
    assert positions.tolist() == [[0, 0], [0, 1], [1, 1], [0, 0], [0, 1], [1, 1], [1, 0], [2, 0]]


def test_the_snake_refuses_what_the_compiled_pass_cannot_read() -> None:
    # a column count per router, and at least one column: the compiled pass reads cols[i] for
    # every router and divides by it
    with pytest.raises(ValueError):
        snake_positions(np.array([3, 4, 5]), np.array([2, 2]))
    with pytest.raises(ValueError, match="at least one column"):
        snake_positions(np.array([3]), np.array([0]))
