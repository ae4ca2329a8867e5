"""Recall diagnostics: corrupted cues, recall fraction, capacity sweeps, basins, metastable states.

Every memory here stores bipolar (+-1) patterns, one per row, and is described by a small
frozen dataclass (:class:`ClassicalMemory`, :class:`DenseMemory`, :class:`ModernMemory`)
with two methods: ``store(patterns)`` returns what the memory keeps, and
``recall(stored, cues, seed)`` returns the +-1 states it settles in. A cue counts as
recalled when that state equals its pattern in every unit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from assoc.errors import ConfigError
from assoc.hopfield._validation import (
    as_generator,
    as_matrix,
    as_queries,
    check_beta,
    check_bipolar,
    check_choice,
    check_positive_int,
)
from assoc.hopfield.classical import RULES, classical_update, store
from assoc.hopfield.dense import INTERACTIONS, UPDATES, dense_update
from assoc.hopfield.modern import retrieve
from assoc.progress import ProgressCallback

logger = logging.getLogger(__name__)


# --- Memories ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassicalMemory:
    """A classical Hopfield net: weights from ``rule``, then sign updates."""

    rule: str = "hebbian"
    update: str = "asynchronous"
    max_steps: int = 100
    name: str = "classical"

    def __post_init__(self):
        check_choice("rule", self.rule, RULES)
        check_choice("update", self.update, UPDATES)
        check_positive_int("max_steps", self.max_steps)

    def store(self, patterns: np.ndarray) -> np.ndarray:
        """Return the weight matrix, shape (n_features, n_features)."""
        return store(patterns, self.rule)

    def recall(self, stored: np.ndarray, cues: np.ndarray, seed=None) -> np.ndarray:
        """Return the states reached from ``cues``, shape (n_cues, n_features)."""
        return classical_update(cues, stored, update=self.update, max_steps=self.max_steps, seed=seed)


@dataclass(frozen=True)
class DenseMemory:
    """A dense associative memory with interaction function ``interaction``."""

    interaction: str = "polynomial"
    degree: int = 3
    update: str = "asynchronous"
    max_steps: int = 100
    name: str = "dense"

    def __post_init__(self):
        check_choice("interaction", self.interaction, INTERACTIONS)
        check_choice("update", self.update, UPDATES)
        check_positive_int("max_steps", self.max_steps)

    def store(self, patterns: np.ndarray) -> np.ndarray:
        """Return the patterns themselves: the memory keeps them as they are."""
        return patterns

    def recall(self, stored: np.ndarray, cues: np.ndarray, seed=None) -> np.ndarray:
        """Return the states reached from ``cues``, shape (n_cues, n_features)."""
        return dense_update(
            cues,
            stored,
            interaction=self.interaction,
            degree=self.degree,
            update=self.update,
            max_steps=self.max_steps,
            seed=seed,
        )


@dataclass(frozen=True)
class ModernMemory:
    """Modern Hopfield retrieval; the recalled state is the sign of the retrieved vector (0 maps to +1)."""

    beta: float = 1.0
    max_steps: int = 1
    name: str = "modern"

    def __post_init__(self):
        check_beta(self.beta)
        check_positive_int("max_steps", self.max_steps)

    def store(self, patterns: np.ndarray) -> np.ndarray:
        """Return the patterns themselves: the memory keeps them as they are."""
        return patterns

    def recall(self, stored: np.ndarray, cues: np.ndarray, seed=None) -> np.ndarray:
        """Return sign(retrieve(cues)), shape (n_cues, n_features); ``seed`` is unused."""
        states = retrieve(cues, stored, self.beta, max_steps=self.max_steps)
        return np.where(states >= 0, 1.0, -1.0).astype(states.dtype)


# --- Cues and recall -----------------------------------------------------------------


def random_patterns(n_patterns: int, n_features: int, seed=None) -> np.ndarray:
    """Draw independent uniform +-1 patterns, shape (n_patterns, n_features), float64."""
    rng = as_generator(seed)
    return rng.choice(np.array([-1.0, 1.0]), size=(n_patterns, n_features))


def corrupt(patterns, fraction: float, seed=None) -> np.ndarray:
    """Flip the sign of round(fraction * n_features) randomly chosen units in each row.

    Parameters
    ----------
    patterns : array_like of shape (n_patterns, n_features), entries +-1
    fraction : float in [0, 1]
        Share of units flipped per row; each row gets its own random units.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    ndarray of shape (n_patterns, n_features), same dtype as ``patterns`` for floats
    """
    patterns = as_matrix("patterns", patterns)
    check_bipolar("patterns", patterns)
    if not (isinstance(fraction, (int, float, np.floating)) and 0.0 <= fraction <= 1.0):
        raise ConfigError(f"fraction must be a number in [0, 1] (the share of units flipped); got {fraction!r}.")
    rng = as_generator(seed)
    n_rows, n_features = patterns.shape
    n_flips = int(round(fraction * n_features))
    cues = np.array(patterns, dtype=patterns.dtype if patterns.dtype.kind == "f" else np.float64)
    if n_flips:
        flipped = np.argsort(rng.random((n_rows, n_features)), axis=1)[:, :n_flips]
        rows = np.arange(n_rows)[:, np.newaxis]
        cues[rows, flipped] *= -1
    return cues


def _recalled(states: np.ndarray, targets: np.ndarray) -> np.ndarray:
    return np.all(states == targets, axis=1)


def recall_fraction(memory, patterns, corruption: float, *, n_trials: int = 1, seed=None) -> float:
    """Return the fraction of corrupted cues from which ``memory`` recalls its pattern exactly.

    Parameters
    ----------
    memory : ClassicalMemory, DenseMemory or ModernMemory
    patterns : array_like of shape (n_patterns, n_features), entries +-1
    corruption : float in [0, 1]
        Share of units flipped in each cue.
    n_trials : int, default 1
        Independently corrupted cues per pattern.
    seed : int, numpy.random.Generator or None
        Source of the corruption and of asynchronous update orders.
    """
    patterns = as_matrix("patterns", patterns)
    check_bipolar("patterns", patterns)
    n_trials = check_positive_int("n_trials", n_trials)
    rng = as_generator(seed)
    stored = memory.store(patterns)
    targets = np.tile(patterns, (n_trials, 1))
    cues = corrupt(targets, corruption, rng)
    states = memory.recall(stored, cues, rng)
    return float(np.mean(_recalled(states, targets)))


def capacity_sweep(
    memory,
    n_features: int,
    loads,
    corruptions,
    *,
    n_trials: int = 1,
    seed=None,
    progress: ProgressCallback | None = None,
) -> np.ndarray:
    """Measure the recall fraction on a grid of loads and cue corruptions.

    For each load, ``max(1, round(load * n_features))`` random +-1 patterns are stored
    once, and every pattern is cued ``n_trials`` times at each corruption level.

    Parameters
    ----------
    memory : ClassicalMemory, DenseMemory or ModernMemory
    n_features : int
        Units of the net (pattern length).
    loads : array_like of shape (n_loads,)
        Stored patterns per unit, n_patterns / n_features, each > 0.
    corruptions : array_like of shape (n_corruptions,)
        Shares of units flipped in the cues, each in [0, 1].
    n_trials : int, default 1
    seed : int, numpy.random.Generator or None
    progress : callable, optional
        Called as ``progress(done, total)`` after each load.

    Returns
    -------
    ndarray of shape (n_loads, n_corruptions)
        Fraction of cues recalled exactly.
    """
    n_features = check_positive_int("n_features", n_features, minimum=2)
    n_trials = check_positive_int("n_trials", n_trials)
    loads = np.asarray(loads, dtype=np.float64).ravel()
    corruptions = np.asarray(corruptions, dtype=np.float64).ravel()
    if loads.size == 0 or np.any(~np.isfinite(loads)) or np.any(loads <= 0):
        raise ConfigError(f"loads must be a non-empty list of finite numbers > 0; got {loads!r}.")
    if corruptions.size == 0 or np.any(~(corruptions >= 0)) or np.any(corruptions > 1):
        raise ConfigError(f"corruptions must be a non-empty list of numbers in [0, 1]; got {corruptions!r}.")
    rng = as_generator(seed)

    fractions = np.empty((loads.size, corruptions.size))
    for row, load in enumerate(loads):
        n_patterns = max(1, int(round(load * n_features)))
        patterns = random_patterns(n_patterns, n_features, rng)
        stored = memory.store(patterns)
        targets = np.tile(patterns, (n_trials, 1))

        # All corruption levels of one load go to the kernel as one batch.
        cues = np.concatenate([corrupt(targets, float(level), rng) for level in corruptions])
        states = memory.recall(stored, cues, rng)
        recalled = _recalled(states, np.tile(targets, (corruptions.size, 1)))
        fractions[row] = recalled.reshape(corruptions.size, -1).mean(axis=1)

        logger.debug("%s: load %.3f, recall fractions %s", memory.name, load, fractions[row])
        if progress is not None:
            progress(row + 1, loads.size)
    return fractions


def basin_size(memory, patterns, *, n_trials: int = 8, step: int = 1, seed=None) -> np.ndarray:
    """Estimate the basin radius of each stored pattern in flipped units.

    The radius of a pattern is the largest number k of flipped units (scanned as 0, step,
    2 step, ... up to n_features // 2) such that all ``n_trials`` random cues with k
    flipped units are recalled exactly, and every smaller scanned k passed too.

    Parameters
    ----------
    memory : ClassicalMemory, DenseMemory or ModernMemory
    patterns : array_like of shape (n_patterns, n_features), entries +-1
    n_trials : int, default 8
        Random cues per pattern and flip count.
    step : int, default 1
        Spacing of the scanned flip counts.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    ndarray of shape (n_patterns,), int64
        Radius in units; -1 for a pattern that is not even recalled from itself.
        Divide by n_features for a fraction.
    """
    patterns = as_matrix("patterns", patterns)
    check_bipolar("patterns", patterns)
    n_trials = check_positive_int("n_trials", n_trials)
    step = check_positive_int("step", step)
    rng = as_generator(seed)
    n_patterns, n_features = patterns.shape
    stored = memory.store(patterns)

    radius = np.full(n_patterns, -1, dtype=np.int64)
    open_patterns = np.arange(n_patterns)
    for n_flips in range(0, n_features // 2 + 1, step):
        if open_patterns.size == 0:
            break
        targets = np.repeat(patterns[open_patterns], n_trials, axis=0)
        cues = corrupt(targets, n_flips / n_features, rng)
        states = memory.recall(stored, cues, rng)
        passed = _recalled(states, targets).reshape(open_patterns.size, n_trials).all(axis=1)
        radius[open_patterns[passed]] = n_flips
        open_patterns = open_patterns[passed]
    return radius


# --- Metastable states ---------------------------------------------------------------


@dataclass(frozen=True)
class MetastableReport:
    """Classification of states by their overlaps with the stored patterns.

    Attributes
    ----------
    overlaps : ndarray of shape (n_states, n_patterns)
        Cosine similarity of each state with each pattern.
    nearest : ndarray of shape (n_states,), int64
        Index of the pattern with the largest absolute overlap.
    n_mixed : ndarray of shape (n_states,), int64
        Number of patterns whose absolute overlap reaches ``mixture_overlap``.
    is_retrieved : ndarray of shape (n_states,), bool
        The state is within ``retrieved_overlap`` of a single pattern (or its negative).
    is_metastable : ndarray of shape (n_states,), bool
        Not retrieved, and overlapping two or more patterns: a mixture state.
    """

    overlaps: np.ndarray
    nearest: np.ndarray
    n_mixed: np.ndarray
    is_retrieved: np.ndarray
    is_metastable: np.ndarray


def find_metastable(states, patterns, *, retrieved_overlap: float = 0.95, mixture_overlap: float = 0.3) -> MetastableReport:
    """Flag states that sit near a mixture of patterns rather than near one pattern.

    Parameters
    ----------
    states : array_like of shape (n_states, n_features) or (n_features,)
        Retrieved states, bipolar or continuous.
    patterns : array_like of shape (n_patterns, n_features)
    retrieved_overlap : float, default 0.95
        Absolute cosine overlap above which a state counts as one retrieved pattern.
        The absolute value makes -xi count as xi, since the classical and polynomial
        energies are symmetric under sigma -> -sigma.
    mixture_overlap : float, default 0.3
        Absolute cosine overlap from which a pattern counts as part of a mixture.
        Overlaps of unrelated random +-1 vectors have standard deviation
        1 / sqrt(n_features), so keep this several times larger.

    Returns
    -------
    MetastableReport
    """
    patterns = as_matrix("patterns", patterns)
    states, _ = as_queries("states", states, patterns.shape[1])
    for name, value in (("retrieved_overlap", retrieved_overlap), ("mixture_overlap", mixture_overlap)):
        if not (isinstance(value, (int, float, np.floating)) and 0.0 < value <= 1.0):
            raise ConfigError(f"{name} must be a number in (0, 1]; got {value!r}.")
    states = np.asarray(states, dtype=np.float64)
    patterns = np.asarray(patterns, dtype=np.float64)

    state_norms = np.linalg.norm(states, axis=1, keepdims=True)
    pattern_norms = np.linalg.norm(patterns, axis=1, keepdims=True)
    overlaps = (states @ patterns.T) / np.maximum(state_norms * pattern_norms.T, np.finfo(np.float64).tiny)
    magnitude = np.abs(overlaps)
    n_mixed = np.count_nonzero(magnitude >= mixture_overlap, axis=1)
    is_retrieved = magnitude.max(axis=1) >= retrieved_overlap
    return MetastableReport(
        overlaps=overlaps,
        nearest=np.argmax(magnitude, axis=1).astype(np.int64),
        n_mixed=n_mixed.astype(np.int64),
        is_retrieved=is_retrieved,
        is_metastable=~is_retrieved & (n_mixed >= 2),
    )
