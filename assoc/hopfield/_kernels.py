"""Numba kernels for the Hopfield modules.

The kernels trust their callers: arrays arrive C-contiguous, of matching shapes and
dtypes, and outputs arrive allocated. Queries arrive finite; stored patterns may not,
and the retrieval kernels report what they find. Retrieval and update kernels split
work over queries (or over query-and-chunk pairs) with ``prange``. Each iteration
writes only its own rows of the outputs, so no two threads write the same memory.
Energies, storage rules and the row helpers of the BLAS path run serially: they are
cheap next to the updates, and serial kernels compile faster.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from assoc import _config
from assoc._fastexp import exp_nonpositive

# NOTE: numba 0.68 accepts fastmath only as a bool, dict or set, and rejects the
# frozenset that assoc._config holds, so the flags are copied into a set here.
NJIT_SERIAL = {**_config.NJIT_SERIAL, "fastmath": set(_config.NJIT_SERIAL["fastmath"])}
NJIT_PARALLEL = {**_config.NJIT_PARALLEL, "fastmath": set(_config.NJIT_PARALLEL["fastmath"])}

# Rows of the pattern matrix scored at once by the one-pass kernels. Long rows get
# fewer than _TILE_ROWS, so that a tile of keys (about _TILE_BYTES) is still in L1
# when the weighted sum reads it back as the values of an auto-associative memory.
_TILE_ROWS = 64
_TILE_BYTES = 16384

# Interaction functions of the dense associative memory (private codes for the kernels).
POLYNOMIAL = 0
RECTIFIED_POLYNOMIAL = 1
EXPONENTIAL = 2

_EXP_ONE = np.exp(1.0)
_EXP_MINUS_ONE = np.exp(-1.0)


# --- Modern Hopfield retrieval -------------------------------------------------------


@njit(**NJIT_SERIAL)
def _tile_rows(n_features, itemsize):
    """Rows per tile: _TILE_BYTES of keys, a multiple of 4 between 4 and _TILE_ROWS."""
    rows = _TILE_BYTES // max(1, n_features * itemsize)
    return max(4, min(_TILE_ROWS, rows - rows % 4))


@njit(**NJIT_SERIAL)
def _softmax_chunk(query, keys, values, start, stop, beta, accumulator, scores, bits, tile_rows):
    """Return (m, s, invalid) and fill a for rows start..stop-1, as described in softmax_partials.

    scores : scratch of _TILE_ROWS entries in the input dtype; bits : int64 scratch of
    _TILE_ROWS entries. Both inner loops take four rows at a time: the score loop shares
    each query entry between four dot products, and the weighted sum loads and stores
    each accumulator entry once per four rows instead of once per row.
    """
    n_features = query.shape[0]
    n_value_features = accumulator.shape[0]
    zero = query[0] - query[0]  # typed zero, so that the dot products stay in the input's precision
    running_max = np.full(1, -np.inf, dtype=scores.dtype)[0]
    running_sum = 0.0
    invalid = False
    for k in range(n_value_features):
        accumulator[k] = 0.0

    for tile_start in range(start, stop, tile_rows):
        tile_stop = min(tile_start + tile_rows, stop)
        n_rows = tile_stop - tile_start
        n_quads = n_rows - n_rows % 4

        # Scores of the tile.
        for r in range(0, n_quads, 4):
            a = tile_start + r
            s0 = zero
            s1 = zero
            s2 = zero
            s3 = zero
            for k in range(n_features):
                q = query[k]
                s0 += keys[a, k] * q
                s1 += keys[a + 1, k] * q
                s2 += keys[a + 2, k] * q
                s3 += keys[a + 3, k] * q
            scores[r] = s0
            scores[r + 1] = s1
            scores[r + 2] = s2
            scores[r + 3] = s3
        for r in range(n_quads, n_rows):
            s = zero
            for k in range(n_features):
                s += keys[tile_start + r, k] * query[k]
            scores[r] = s

        # A NaN or infinite key entry makes its dot product NaN or infinite (the query is
        # finite), and then the sum of the tile's scores is NaN or infinite. The maximum
        # would not show it, because max(1.0, nan) is 1.0. A sum that overflows from
        # finite scores also raises the flag, so the caller checks the keys themselves.
        tile_max = scores[0]
        tile_sum = zero
        for r in range(n_rows):
            tile_max = max(tile_max, scores[r])
            tile_sum += scores[r]
        if not (-np.inf < tile_sum < np.inf):
            invalid = True
        # beta >= 0, so the maximum of beta * s is beta * max(s).
        tile_max = beta * tile_max

        # Rescale the running sums to the new maximum (exp(-inf) = 0 on the first tile).
        if tile_max > running_max:
            scale = np.exp(running_max - tile_max)
            running_sum *= scale
            for k in range(n_value_features):
                accumulator[k] *= scale
            running_max = tile_max

        # Add exp(score - max) * value row for every row of the tile.
        for r in range(n_rows):
            scores[r] = beta * scores[r] - running_max
        exp_nonpositive(scores, n_rows, bits)
        for r in range(n_rows):
            running_sum += scores[r]
        for r in range(0, n_quads, 4):
            a = tile_start + r
            w0 = scores[r]
            w1 = scores[r + 1]
            w2 = scores[r + 2]
            w3 = scores[r + 3]
            for k in range(n_value_features):
                accumulator[k] += w0 * values[a, k] + w1 * values[a + 1, k] + w2 * values[a + 2, k] + w3 * values[a + 3, k]
        for r in range(n_quads, n_rows):
            weight = scores[r]
            for k in range(n_value_features):
                accumulator[k] += weight * values[tile_start + r, k]
    return running_max, running_sum, invalid


@njit(**NJIT_PARALLEL)
def softmax_partials(queries, keys, values, beta, n_chunks, maxima, sums, accumulators, invalid):
    """Accumulate softmax-weighted sums of ``values`` rows over chunks of the keys.

    For query q and chunk c the kernel stores m = max_i beta k_i.q, s = sum_i
    exp(beta k_i.q - m) and a = sum_i exp(beta k_i.q - m) v_i over the keys i of the
    chunk. It reads each key and value row once ("online softmax"): scores of a tile
    of rows are computed first, and the running sums are rescaled whenever the tile
    raises the running maximum, so no exponent is ever positive.

    maxima, sums : (n_queries, n_chunks); accumulators : (n_queries, n_chunks, n_value_features).
    invalid : (n_queries, n_chunks) bool, set where a score was NaN or infinite, which
    happens exactly when the chunk's keys hold a NaN or infinite entry (or a finite dot
    product, or a sum of a tile's scores, overflows). NaN or infinite values rows make
    the accumulators non-finite.
    """
    n_queries = queries.shape[0]
    n_keys = keys.shape[0]
    chunk_size = (n_keys + n_chunks - 1) // n_chunks
    tile_rows = _tile_rows(keys.shape[1], keys.itemsize)
    for task in prange(n_queries * n_chunks):
        query_index = task // n_chunks
        chunk = task % n_chunks
        start = chunk * chunk_size
        stop = min(start + chunk_size, n_keys)
        scores = np.empty(_TILE_ROWS, dtype=queries.dtype)
        bits = np.empty(_TILE_ROWS, dtype=np.int64)
        running_max, running_sum, chunk_invalid = _softmax_chunk(
            queries[query_index], keys, values, start, stop, beta, accumulators[query_index, chunk], scores, bits, tile_rows
        )
        maxima[query_index, chunk] = running_max
        sums[query_index, chunk] = running_sum
        invalid[query_index, chunk] = chunk_invalid


@njit(**NJIT_SERIAL)
def merge_softmax_partials(maxima, sums, accumulators, out):
    """Combine per-chunk partial sums into out[q] = sum_c a_c e^(m_c - M) / sum_c s_c e^(m_c - M)."""
    n_queries, n_chunks = maxima.shape
    n_value_features = out.shape[1]
    for q in range(n_queries):
        overall_max = -np.inf
        for c in range(n_chunks):
            if maxima[q, c] > overall_max:
                overall_max = maxima[q, c]
        total = 0.0
        for k in range(n_value_features):
            out[q, k] = 0.0
        for c in range(n_chunks):
            # Empty chunks carry maxima of -inf and contribute weight 0.
            scale = np.exp(maxima[q, c] - overall_max)
            total += sums[q, c] * scale
            for k in range(n_value_features):
                out[q, k] += accumulators[q, c, k] * scale
        for k in range(n_value_features):
            out[q, k] /= total


@njit(**NJIT_SERIAL)
def softmax_retrieve_serial(queries, keys, values, beta, out):
    """Fill out[q] = softmax(beta * keys @ queries[q]) @ values for every query, on one thread.

    The one-pass kernel of :func:`softmax_partials` over all keys, without a parallel
    region or a merge step: for a few queries it beats two BLAS matrix-vector products
    (keys are read once, and the exponentials vectorize). Returns a status code:

    - 0 when done;
    - 1 when a query contains a NaN or infinite entry (then ``out`` is not filled);
    - 2 when a score was NaN or infinite, as for the ``invalid`` flags of :func:`softmax_partials`;
    - 3 when a result entry is NaN or infinite otherwise, from NaN or infinite values or a
      weighted sum beyond the dtype's range.
    """
    n_queries, n_features = queries.shape
    for q in range(n_queries):
        for k in range(n_features):
            if not (-np.inf < queries[q, k] < np.inf):
                return 1
    scores = np.empty(_TILE_ROWS, dtype=queries.dtype)
    bits = np.empty(_TILE_ROWS, dtype=np.int64)
    tile_rows = _tile_rows(n_features, keys.itemsize)
    status = 0
    for q in range(n_queries):
        row = out[q]
        _, running_sum, invalid = _softmax_chunk(
            queries[q], keys, values, 0, keys.shape[0], beta, row, scores, bits, tile_rows
        )
        # The sum contains exp(0) = 1 for the top score, so it is 0 (or NaN) only when the
        # scores were not finite. The division would then raise in compiled code.
        if invalid or not running_sum > 0.0:
            status = 2
            continue
        inverse = 1.0 / running_sum
        for k in range(row.shape[0]):
            row[k] *= inverse
            if status == 0 and not (-np.inf < row[k] < np.inf):
                status = 3
    return status


@njit(**NJIT_SERIAL)
def shift_rows_inplace(scores, row_maxima, beta):
    """Replace each row s of ``scores`` by beta * (s - max(s)), so that exp of it is at most 1.

    row_maxima : (n_rows,) the maximum of each row. Serial on purpose: it runs between
    two OpenBLAS matrix products, and a Numba thread pool beside OpenBLAS's threads
    slowed such calls by milliseconds on a loaded 2-core machine. The loop has no
    branch, so it vectorizes; NumPy computes the maxima and the exponential.
    """
    n_rows, n_columns = scores.shape
    for r in range(n_rows):
        row = scores[r]
        # beta >= 0, so the maximum of beta * s is beta * max(s).
        row_max = row_maxima[r]
        for j in range(n_columns):
            row[j] = beta * (row[j] - row_max)


@njit(**NJIT_SERIAL)
def modern_energy(states, patterns, beta, half_max_squared_norm, out):
    """E(xi) = -lse(beta, X xi) + xi.xi / 2 + log(N) / beta + M^2 / 2 for each state row.

    -lse(beta, z) + log(N) / beta is evaluated as -max(z) - log(mean(exp(beta (z - max z)))) / beta,
    which cannot overflow; at beta = 0 it takes its limit, -mean(z).
    """
    n_states, n_features = states.shape
    n_patterns = patterns.shape[0]
    for q in range(n_states):
        state = states[q]
        overlaps = np.empty(n_patterns, dtype=np.float64)
        max_overlap = -np.inf
        for i in range(n_patterns):
            dot = 0.0
            for k in range(n_features):
                dot += patterns[i, k] * state[k]
            overlaps[i] = dot
            if dot > max_overlap:
                max_overlap = dot
        if beta == 0.0:
            free_energy = -np.mean(overlaps)
        else:
            total = 0.0
            for i in range(n_patterns):
                total += np.exp(beta * (overlaps[i] - max_overlap))
            free_energy = -max_overlap - np.log(total / n_patterns) / beta
        squared_norm = 0.0
        for k in range(n_features):
            squared_norm += float(state[k]) * state[k]
        out[q] = free_energy + 0.5 * squared_norm + half_max_squared_norm


# --- Dense associative memory (Krotov & Hopfield 2016) -------------------------------


@njit(**NJIT_SERIAL)
def _polynomial_difference(overlaps_without_unit, pattern_column, rectified, degree, scale):
    """Return sum_mu F(a_mu + xi_mu) - F(a_mu - xi_mu) for F(x) = x^n or max(x, 0)^n, times scale^n.

    The sign of the result decides the unit's new state. Arguments are multiplied by
    scale, a power of two near 1 / n_features: F(c x) = c^n F(x) for c > 0 keeps the
    sign, the terms cannot overflow, and integer-valued sums stay exact, so ties stay
    exact zeros.
    """
    total = 0.0
    for mu in range(overlaps_without_unit.shape[0]):
        plus = (overlaps_without_unit[mu] + pattern_column[mu]) * scale
        minus = (overlaps_without_unit[mu] - pattern_column[mu]) * scale
        if rectified:
            plus = max(plus, 0.0)
            minus = max(minus, 0.0)
        total += plus**degree - minus**degree
    return total


@njit(**NJIT_SERIAL)
def _exponential_weights(overlaps, out):
    """Set out[mu] = exp(a_mu - max(a) - 1) for the full overlaps a_mu = xi_mu . sigma."""
    shift = overlaps.max() + 1.0
    for mu in range(overlaps.shape[0]):
        out[mu] = np.exp(overlaps[mu] - shift)


@njit(**NJIT_SERIAL)
def _exponential_difference(exponential_weights, pattern_column, unit_state):
    """Return sum_mu exp(a_mu + xi_mu) - exp(a_mu - xi_mu), times a positive factor.

    Here a_mu = xi_mu . sigma - xi_mu_i sigma_i excludes unit i. For xi = +-1,
    exp(a + xi) - exp(a - xi) = 2 sinh(1) xi exp(a), and exp(a_mu) is the full-overlap
    weight from _exponential_weights times exp(-xi_mu_i sigma_i), so no exponential is
    evaluated per unit and none can overflow.
    """
    total = 0.0
    for mu in range(exponential_weights.shape[0]):
        xi = pattern_column[mu]
        total += exponential_weights[mu] * xi * (_EXP_MINUS_ONE if xi * unit_state > 0 else _EXP_ONE)
    return total


@njit(**NJIT_PARALLEL)
def dense_synchronous(states, patterns_transposed, interaction, degree, scale, max_steps, out, n_steps):
    """Update every unit of each state at once, up to ``max_steps`` times or until no unit changes.

    patterns_transposed : (n_features, n_patterns), so that a unit's pattern column is contiguous.
    scale : power of two by which polynomial arguments are multiplied (see _polynomial_difference).
    """
    n_states, n_features = states.shape
    n_patterns = patterns_transposed.shape[1]
    rectified = interaction == RECTIFIED_POLYNOMIAL
    for q in prange(n_states):
        state = out[q]
        state[:] = states[q]
        overlaps = np.empty(n_patterns)
        without_unit = np.empty(n_patterns)
        exponential_weights = np.empty(n_patterns)
        new_state = np.empty(n_features)
        steps = 0
        for _ in range(max_steps):
            for mu in range(n_patterns):
                overlaps[mu] = 0.0
            for i in range(n_features):
                for mu in range(n_patterns):
                    overlaps[mu] += patterns_transposed[i, mu] * state[i]
            if interaction == EXPONENTIAL:
                _exponential_weights(overlaps, exponential_weights)
            changed = False
            for i in range(n_features):
                column = patterns_transposed[i]
                if interaction == EXPONENTIAL:
                    difference = _exponential_difference(exponential_weights, column, state[i])
                else:
                    for mu in range(n_patterns):
                        without_unit[mu] = overlaps[mu] - column[mu] * state[i]
                    difference = _polynomial_difference(without_unit, column, rectified, degree, scale)
                # A tie (difference 0) keeps the unit's current state.
                new_state[i] = state[i] if difference == 0.0 else np.sign(difference)
                if new_state[i] != state[i]:
                    changed = True
            if not changed:
                break
            state[:] = new_state
            steps += 1
        n_steps[q] = steps


@njit(**NJIT_PARALLEL)
def dense_asynchronous(states, patterns_transposed, interaction, degree, scale, orders, out, n_steps):
    """Update one unit at a time in the order orders[sweep], until a sweep changes no unit.

    orders : (max_sweeps, n_features) int64, one permutation of the units per sweep.
    """
    n_states, n_features = states.shape
    n_patterns = patterns_transposed.shape[1]
    rectified = interaction == RECTIFIED_POLYNOMIAL
    for q in prange(n_states):
        state = out[q]
        state[:] = states[q]
        overlaps = np.zeros(n_patterns)
        without_unit = np.empty(n_patterns)
        exponential_weights = np.empty(n_patterns)
        for i in range(n_features):
            for mu in range(n_patterns):
                overlaps[mu] += patterns_transposed[i, mu] * state[i]
        if interaction == EXPONENTIAL:
            _exponential_weights(overlaps, exponential_weights)
        steps = 0
        for sweep in range(orders.shape[0]):
            changed = False
            for i in orders[sweep]:
                column = patterns_transposed[i]
                if interaction == EXPONENTIAL:
                    difference = _exponential_difference(exponential_weights, column, state[i])
                else:
                    for mu in range(n_patterns):
                        without_unit[mu] = overlaps[mu] - column[mu] * state[i]
                    difference = _polynomial_difference(without_unit, column, rectified, degree, scale)
                if difference != 0.0 and np.sign(difference) != state[i]:
                    state[i] = -state[i]
                    for mu in range(n_patterns):
                        overlaps[mu] += 2.0 * column[mu] * state[i]
                    if interaction == EXPONENTIAL:
                        _exponential_weights(overlaps, exponential_weights)
                    changed = True
            if not changed:
                break
            steps += 1
        n_steps[q] = steps


@njit(**NJIT_SERIAL)
def dense_energy(states, patterns, interaction, degree, out):
    """E(sigma) = -sum_mu F(xi_mu . sigma); the exponential case as -exp(lse(overlaps))."""
    n_states, n_features = states.shape
    n_patterns = patterns.shape[0]
    for q in range(n_states):
        overlaps = np.empty(n_patterns)
        for mu in range(n_patterns):
            dot = 0.0
            for k in range(n_features):
                dot += patterns[mu, k] * states[q, k]
            overlaps[mu] = dot
        if interaction == EXPONENTIAL:
            shift = overlaps.max()
            out[q] = -np.exp(shift) * np.sum(np.exp(overlaps - shift))
        else:
            total = 0.0
            for mu in range(n_patterns):
                value = overlaps[mu]
                if interaction == RECTIFIED_POLYNOMIAL:
                    value = max(value, 0.0)
                total += value**degree
            out[q] = -total


# --- Classical Hopfield net ----------------------------------------------------------


@njit(**NJIT_PARALLEL)
def classical_synchronous(states, weights, max_steps, out, n_steps):
    """sigma <- sign(W sigma) for all units at once; a zero field keeps the unit's state."""
    n_states, n_features = states.shape
    for q in prange(n_states):
        state = out[q]
        state[:] = states[q]
        new_state = np.empty(n_features)
        steps = 0
        for _ in range(max_steps):
            changed = False
            for i in range(n_features):
                field = 0.0
                for j in range(n_features):
                    field += weights[i, j] * state[j]
                new_state[i] = state[i] if field == 0.0 else np.sign(field)
                if new_state[i] != state[i]:
                    changed = True
            if not changed:
                break
            state[:] = new_state
            steps += 1
        n_steps[q] = steps


