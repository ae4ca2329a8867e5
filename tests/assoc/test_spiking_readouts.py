"""Readouts on hand-made spike trains: window counts, responsiveness test, overlap, rates."""

import numpy as np
import pytest
from scipy import stats

from assoc.errors import ConfigError
from assoc.spiking import readouts


def test_window_counts_by_hand():
    times = np.array([0.05, 0.12, 0.15, 0.29, 0.30, 0.31, 0.55])
    indices = np.array([0, 1, 1, 0, 2, 2, 1])
    counts = readouts.window_counts(times, indices, n_neurons=3, starts=np.array([0.5, 0.1, 0.3]), duration=0.1)
    # Windows [0.5, 0.6), [0.1, 0.2), [0.3, 0.4); the end of a window is excluded.
    np.testing.assert_array_equal(counts, [[0, 1, 0], [0, 2, 0], [0, 0, 2]])


def test_window_counts_rejects_overlap():
    with pytest.raises(ConfigError, match="overlap"):
        readouts.window_counts(np.array([0.1]), np.array([0]), 1, np.array([0.0, 0.05]), 0.1)


def test_responsiveness_matches_binomial_test():
    evoked = np.array([[3, 0, 1], [4, 0, 1], [5, 0, 1]])
    baseline = np.array([[1, 0, 1], [0, 0, 1], [1, 0, 1]])
    result = readouts.responsiveness(evoked, baseline, evoked_duration=0.1, baseline_duration=0.1, alpha=0.05)

    expected = stats.binomtest(12, 14, 0.5, alternative="greater").pvalue
    assert result.p_value[0] == pytest.approx(expected)
    assert result.p_value[1] == 1.0  # silent neuron
    assert result.p_value[2] == pytest.approx(stats.binomtest(3, 6, 0.5, alternative="greater").pvalue)
    np.testing.assert_array_equal(result.responsive, [True, False, False])
    np.testing.assert_allclose(result.evoked_rate, [40.0, 0.0, 10.0])
    np.testing.assert_allclose(result.baseline_rate, [20.0 / 3, 0.0, 10.0])
    assert result.fraction == pytest.approx(1 / 3)


def test_responsiveness_weighs_window_lengths():
    # Equal rates in windows of different length must not count as a response.
    evoked = np.full((10, 1), 2)
    baseline = np.full((10, 1), 1)
    result = readouts.responsiveness(evoked, baseline, evoked_duration=0.2, baseline_duration=0.1)
    assert result.p_value[0] > 0.3
    assert not result.responsive[0]


def test_responsiveness_false_positive_rate_is_controlled():
    rng = np.random.default_rng(0)
    evoked = rng.poisson(1.0, size=(20, 500))
    baseline = rng.poisson(1.0, size=(20, 500))
    result = readouts.responsiveness(evoked, baseline, 0.1, 0.1, alpha=0.05)
    assert result.fraction <= 0.01


def test_responsiveness_validates_input():
    with pytest.raises(ConfigError, match="equal n_neurons"):
        readouts.responsiveness(np.zeros((2, 3)), np.zeros((2, 4)), 0.1, 0.1)
    with pytest.raises(ConfigError, match="alpha must lie in"):
        readouts.responsiveness(np.zeros((2, 3)), np.zeros((2, 3)), 0.1, 0.1, alpha=1.5)


def test_population_vector_overlap():
    assert readouts.population_vector_overlap([1.0, 0.0], [2.0, 0.0]) == pytest.approx(1.0)
    assert readouts.population_vector_overlap([1.0, 0.0], [0.0, 3.0]) == pytest.approx(0.0)
    assert readouts.population_vector_overlap([1.0, 1.0], [-1.0, -1.0]) == pytest.approx(-1.0)
    assert np.isnan(readouts.population_vector_overlap([0.0, 0.0], [1.0, 0.0]))


def test_population_rate_by_hand():
    centres, rates = readouts.population_rate(np.array([0.01, 0.02, 0.15]), n_neurons=2, duration=0.2, bin_width=0.1)
    np.testing.assert_allclose(centres, [0.05, 0.15])
    np.testing.assert_allclose(rates, [10.0, 5.0])


def test_weight_histogram_covers_unit_interval():
    counts, edges = readouts.weight_histogram(np.array([0.0, 0.5, 1.0, 1.0]), n_bins=4)
    np.testing.assert_array_equal(counts, [1, 0, 1, 2])
    np.testing.assert_allclose(edges, [0, 0.25, 0.5, 0.75, 1.0])
