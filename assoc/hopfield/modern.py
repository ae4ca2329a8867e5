"""Modern (continuous) Hopfield retrieval, after Ramsauer et al. (2020).

Stored patterns are the rows of ``patterns``, shape (n_patterns, n_features); the
paper's matrix X has them as columns, so its X^T xi is ``patterns @ xi`` here. One
retrieval step maps a state xi to

    xi_new = X softmax(beta X^T xi)   ==   softmax(beta * patterns @ xi) @ patterns

with no learned projection and no normalisation. See ``docs/hopfield.md``.
"""

from __future__ import annotations

import logging
import numbers

import numpy as np
from numba import get_num_threads

from assoc.errors import ConfigError
from assoc.hopfield import _kernels
from assoc.hopfield._validation import (
    all_finite,
    as_matrix,
    as_queries,
    check_beta,
    check_finite,
    check_positive_int,
    float_dtype,
)

logger = logging.getLogger(__name__)

# A single query of at least ONE_PASS_MIN_WORK multiply-adds, against at least two
# chunks of _MIN_CHUNK_ROWS patterns, goes to the parallel one-pass kernel when Numba has
# two threads or more. It reads the patterns once and splits them over the threads.
# Other calls with at most SERIAL_MAX_QUERIES queries run the same one-pass loop on one
# thread. Everything else takes the BLAS path: a GEMM for the scores, the softmax, and
# a GEMM for the weighted sum.
# NOTE: limits from benchmarks/bench_hopfield.py on an idle 2-core AMD EPYC (Zen 5),
# float32. On two threads, the parallel kernel beat NumPy's two gemv calls (also on two
# threads) by 1.26-1.73x for one query against 1e4-1e5 patterns of 64 and 256
# features. With another process spinning on the second core (OpenBLAS's threads after
# a NumPy call, for example) it can fall far behind, so busy machines are better served
# by one Numba thread. On one thread the serial loop matched or beat the gemv calls for
# one query at 1e3 and 1e4 patterns, in float32 and float64. At four queries it still
# won in float32, but not always in float64.
ONE_PASS_MIN_WORK = 1 << 19
SERIAL_MAX_QUERIES = {np.dtype(np.float32): 4, np.dtype(np.float64): 2}

# The BLAS path scores at most this many (query, pattern) pairs at once: 2**26 entries
# are 256 MiB in float32 and 512 MiB in float64. Smaller blocks slow the second product
# (a GEMM with a long inner dimension and few rows), for example 3x at 167 rows
# against 512 rows for 1e5 patterns of 256 features with OpenBLAS 0.3.30.
_MAX_SCORE_BLOCK = 1 << 26

# The one-pass kernel splits the patterns of a query into chunks of at least this many
# rows when there are fewer queries than threads.
_MIN_CHUNK_ROWS = 4096


def _prepare(queries, keys, values, beta, query_name="queries", check_queries=True):
    """Validate and convert the arguments of a retrieval call once.

    Finiteness of ``keys`` and ``values`` is not checked here: the caller checks it,
    either directly or from the kernel's result (see :func:`_retrieve_step`). With
    ``check_queries=False`` neither is the queries' finiteness, which the caller then
    leaves to :func:`_retrieve_step` with ``queries_finite=False``.
    """
    beta = check_beta(beta)
    keys = as_matrix("keys" if values is not None else "patterns", keys, finite=False)
    n_features = keys.shape[1]
    queries, single = as_queries(query_name, queries, n_features, finite=check_queries)
    if values is None:
        values = keys
    else:
        values = as_matrix("values", values, finite=False)
        if values.shape[0] != keys.shape[0]:
            raise ConfigError(
                f"values has {values.shape[0]} rows but keys has {keys.shape[0]}; "
                "row i of values must be the item stored under row i of keys."
            )
    dtype = float_dtype(queries, keys, values)
    same_values = values is keys
    queries = np.ascontiguousarray(queries, dtype=dtype)
    keys = np.ascontiguousarray(keys, dtype=dtype)
    values = keys if same_values else np.ascontiguousarray(values, dtype=dtype)
    return queries, keys, values, beta, single


def _raise_overflow(dtype) -> None:
    """Raise ConfigError for a retrieval whose finite inputs gave a NaN or infinite result."""
    raise ConfigError(
        f"Retrieval overflowed {np.dtype(dtype).name}: a score (beta times the dot product of a query "
        f"and a pattern) or a weighted sum of values went beyond {np.finfo(dtype).max:.3g}. Scale the "
        "patterns and queries down, lower beta, or use float64."
    )


