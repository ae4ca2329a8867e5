"""Modern Hopfield retrieval: closed forms, the NumPy reference, energy, overflow and bad input."""

import numpy as np
import pytest

from assoc.errors import ConfigError
from assoc.hopfield import attention_weights, hetero_retrieve, modern, modern_energy, retrieve

from . import hopfield_reference as reference


def _orthonormal_rows(n_rows, n_features, seed):
    matrix = np.random.default_rng(seed).normal(size=(n_features, n_features))
    q, _ = np.linalg.qr(matrix)
    return q[:n_rows]


# --- Closed forms --------------------------------------------------------------------


def test_orthonormal_patterns_closed_form():
    # With orthonormal patterns e_i and q = sum_i c_i e_i, the scores are beta c_i, so the
    # weights are softmax(beta c) and the retrieved state is sum_i softmax(beta c)_i e_i.
    patterns = _orthonormal_rows(4, 6, seed=0)
    coefficients = np.array([[1.0, 0.5, -0.5, 0.0], [0.0, 0.0, 0.0, 0.0]])
    queries = coefficients @ patterns
    beta = 2.0
    expected_weights = np.exp(beta * coefficients) / np.exp(beta * coefficients).sum(axis=1, keepdims=True)

    np.testing.assert_allclose(attention_weights(queries, patterns, beta), expected_weights, atol=1e-14)
    np.testing.assert_allclose(retrieve(queries, patterns, beta), expected_weights @ patterns, atol=1e-14)


def test_orthonormal_energy_closed_form():
    # E = -log(sum exp(beta c)) / beta + |c|^2 / 2 + log(N) / beta + 1 / 2 for unit-norm patterns.
    patterns = _orthonormal_rows(3, 5, seed=1)
    coefficients = np.array([0.3, -1.2, 2.0])
    beta = 1.5
    expected = -np.log(np.sum(np.exp(beta * coefficients))) / beta + 0.5 * coefficients @ coefficients
    expected += np.log(3) / beta + 0.5
    assert modern_energy(coefficients @ patterns, patterns, beta) == pytest.approx(expected, abs=1e-12)


def test_large_beta_retrieves_nearest_pattern():
    rng = np.random.default_rng(2)
    patterns = rng.choice([-1.0, 1.0], size=(50, 64))
    cues = patterns.copy()
    cues[:, :10] *= -1  # 10 of 64 units flipped
    states = retrieve(cues, patterns, beta=10.0)
    np.testing.assert_allclose(states, patterns, atol=1e-12)


def test_beta_zero_global_average_fixed_point():
    # At beta = 0 every weight is 1/N, so one step from anywhere lands on the mean pattern,
    # and the mean pattern maps to itself.
    rng = np.random.default_rng(3)
    patterns = rng.normal(size=(7, 5))
    mean = patterns.mean(axis=0)
    states = retrieve(rng.normal(size=(3, 5)), patterns, beta=0.0)
    np.testing.assert_allclose(states, np.tile(mean, (3, 1)), atol=1e-14)
    np.testing.assert_allclose(retrieve(mean, patterns, beta=0.0, max_steps=5), mean, atol=1e-14)
    np.testing.assert_allclose(attention_weights(mean, patterns, 0.0), np.full(7, 1 / 7), atol=1e-15)


# --- Against the NumPy reference -----------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_queries", [1, 3, 40])  # one-pass kernel, then the BLAS path
def test_retrieve_equals_reference(dtype, n_queries):
    rng = np.random.default_rng(4)
    patterns = rng.normal(size=(9000, 12)).astype(dtype)
    queries = rng.normal(size=(n_queries, 12)).astype(dtype)
    expected = reference.retrieve(queries, patterns, beta=0.7)

    got = retrieve(queries, patterns, beta=0.7)

    assert got.dtype == dtype
    tolerance = 1e-12 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(got, expected, rtol=0, atol=tolerance)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hetero_retrieve_equals_reference(dtype):
    rng = np.random.default_rng(5)
    keys = rng.normal(size=(30, 8)).astype(dtype)
    values = rng.normal(size=(30, 3)).astype(dtype)
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    for n_queries in (2, 20):
        queries = rng.normal(size=(n_queries, 8)).astype(dtype)
        got = hetero_retrieve(queries, keys, values, beta=1.3)
        assert got.shape == (n_queries, 3)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, reference.hetero_retrieve(queries, keys, values, 1.3), atol=tolerance)