@njit(**NJIT_PARALLEL)
def classical_asynchronous(states, weights, orders, out, n_steps):
    """sigma_i <- sign(W_i . sigma), one unit at a time in the order orders[sweep]."""
    n_states, n_features = states.shape
    for q in prange(n_states):
        state = out[q]
        state[:] = states[q]
        steps = 0
        for sweep in range(orders.shape[0]):
            changed = False
            for i in orders[sweep]:
                field = 0.0
                for j in range(n_features):
                    field += weights[i, j] * state[j]
                if field != 0.0 and np.sign(field) != state[i]:
                    state[i] = -state[i]
                    changed = True
            if not changed:
                break
            steps += 1
        n_steps[q] = steps


@njit(**NJIT_SERIAL)
def storkey_weights(patterns):
    """Storkey (1997) incremental rule with zero diagonal, one pattern at a time.

    w_ij += (xi_i xi_j - xi_i h_ji - h_ij xi_j) / n with h_ij = sum_{k != i, j} w_ik xi_k.
    With w_ii = 0 and xi_j^2 = 1 this equals (xi_i xi_j - xi_i h_j - h_i xi_j + 2 w_ij) / n,
    where h_i = sum_k w_ik xi_k is the full local field before the update.
    """
    n_patterns, n_features = patterns.shape
    weights = np.zeros((n_features, n_features))
    fields = np.empty(n_features)
    for mu in range(n_patterns):
        pattern = patterns[mu]
        for i in range(n_features):
            field = 0.0
            for k in range(n_features):
                field += weights[i, k] * pattern[k]
            fields[i] = field
        for i in range(n_features):
            for j in range(n_features):
                if i != j:
                    weights[i, j] += (
                        pattern[i] * pattern[j] - pattern[i] * fields[j] - fields[i] * pattern[j] + 2.0 * weights[i, j]
                    ) / n_features
    return weights


@njit(**NJIT_SERIAL)
def classical_energy(states, weights, out):
    """E(sigma) = -sigma^T W sigma / 2 for each state row."""
    n_states, n_features = states.shape
    for q in range(n_states):
        total = 0.0
        for i in range(n_features):
            field = 0.0
            for j in range(n_features):
                field += weights[i, j] * states[q, j]
            total += states[q, i] * field
        out[q] = -0.5 * total
