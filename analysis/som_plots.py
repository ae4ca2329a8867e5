"""Plots of self-organizing maps: the U-matrix with hit counts, and Hebbian links between two maps.

Each plot is data plus a drawing function. :func:`u_matrix_view` and
:func:`strongest_links` turn plain arrays (``SOM.u_matrix()``, ``SOM.hit_map(X)``,
``SOM.positions``, ``LinkedSOMs.links_``) into what is drawn, and :func:`plot_u_matrix`
and :func:`plot_links` draw it on an axes and return the artists. The module needs
nothing from ``assoc.som``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from assoc.errors import ConfigError

TOPOLOGIES = ("rectangular", "hexagonal")


@dataclass(frozen=True)
class UMatrixView:
    """One map's cells, coloured by the U-matrix, with hit counts.

    Attributes
    ----------
    positions : ndarray of shape (n_units, 2)
        Cell centres in the plane, x along columns and y along rows.
    values : ndarray of shape (n_units,)
        U-matrix value of every unit: its mean distance to its grid neighbours' weights.
    hits : ndarray of shape (n_units,) or None
        Samples won by every unit.
    topology : str
        ``rectangular`` (square cells) or ``hexagonal`` (hexagonal cells).
    """

    positions: np.ndarray
    values: np.ndarray
    hits: np.ndarray | None
    topology: str


@dataclass(frozen=True)
class LinkView:
    """Two maps side by side and their strongest links.

    Attributes
    ----------
    positions_a : ndarray of shape (n_units_a, 2)
    positions_b : ndarray of shape (n_units_b, 2)
        Cell centres, map b shifted right of map a.
    units_a, units_b : ndarray of shape (n_links,), int64
        The linked units, strongest link first.
    weights : ndarray of shape (n_links,)
        Link weights H[units_a[i], units_b[i]], all positive, in decreasing order.
    """

    positions_a: np.ndarray
    positions_b: np.ndarray
    units_a: np.ndarray
    units_b: np.ndarray
    weights: np.ndarray


def _check_positions(positions, name: str) -> np.ndarray:
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 2 or positions.shape[1] != 2 or positions.shape[0] == 0:
        raise ConfigError(f"{name} must have shape (n_units, 2), as SOM.positions does; got {positions.shape}.")
    return positions


def _check_topology(topology: str) -> str:
    if topology not in TOPOLOGIES:
        raise ConfigError(f"topology must be one of {', '.join(TOPOLOGIES)}; got {topology!r}.")
    return topology


def u_matrix_view(u_matrix, positions, hits=None, *, topology: str = "rectangular") -> UMatrixView:
    """Collect what :func:`plot_u_matrix` draws.

    Parameters
    ----------
    u_matrix : array-like of shape (n_rows, n_cols)
        ``SOM.u_matrix()``.
    positions : array-like of shape (n_rows * n_cols, 2)
        ``SOM.positions``.
    hits : array-like of shape (n_rows, n_cols), optional
        ``SOM.hit_map(X)``.
    topology : {'rectangular', 'hexagonal'}
    """
    values = np.asarray(u_matrix, dtype=np.float64).ravel()
    positions = _check_positions(positions, "positions")
    if values.shape[0] != positions.shape[0]:
        raise ConfigError(
            f"u_matrix has {values.shape[0]} values but positions has {positions.shape[0]} units; "
            "pass SOM.u_matrix() and SOM.positions of the same map."
        )
    hit_values = None
    if hits is not None:
        hit_values = np.asarray(hits).ravel()
        if hit_values.shape != values.shape:
            raise ConfigError(f"hits has {hit_values.shape[0]} values; expected {values.shape[0]}, one per unit.")
        if np.any(hit_values < 0):
            raise ConfigError("hits must be counts >= 0.")
    return UMatrixView(positions, values, hit_values, _check_topology(topology))


def strongest_links(links, positions_a, positions_b, *, n_links: int = 20, gap: float = 2.0) -> LinkView:
    """Select the ``n_links`` largest positive entries of the link matrix and place the two maps.

    Parameters
    ----------
    links : array-like of shape (n_units_a, n_units_b)
        ``LinkedSOMs.links_``.
    positions_a, positions_b : array-like of shape (n_units, 2)
        ``SOM.positions`` of each map.
    n_links : int
        Links to keep; fewer when fewer entries are positive. Ties keep the lower flat index.
    gap : float
        Horizontal space between the maps, in grid units.
    """
    links = np.asarray(links, dtype=np.float64)
    positions_a = _check_positions(positions_a, "positions_a")
    positions_b = _check_positions(positions_b, "positions_b")
    if links.shape != (positions_a.shape[0], positions_b.shape[0]):
        raise ConfigError(
            f"links has shape {links.shape}; expected ({positions_a.shape[0]}, {positions_b.shape[0]}), "
            "one row per unit of map a and one column per unit of map b."
        )
    if isinstance(n_links, bool) or not isinstance(n_links, (int, np.integer)) or n_links < 1:
        raise ConfigError(f"n_links must be a positive integer; got {n_links!r}.")

    flat = links.ravel()
    order = np.argsort(-flat, kind="stable")[:n_links]
    order = order[flat[order] > 0]
    units_a, units_b = np.divmod(order, links.shape[1])

    shift = positions_a[:, 0].max() - positions_b[:, 0].min() + 1.0 + gap
    placed_b = positions_b + np.array([shift, 0.0])
    return LinkView(positions_a, placed_b, units_a.astype(np.int64), units_b.astype(np.int64), flat[order])


def _cells(positions: np.ndarray, topology: str, values: np.ndarray | None, cmap, edgecolor="white"):
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import RegularPolygon

    if topology == "hexagonal":
        # Pointy-top hexagons of width 1 tile rows that are sqrt(3)/2 apart.
        patches = [RegularPolygon(tuple(p), numVertices=6, radius=1.0 / math.sqrt(3.0)) for p in positions]
    else:
        patches = [
            RegularPolygon(tuple(p), numVertices=4, radius=math.sqrt(0.5), orientation=math.pi / 4)
            for p in positions
        ]
    cells = PatchCollection(patches, cmap=cmap, edgecolor=edgecolor, linewidth=0.5)
    if values is not None:
        cells.set_array(values)
    else:
        cells.set_facecolor("0.9")
    return cells


def _finish_axes(ax, positions: np.ndarray) -> None:
    ax.set_xlim(positions[:, 0].min() - 1.0, positions[:, 0].max() + 1.0)
    ax.set_ylim(positions[:, 1].max() + 1.0, positions[:, 1].min() - 1.0)  # row 0 at the top
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def plot_u_matrix(view: UMatrixView, ax=None, *, cmap="bone_r", hit_color="tab:red", max_marker_size=120.0):
    """Draw the U-matrix as coloured cells, with a dot per unit sized by its hit count.

    Light cells have close neighbours (inside a cluster), dark cells separate clusters.
    Units without hits get no dot.

    Returns
    -------
    dict
        ``cells`` (PatchCollection), ``hits`` (PathCollection or None), ``colorbar``.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    cells = _cells(view.positions, view.topology, view.values, cmap)
    ax.add_collection(cells)
    colorbar = ax.figure.colorbar(cells, ax=ax, label="mean distance to neighbours")

    hit_artist = None
    if view.hits is not None and view.hits.max() > 0:
        shown = view.hits > 0
        sizes = max_marker_size * view.hits[shown] / view.hits.max()
        hit_artist = ax.scatter(
            view.positions[shown, 0], view.positions[shown, 1], s=sizes, color=hit_color, label="hits"
        )
    _finish_axes(ax, view.positions)
    ax.set_title("U-matrix and hits")
    return {"cells": cells, "hits": hit_artist, "colorbar": colorbar}