def test_attention_weights_equal_reference():
    rng = np.random.default_rng(6)
    patterns = rng.normal(size=(15, 4))
    queries = rng.normal(size=(6, 4))
    weights = attention_weights(queries, patterns, 2.5)
    np.testing.assert_allclose(weights, reference.softmax(2.5 * queries @ patterns.T), atol=1e-15)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_energy_equals_reference(dtype):
    rng = np.random.default_rng(7)
    patterns = rng.normal(size=(20, 6)).astype(dtype)
    states = rng.normal(size=(4, 6)).astype(dtype)
    got = modern_energy(states, patterns, 0.8)
    assert got.dtype == dtype
    tolerance = 1e-12 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(got, reference.modern_energy(states, patterns, 0.8), rtol=tolerance)


def test_multistep_equals_reference():
    rng = np.random.default_rng(8)
    patterns = rng.normal(size=(25, 10))
    queries = rng.normal(size=(4, 10))
    got = retrieve(queries, patterns, beta=0.3, max_steps=4)
    np.testing.assert_allclose(got, reference.retrieve(queries, patterns, 0.3, n_steps=4), atol=1e-12)


# --- Energy, convergence, overflow ---------------------------------------------------


@pytest.mark.parametrize("beta", [0.0, 0.05, 0.5, 8.0])
def test_energy_non_increasing_along_updates(beta):
    rng = np.random.default_rng(9)
    patterns = rng.normal(size=(30, 8))
    states = rng.normal(size=(10, 8)) * 2.0
    energies = [modern_energy(states, patterns, beta)]
    for _ in range(6):
        states = retrieve(states, patterns, beta)
        energies.append(modern_energy(states, patterns, beta))
    steps = np.diff(np.array(energies), axis=0)
    assert np.all(steps <= 1e-10)


def test_tol_stops_converged_queries():
    rng = np.random.default_rng(10)
    patterns = rng.choice([-1.0, 1.0], size=(10, 32))
    states, n_steps = retrieve(patterns[:3], patterns, beta=4.0, max_steps=50, tol=1e-9, return_steps=True)
    np.testing.assert_allclose(states, patterns[:3], atol=1e-9)
    assert np.all(n_steps < 50)
    _, n_steps_without_tol = retrieve(patterns[:3], patterns, beta=4.0, max_steps=5, return_steps=True)
    np.testing.assert_array_equal(n_steps_without_tol, [5, 5, 5])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_queries", [1, 20])
def test_overflow_safe_at_huge_beta_overlap(dtype, n_queries):
    # beta * overlap reaches 1e5, far beyond exp's range (about 709 in float64, 88 in float32).
    rng = np.random.default_rng(11)
    patterns = rng.choice([-1.0, 1.0], size=(40, 100)).astype(dtype)
    queries = patterns[rng.integers(0, 40, size=n_queries)]
    states = retrieve(queries, patterns, beta=1000.0)
    weights = attention_weights(queries, patterns, beta=1000.0)
    energies = modern_energy(queries, patterns, beta=1000.0)
    assert np.all(np.isfinite(states))
    np.testing.assert_array_equal(states, queries)
    assert np.all(np.isfinite(weights))
    np.testing.assert_allclose(weights.max(axis=1), 1.0)
    # At a stored pattern with well-separated overlaps E = -n + n/2 + log(N)/beta + n/2 = log(N)/beta.
    np.testing.assert_allclose(energies, np.log(40) / 1000.0, atol=1e-3)


def test_single_query_vector_returns_vector():
    patterns = np.eye(3)
    state = retrieve(np.array([1.0, 0.0, 0.0]), patterns, beta=1.0)
    assert state.shape == (3,)
    assert attention_weights(np.ones(3), patterns, 1.0).shape == (3,)
    assert np.ndim(modern_energy(np.ones(3), patterns, 1.0)) == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_queries", [1, 3])
def test_one_pass_kernel_equals_reference(dtype, n_queries):
    # 9000 patterns are split into chunks over the threads for a single query.
    rng = np.random.default_rng(13)
    keys = rng.normal(size=(9000, 12)).astype(dtype)
    values = rng.normal(size=(9000, 5)).astype(dtype)
    queries = rng.normal(size=(n_queries, 12)).astype(dtype)
    tolerance = 1e-12 if dtype == np.float64 else 1e-4

    auto = modern._retrieve_one_pass(queries, keys, keys, 0.7)
    hetero = modern._retrieve_one_pass(queries, keys, values, 0.7)

    np.testing.assert_allclose(auto, reference.retrieve(queries, keys, 0.7), rtol=0, atol=tolerance)
    np.testing.assert_allclose(hetero, reference.hetero_retrieve(queries, keys, values, 0.7), rtol=0, atol=tolerance)


def test_one_pass_kernel_flags_nan():
    keys = np.ones((9000, 4))
    keys[8000, 2] = np.nan
    with pytest.raises(ConfigError, match="patterns contains NaN"):
        modern._retrieve_one_pass(np.ones((1, 4)), keys, keys, 1.0)
    values = np.ones((9000, 2))
    values[10, 1] = np.inf
    with pytest.raises(ConfigError, match="values contains NaN"):
        modern._retrieve_one_pass(np.ones((1, 4)), np.ones((9000, 4)), values, 1.0)


