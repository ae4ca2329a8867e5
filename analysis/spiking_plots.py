"""Plots of a spiking conditioning run: spike raster, population rates, cross-modal fraction.

Each plot has a data function that returns the arrays behind it and a ``plot_*``
function that draws them on ``ax`` (a new figure when None) and returns the
artists. Inputs are plain arrays, as stored in the run file that
``assoc.spiking.run_spiking_conditioning`` writes; :func:`read_spiking_run` loads them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from assoc.errors import ConfigError

POPULATION_COLORS = {"visual": "tab:blue", "auditory": "tab:orange"}
PHASE_COLORS = {"pretest": "0.92", "conditioning": "#fde9d9", "posttest": "0.92", "extinction": "#e5f0fa"}


def phase_bounds(trial_start: np.ndarray, trial_phase: np.ndarray, trial_period: float) -> list[tuple[str, float, float]]:
    """Return (phase, start, stop) in seconds for each run of consecutive trials of one phase.

    Parameters
    ----------
    trial_start : ndarray of shape (n_trials,), seconds
    trial_phase : ndarray of shape (n_trials,), str
    trial_period : float, seconds
    """
    trial_start = np.asarray(trial_start, dtype=np.float64)
    trial_phase = np.asarray(trial_phase).astype(str)
    bounds = []
    for index, phase in enumerate(trial_phase):
        if bounds and bounds[-1][0] == phase:
            bounds[-1] = (phase, bounds[-1][1], trial_start[index] + trial_period)
        else:
            bounds.append((phase, float(trial_start[index]), float(trial_start[index] + trial_period)))
    return bounds


def raster_data(
    spikes: Mapping[str, tuple[np.ndarray, np.ndarray]],
    n_neurons: int,
    *,
    max_neurons: int | None = None,
    time_range: tuple[float, float] | None = None,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Select the spikes to draw and stack the populations on one axis.

    Population ``p`` (in the order of ``spikes``) occupies rows ``p * shown`` to
    ``(p + 1) * shown - 1``, where ``shown = min(n_neurons, max_neurons)``; the first
    ``shown`` neurons of each population are drawn.

    Parameters
    ----------
    spikes : mapping of population name to (times of shape (n_spikes,), indices of shape (n_spikes,))
    n_neurons : int
        Neurons per population.
    max_neurons : int, optional
        Neurons per population to draw (all when None).
    time_range : (float, float), optional
        Seconds to draw, start inclusive and stop exclusive.

    Returns
    -------
    dict of population name to (times, rows), ndarrays of shape (n_drawn,)
    """
    shown = n_neurons if max_neurons is None else min(n_neurons, max_neurons)
    if shown < 1:
        raise ConfigError(f"max_neurons must be at least 1; got {max_neurons!r}.")
    data = {}
    for offset, (name, (times, indices)) in enumerate(spikes.items()):
        times = np.asarray(times, dtype=np.float64)
        indices = np.asarray(indices, dtype=np.int64)
        keep = indices < shown
        if time_range is not None:
            keep &= (times >= time_range[0]) & (times < time_range[1])
        data[name] = (times[keep], indices[keep] + offset * shown)
    return data


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    return ax


def _shade_phases(ax, bounds) -> list:
    artists = []
    for phase, start, stop in bounds or []:
        artists.append(ax.axvspan(start, stop, color=PHASE_COLORS.get(phase, "0.95"), zorder=0, lw=0))
    return artists


def plot_raster(
    spikes: Mapping[str, tuple[np.ndarray, np.ndarray]],
    n_neurons: int,
    *,
    bounds: list[tuple[str, float, float]] | None = None,
    max_neurons: int | None = None,
    time_range: tuple[float, float] | None = None,
    ax=None,
) -> dict:
    """Draw a spike raster with one colour per population and shaded protocol phases.

    Returns
    -------
    dict
        ``population name`` to the PathCollection of its spikes, and ``phases`` to the
        list of shaded spans.
    """
    ax = _axes(ax)
    data = raster_data(spikes, n_neurons, max_neurons=max_neurons, time_range=time_range)
    artists = {"phases": _shade_phases(ax, bounds)}
    for name, (times, rows) in data.items():
        artists[name] = ax.scatter(times, rows, s=1.0, marker="|", color=POPULATION_COLORS.get(name), label=name)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("neuron")
    if time_range is not None:
        ax.set_xlim(*time_range)
    ax.legend(loc="upper right", markerscale=8)
    return artists


