"""ModernHopfield: agreement with the functional calls, stored copies and bad input."""

import numpy as np
import pytest

from assoc.errors import ConfigError
from assoc.hopfield import ModernHopfield, hetero_retrieve, retrieve


def _arrays(dtype, seed=0, n_patterns=40, n_features=12, n_value_features=5, n_queries=6):
    rng = np.random.default_rng(seed)
    patterns = rng.standard_normal((n_patterns, n_features)).astype(dtype)
    values = rng.standard_normal((n_patterns, n_value_features)).astype(dtype)
    queries = rng.standard_normal((n_queries, n_features)).astype(dtype)
    return patterns, values, queries


# --- Agreement with retrieve and hetero_retrieve ---------------------------------------


@pytest.mark.parametrize(("dtype", "atol"), [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_retrieve_matches_function(dtype, atol):
    patterns, _, queries = _arrays(dtype)
    memory = ModernHopfield(patterns, beta=2.0)
    for query in (queries, queries[0]):
        expected = retrieve(query, patterns, 2.0)
        result = memory.retrieve(query)
        assert result.dtype == expected.dtype
        assert result.shape == expected.shape
        np.testing.assert_allclose(result, expected, rtol=0, atol=atol)
        np.testing.assert_allclose(memory.recall(query), expected, rtol=0, atol=atol)


@pytest.mark.parametrize(("dtype", "atol"), [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_retrieve_steps_match_function(dtype, atol):
    patterns, _, queries = _arrays(dtype)
    expected, expected_steps = retrieve(queries, patterns, 0.5, max_steps=20, tol=1e-3, return_steps=True)
    result, steps = ModernHopfield(patterns, 0.5).retrieve(queries, max_steps=20, tol=1e-3, return_steps=True)
    np.testing.assert_allclose(result, expected, rtol=0, atol=atol)
    np.testing.assert_array_equal(steps, expected_steps)


@pytest.mark.parametrize(("dtype", "atol"), [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_hetero_recall_matches_function(dtype, atol):
    keys, values, queries = _arrays(dtype)
    memory = ModernHopfield(keys, beta=1.5, values=values)
    for query in (queries, queries[0]):
        expected = hetero_retrieve(query, keys, values, 1.5)
        result = memory.recall(query)
        assert result.dtype == expected.dtype
        assert result.shape == expected.shape
        np.testing.assert_allclose(result, expected, rtol=0, atol=atol)
        np.testing.assert_allclose(memory.retrieve(query), expected, rtol=0, atol=atol)


def test_large_beta_recalls_nearest_pattern():
    rng = np.random.default_rng(4)
    patterns = rng.choice([-1.0, 1.0], size=(30, 64))
    cues = patterns.copy()
    cues[:, :8] *= -1  # 8 of 64 units flipped
    np.testing.assert_allclose(ModernHopfield(patterns, beta=10.0).recall(cues), patterns, atol=1e-12)


def test_float32_memory_casts_float64_queries():
    patterns, _, queries = _arrays(np.float32)
    memory = ModernHopfield(patterns, 1.0)
    result = memory.recall(queries.astype(np.float64))
    assert memory.dtype == np.float32
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, retrieve(queries, patterns, 1.0), rtol=0, atol=1e-5)


def test_dtype_argument_sets_stored_dtype():
    patterns, _, queries = _arrays(np.float64)
    memory = ModernHopfield(patterns, 1.0, dtype=np.float32)
    assert memory.patterns.dtype == np.float32
    expected = retrieve(queries.astype(np.float32), patterns.astype(np.float32), 1.0)
    np.testing.assert_allclose(memory.recall(queries), expected, rtol=0, atol=1e-6)


def test_integer_queries_are_converted():
    patterns = np.array([[1.0, -1.0, 1.0], [-1.0, 1.0, 1.0]])
    queries = np.array([[1, -1, 1]])
    np.testing.assert_allclose(ModernHopfield(patterns, 3.0).recall(queries), retrieve(queries, patterns, 3.0), atol=1e-12)


# --- Stored copies --------------------------------------------------------------------


def test_stored_arrays_are_copies():
    keys, values, queries = _arrays(np.float64)
    auto = ModernHopfield(keys, 1.0)
    hetero = ModernHopfield(keys, 1.0, values=values)
    expected_auto = auto.recall(queries)
    expected_hetero = hetero.recall(queries)

    keys[:] = 0.0
    values[:] = 0.0

    np.testing.assert_array_equal(auto.recall(queries), expected_auto)
    np.testing.assert_array_equal(hetero.recall(queries), expected_hetero)


def test_stored_arrays_are_read_only():
    keys, values, _ = _arrays(np.float64)
    memory = ModernHopfield(keys, 1.0, values=values)
    with pytest.raises(ValueError, match="read-only"):
        memory.patterns[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        memory.values[0, 0] = 1.0


def test_float32_copy_of_float32_input():
    patterns, _, _ = _arrays(np.float32)
    memory = ModernHopfield(patterns, 1.0)
    assert not np.shares_memory(memory.patterns, patterns)
    assert memory.patterns.flags.c_contiguous


# --- Bad input ------------------------------------------------------------------------


def test_query_nan_raises():
    patterns, _, queries = _arrays(np.float64)
    queries[2, 3] = np.nan
    memory = ModernHopfield(patterns, 1.0)
    with pytest.raises(ConfigError, match="queries contains NaN or infinite values"):
        memory.recall(queries)
    with pytest.raises(ConfigError, match="queries contains NaN or infinite values"):
        memory.retrieve(queries[2])


def test_query_inf_raises():
    patterns, _, queries = _arrays(np.float32)
    queries[0, 0] = np.inf
    with pytest.raises(ConfigError, match="queries contains NaN or infinite values"):
        ModernHopfield(patterns, 1.0).recall(queries)


def test_query_wrong_feature_count_raises():
    patterns, _, _ = _arrays(np.float64, n_features=12)
    memory = ModernHopfield(patterns, 1.0)
    with pytest.raises(ConfigError, match=r"queries has 11 columns but 12 are expected"):
        memory.recall(np.zeros((3, 11)))
    with pytest.raises(ConfigError, match=r"queries has 13 columns but 12 are expected"):
        memory.retrieve(np.zeros(13))


def test_query_wrong_dimension_raises():
    patterns, _, _ = _arrays(np.float64, n_features=12)
    with pytest.raises(ConfigError, match=r"queries must be a 2-d array"):
        ModernHopfield(patterns, 1.0).recall(np.zeros((2, 3, 12)))


def test_stored_nan_raises():
    patterns, values, _ = _arrays(np.float64)
    patterns[5, 1] = np.nan
    with pytest.raises(ConfigError, match="patterns contains NaN or infinite values"):
        ModernHopfield(patterns, 1.0)
    with pytest.raises(ConfigError, match="keys contains NaN or infinite values"):
        ModernHopfield(patterns, 1.0, values=values)


def test_stored_values_nan_raises():
    keys, values, _ = _arrays(np.float64)
    values[0, 0] = -np.inf
    with pytest.raises(ConfigError, match="values contains NaN or infinite values"):
        ModernHopfield(keys, 1.0, values=values)


def test_stored_overflow_in_float32_raises():
    # 1e39 is finite in float64 but inf in float32, so the check runs after the conversion.
    patterns = np.ones((3, 4))
    patterns[1, 2] = 1e39
    with pytest.raises(ConfigError, match="patterns contains NaN or infinite values"):
        ModernHopfield(patterns, 1.0, dtype=np.float32)


@pytest.mark.parametrize("beta", [-0.5, np.inf, np.nan])
def test_bad_beta_raises(beta):
    patterns, _, _ = _arrays(np.float64)
    with pytest.raises(ConfigError, match=r"beta must be a finite number >= 0"):
        ModernHopfield(patterns, beta)


def test_values_row_mismatch_raises():
    keys, values, _ = _arrays(np.float64)
    with pytest.raises(ConfigError, match=r"values has 39 rows but patterns has 40"):
        ModernHopfield(keys, 1.0, values=values[:-1])


@pytest.mark.parametrize("dtype", [np.int64, np.float16, "complex128", "not a dtype"])
def test_bad_dtype_raises(dtype):
    patterns, _, _ = _arrays(np.float64)
    with pytest.raises(ConfigError, match=r"dtype must be numpy.float32, numpy.float64 or None"):
        ModernHopfield(patterns, 1.0, dtype=dtype)


def test_hetero_multi_step_raises():
    keys, values, queries = _arrays(np.float64)
    with pytest.raises(ConfigError, match=r"max_steps must be 1 for a memory with separate values; got 3"):
        ModernHopfield(keys, 1.0, values=values).retrieve(queries, max_steps=3)


def test_bad_max_steps_and_tol_raise():
    patterns, _, queries = _arrays(np.float64)
    memory = ModernHopfield(patterns, 1.0)
    with pytest.raises(ConfigError, match=r"max_steps must be an integer >= 1; got 0"):
        memory.retrieve(queries, max_steps=0)
    with pytest.raises(ConfigError, match=r"tol must be a finite number >= 0 or None; got -1.0"):
        memory.retrieve(queries, max_steps=2, tol=-1.0)


def test_repr_names_sizes():
    keys, values, _ = _arrays(np.float32)
    text = repr(ModernHopfield(keys, 1.0, values=values))
    assert text == "ModernHopfield(n_patterns=40, n_features=12, n_value_features=5, beta=1.0, dtype=float32)"


def test_stored_overflow_names_the_conversion():
    patterns = np.ones((4, 3))
    patterns[1, 2] = 1e300
    with pytest.raises(ConfigError, match=r"index \(1, 2\).*converted from the finite 1e\+300.*float32 limit"):
        ModernHopfield(patterns, 1.0, dtype=np.float32)
