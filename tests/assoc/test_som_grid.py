"""Grids, adjacency and decay schedules of the self-organizing map."""

import math

import numpy as np
import pytest

from assoc.errors import ConfigError
from assoc.som import Decay, Grid, decay_values


def test_rectangular_positions_follow_rows_and_columns():
    grid = Grid(2, 3)
    expected = [[0, 0], [1, 0], [2, 0], [0, 1], [1, 1], [2, 1]]
    np.testing.assert_array_equal(grid.positions, expected)


def test_rectangular_neighbors_include_diagonals():
    grid = Grid(3, 4)
    assert grid.neighbors(5).tolist() == [0, 1, 2, 4, 6, 8, 9, 10]
    assert grid.neighbors(0).tolist() == [1, 4, 5]
    assert grid.neighbors(11).tolist() == [6, 7, 10]


def test_hexagonal_neighbors_on_non_square_map():
    grid = Grid(3, 4, topology="hexagonal")
    assert grid.neighbors(5).tolist() == [1, 2, 4, 6, 9, 10]
    assert grid.neighbors(0).tolist() == [1, 4]
    assert grid.neighbors(11).tolist() == [6, 7, 10]
    assert grid.neighbors(4).tolist() == [0, 1, 5, 8, 9]


def test_hexagonal_neighbors_at_distance_one():
    for n_rows, n_cols in [(3, 4), (5, 2), (4, 7)]:
        grid = Grid(n_rows, n_cols, topology="hexagonal")
        for unit in range(grid.n_units):
            distances = grid.grid_distances(unit)
            neighbors = grid.neighbors(unit)
            np.testing.assert_allclose(distances[neighbors], 1.0, rtol=0, atol=1e-12)
            others = np.setdiff1d(np.arange(grid.n_units), np.append(neighbors, unit))
            assert np.all(distances[others] > 1.0 + 1e-9)


def test_hexagonal_inner_unit_has_six_neighbors():
    grid = Grid(5, 6, topology="hexagonal")
    inner = [grid.unit_index(row, col) for row in range(1, 4) for col in range(1, 5)]
    assert all(len(grid.neighbors(unit)) == 6 for unit in inner)
    assert grid.n_neighbors == 6


def test_adjacency_list_matches_neighbors():
    grid = Grid(4, 3, topology="hexagonal")
    offsets, neighbors = grid.adjacency_list()
    for unit in range(grid.n_units):
        assert neighbors[offsets[unit] : offsets[unit + 1]].tolist() == grid.neighbors(unit).tolist()


def test_unit_is_not_its_own_neighbor():
    grid = Grid(2, 2)
    assert not grid.are_adjacent([0], [0])[0]


@pytest.mark.parametrize(
    ("decay", "formula"),
    [
        ("constant", lambda t: 0.5),
        ("linear", lambda t: 0.5 + (0.01 - 0.5) * t / 10),
        ("exponential", lambda t: 0.5 * (0.01 / 0.5) ** (t / 10)),
        ("inverse", lambda t: 0.5 / (1 + (0.5 / 0.01 - 1) * t / 10)),
    ],
)
def test_decay_matches_formula(decay, formula):
    steps = np.arange(12)
    values = decay_values(0.5, 0.01, Decay(decay), steps, 10)
    expected = [formula(min(t, 10)) for t in steps]
    np.testing.assert_allclose(values, expected, rtol=1e-12)


def test_inverse_decay_equals_minisom_asymptotic():
    steps = np.arange(50)
    values = decay_values(2.0, 2.0 / 3.0, Decay.INVERSE, steps, 50)
    np.testing.assert_allclose(values, 2.0 / (1 + steps / (50 / 2)), rtol=1e-12)


@pytest.mark.parametrize(("n_rows", "n_cols"), [(0, 3), (2, -1), (2.5, 3), (True, 2)])
def test_grid_rejects_bad_shape(n_rows, n_cols):
    with pytest.raises(ConfigError, match="must be a positive integer"):
        Grid(n_rows, n_cols)


def test_grid_rejects_unknown_topology():
    with pytest.raises(ConfigError, match="'topology' parameter must be one of 'rectangular', 'hexagonal'"):
        Grid(2, 2, topology="triangular")


def test_hex_row_spacing():
    grid = Grid(2, 1, topology="hexagonal")
    assert grid.positions[1, 1] == pytest.approx(math.sqrt(3) / 2)
