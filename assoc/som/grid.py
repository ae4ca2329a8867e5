"""Map grids: unit positions in the plane, adjacency and grid distances.

Units are numbered row by row, ``unit = row * n_cols + col``. On a rectangular grid unit
(row, col) sits at (x, y) = (col, row). On a hexagonal grid odd rows are shifted right by
half a unit and rows are sqrt(3)/2 apart, so every unit is at distance exactly 1 from its
six neighbours, on square and non-square maps alike.
"""

from __future__ import annotations

import enum
import math

import numpy as np

from assoc.errors import ConfigError

HEX_ROW_SPACING = math.sqrt(3.0) / 2.0


class Topology(str, enum.Enum):
    """Arrangement of the units on the map."""

    RECTANGULAR = "rectangular"
    HEXAGONAL = "hexagonal"


def parse_option(enum_type: type[enum.Enum], value, parameter: str):
    """Return the member of ``enum_type`` named by ``value`` (a member or its string value).

    Raises ConfigError that lists the valid choices when ``value`` names none of them.
    """
    if isinstance(value, enum_type):
        return value
    try:
        return enum_type(value)
    except ValueError:
        choices = ", ".join(repr(member.value) for member in enum_type)
        raise ConfigError(f"The '{parameter}' parameter must be one of {choices}; got {value!r}.") from None


class Grid:
    """A rectangular or hexagonal arrangement of ``n_rows * n_cols`` units.

    Parameters
    ----------
    n_rows, n_cols : int
        Map height and width in units, each at least 1.
    topology : {'rectangular', 'hexagonal'} or Topology

    Attributes
    ----------
    positions : ndarray of shape (n_units, 2), float64
        (x, y) position of every unit in the plane. x grows with the column and y with the row.
    n_neighbors : int
        Neighbours of an inner unit: 8 on a rectangular grid (diagonals included), 6 on a
        hexagonal one.
    """

    def __init__(self, n_rows: int, n_cols: int, topology="rectangular"):
        for name, value in (("n_rows", n_rows), ("n_cols", n_cols)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"The '{name}' parameter must be a positive integer; got {value!r}.")
        self.n_rows = int(n_rows)
        self.n_cols = int(n_cols)
        self.topology = parse_option(Topology, topology, "topology")
        self.positions = self._unit_positions()
        self.n_neighbors = 8 if self.topology is Topology.RECTANGULAR else 6

    def __repr__(self) -> str:
        return f"Grid(n_rows={self.n_rows}, n_cols={self.n_cols}, topology={self.topology.value!r})"

    @property
    def n_units(self) -> int:
        """Number of units, ``n_rows * n_cols``."""
        return self.n_rows * self.n_cols

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_rows, n_cols)``: the shape of per-unit maps such as the U-matrix."""
        return (self.n_rows, self.n_cols)

    def _unit_positions(self) -> np.ndarray:
        rows, cols = np.divmod(np.arange(self.n_units), self.n_cols)
        x = cols.astype(np.float64)
        y = rows.astype(np.float64)
        if self.topology is Topology.HEXAGONAL:
            x = x + 0.5 * (rows % 2)
            y = y * HEX_ROW_SPACING
        return np.ascontiguousarray(np.column_stack([x, y]))

    def unit_index(self, row: int, col: int) -> int:
        """Return the index of the unit at (row, col)."""
        if not (0 <= row < self.n_rows and 0 <= col < self.n_cols):
            raise ConfigError(f"Unit ({row}, {col}) is outside the {self.n_rows} x {self.n_cols} map.")
        return row * self.n_cols + col

    def unit_coordinates(self, units) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(rows, cols)`` of the given unit indices."""
        return np.divmod(np.asarray(units), self.n_cols)

    def grid_distances(self, unit: int) -> np.ndarray:
        """Return the Euclidean distance in the plane from ``unit`` to every unit, shape (n_units,)."""
        delta = self.positions - self.positions[unit]
        return np.sqrt(np.sum(delta**2, axis=1))

    def are_adjacent(self, units_a, units_b) -> np.ndarray:
        """Return whether each pair of units are grid neighbours (a unit is not its own neighbour).

        Rectangular grids use the 8-neighbourhood: |row difference| and |column difference|
        both at most 1. Hexagonal grids use the 6 units at distance 1 in the plane.
        """
        units_a = np.asarray(units_a)
        units_b = np.asarray(units_b)
        rows_a, cols_a = self.unit_coordinates(units_a)
        rows_b, cols_b = self.unit_coordinates(units_b)
        if self.topology is Topology.RECTANGULAR:
            step = np.maximum(np.abs(rows_a - rows_b), np.abs(cols_a - cols_b))
            return step == 1
        delta = self.positions[units_a] - self.positions[units_b]
        return np.isclose(np.sqrt(np.sum(delta**2, axis=-1)), 1.0)

    def neighbors(self, unit: int) -> np.ndarray:
        """Return the sorted indices of the grid neighbours of ``unit``."""
        # Neighbours on both grids lie within one row and one column of the unit.
        row, col = divmod(int(unit), self.n_cols)
        rows = np.arange(max(row - 1, 0), min(row + 2, self.n_rows))
        cols = np.arange(max(col - 1, 0), min(col + 2, self.n_cols))
        candidates = (rows[:, None] * self.n_cols + cols[None, :]).ravel()
        return candidates[self.are_adjacent(np.full(candidates.shape, unit), candidates)]

    def adjacency_list(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the neighbours of every unit in CSR form ``(offsets, neighbors)``.

        The neighbours of unit ``j`` are ``neighbors[offsets[j]:offsets[j + 1]]``.
        """
        lists = [self.neighbors(unit) for unit in range(self.n_units)]
        offsets = np.zeros(self.n_units + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(item) for item in lists])
        flat = np.concatenate(lists).astype(np.int64) if lists else np.zeros(0, dtype=np.int64)
        return offsets, flat
