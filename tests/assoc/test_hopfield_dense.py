"""Dense associative memory: the NumPy reference, energy descent, capacity and bad input."""

import numpy as np
import pytest

from assoc.errors import ConfigError
from assoc.hopfield import corrupt, dense_energy, dense_update, random_orders, random_patterns

from . import hopfield_reference as reference

INTERACTIONS = [("polynomial", 3), ("polynomial", 2), ("rectified", 4), ("exponential", 0)]


@pytest.mark.parametrize(("interaction", "degree"), INTERACTIONS)
@pytest.mark.parametrize("update", ["synchronous", "asynchronous"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_update_equals_reference(interaction, degree, update, dtype):
    patterns = random_patterns(6, 20, seed=1).astype(dtype)
    states = corrupt(np.tile(patterns, (2, 1)), 0.3, seed=2)
    max_steps = 5
    orders = random_orders(max_steps, 20, seed=3)
    expected = reference.dense_update(states, patterns, interaction, degree, update == "synchronous", max_steps, orders)

    got = dense_update(
        states, patterns, interaction=interaction, degree=degree, update=update, max_steps=max_steps, seed=3
    )

    assert got.dtype == dtype
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(("interaction", "degree"), INTERACTIONS)
def test_energy_equals_reference(interaction, degree):
    patterns = random_patterns(5, 12, seed=4)
    states = random_patterns(3, 12, seed=5)
    got = dense_energy(states, patterns, interaction=interaction, degree=degree)
    np.testing.assert_allclose(got, reference.dense_energy(states, patterns, interaction, degree), rtol=1e-12)


@pytest.mark.parametrize(("interaction", "degree"), INTERACTIONS)
def test_energy_non_increasing_asynchronous(interaction, degree):
    patterns = random_patterns(30, 40, seed=6)
    states = random_patterns(8, 40, seed=7)
    energies = [dense_energy(states, patterns, interaction=interaction, degree=degree)]
    rng = np.random.default_rng(8)
    for _ in range(5):
        states = dense_update(states, patterns, interaction=interaction, degree=degree, max_steps=1, seed=rng)
        energies.append(dense_energy(states, patterns, interaction=interaction, degree=degree))
    steps = np.diff(np.array(energies), axis=0)
    scale = np.max(np.abs(energies))
    assert np.all(steps <= 1e-12 * scale)


@pytest.mark.parametrize(("interaction", "degree"), [("polynomial", 3), ("exponential", 0)])
def test_recalls_beyond_classical_capacity(interaction, degree):
    # 60 patterns in 100 units is a load of 0.6, four times the classical limit of 0.138.
    patterns = random_patterns(60, 100, seed=9)
    cues = corrupt(patterns, 0.1, seed=10)
    states = dense_update(cues, patterns, interaction=interaction, degree=degree, seed=11)
    recalled = np.all(states == patterns, axis=1)
    assert recalled.mean() == 1.0


def test_exponential_update_without_overflow():
    # Overlaps of 1000 units exceed exp's float64 range (about 709); updates compare shifted terms.
    patterns = random_patterns(5, 1000, seed=12)
    cues = corrupt(patterns, 0.2, seed=13)
    states = dense_update(cues, patterns, interaction="exponential", update="synchronous")
    np.testing.assert_array_equal(states, patterns)


def test_float32_states_stay_float32():
    patterns = random_patterns(3, 10, seed=14).astype(np.float32)
    states = dense_update(patterns, patterns)
    assert states.dtype == np.float32
    assert dense_energy(patterns, patterns).dtype == np.float32
    assert dense_update(patterns[0].astype(np.int64), patterns).dtype == np.float64


def test_same_seed_same_result():
    patterns = random_patterns(20, 30, seed=15)
    cues = corrupt(patterns, 0.4, seed=16)
    first = dense_update(cues, patterns, degree=2, max_steps=3, seed=17)
    second = dense_update(cues, patterns, degree=2, max_steps=3, seed=np.random.default_rng(17))
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"states": np.zeros((1, 4))}, r"states must contain only -1 and \+1 .* got 0.0 at index \(0, 0\)"),
        ({"patterns": np.full((2, 4), 0.5)}, r"patterns must contain only -1 and \+1"),
        ({"states": np.ones((1, 5))}, r"states has 5 columns but 4 are expected"),
        ({"interaction": "cubic"}, r"Unknown interaction 'cubic'; choose one of 'polynomial'"),
        ({"degree": 1}, r"degree must be an integer >= 2; got 1"),
        ({"update": "parallel"}, r"Unknown update 'parallel'"),
        ({"seed": "seven"}, r"seed must be an int, None or a numpy.random.Generator"),
        ({"states": np.array([[1, -1, np.nan, 1]])}, r"states contains NaN"),
    ],
)
def test_bad_input_rejected(kwargs, message):
    arguments = {"states": np.ones((1, 4)), "patterns": np.ones((2, 4))}
    arguments.update(kwargs)
    with pytest.raises(ConfigError, match=message):
        dense_update(arguments.pop("states"), arguments.pop("patterns"), **arguments)