def test_single_large_query_equals_reference():
    # 9000 patterns of 128 features take the one-pass kernel when Numba has two threads.
    rng = np.random.default_rng(14)
    patterns = rng.normal(size=(9000, 128)) / 4
    query = rng.normal(size=128) / 4
    np.testing.assert_allclose(retrieve(query, patterns, 0.5), reference.retrieve(query[None], patterns, 0.5)[0], atol=1e-12)


def test_one_pass_and_blas_paths_agree():
    rng = np.random.default_rng(12)
    patterns = rng.normal(size=(500, 16))
    queries = rng.normal(size=(4, 16))
    blas = modern._retrieve_blas(queries, patterns, patterns, 0.9)
    one_pass = modern._retrieve_one_pass(queries, patterns, patterns, 0.9)
    np.testing.assert_allclose(blas, one_pass, atol=1e-12)


def test_mixed_precision_promotes_to_float64():
    patterns = np.eye(4, dtype=np.float32)
    assert retrieve(np.ones((1, 4)), patterns, 1.0).dtype == np.float64
    assert retrieve(np.ones((1, 4), dtype=np.int64), patterns, 1.0).dtype == np.float64


# --- Bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: retrieve(np.ones((2, 3)), np.ones((4, 5)), 1.0), r"queries has 3 columns but 5 are expected"),
        (lambda: retrieve(np.ones((2, 3)), np.ones(3), 1.0), r"patterns must be a 2-d array .* got shape \(3,\)"),
        (lambda: retrieve(np.array([[np.nan, 1.0]]), np.ones((2, 2)), 1.0), r"queries contains NaN or infinite"),
        (lambda: retrieve(np.ones((1, 2)), np.array([[np.inf, 1.0]]), 1.0), r"patterns contains NaN or infinite"),
        (lambda: retrieve(np.ones((9, 2)), np.array([[1.0, np.nan]]), 1.0), r"patterns contains NaN or infinite"),
        (lambda: hetero_retrieve(np.ones(2), np.array([[-np.inf, 0.0], [1, 1]]), np.ones((2, 3)), 1.0), r"keys contains NaN"),
        (lambda: hetero_retrieve(np.ones(2), np.ones((2, 2)), np.array([[0.0], [np.inf]]), 1.0), r"values contains NaN"),
        (lambda: hetero_retrieve(np.ones((9, 2)), np.ones((2, 2)), np.array([[0.0], [np.nan]]), 1.0), r"values contains NaN"),
        (lambda: retrieve(np.ones((1, 2)), np.ones((2, 2)), -0.5), r"beta must be a finite number >= 0 .* got -0.5"),
        (lambda: retrieve(np.ones((1, 2)), np.ones((2, 2)), np.inf), r"beta must be a finite number >= 0 .* got inf"),
        (lambda: retrieve(np.ones((1, 2)), np.ones((2, 2)), "1"), r"beta must be a real number"),
        (lambda: retrieve(np.ones((1, 2)), np.ones((2, 2)) + 0j, 1.0), r"patterns must contain real numbers .* complex128"),
        (lambda: retrieve(np.ones((1, 2)), np.ones((2, 2)), 1.0, max_steps=0), r"max_steps must be an integer >= 1"),
        (lambda: retrieve(np.ones((1, 2)), np.ones((2, 2)), 1.0, tol=-1.0), r"tol must be a finite number >= 0"),
        (lambda: hetero_retrieve(np.ones((1, 2)), np.ones((3, 2)), np.ones((4, 5)), 1.0), r"values has 4 rows but keys has 3"),
        (lambda: hetero_retrieve(np.ones((1, 3)), np.ones((3, 2)), np.ones((3, 5)), 1.0), r"queries has 3 columns but 2"),
        (lambda: modern_energy(np.ones((1, 3)), np.ones((3, 2)), 1.0), r"states has 3 columns but 2"),
        (lambda: attention_weights(np.ones((1, 2)), np.ones((0, 2)), 1.0), r"patterns must have at least one row"),
    ],
)
def test_bad_input_rejected(call, message):
    with pytest.raises(ConfigError, match=message):
        call()


# --- The serial one-pass kernel and its vectorized exponential ------------------------


