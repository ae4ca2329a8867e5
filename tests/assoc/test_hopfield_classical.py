"""Classical Hopfield net: storage rules, updates against the reference, energy, capacity."""

import numpy as np
import pytest

from assoc.errors import ConfigError
from assoc.hopfield import (
    classical_energy,
    classical_update,
    corrupt,
    hebbian_weights,
    pseudo_inverse_weights,
    random_orders,
    random_patterns,
    storkey_weights,
)

from . import hopfield_reference as reference


def test_hebbian_weights_hand_computed():
    # One pattern (1, -1, 1): w_ij = xi_i xi_j / 3 off the diagonal.
    weights = hebbian_weights(np.array([[1, -1, 1]]))
    expected = np.array([[0, -1, 1], [-1, 0, -1], [1, -1, 0]]) / 3
    np.testing.assert_allclose(weights, expected, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hebbian_equals_reference(dtype):
    patterns = random_patterns(7, 15, seed=1).astype(dtype)
    weights = hebbian_weights(patterns)
    assert weights.dtype == dtype
    np.testing.assert_allclose(weights, reference.hebbian_weights(patterns), atol=1e-6 if dtype == np.float32 else 1e-14)


def test_storkey_equals_literal_reference():
    patterns = random_patterns(4, 9, seed=2)
    np.testing.assert_allclose(storkey_weights(patterns), reference.storkey_weights(patterns), atol=1e-13)


@pytest.mark.parametrize("builder", [hebbian_weights, pseudo_inverse_weights, storkey_weights])
def test_weights_symmetric_zero_diagonal(builder):
    weights = builder(random_patterns(5, 20, seed=3))
    np.testing.assert_allclose(weights, weights.T, atol=1e-12)
    np.testing.assert_array_equal(np.diag(weights), 0.0)


def test_pseudo_inverse_stores_correlated_patterns():
    # Patterns sharing 80% of their units defeat the Hebbian rule but not the projection rule.
    rng = np.random.default_rng(4)
    base = rng.choice([-1.0, 1.0], size=60)
    patterns = np.tile(base, (8, 1))
    for row in patterns:
        row[rng.choice(60, size=12, replace=False)] *= -1
    states = classical_update(patterns, pseudo_inverse_weights(patterns), update="synchronous", max_steps=1)
    np.testing.assert_array_equal(states, patterns)
    hebbian_states = classical_update(patterns, hebbian_weights(patterns), update="synchronous", max_steps=1)
    assert not np.array_equal(hebbian_states, patterns)


@pytest.mark.parametrize("update", ["synchronous", "asynchronous"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_update_equals_reference(update, dtype):
    # An odd number of patterns over an even number of units makes every local field an
    # odd multiple of 1/n_features, so no field is a tie whose sign depends on rounding.
    patterns = random_patterns(5, 24, seed=5).astype(dtype)
    weights = hebbian_weights(patterns)
    states = corrupt(np.tile(patterns, (3, 1)), 0.3, seed=6)
    orders = random_orders(10, 24, seed=7)
    expected = reference.classical_update(states, weights, update == "synchronous", 10, orders)
    got = classical_update(states, weights, update=update, max_steps=10, seed=7)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, expected)


def test_energy_equals_reference():
    patterns = random_patterns(3, 10, seed=8)
    weights = storkey_weights(patterns)
    states = random_patterns(5, 10, seed=9)
    np.testing.assert_allclose(classical_energy(states, weights), reference.classical_energy(states, weights), rtol=1e-12)


@pytest.mark.parametrize("builder", [hebbian_weights, pseudo_inverse_weights, storkey_weights])
def test_energy_non_increasing_asynchronous(builder):
    weights = builder(random_patterns(12, 50, seed=10))
    states = random_patterns(10, 50, seed=11)
    rng = np.random.default_rng(12)
    energies = [classical_energy(states, weights)]
    for _ in range(5):
        states = classical_update(states, weights, max_steps=1, seed=rng)
        energies.append(classical_energy(states, weights))
    assert np.all(np.diff(np.array(energies), axis=0) <= 1e-12)


def test_capacity_low_load_recalls_high_load_fails():
    # Hebbian storage recalls up to about 0.138 n_features patterns: 0.05 is well below, 0.5 far above.
    rng = np.random.default_rng(13)
    n_features = 200
    low = random_patterns(10, n_features, seed=rng)
    high = random_patterns(100, n_features, seed=rng)
    low_states = classical_update(corrupt(low, 0.05, seed=rng), hebbian_weights(low), seed=rng)
    high_states = classical_update(corrupt(high, 0.05, seed=rng), hebbian_weights(high), seed=rng)
    assert np.all(low_states == low, axis=1).mean() == 1.0
    assert np.all(high_states == high, axis=1).mean() <= 0.05


def test_stored_patterns_are_fixed_points_synchronous():
    patterns = random_patterns(5, 100, seed=14)
    states, n_steps = classical_update(patterns, hebbian_weights(patterns), update="synchronous", return_steps=True)
    np.testing.assert_array_equal(states, patterns)
    np.testing.assert_array_equal(n_steps, 0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: hebbian_weights(np.array([[1, 0, -1]])), r"patterns must contain only -1 and \+1 .* got 0"),
        (lambda: classical_update(np.ones((1, 3)), np.ones((3, 4))), r"weights must be square, .* got \(3, 4\)"),
        (lambda: classical_update(np.ones((1, 2)), np.zeros((3, 3))), r"states has 2 columns but 3 are expected"),
        (lambda: classical_update(np.ones((1, 3)), np.zeros((3, 3)), update="sync"), r"Unknown update 'sync'"),
        (lambda: classical_update(np.ones((1, 3)), np.zeros((3, 3)), max_steps=2.5), r"max_steps must be an integer"),
        (lambda: classical_energy(np.ones((1, 3)), np.full((3, 3), np.nan)), r"weights contains NaN"),
        (lambda: hebbian_weights(np.ones((2, 2), dtype=object)), r"patterns must contain real numbers .* object"),
    ],
)
def test_bad_input_rejected(call, message):
    with pytest.raises(ConfigError, match=message):
        call()
