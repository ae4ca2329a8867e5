"""Spiking plots: the data behind each panel and the artists returned."""

import numpy as np
import pytest

from analysis import spiking_plots
from assoc.errors import ConfigError

SPIKES = {
    "visual": (np.array([0.1, 0.2, 0.3, 1.2]), np.array([0, 3, 1, 0])),
    "auditory": (np.array([0.15, 0.9]), np.array([2, 0])),
}


def test_phase_bounds_merge_consecutive_trials():
    bounds = spiking_plots.phase_bounds(
        np.arange(5) * 0.5, np.array(["pretest", "pretest", "conditioning", "conditioning", "posttest"]), 0.5
    )
    assert bounds == [("pretest", 0.0, 1.0), ("conditioning", 1.0, 2.0), ("posttest", 2.0, 2.5)]


def test_raster_data_stacks_populations():
    data = spiking_plots.raster_data(SPIKES, n_neurons=4)
    np.testing.assert_array_equal(data["visual"][1], [0, 3, 1, 0])
    np.testing.assert_array_equal(data["auditory"][1], [6, 4])


def test_raster_data_limits_neurons_and_time():
    data = spiking_plots.raster_data(SPIKES, n_neurons=4, max_neurons=2, time_range=(0.0, 1.0))
    np.testing.assert_array_equal(data["visual"][0], [0.1, 0.3])
    np.testing.assert_array_equal(data["visual"][1], [0, 1])
    np.testing.assert_array_equal(data["auditory"][0], [0.9])
    np.testing.assert_array_equal(data["auditory"][1], [2])


def test_plot_raster_returns_artists(close_figures):
    bounds = [("pretest", 0.0, 1.0), ("conditioning", 1.0, 1.5)]
    artists = spiking_plots.plot_raster(SPIKES, 4, bounds=bounds)
    offsets = artists["visual"].get_offsets()
    np.testing.assert_allclose(offsets[:, 0], SPIKES["visual"][0])
    np.testing.assert_allclose(artists["auditory"].get_offsets()[:, 1], [6, 4])
    assert len(artists["phases"]) == 2


def test_plot_population_rates_uses_given_axes(close_figures):
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    time = np.array([0.005, 0.015, 0.025])
    artists = spiking_plots.plot_population_rates(time, {"visual": np.array([1.0, 2.0, 3.0])}, ax=ax)
    assert artists["visual"].axes is ax
    np.testing.assert_allclose(artists["visual"].get_ydata(), [1.0, 2.0, 3.0])
    with pytest.raises(ConfigError, match="rates\\['visual'\\] has shape \\(2,\\)"):
        spiking_plots.plot_population_rates(time, {"visual": np.ones(2)}, ax=ax)


def test_plot_cross_modal_fraction_data(close_figures):
    artists = spiking_plots.plot_cross_modal_fraction(
        np.array([1.0, 3.0]), {"auditory": np.array([0.0, 0.6]), "visual": np.array([0.8, 0.9])}
    )
    np.testing.assert_allclose(artists["auditory"].get_ydata(), [0.0, 0.6])
    assert artists["auditory"].axes.get_ylim() == (-0.02, 1.02)


def test_summary_from_run_file(tmp_path, close_figures):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "run.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["network.n_neurons"] = 4
        trials = handle.create_group("trials")
        trials["start"] = np.array([0.0, 0.5, 1.0])
        trials.create_dataset("phase", data=np.array(["pretest", "conditioning", "posttest"], dtype=object), dtype=h5py.string_dtype())
        trials.attrs["trial_period_s"] = 0.5
        for name, (times, indices) in SPIKES.items():
            handle[f"spikes/{name}/times"] = times
            handle[f"spikes/{name}/indices"] = indices
            handle[f"rates/{name}"] = np.ones(3)
            handle[f"readouts/protocol/cs_fraction_{name}"] = np.array([0.1, 0.5])
        handle["rates/time"] = np.array([0.25, 0.75, 1.25])
        handle["readouts/protocol/block_time"] = np.array([0.25, 1.25])

    run = spiking_plots.read_spiking_run(path)
    assert run["bounds"] == [("pretest", 0.0, 0.5), ("conditioning", 0.5, 1.0), ("posttest", 1.0, 1.5)]
    artists = spiking_plots.plot_spiking_summary(run)
    assert len(artists["figure"].axes) == 3
    np.testing.assert_allclose(artists["fraction"]["auditory"].get_ydata(), [0.1, 0.5])
    np.testing.assert_allclose(artists["raster"]["auditory"].get_offsets()[:, 1], [6, 4])


def test_summary_labels_phases(close_figures):
    from analysis import spiking_plots

    run = {
        "spikes": {"visual": (np.array([0.1]), np.array([0])), "auditory": (np.array([0.2]), np.array([1]))},
        "n_neurons": 2,
        "bounds": [("pretest", 0.0, 1.0), ("conditioning", 1.0, 3.0)],
        "rate_time": np.array([0.5, 1.5]),
        "rates": {"visual": np.array([1.0, 2.0]), "auditory": np.array([3.0, 4.0])},
        "block_time": np.array([0.5, 2.0]),
        "cs_fraction": {"visual": np.array([0.0, 0.2]), "auditory": np.array([0.1, 0.5])},
    }
    artists = spiking_plots.plot_spiking_summary(run)
    assert [label.get_text() for label in artists["phase_labels"]] == ["pretest", "conditioning"]
    assert artists["phase_labels"][1].get_position()[0] == 2.0
    assert "Spiking conditioning" in artists["title"].get_text()