@pytest.mark.parametrize("dtype, max_ulp", [(np.float32, 1.0), (np.float64, 2.0)])
def test_tile_exponential_within_ulps_of_exp(dtype, max_ulp):
    from assoc import _fastexp

    rng = np.random.default_rng(21)
    floor = _fastexp._EXP_FLOOR_32 if dtype == np.float32 else _fastexp._EXP_FLOOR_64
    arguments = np.concatenate([-rng.random(40) * -floor, -rng.random(20) * 1e-3, [0.0, floor, -0.5 * np.log(2)]])
    x = arguments.astype(dtype)
    tail = np.array([floor * 1.01, -1e30, 3.0], dtype=dtype)  # the last entry is beyond n, left alone
    work = np.concatenate([x, tail])
    bits = np.empty(work.size, dtype=np.int64)

    _fastexp.exp_nonpositive(work, x.size + 2, bits)

    exact = np.exp(x.astype(np.float64))
    ulps = np.abs(work[: x.size] - exact) / np.spacing(exact.astype(dtype)).astype(np.float64)
    assert ulps.max() <= max_ulp
    np.testing.assert_array_equal(work[x.size :], [0.0, 0.0, 3.0])  # below the floor: 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 3), (7, 5), (130, 17), (1001, 64)])  # remainders of 4-row groups and tiles
def test_serial_kernel_equals_reference(dtype, shape):
    rng = np.random.default_rng(22)
    n_patterns, n_features = shape
    keys = rng.normal(size=shape).astype(dtype)
    values = rng.normal(size=(n_patterns, 3)).astype(dtype)
    queries = rng.normal(size=(2, n_features)).astype(dtype)
    tolerance = 1e-12 if dtype == np.float64 else 1e-5

    auto = modern._retrieve_serial(queries, keys, keys, 0.8)
    hetero = modern._retrieve_serial(queries, keys, values, 0.8)

    assert auto.dtype == dtype
    np.testing.assert_allclose(auto, reference.retrieve(queries, keys, 0.8), rtol=0, atol=tolerance)
    np.testing.assert_allclose(hetero, reference.hetero_retrieve(queries, keys, values, 0.8), rtol=0, atol=tolerance)


def test_serial_kernel_checks_queries_and_stored_arrays():
    keys = np.ones((9, 4))
    query = np.ones((1, 4))
    query[0, 1] = np.inf
    with pytest.raises(ConfigError, match="queries contains NaN"):
        modern._retrieve_serial(query, keys, keys, 1.0)
    keys[8, 2] = np.nan
    with pytest.raises(ConfigError, match="patterns contains NaN"):
        modern._retrieve_serial(np.ones((1, 4)), keys, keys, 1.0)
    values = np.ones((9, 2))
    values[0, 0] = -np.inf
    with pytest.raises(ConfigError, match="values contains NaN"):
        modern._retrieve_serial(np.ones((1, 4)), np.ones((9, 4)), values, 1.0)


def test_serial_kernel_tile_sum_overflow():
    # Each score is 1e38, finite in float32, but a tile's sum of them is not: the kernel
    # flags the tile, and the BLAS path gives the uniform softmax of equal scores.
    keys = np.zeros((8, 2), dtype=np.float32)
    keys[:, 0] = 1e19
    values = np.arange(16, dtype=np.float32).reshape(8, 2)
    query = np.array([[1e19, 0.0]], dtype=np.float32)
    got = modern._retrieve_serial(query, keys, values, 1.0, stored_finite=True)
    np.testing.assert_allclose(got, values.mean(axis=0, keepdims=True), rtol=1e-6)


@pytest.mark.parametrize("n_queries", [1, 3, 40])  # the serial kernel checks the queries, the BLAS path before it
@pytest.mark.parametrize("max_steps", [1, 3])
def test_nan_queries_rejected_on_every_path(n_queries, max_steps):
    rng = np.random.default_rng(23)
    patterns = rng.normal(size=(50, 6))
    queries = rng.normal(size=(n_queries, 6))
    queries[-1, 2] = np.nan
    with pytest.raises(ConfigError, match="queries contains NaN"):
        retrieve(queries, patterns, 1.0, max_steps=max_steps)
    with pytest.raises(ConfigError, match="queries contains NaN"):
        hetero_retrieve(queries, patterns, patterns[:, :2], 1.0)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("n_queries", [1, 3, 40])  # serial kernel, then the BLAS path
def test_overflow_of_finite_inputs_raises(n_queries):
    patterns = np.full((20, 4), 1e200)
    queries = np.full((n_queries, 4), 1e200)
    with pytest.raises(ConfigError, match="Retrieval overflowed float64.*Scale the patterns and queries down"):
        retrieve(queries, patterns, 1.0)
    # Each value is finite, but the unnormalised sum of 20 of them is not.
    values = np.full((20, 2), 1e308)
    with pytest.raises(ConfigError, match="Retrieval overflowed float64"):
        hetero_retrieve(np.ones((n_queries, 4)), np.ones((20, 4)), values, 1.0)