def plot_links(
    view: LinkView,
    ax=None,
    *,
    values_a=None,
    values_b=None,
    topology_a: str = "rectangular",
    topology_b: str = "rectangular",
    cmap="bone_r",
    color="tab:blue",
    max_linewidth=3.0,
):
    """Draw two maps side by side and a line for each link, width and opacity by weight.

    ``values_a`` and ``values_b`` (for example each map's U-matrix) colour the cells.

    Returns
    -------
    dict
        ``cells_a``, ``cells_b`` (PatchCollection) and ``links`` (LineCollection).
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgba

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    values_a = None if values_a is None else np.asarray(values_a, dtype=np.float64).ravel()
    values_b = None if values_b is None else np.asarray(values_b, dtype=np.float64).ravel()
    cells_a = _cells(view.positions_a, _check_topology(topology_a), values_a, cmap)
    cells_b = _cells(view.positions_b, _check_topology(topology_b), values_b, cmap)
    ax.add_collection(cells_a)
    ax.add_collection(cells_b)

    segments = np.stack([view.positions_a[view.units_a], view.positions_b[view.units_b]], axis=1)
    strength = view.weights / view.weights.max() if view.weights.size else view.weights
    colors = np.zeros((strength.shape[0], 4))
    colors[:] = to_rgba(color)
    colors[:, 3] = 0.25 + 0.75 * strength
    lines = LineCollection(segments, linewidths=0.5 + (max_linewidth - 0.5) * strength, colors=colors)
    ax.add_collection(lines)

    _finish_axes(ax, np.concatenate([view.positions_a, view.positions_b]))
    ax.set_title(f"{len(view.weights)} strongest links")
    return {"cells_a": cells_a, "cells_b": cells_b, "links": lines}
