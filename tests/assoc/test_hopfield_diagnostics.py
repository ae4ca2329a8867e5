"""Recall diagnostics: corruption, recall fraction, capacity sweep, basins, metastable states."""

import numpy as np
import pytest

from assoc.errors import ConfigError
from assoc.hopfield import (
    ClassicalMemory,
    DenseMemory,
    ModernMemory,
    basin_size,
    capacity_sweep,
    corrupt,
    find_metastable,
    random_patterns,
    recall_fraction,
    retrieve,
)


def test_corrupt_flips_exact_count():
    patterns = random_patterns(50, 40, seed=1)
    cues = corrupt(patterns, 0.25, seed=2)
    np.testing.assert_array_equal(np.sum(cues != patterns, axis=1), 10)
    np.testing.assert_array_equal(corrupt(patterns, 0.0, seed=2), patterns)
    np.testing.assert_array_equal(corrupt(patterns, 1.0, seed=2), -patterns)


def test_recall_fraction_by_load():
    patterns_low = random_patterns(5, 100, seed=3)
    patterns_high = random_patterns(60, 100, seed=3)
    memory = ClassicalMemory()
    assert recall_fraction(memory, patterns_low, 0.1, n_trials=2, seed=4) == 1.0
    assert recall_fraction(memory, patterns_high, 0.1, n_trials=2, seed=4) == 0.0
    assert recall_fraction(DenseMemory(), patterns_high, 0.1, seed=4) == 1.0
    assert recall_fraction(ModernMemory(beta=0.5), patterns_high, 0.1, seed=4) == 1.0


def test_capacity_sweep_shape_order_and_progress():
    calls = []
    loads = [0.02, 0.05, 0.6]
    corruptions = [0.0, 0.1]
    fractions = capacity_sweep(ClassicalMemory(), 100, loads, corruptions, seed=5, progress=lambda *c: calls.append(c))
    assert fractions.shape == (3, 2)
    assert calls == [(1, 3), (2, 3), (3, 3)]
    np.testing.assert_array_equal(fractions[:2], 1.0)
    assert np.all(fractions[2] <= 0.1)


def test_capacity_sweep_reproducible():
    first = capacity_sweep(ClassicalMemory(rule="storkey"), 40, [0.1, 0.3], [0.1, 0.2], seed=6)
    second = capacity_sweep(ClassicalMemory(rule="storkey"), 40, [0.1, 0.3], [0.1, 0.2], seed=6)
    np.testing.assert_array_equal(first, second)


def test_basin_size_shrinks_with_load():
    light = basin_size(ClassicalMemory(), random_patterns(3, 60, seed=7), n_trials=4, step=3, seed=8)
    heavy = basin_size(ClassicalMemory(), random_patterns(12, 60, seed=7), n_trials=4, step=3, seed=8)
    assert light.shape == (3,)
    assert light.min() >= 9
    assert light.mean() > heavy.mean()


def test_basin_size_marks_unstable_pattern():
    # Far above capacity most stored patterns are not fixed points: radius -1.
    radius = basin_size(ClassicalMemory(update="synchronous"), random_patterns(40, 30, seed=9), n_trials=1, seed=10)
    assert np.any(radius == -1)


def test_find_metastable_flags_mixture():
    patterns = random_patterns(3, 201, seed=11)
    mixture = np.sign(patterns.sum(axis=0))  # the symmetric 3-mixture, overlap 1/2 with each
    report = find_metastable(np.stack([patterns[1], -patterns[2], mixture]), patterns)
    np.testing.assert_array_equal(report.is_retrieved, [True, True, False])
    np.testing.assert_array_equal(report.is_metastable, [False, False, True])
    np.testing.assert_array_equal(report.nearest[:2], [1, 2])
    assert report.n_mixed[2] == 3
    assert report.overlaps.shape == (3, 3)


def test_find_metastable_modern_low_beta():
    # At small beta the modern update lands near the average of similar patterns.
    rng = np.random.default_rng(12)
    centre = rng.choice([-1.0, 1.0], size=64)
    patterns = np.tile(centre, (4, 1))
    for row in patterns:
        row[rng.choice(64, size=16, replace=False)] *= -1
    states = retrieve(patterns[:2], patterns, beta=0.01, max_steps=10)
    assert np.all(find_metastable(states, patterns).is_metastable)
    sharp = retrieve(patterns[:2], patterns, beta=5.0, max_steps=10)
    assert not np.any(find_metastable(sharp, patterns).is_metastable)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: corrupt(np.ones((2, 4)), 1.5), r"fraction must be a number in \[0, 1\] .* got 1.5"),
        (lambda: capacity_sweep(ClassicalMemory(), 50, [0.1, -0.2], [0.1]), r"loads must be .* > 0"),
        (lambda: capacity_sweep(ClassicalMemory(), 50, [0.1], [2.0]), r"corruptions must be .* in \[0, 1\]"),
        (lambda: ClassicalMemory(rule="oja"), r"Unknown rule 'oja'"),
        (lambda: ModernMemory(beta=-1.0), r"beta must be a finite number >= 0"),
        (lambda: find_metastable(np.ones((1, 3)), np.ones((2, 3)), mixture_overlap=0.0), r"mixture_overlap must be"),
        (lambda: basin_size(ClassicalMemory(), np.ones((2, 3)), step=0), r"step must be an integer >= 1"),
    ],
)
def test_bad_input_rejected(call, message):
    with pytest.raises(ConfigError, match=message):
        call()
