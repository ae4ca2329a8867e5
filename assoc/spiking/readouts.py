"""Readouts of a spiking run: responsiveness, cross-modal fractions, overlap and weights.

Everything here takes plain numpy arrays (spike times in seconds), so it needs no
brian2 and can be applied to run files after the fact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from assoc.errors import ConfigError


def window_counts(
    spike_times: np.ndarray, spike_indices: np.ndarray, n_neurons: int, starts: np.ndarray, duration: float
) -> np.ndarray:
    """Count each neuron's spikes in the windows ``[start, start + duration)``.

    Parameters
    ----------
    spike_times : ndarray of shape (n_spikes,), seconds
    spike_indices : ndarray of shape (n_spikes,), int
    n_neurons : int
    starts : ndarray of shape (n_windows,), seconds
        Window starts; windows must not overlap.
    duration : float, seconds

    Returns
    -------
    ndarray of shape (n_windows, n_neurons), int64
    """
    spike_times = np.asarray(spike_times, dtype=np.float64)
    spike_indices = np.asarray(spike_indices, dtype=np.int64)
    starts = np.asarray(starts, dtype=np.float64)
    counts = np.zeros((starts.size, n_neurons), dtype=np.int64)
    if starts.size == 0 or spike_times.size == 0:
        return counts
    order = np.argsort(starts)
    sorted_starts = starts[order]
    if np.any(np.diff(sorted_starts) < duration - 1e-12):
        raise ConfigError(f"Count windows of {duration} s overlap; use windows at least that far apart.")

    # Assign each spike to the last window that starts at or before it, then keep it
    # only when it falls before that window's end.
    window = np.searchsorted(sorted_starts, spike_times, side="right") - 1
    inside = (window >= 0) & (spike_times < sorted_starts[np.maximum(window, 0)] + duration)
    flat = window[inside] * n_neurons + spike_indices[inside]
    sorted_counts = np.bincount(flat, minlength=starts.size * n_neurons).reshape(starts.size, n_neurons)
    counts[order] = sorted_counts
    return counts


@dataclass(frozen=True)
class Responsiveness:
    """Per-neuron test of evoked rate against baseline rate.

    Attributes
    ----------
    evoked_rate, baseline_rate : ndarray of shape (n_neurons,), Hz
        Mean rate in the response windows and in the baseline windows.
    p_value : ndarray of shape (n_neurons,)
        One-sided p-value of the conditional binomial test (see :func:`responsiveness`).
    responsive : ndarray of shape (n_neurons,), bool
        Neurons whose rate rose significantly after false discovery rate control.
    """

    evoked_rate: np.ndarray
    baseline_rate: np.ndarray
    p_value: np.ndarray
    responsive: np.ndarray

    @property
    def fraction(self) -> float:
        """Fraction of responsive neurons."""
        return float(np.mean(self.responsive)) if self.responsive.size else float("nan")


def responsiveness(
    evoked_counts: np.ndarray,
    baseline_counts: np.ndarray,
    evoked_duration: float,
    baseline_duration: float,
    *,
    alpha: float = 0.01,
) -> Responsiveness:
    """Test for each neuron whether its rate in response windows exceeds its baseline rate.

    Under the null hypothesis the two counts come from Poisson processes of equal rate,
    so given the total ``n = K_evoked + K_baseline`` the evoked count is
    Binomial(n, T_e / (T_e + T_b)), where T_e and T_b are the summed window lengths.
    The one-sided p-value is P(X >= K_evoked) under that binomial (the conditional
    test for two Poisson rates of Przyborowski and Wilenski, 1940). A neuron that never
    fires gets p = 1. Responsive neurons are those that pass the Benjamini-Hochberg
    procedure at false discovery rate ``alpha`` across the population.

    Parameters
    ----------
    evoked_counts, baseline_counts : ndarray of shape (n_trials, n_neurons)
        Spike counts per trial in the response and baseline windows.
    evoked_duration, baseline_duration : float, seconds
        Length of one response window and of one baseline window.
    alpha : float
        False discovery rate.
    """
    evoked_counts = np.asarray(evoked_counts)
    baseline_counts = np.asarray(baseline_counts)
    if evoked_counts.ndim != 2 or baseline_counts.ndim != 2 or evoked_counts.shape[1] != baseline_counts.shape[1]:
        raise ConfigError(
            "evoked_counts and baseline_counts must be 2-d (n_trials, n_neurons) with equal n_neurons; "
            f"got shapes {evoked_counts.shape} and {baseline_counts.shape}."
        )
    if not 0.0 < alpha < 1.0:
        raise ConfigError(f"alpha must lie in (0, 1); got {alpha!r}.")
    n_neurons = evoked_counts.shape[1]
    if evoked_counts.shape[0] == 0 or baseline_counts.shape[0] == 0:
        nan = np.full(n_neurons, np.nan)
        return Responsiveness(nan, nan, np.ones(n_neurons), np.zeros(n_neurons, dtype=bool))

    evoked_time = evoked_counts.shape[0] * evoked_duration
    baseline_time = baseline_counts.shape[0] * baseline_duration
    k_evoked = evoked_counts.sum(axis=0)
    k_total = k_evoked + baseline_counts.sum(axis=0)

    # P(X >= k_evoked) for X ~ Binomial(k_total, share); sf(k - 1) = P(X > k - 1).
    share = evoked_time / (evoked_time + baseline_time)
    p_value = np.where(k_total > 0, stats.binom.sf(k_evoked - 1, k_total, share), 1.0)
    adjusted = stats.false_discovery_control(p_value, method="bh")
    return Responsiveness(
        evoked_rate=k_evoked / evoked_time,
        baseline_rate=baseline_counts.sum(axis=0) / baseline_time,
        p_value=p_value,
        responsive=adjusted <= alpha,
    )


def population_vector_overlap(evoked_a: np.ndarray, evoked_b: np.ndarray) -> float:
    """Return the cosine similarity of two population vectors of evoked rate changes.

    Parameters
    ----------
    evoked_a, evoked_b : ndarray of shape (n_neurons,)
        Mean evoked rate minus baseline rate of each neuron, for two stimuli.

    Returns
    -------
    float in [-1, 1], or NaN when either vector is zero (nothing was evoked).
    """
    evoked_a = np.asarray(evoked_a, dtype=np.float64)
    evoked_b = np.asarray(evoked_b, dtype=np.float64)
    norm = np.linalg.norm(evoked_a) * np.linalg.norm(evoked_b)
    if norm == 0:
        return float("nan")
    return float(evoked_a @ evoked_b / norm)


def population_rate(
    spike_times: np.ndarray, n_neurons: int, duration: float, bin_width: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return bin centres (s) and the mean rate per neuron in each bin (Hz).

    Returns
    -------
    centres, rates : ndarray of shape (n_bins,)
    """
    if bin_width <= 0:
        raise ConfigError(f"bin_width must be positive; got {bin_width!r}.")
    n_bins = max(int(np.ceil(duration / bin_width - 1e-9)), 1)
    edges = np.arange(n_bins + 1) * bin_width
    counts, _ = np.histogram(np.asarray(spike_times, dtype=np.float64), bins=edges)
    return edges[:-1] + bin_width / 2, counts / (n_neurons * bin_width)


def weight_histogram(weights: np.ndarray, n_bins: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of dimensionless weights in [0, 1]: (counts of shape (n_bins,), edges of shape (n_bins + 1,))."""
    return np.histogram(np.asarray(weights, dtype=np.float64), bins=n_bins, range=(0.0, 1.0))