def _check_stored(keys, values):
    """Raise ConfigError when the stored keys or values contain NaN or infinite entries."""
    if values is keys:
        check_finite("patterns", keys)
    else:
        check_finite("keys", keys)
        check_finite("values", values)


def _retrieve_one_pass(queries, keys, values, beta, stored_finite=False):
    n_queries = queries.shape[0]
    n_chunks = 1
    if n_queries < get_num_threads():
        n_chunks = max(1, min(get_num_threads() // n_queries, keys.shape[0] // _MIN_CHUNK_ROWS))
    maxima = np.empty((n_queries, n_chunks), dtype=queries.dtype)
    sums = np.empty((n_queries, n_chunks), dtype=np.float64)
    accumulators = np.empty((n_queries, n_chunks, values.shape[1]), dtype=queries.dtype)
    invalid = np.empty((n_queries, n_chunks), dtype=np.bool_)
    typed_beta = queries.dtype.type(beta)
    _kernels.softmax_partials(queries, keys, values, typed_beta, n_chunks, maxima, sums, accumulators, invalid)
    out = np.empty((n_queries, values.shape[1]), dtype=queries.dtype)
    _kernels.merge_softmax_partials(maxima, sums, accumulators, out)

    # The kernel has read every stored entry: a flagged score or a non-finite result is
    # the only way a NaN or infinite entry can show, so the full check runs only then.
    if invalid.any() or not all_finite(out):
        if not stored_finite:
            _check_stored(keys, values)
        if not all_finite(out):
            _raise_overflow(out.dtype)
    return out


def _shift_rows(scores, beta, check=True) -> bool:
    """Replace each row s of ``scores`` by beta (s - max s); return whether every s was finite.

    NumPy's max and min propagate NaN, and one of them is infinite whenever the row
    contains an infinite entry. So when both are finite, every entry is finite. With
    ``check=False`` the row minima are skipped and the return value is always True.
    """
    row_maxima = scores.max(axis=1)
    finite = not check or (all_finite(row_maxima) and all_finite(scores.min(axis=1)))
    _kernels.shift_rows_inplace(scores, row_maxima, scores.dtype.type(beta))
    return finite


def _softmax_product(queries, keys, values, beta, stored_finite, scores=None, out=None):
    """Compute softmax(beta * queries @ keys.T) @ values for one block of queries.

    ``scores`` and ``out``, when given, are the buffers for the score matrix and the
    result. Without them the block allocates its own arrays, which for a single small
    block is faster than slicing preallocated ones.
    """
    # An overflow makes NumPy warn here, and the caller then raises ConfigError from the
    # result. np.errstate would silence the warning but costs about 1.3 us per call.
    scores = np.matmul(queries, keys.T, out=scores)

    # exp(beta (s - max s)) in place. The division by the row sums is applied to the
    # (n_queries, n_value_features) product instead of the larger score matrix.
    # With finite queries, a NaN or infinite key entry always leaves a NaN or
    # infinite score, so finite scores certify the keys without another pass.
    if not _shift_rows(scores, beta, check=not stored_finite):
        _check_stored(keys, values)
    np.exp(scores, out=scores)
    row_sums = scores.sum(axis=1)
    out = np.matmul(scores, values, out=out)
    out /= row_sums[:, np.newaxis]
    return out


def _retrieve_blas(queries, keys, values, beta, stored_finite=False):
    n_queries, n_keys = queries.shape[0], keys.shape[0]
    max_rows = max(1, _MAX_SCORE_BLOCK // n_keys)
    if n_queries <= max_rows:
        out = _softmax_product(queries, keys, values, beta, stored_finite)
    else:
        out = np.empty((n_queries, values.shape[1]), dtype=queries.dtype)
        n_blocks = -(-n_queries // max_rows)
        block = -(-n_queries // n_blocks)  # equal blocks, so that none is a thin remainder
        scores = np.empty((block, n_keys), dtype=queries.dtype)
        for start in range(0, n_queries, block):
            stop = min(start + block, n_queries)
            _softmax_product(
                queries[start:stop], keys, values, beta, stored_finite, scores[: stop - start], out[start:stop]
            )
    if not all_finite(out):
        if not stored_finite:
            _check_stored(keys, values)
        _raise_overflow(out.dtype)
    return out


def _retrieve_serial(queries, keys, values, beta, stored_finite=False):
    """Run :func:`assoc.hopfield._kernels.softmax_retrieve_serial`, which also checks the queries."""
    out = np.empty((queries.shape[0], values.shape[1]), dtype=queries.dtype)
    status = _kernels.softmax_retrieve_serial(queries, keys, values, queries.dtype.type(beta), out)
    if status == 1:
        check_finite("queries", queries)  # raises ConfigError
    if not stored_finite and status >= 2:
        _check_stored(keys, values)
    if status == 3:
        _raise_overflow(out.dtype)
    if status == 2:
        # The stored arrays are finite but a score or a tile's sum of scores overflowed.
        # The kernel left ``out`` unfinished, so the BLAS path computes it.
        return _retrieve_blas(queries, keys, values, beta, stored_finite=True)
    return out


def _retrieve_step(queries, keys, values, beta, stored_finite=False, queries_finite=True):
    """Run one retrieval step on validated, contiguous arrays of one dtype.

    The step checks the stored arrays for NaN and infinite entries unless
    ``stored_finite`` is true, which the caller passes only after checking them itself.
    With ``queries_finite=False`` it also checks the queries, raising ConfigError.
    """
    n_queries = queries.shape[0]
    work = n_queries * keys.shape[0] * (keys.shape[1] + values.shape[1])
    if n_queries == 1 and work >= ONE_PASS_MIN_WORK and keys.shape[0] >= 2 * _MIN_CHUNK_ROWS:
        if get_num_threads() > 1:
            if not queries_finite:
                check_finite("queries", queries)
            return _retrieve_one_pass(queries, keys, values, beta, stored_finite)
    if n_queries <= SERIAL_MAX_QUERIES[queries.dtype]:
        return _retrieve_serial(queries, keys, values, beta, stored_finite)

    if not queries_finite:
        check_finite("queries", queries)
    if values is not keys and not stored_finite:
        # Scores certify the keys only. A zero weight times an infinite value is NaN in
        # IEEE arithmetic, but BLAS libraries need not evaluate such products.
        check_finite("values", values)
    return _retrieve_blas(queries, keys, values, beta, stored_finite)


def _check_tol(tol):
    """Return ``tol`` after checking that it is None or a finite number >= 0."""
    if tol is not None and not (isinstance(tol, numbers.Real) and np.isfinite(tol) and tol >= 0):
        raise ConfigError(f"tol must be a finite number >= 0 or None; got {tol!r}.")
    return tol


def _run_steps(queries, patterns, beta, max_steps, tol, single, return_steps, stored_finite=False, queries_finite=True):
    """Apply up to ``max_steps`` retrieval steps to validated, contiguous arrays of one dtype.

    ``stored_finite`` and ``queries_finite`` are as for :func:`_retrieve_step`.
    """
    if max_steps == 1:
        states = _retrieve_step(queries, patterns, patterns, beta, stored_finite, queries_finite)
        if single:
            states = states[0]
        if return_steps:
            return states, np.ones(queries.shape[0], dtype=np.int64)
        return states

    if not queries_finite:
        check_finite("queries", queries)
    states = queries.copy()
    n_steps = np.zeros(queries.shape[0], dtype=np.int64)
    active = np.arange(queries.shape[0])
    for _ in range(max_steps):
        updated = _retrieve_step(np.ascontiguousarray(states[active]), patterns, patterns, beta, stored_finite)
        n_steps[active] += 1
        if tol is not None:
            moved = np.linalg.norm(updated - states[active], axis=1)
            states[active] = updated
            active = active[moved >= tol]
            if active.size == 0:
                break
        else:
            states[active] = updated
    logger.debug("retrieved %d queries in at most %d steps", queries.shape[0], int(n_steps.max()))

    if single:
        states = states[0]
    return (states, n_steps) if return_steps else states


def attention_weights(queries, patterns, beta: float) -> np.ndarray:
    """Compute the softmax weights softmax(beta X^T xi) of every query over the stored patterns.

    Parameters
    ----------
    queries : array_like of shape (n_queries, n_features) or (n_features,)
    patterns : array_like of shape (n_patterns, n_features)
        Stored patterns, one per row.
    beta : float
        Inverse temperature, >= 0. At 0 the weights are uniform.

    Returns
    -------
    ndarray of shape (n_queries, n_patterns) or (n_patterns,)
        Rows sum to 1. float32 when every input is float32, else float64.
    """
    queries, patterns, _, beta, single = _prepare(queries, patterns, None, beta)
    n_queries, n_patterns = queries.shape[0], patterns.shape[0]
    weights = np.empty((n_queries, n_patterns), dtype=queries.dtype)
    np.matmul(queries, patterns.T, out=weights)
    if not _shift_rows(weights, beta):
        check_finite("patterns", patterns)
    np.exp(weights, out=weights)
    weights /= weights.sum(axis=1, keepdims=True)
    return weights[0] if single else weights


def retrieve(
    queries,
    patterns,
    beta: float,
    *,
    max_steps: int = 1,
    tol: float | None = None,
    return_steps: bool = False,
):
    """Retrieve stored patterns from queries by the modern Hopfield update.

    Each step maps a state xi to softmax(beta * patterns @ xi) @ patterns
    (xi_new = X softmax(beta X^T xi) with X holding patterns as columns).

    Parameters
    ----------
    queries : array_like of shape (n_queries, n_features) or (n_features,)
        Initial states, one per row.
    patterns : array_like of shape (n_patterns, n_features)
        Stored patterns, one per row.
    beta : float
        Inverse temperature, >= 0. beta * overlap may be far above 700: the softmax
        subtracts the maximum score before exponentiating.
    max_steps : int, default 1
        Upper bound on the number of update steps.
    tol : float, optional
        Stop a query early once its update moves it by less than ``tol`` (Euclidean
        norm of the change). By default every query takes ``max_steps`` steps.
    return_steps : bool, default False
        Also return the number of steps each query took.

    Returns
    -------
    states : ndarray of shape (n_queries, n_features) or (n_features,)
        float32 when every input is float32, else float64.
    n_steps : ndarray of shape (n_queries,), int64
        Only when ``return_steps`` is true.

    Notes
    -----
    Ramsauer et al. (2020), "Hopfield Networks is All You Need": the update rule of
    their continuous modern Hopfield network. They prove that a step never raises the
    energy of :func:`modern_energy`, and the tests check it on random inputs.
    """
    queries, patterns, _, beta, single = _prepare(queries, patterns, None, beta, check_queries=False)
    max_steps = check_positive_int("max_steps", max_steps)
    tol = _check_tol(tol)

    return _run_steps(queries, patterns, beta, max_steps, tol, single, return_steps, queries_finite=False)


def hetero_retrieve(queries, keys, values, beta: float) -> np.ndarray:
    """Recall the values stored under keys: softmax(beta * keys @ q) @ values for each query.

    Cross-modal recall calls this with one modality's codes as keys and the other
    modality's codes of the same pairs as values.

    Parameters
    ----------
    queries : array_like of shape (n_queries, n_key_features) or (n_key_features,)
    keys : array_like of shape (n_items, n_key_features)
    values : array_like of shape (n_items, n_value_features)
        Row i is the item stored under key row i.
    beta : float
        Inverse temperature, >= 0.

    Returns
    -------
    ndarray of shape (n_queries, n_value_features) or (n_value_features,)
        float32 when every input is float32, else float64.
    """
    queries, keys, values, beta, single = _prepare(queries, keys, values, beta, check_queries=False)
    out = _retrieve_step(queries, keys, values, beta, queries_finite=False)
    return out[0] if single else out


def modern_energy(states, patterns, beta: float) -> np.ndarray:
    """Compute the modern Hopfield energy of each state.

    E(xi) = -lse(beta, X^T xi) + xi^T xi / 2 + log(N) / beta + M^2 / 2, with
    lse(beta, z) = log(sum_i exp(beta z_i)) / beta, N = n_patterns and M the largest
    pattern norm. At beta = 0 the energy takes its limit, -mean(X^T xi) + xi^T xi / 2 + M^2 / 2.

    Parameters
    ----------
    states : array_like of shape (n_states, n_features) or (n_features,)
    patterns : array_like of shape (n_patterns, n_features)
    beta : float
        Inverse temperature, >= 0.

    Returns
    -------
    ndarray of shape (n_states,), or a scalar for a single state
        Accumulated in float64, returned in the input dtype.

    Notes
    -----
    The energy of Ramsauer et al. (2020), "Hopfield Networks is All You Need".
    """
    states, patterns, _, beta, single = _prepare(states, patterns, None, beta, query_name="states")
    check_finite("patterns", patterns)
    half_max_squared_norm = 0.5 * float(np.max(np.einsum("ij,ij->i", patterns, patterns, dtype=np.float64)))
    out = np.empty(states.shape[0], dtype=states.dtype)
    _kernels.modern_energy(states, patterns, beta, half_max_squared_norm, out)
    return out[0] if single else out
