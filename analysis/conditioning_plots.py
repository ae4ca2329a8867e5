"""Plots of conditioning experiments: learning curves per cue and group, and the design.

Each plot is data plus a drawing function: :func:`learning_curves` and
:func:`design_summary` compute what is drawn from plain arrays, and
:func:`plot_learning_curves` and :func:`plot_design_summary` draw it on an axes
and return the artists. Inputs are numpy arrays and dicts, so this module needs
nothing from the conditioning engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from assoc.errors import ConfigError

BANDS = ("sd", "sem", "range")


@dataclass(frozen=True)
class LearningCurves:
    """Mean associative strength across subjects with a band, per group and cue.

    Attributes
    ----------
    cues : tuple of str
        Names along the last axis of every array.
    mean, lower, upper : dict of str to ndarray of shape (n_points, n_cues)
        Per group: the mean across subjects and the band's edges. Point n is the
        value after n trials.
    shown : dict of str to tuple of str
        Per group, the cues to draw (cues that never leave 0 are left out).
    band : str
        ``sd`` (mean ± standard deviation), ``sem`` (± standard error) or ``range``.
    phase_boundaries : dict of str to ndarray
        Per group, the trial counts at which a new phase starts.
    """

    cues: tuple[str, ...]
    mean: dict[str, np.ndarray]
    lower: dict[str, np.ndarray]
    upper: dict[str, np.ndarray]
    shown: dict[str, tuple[str, ...]]
    band: str
    phase_boundaries: dict[str, np.ndarray] = field(default_factory=dict)


def learning_curves(
    curves: Mapping[str, np.ndarray],
    cues: Sequence[str],
    *,
    band: str = "sd",
    show: Sequence[str] | None = None,
    phase_boundaries: Mapping[str, Sequence[int]] | None = None,
) -> LearningCurves:
    """Summarize per-subject learning curves across subjects.

    Parameters
    ----------
    curves : mapping of group name to ndarray of shape (n_subjects, n_points, n_cues)
        Associative strength of every cue after 0, 1, … trials, for example
        ``ConditioningResult.learning_curve(group)``.
    cues : sequence of str
        Cue names, one per entry of the last axis.
    band : {'sd', 'sem', 'range'}
        Band around the mean: ± standard deviation, ± standard error of the mean,
        or the minimum to maximum across subjects.
    show : sequence of str, optional
        Cues to draw; by default every cue that leaves 0 in a group.
    phase_boundaries : mapping of group name to sequence of int, optional
        Trials at which each phase after the first starts, drawn as vertical lines.
    """
    if band not in BANDS:
        raise ConfigError(f"band must be one of {', '.join(BANDS)}; got {band!r}.")
    if not curves:
        raise ConfigError("curves is empty; pass at least one group's (n_subjects, n_points, n_cues) array.")
    cues = tuple(cues)
    if show is not None:
        unknown = [name for name in show if name not in cues]
        if unknown:
            raise ConfigError(f"show names unknown cue(s) {', '.join(unknown)}; the cues are {', '.join(cues)}.")

    mean, lower, upper, shown = {}, {}, {}, {}
    for group, values in curves.items():
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 3 or values.shape[2] != len(cues) or values.shape[0] == 0:
            raise ConfigError(
                f"curves[{group!r}] must have shape (n_subjects, n_points, {len(cues)}); got {values.shape}."
            )
        center = values.mean(axis=0)
        if band == "range":
            low, high = values.min(axis=0), values.max(axis=0)
        else:
            spread = values.std(axis=0, ddof=1) if values.shape[0] > 1 else np.zeros_like(center)
            if band == "sem":
                spread = spread / np.sqrt(values.shape[0])
            low, high = center - spread, center + spread
        mean[group], lower[group], upper[group] = center, low, high
        if show is None:
            shown[group] = tuple(name for i, name in enumerate(cues) if np.any(values[:, :, i] != 0))
        else:
            shown[group] = tuple(show)

    boundaries = {group: np.asarray(phase_boundaries.get(group, ()), dtype=np.int64)
                  for group in curves} if phase_boundaries else {}  # fmt: skip
    return LearningCurves(cues, mean, lower, upper, shown, band, boundaries)


def plot_learning_curves(curves: LearningCurves, ax=None) -> list:
    """Draw mean curves with their bands: one color per cue, one line style per group.

    Returns the artists: for each group and shown cue a line and a band, then the
    phase-boundary lines.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = ["-", "--", ":", "-."]
    artists = []
    for g, group in enumerate(curves.mean):
        points = np.arange(curves.mean[group].shape[0])
        for name in curves.shown[group]:
            i = curves.cues.index(name)
            color = colors[i % len(colors)]
            (line,) = ax.plot(
                points, curves.mean[group][:, i], styles[g % len(styles)], color=color, label=f"{group}: {name}"
            )
            band = ax.fill_between(
                points, curves.lower[group][:, i], curves.upper[group][:, i], color=color, alpha=0.2, linewidth=0
            )
            artists.extend([line, band])
        for boundary in curves.phase_boundaries.get(group, ()):
            artists.append(ax.axvline(boundary, color="0.6", linestyle=styles[g % len(styles)], linewidth=0.8))
    ax.set_xlabel("trials completed")
    ax.set_ylabel("associative strength V")
    ax.set_title(f"mean across subjects, band: {curves.band}")
    if artists:
        ax.legend(fontsize="small", ncol=2)
    return artists


@dataclass(frozen=True)
class DesignSummary:
    """An experiment's groups × phases, for a table figure.

    Attributes
    ----------
    groups : tuple of str
    cells : list of list of str
        (n_groups, n_phases) phase texts, '' where a group has fewer phases.
    n_trials : ndarray of shape (n_groups, n_phases), int
        Trials per phase, 0 where a group has fewer phases.
    """

    groups: tuple[str, ...]
    cells: list[list[str]]
    n_trials: np.ndarray


def design_summary(phases: Mapping[str, Sequence[str]], n_trials: Mapping[str, Sequence[int]]) -> DesignSummary:
    """Arrange each group's phases (design text) and trial counts into a groups × phases table."""
    if set(phases) != set(n_trials):
        raise ConfigError(f"phases and n_trials must name the same groups; got {sorted(phases)} and {sorted(n_trials)}.")
    groups = tuple(phases)
    for group in groups:
        if len(phases[group]) != len(n_trials[group]):
            raise ConfigError(
                f"Group {group!r} has {len(phases[group])} phase texts but {len(n_trials[group])} trial counts."
            )
    n_phases = max(len(phases[group]) for group in groups)
    cells = [list(phases[group]) + [""] * (n_phases - len(phases[group])) for group in groups]
    counts = np.zeros((len(groups), n_phases), dtype=np.int64)
    for g, group in enumerate(groups):
        counts[g, : len(n_trials[group])] = n_trials[group]
    return DesignSummary(groups, cells, counts)


def plot_design_summary(summary: DesignSummary, ax=None) -> list:
    """Draw the design as a table, a row per group and a column per phase; return [table]."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    text = [
        [f"{cell} ({count} trials)" if cell else "—" for cell, count in zip(row, counts)]
        for row, counts in zip(summary.cells, summary.n_trials)
    ]
    ax.set_axis_off()
    table = ax.table(
        cellText=text,
        rowLabels=list(summary.groups),
        colLabels=[f"phase {p + 1}" for p in range(summary.n_trials.shape[1])],
        loc="center",
        cellLoc="center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    return [table]
