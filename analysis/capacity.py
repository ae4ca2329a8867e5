"""Capacity curves of associative memories: fraction of cues recalled against load.

A curve is plain data, so any memory can be measured elsewhere (for example with
``assoc.hopfield.capacity_sweep``) and drawn here. Load is n_patterns / n_features.

Example::

    loads = np.geomspace(0.02, 2.0, 20)
    grid = capacity_sweep(ClassicalMemory(), 200, loads, [0.1], seed=0)
    curve = CapacityCurve("classical (Hebbian)", loads, grid[:, 0])
    plot([curve])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assoc.errors import ConfigError

# The Hebbian Hopfield net stops recalling reliably near this load
# (Amit, Gutfreund & Sompolinsky 1985).
HEBBIAN_CRITICAL_LOAD = 0.138


@dataclass(frozen=True)
class CapacityCurve:
    """Fraction of cues recalled exactly at each load, for one memory.

    Attributes
    ----------
    label : str
        Legend entry, for example ``"dense (n=3)"``.
    loads : ndarray of shape (n_loads,)
        Stored patterns per unit, strictly increasing, > 0.
    fraction_recalled : ndarray of shape (n_loads,)
        Values in [0, 1].
    """

    label: str
    loads: np.ndarray
    fraction_recalled: np.ndarray

    def __post_init__(self):
        loads = np.asarray(self.loads, dtype=np.float64)
        fractions = np.asarray(self.fraction_recalled, dtype=np.float64)
        if loads.ndim != 1 or loads.size == 0:
            raise ConfigError(f"loads must be a non-empty 1-d array; got shape {loads.shape}.")
        if fractions.shape != loads.shape:
            raise ConfigError(
                f"fraction_recalled has shape {fractions.shape} but loads has {loads.shape}; pass one value per load."
            )
        if not np.all(np.isfinite(loads)) or np.any(loads <= 0) or np.any(np.diff(loads) <= 0):
            raise ConfigError(f"loads must be finite, > 0 and strictly increasing; got {loads!r}. Sort them first.")
        if np.any(~(fractions >= 0)) or np.any(fractions > 1):
            raise ConfigError(f"fraction_recalled must lie in [0, 1]; got {fractions!r}.")
        object.__setattr__(self, "loads", loads)
        object.__setattr__(self, "fraction_recalled", fractions)


def curve_from_sweep(label: str, loads, corruptions, fractions, corruption: float) -> CapacityCurve:
    """Take the column of a load x corruption grid at one corruption level as a curve.

    Parameters
    ----------
    label : str
    loads : array_like of shape (n_loads,)
    corruptions : array_like of shape (n_corruptions,)
    fractions : array_like of shape (n_loads, n_corruptions)
        Fraction recalled in each cell.
    corruption : float
        Must equal one of ``corruptions`` (to within 1e-12).
    """
    corruptions = np.asarray(corruptions, dtype=np.float64).ravel()
    fractions = np.asarray(fractions, dtype=np.float64)
    if fractions.ndim != 2 or fractions.shape[1] != corruptions.size:
        raise ConfigError(
            f"fractions must have shape (n_loads, {corruptions.size}) to match corruptions; got {fractions.shape}."
        )
    matches = np.flatnonzero(np.abs(corruptions - corruption) <= 1e-12)
    if matches.size == 0:
        raise ConfigError(f"corruption {corruption!r} is not in the sweep; choose one of {corruptions.tolist()}.")
    return CapacityCurve(label, loads, fractions[:, matches[0]])


def critical_load(curve: CapacityCurve, threshold: float = 0.5) -> float:
    """Return the load at which the recall fraction first falls below ``threshold``.

    The value is interpolated linearly between the last load at or above the threshold
    and the first load below it. It is ``loads[0]`` when the first load already fails,
    and ``inf`` when no load fails.
    """
    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f"threshold must be in (0, 1]; got {threshold!r}.")
    below = np.flatnonzero(curve.fraction_recalled < threshold)
    if below.size == 0:
        return float("inf")
    first = int(below[0])
    if first == 0:
        return float(curve.loads[0])
    low_load, high_load = curve.loads[first - 1], curve.loads[first]
    low_value, high_value = curve.fraction_recalled[first - 1], curve.fraction_recalled[first]
    position = (low_value - threshold) / (low_value - high_value)
    return float(low_load + position * (high_load - low_load))


def plot(
    curves,
    ax=None,
    *,
    log_loads: bool = True,
    reference_load: float | None = HEBBIAN_CRITICAL_LOAD,
    reference_label: str = "Hebbian limit",
):
    """Draw capacity curves on one axis, with a dashed line at ``reference_load``.

    Parameters
    ----------
    curves : sequence of CapacityCurve
    ax : matplotlib Axes, optional
        Drawn into a new figure when omitted.
    log_loads : bool, default True
        Logarithmic load axis, since dense and modern memories reach loads far above 1.
    reference_load : float or None, default 0.138
        Load of the vertical reference line; None draws no line.
    reference_label : str, default "Hebbian limit"
        Legend entry of the reference line, followed by its load.

    Returns
    -------
    list of matplotlib.lines.Line2D
        One line per curve, then the reference line when drawn.
    """
    import matplotlib.pyplot as plt

    curves = list(curves)
    if not curves or not all(isinstance(curve, CapacityCurve) for curve in curves):
        raise ConfigError("curves must be a non-empty sequence of CapacityCurve; build them with CapacityCurve(...).")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 4.0))

    artists = []
    for curve in curves:
        (line,) = ax.plot(curve.loads, curve.fraction_recalled, marker="o", markersize=3, label=curve.label)
        artists.append(line)
    if reference_load is not None:
        artists.append(
            ax.axvline(reference_load, color="0.4", linestyle="--", linewidth=1, label=f"{reference_label} {reference_load:g}")
        )

    if log_loads:
        ax.set_xscale("log")
    ax.set_xlabel("load (stored patterns / units)")
    ax.set_ylabel("fraction recalled exactly")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="lower left", fontsize="small")
    return artists