def plot_population_rates(
    time: np.ndarray,
    rates: Mapping[str, np.ndarray],
    *,
    bounds: list[tuple[str, float, float]] | None = None,
    ax=None,
) -> dict:
    """Draw each population's mean rate per neuron (Hz) against time (s).

    Returns
    -------
    dict
        ``population name`` to its Line2D, and ``phases`` to the shaded spans.
    """
    ax = _axes(ax)
    artists = {"phases": _shade_phases(ax, bounds)}
    for name, values in rates.items():
        if np.shape(values) != np.shape(time):
            raise ConfigError(f"rates[{name!r}] has shape {np.shape(values)} but time has shape {np.shape(time)}.")
        (artists[name],) = ax.plot(time, values, lw=0.8, color=POPULATION_COLORS.get(name), label=name)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("rate (Hz)")
    ax.legend(loc="upper right")
    return artists


def plot_cross_modal_fraction(
    block_time: np.ndarray,
    fractions: Mapping[str, np.ndarray],
    *,
    bounds: list[tuple[str, float, float]] | None = None,
    ax=None,
) -> dict:
    """Draw the fraction of each population responsive to the CS, per block of CS trials.

    For the auditory population this is the cross-modal fraction; the visual
    population, which the CS drives directly, is the reference.

    Returns
    -------
    dict
        ``population name`` to its Line2D, and ``phases`` to the shaded spans.
    """
    ax = _axes(ax)
    artists = {"phases": _shade_phases(ax, bounds)}
    for name, values in fractions.items():
        if np.shape(values) != np.shape(block_time):
            raise ConfigError(
                f"fractions[{name!r}] has shape {np.shape(values)} but block_time has shape {np.shape(block_time)}."
            )
        (artists[name],) = ax.plot(
            block_time, values, marker="o", color=POPULATION_COLORS.get(name), label=f"{name} neurons responsive to CS"
        )
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("fraction responsive")
    ax.legend(loc="upper left")
    return artists


def read_spiking_run(path) -> dict:
    """Load the arrays the plots need from a spiking run file.

    Returns
    -------
    dict
        ``spikes`` (population to (times, indices)), ``n_neurons``, ``bounds``,
        ``rate_time``, ``rates``, ``block_time``, ``cs_fraction``.
    """
    import h5py

    with h5py.File(path, "r") as handle:
        populations = [name for name in ("visual", "auditory") if f"spikes/{name}" in handle]
        trials = handle["trials"]
        return {
            "spikes": {name: (handle[f"spikes/{name}/times"][()], handle[f"spikes/{name}/indices"][()]) for name in populations},
            "n_neurons": int(handle.attrs["network.n_neurons"]),
            "bounds": phase_bounds(
                trials["start"][()], trials["phase"].asstr()[()], float(trials.attrs["trial_period_s"])
            ),
            "rate_time": handle["rates/time"][()],
            "rates": {name: handle[f"rates/{name}"][()] for name in populations},
            "block_time": handle["readouts/protocol/block_time"][()],
            "cs_fraction": {name: handle[f"readouts/protocol/cs_fraction_{name}"][()] for name in populations},
        }


def plot_spiking_summary(run: Mapping, *, max_neurons: int | None = 200, fig=None) -> dict:
    """Draw raster, population rates and cross-modal fraction of a run on three stacked axes.

    Parameters
    ----------
    run : mapping
        As returned by :func:`read_spiking_run`.
    max_neurons : int, optional
        Neurons per population in the raster.
    fig : matplotlib Figure, optional

    Returns
    -------
    dict
        ``figure``, ``raster``, ``rates``, ``fraction`` with the artists of each panel,
        ``phase_labels`` with the phase name drawn above each shaded phase, and ``title``.
    """
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(10, 8))
    raster_ax, rates_ax, fraction_ax = fig.subplots(3, 1, sharex=True)
    bounds = run["bounds"]
    artists = {
        "figure": fig,
        "raster": plot_raster(run["spikes"], run["n_neurons"], bounds=bounds, max_neurons=max_neurons, ax=raster_ax),
        "rates": plot_population_rates(run["rate_time"], run["rates"], bounds=bounds, ax=rates_ax),
        "fraction": plot_cross_modal_fraction(run["block_time"], run["cs_fraction"], bounds=bounds, ax=fraction_ax),
    }
    raster_ax.set_xlabel("")
    rates_ax.set_xlabel("")

    # Phase names above the top panel, centred on each shaded span: x in data
    # coordinates, y in axes coordinates.
    transform = raster_ax.get_xaxis_transform()
    artists["phase_labels"] = [
        raster_ax.text((start + stop) / 2, 1.02, phase, transform=transform, ha="center", va="bottom", fontsize="medium")
        for phase, start, stop in bounds or []
    ]
    artists["title"] = fig.suptitle("Spiking conditioning: spikes, population rates and cross-modal fraction by phase")
    return artists
