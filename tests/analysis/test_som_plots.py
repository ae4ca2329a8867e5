"""U-matrix and link plots: the data behind the figures, and the artists drawn."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from analysis.som_plots import plot_links, plot_u_matrix, strongest_links, u_matrix_view
from assoc.errors import ConfigError
from assoc.som import SOM

POSITIONS_2X3 = np.array([[0, 0], [1, 0], [2, 0], [0, 1], [1, 1], [2, 1]], dtype=float)


def test_u_matrix_view_flattens_maps():
    view = u_matrix_view(np.arange(6).reshape(2, 3), POSITIONS_2X3, hits=[[0, 1, 2], [3, 0, 5]])
    np.testing.assert_array_equal(view.values, np.arange(6))
    np.testing.assert_array_equal(view.hits, [0, 1, 2, 3, 0, 5])
    assert view.topology == "rectangular"


def test_plot_u_matrix_draws_cells_and_hits(close_figures):
    view = u_matrix_view(np.arange(6).reshape(2, 3), POSITIONS_2X3, hits=[[0, 1, 2], [3, 0, 5]])
    artists = plot_u_matrix(view)
    assert len(artists["cells"].get_paths()) == 6
    np.testing.assert_array_equal(artists["cells"].get_array(), np.arange(6))
    np.testing.assert_allclose(artists["hits"].get_offsets(), POSITIONS_2X3[[1, 2, 3, 5]])
    np.testing.assert_allclose(artists["hits"].get_sizes(), 120.0 * np.array([1, 2, 3, 5]) / 5)


def test_plot_u_matrix_of_trained_hexagonal_map(close_figures):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    som = SOM(3, 4, topology="hexagonal", n_iter=300, random_state=0).fit(X)
    view = u_matrix_view(som.u_matrix(), som.positions, som.hit_map(X), topology="hexagonal")
    artists = plot_u_matrix(view)
    assert len(artists["cells"].get_paths()) == 12
    assert artists["hits"].get_offsets().shape[0] == np.count_nonzero(som.hit_map(X))


def test_strongest_links_sorted_and_positive():
    links = np.array([[0.0, 3.0], [5.0, -1.0], [1.0, 0.0]])
    view = strongest_links(links, POSITIONS_2X3[:3], POSITIONS_2X3[:2], n_links=10, gap=2.0)
    assert view.units_a.tolist() == [1, 0, 2]
    assert view.units_b.tolist() == [0, 1, 0]
    np.testing.assert_array_equal(view.weights, [5.0, 3.0, 1.0])
    # Map b starts gap + 1 grid units right of map a's last column.
    np.testing.assert_allclose(view.positions_b[:, 0], [5.0, 6.0])


def test_strongest_links_keeps_n_links():
    links = np.arange(12, dtype=float).reshape(3, 4)
    view = strongest_links(links, np.zeros((3, 2)), np.zeros((4, 2)), n_links=2)
    assert view.weights.tolist() == [11.0, 10.0]


def test_plot_links_draws_one_line_per_link(close_figures):
    links = np.array([[0.0, 3.0], [5.0, -1.0], [1.0, 0.0]])
    view = strongest_links(links, POSITIONS_2X3[:3], POSITIONS_2X3[:2], n_links=2)
    artists = plot_links(view, values_a=[1.0, 2.0, 3.0])
    segments = artists["links"].get_segments()
    assert len(segments) == 2
    np.testing.assert_allclose(segments[0], [POSITIONS_2X3[1], view.positions_b[0]])
    widths = artists["links"].get_linewidths()
    assert widths[0] > widths[1]
    assert len(artists["cells_b"].get_paths()) == 2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: u_matrix_view(np.zeros((2, 3)), np.zeros((5, 2))), "u_matrix has 6 values but positions has 5 units"),
        (lambda: u_matrix_view(np.zeros(6), np.zeros((6, 3))), r"positions must have shape \(n_units, 2\)"),
        (lambda: u_matrix_view(np.zeros(6), POSITIONS_2X3, hits=np.zeros(4)), "hits has 4 values; expected 6"),
        (lambda: u_matrix_view(np.zeros(6), POSITIONS_2X3, topology="square"), "topology must be one of"),
        (lambda: strongest_links(np.zeros((2, 2)), np.zeros((3, 2)), np.zeros((2, 2))), r"links has shape \(2, 2\)"),
        (lambda: strongest_links(np.ones((1, 1)), np.zeros((1, 2)), np.zeros((1, 2)), n_links=0), "n_links must be"),
    ],
)
def test_plot_data_rejects_bad_input(call, message):
    with pytest.raises(ConfigError, match=message):
        call()
