import numpy as np
import pytest

from analysis.capacity import CapacityCurve, critical_load, curve_from_sweep, plot
from assoc.errors import ConfigError


def test_critical_load_interpolates():
    # Recall falls from 0.8 at load 0.1 to 0.2 at load 0.2, crossing 0.5 halfway.
    curve = CapacityCurve("toy", [0.05, 0.1, 0.2, 0.4], [1.0, 0.8, 0.2, 0.0])
    assert critical_load(curve) == pytest.approx(0.15)
    # Exact recall holds up to load 0.05 and fails from 0.1 on.
    assert critical_load(curve, threshold=1.0) == pytest.approx(0.05)


def test_critical_load_edges():
    assert critical_load(CapacityCurve("never fails", [0.1, 1.0], [1.0, 1.0])) == np.inf
    assert critical_load(CapacityCurve("always fails", [0.1, 1.0], [0.0, 0.0])) == 0.1


def test_curve_from_sweep_picks_column():
    fractions = np.array([[1.0, 0.9], [0.5, 0.1]])
    curve = curve_from_sweep("c", [0.1, 0.2], [0.0, 0.1], fractions, corruption=0.1)
    np.testing.assert_array_equal(curve.fraction_recalled, [0.9, 0.1])
    np.testing.assert_array_equal(curve.loads, [0.1, 0.2])


def test_plot_returns_lines_with_curve_data(close_figures):
    curves = [
        CapacityCurve("classical", [0.05, 0.1, 0.3], [1.0, 0.9, 0.0]),
        CapacityCurve("dense", [0.05, 0.1, 0.3], [1.0, 1.0, 1.0]),
    ]
    artists = plot(curves)
    assert len(artists) == 3
    np.testing.assert_array_equal(artists[0].get_xdata(), [0.05, 0.1, 0.3])
    np.testing.assert_array_equal(artists[1].get_ydata(), [1.0, 1.0, 1.0])
    assert artists[0].get_label() == "classical"
    assert artists[2].get_xdata()[0] == pytest.approx(0.138)
    assert artists[0].axes.get_xscale() == "log"


def test_plot_into_given_axis(close_figures):
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    artists = plot([CapacityCurve("m", [1.0, 2.0], [1.0, 0.0])], ax=ax, log_loads=False, reference_load=None)
    assert len(artists) == 1
    assert artists[0].axes is ax
    assert ax.get_xscale() == "linear"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: CapacityCurve("x", [0.2, 0.1], [1.0, 1.0]), r"loads must be finite, > 0 and strictly increasing"),
        (lambda: CapacityCurve("x", [0.1, 0.2], [1.0]), r"fraction_recalled has shape \(1,\) but loads has \(2,\)"),
        (lambda: CapacityCurve("x", [0.1], [1.5]), r"fraction_recalled must lie in \[0, 1\]"),
        (lambda: curve_from_sweep("x", [0.1], [0.0, 0.1], np.ones((1, 2)), 0.3), r"corruption 0.3 is not in the sweep"),
        (lambda: plot([]), r"curves must be a non-empty sequence of CapacityCurve"),
    ],
)
def test_bad_input_rejected(call, message):
    with pytest.raises(ConfigError, match=message):
        call()
