import numpy as np
import pytest

from analysis.conditioning_plots import design_summary, learning_curves, plot_design_summary, plot_learning_curves
from assoc.errors import ConfigError


def _toy_curves():
    # Two subjects, three points, cues A and B; B never leaves 0 in group G.
    group_g = np.array([[[0.0, 0.0], [0.2, 0.0], [0.4, 0.0]], [[0.0, 0.0], [0.4, 0.0], [0.6, 0.0]]])
    group_h = np.array([[[0.0, 0.0], [0.1, 0.1], [0.2, 0.3]], [[0.0, 0.0], [0.1, 0.3], [0.2, 0.5]]])
    return {"G": group_g, "H": group_h}


def test_mean_and_sd_band():
    curves = learning_curves(_toy_curves(), ["A", "B"])
    np.testing.assert_allclose(curves.mean["G"][:, 0], [0.0, 0.3, 0.5])
    sd = np.std([0.2, 0.4], ddof=1)
    np.testing.assert_allclose(curves.lower["G"][1, 0], 0.3 - sd)
    np.testing.assert_allclose(curves.upper["G"][1, 0], 0.3 + sd)
    assert curves.shown == {"G": ("A",), "H": ("A", "B")}


def test_sem_and_range_bands():
    sem = learning_curves(_toy_curves(), ["A", "B"], band="sem")
    np.testing.assert_allclose(sem.upper["H"][2, 1] - sem.mean["H"][2, 1], np.std([0.3, 0.5], ddof=1) / np.sqrt(2))
    full = learning_curves(_toy_curves(), ["A", "B"], band="range")
    np.testing.assert_allclose(full.lower["H"][2, 1], 0.3)
    np.testing.assert_allclose(full.upper["H"][2, 1], 0.5)


def test_single_subject_band_is_flat():
    curves = learning_curves({"G": _toy_curves()["G"][:1]}, ["A", "B"])
    np.testing.assert_array_equal(curves.lower["G"], curves.mean["G"])


def test_plot_returns_lines_bands_and_boundaries(close_figures):
    import matplotlib.pyplot as plt

    curves = learning_curves(_toy_curves(), ["A", "B"], phase_boundaries={"G": [1]})
    _, ax = plt.subplots()
    artists = plot_learning_curves(curves, ax=ax)
    # G shows A, H shows A and B: three lines, three bands, one boundary.
    assert len(artists) == 7
    assert len(ax.lines) == 4
    np.testing.assert_allclose(ax.lines[0].get_ydata(), curves.mean["G"][:, 0])
    assert ax.lines[0].get_label() == "G: A"


def test_plot_creates_axes(close_figures):
    artists = plot_learning_curves(learning_curves(_toy_curves(), ["A", "B"], show=["B"]))
    assert len(artists) == 4


def test_design_summary_pads_groups(close_figures):
    summary = design_summary({"G": ["10A+", "10AB+"], "H": ["10AB+"]}, {"G": [10, 10], "H": [10]})
    assert summary.cells == [["10A+", "10AB+"], ["10AB+", ""]]
    np.testing.assert_array_equal(summary.n_trials, [[10, 10], [10, 0]])
    (table,) = plot_design_summary(summary)
    assert table.get_celld()[(1, 0)].get_text().get_text() == "10A+ (10 trials)"
    assert table.get_celld()[(2, 1)].get_text().get_text() == "—"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: learning_curves(_toy_curves(), ["A", "B"], band="ci"), "band must be one of"),
        (lambda: learning_curves({}, ["A"]), "curves is empty"),
        (lambda: learning_curves(_toy_curves(), ["A"]), r"must have shape \(n_subjects, n_points, 1\)"),
        (lambda: learning_curves(_toy_curves(), ["A", "B"], show=["Z"]), "unknown cue"),
        (lambda: design_summary({"G": ["1A+"]}, {"H": [1]}), "same groups"),
        (lambda: design_summary({"G": ["1A+"]}, {"G": [1, 2]}), "1 phase texts but 2"),
    ],
)
def test_invalid_input(call, match):
    with pytest.raises(ConfigError, match=match):
        call()
