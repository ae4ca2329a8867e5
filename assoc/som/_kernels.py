"""Private Numba kernels of the self-organizing map.

Kernels take only arrays and scalars and trust their caller: the public methods in
``assoc.som.som`` validate and convert the input once. Variants arrive as the small
integer constants below, which the public layer maps from its Enums. Only the online
trainer runs in the map's dtype; mapping and metrics kernels take float64 arrays, so each
is compiled once.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from assoc._atomics import store_release, wait_at_least
from assoc._config import NJIT_PARALLEL, NJIT_SERIAL
from assoc._fastexp import exp_nonpositive

DISTANCE_EUCLIDEAN = 0
DISTANCE_COSINE = 1
DISTANCE_MANHATTAN = 2
DISTANCE_CHEBYSHEV = 3

NEIGHBORHOOD_GAUSSIAN = 0
NEIGHBORHOOD_BUBBLE = 1
NEIGHBORHOOD_MEXICAN_HAT = 2
NEIGHBORHOOD_TRIANGLE = 3
NEIGHBORHOOD_CUT_GAUSSIAN = 4

# Guards the cosine distance of an all-zero vector, which is defined as 1 (no similarity).
NORM_FLOOR = 1e-30


@njit(inline="always", **NJIT_SERIAL)
def _neighborhood_value(squared_grid_distance, sigma, kind):
    """h(d) for grid distance d and radius sigma; see docs/som.md for the formulas."""
    if kind == NEIGHBORHOOD_GAUSSIAN:
        return math.exp(-squared_grid_distance / (2.0 * sigma * sigma))
    if kind == NEIGHBORHOOD_BUBBLE:
        return 1.0 if squared_grid_distance <= sigma * sigma else 0.0
    if kind == NEIGHBORHOOD_MEXICAN_HAT:
        ratio = squared_grid_distance / (sigma * sigma)
        return (1.0 - ratio) * math.exp(-0.5 * ratio)
    if kind == NEIGHBORHOOD_CUT_GAUSSIAN:
        if squared_grid_distance > sigma * sigma:
            return 0.0
        return math.exp(-squared_grid_distance / (2.0 * sigma * sigma))
    # Triangle: falls linearly from 1 at the centre to 0 at distance sigma.
    return max(0.0, 1.0 - math.sqrt(squared_grid_distance) / sigma)


@njit(inline="always", **NJIT_SERIAL)
def _ranking_distance(x, w, x_norm, w_norm, kind):
    """Distance used to rank units: squared for Euclidean, exact for the others."""
    n_features = x.shape[0]
    total = 0.0
    if kind == DISTANCE_EUCLIDEAN:
        for f in range(n_features):
            diff = x[f] - w[f]
            total += diff * diff
        return total
    if kind == DISTANCE_COSINE:
        for f in range(n_features):
            total += x[f] * w[f]
        return 1.0 - total / max(x_norm * w_norm, NORM_FLOOR)
    if kind == DISTANCE_MANHATTAN:
        for f in range(n_features):
            total += abs(x[f] - w[f])
        return total
    for f in range(n_features):
        total = max(total, abs(x[f] - w[f]))
    return total


@njit(inline="always", **NJIT_SERIAL)
def _exact_distance(x, w, x_norm, w_norm, kind):
    value = _ranking_distance(x, w, x_norm, w_norm, kind)
    if kind == DISTANCE_EUCLIDEAN:
        return math.sqrt(value)
    return value


@njit(**NJIT_SERIAL)
def _vector_norm(x):
    total = 0.0
    for f in range(x.shape[0]):
        total += x[f] * x[f]
    return math.sqrt(total)


# Per-distance helpers of the online kernel. ``_distance_*`` return the ranking distance
# from x to unit j; ``_update_*`` apply w_j <- w_j + g (x - w_j) in place and return the
# ranking distance from ``x_next`` to the new w_j, reading each weight once per step
# instead of twice. The kernel runs a separate unit loop per distance: with a branch on
# the distance inside the unit loop it ran 2-5x slower (numba 0.68, measured on 20 x 20
# and 25 x 15 maps), because the inner loops were no longer vectorized. Sums start from
# ``zero``, a zero of the weights' dtype: with a float64 sum over float32 weights every
# term was converted, and the fused pass over a 25 x 15 x 300 map took 10.2 us instead
# of 8.3 us.


@njit(inline="always", **NJIT_SERIAL)
def _distance_euclidean(x, weights, j, zero):
    total = zero
    for f in range(x.shape[0]):
        diff = x[f] - weights[j, f]
        total += diff * diff
    return total


@njit(inline="always", **NJIT_SERIAL)
def _distance_cosine(x, x_norm, weights, j, weight_norm, zero):
    dot = zero
    for f in range(x.shape[0]):
        dot += x[f] * weights[j, f]
    return 1.0 - dot / max(x_norm * weight_norm, NORM_FLOOR)


@njit(inline="always", **NJIT_SERIAL)
def _distance_manhattan(x, weights, j, zero):
    total = zero
    for f in range(x.shape[0]):
        total += abs(x[f] - weights[j, f])
    return total


@njit(inline="always", **NJIT_SERIAL)
def _distance_chebyshev(x, weights, j, zero):
    total = zero
    for f in range(x.shape[0]):
        total = max(total, abs(x[f] - weights[j, f]))
    return total


@njit(inline="always", **NJIT_SERIAL)
def _update_euclidean(weights, j, x, g, x_next, zero):
    total = zero
    for f in range(x.shape[0]):
        value = weights[j, f] + g * (x[f] - weights[j, f])
        weights[j, f] = value
        diff = x_next[f] - value
        total += diff * diff
    return total


@njit(inline="always", **NJIT_SERIAL)
def _update_cosine(weights, j, x, g, x_next, x_next_norm, weight_norms, zero):
    """As the other helpers; also stores the new ||w_j|| in ``weight_norms[j]``."""
    dot = zero
    squared_norm = zero
    for f in range(x.shape[0]):
        value = weights[j, f] + g * (x[f] - weights[j, f])
        weights[j, f] = value
        dot += x_next[f] * value
        squared_norm += value * value
    norm = math.sqrt(squared_norm)
    weight_norms[j] = norm
    return 1.0 - dot / max(x_next_norm * norm, NORM_FLOOR)


@njit(inline="always", **NJIT_SERIAL)
def _update_manhattan(weights, j, x, g, x_next, zero):
    total = zero
    for f in range(x.shape[0]):
        value = weights[j, f] + g * (x[f] - weights[j, f])
        weights[j, f] = value
        total += abs(x_next[f] - value)
    return total


@njit(inline="always", **NJIT_SERIAL)
def _update_chebyshev(weights, j, x, g, x_next, zero):
    total = zero
    for f in range(x.shape[0]):
        value = weights[j, f] + g * (x[f] - weights[j, f])
        weights[j, f] = value
        total = max(total, abs(x_next[f] - value))
    return total


# Each worker of the online kernel owns MAILBOX_STRIDE entries of the mailbox array
# (128 bytes, so no two workers share a cache line, or a pair of lines, which some
# processors fetch together). Entry 0 is its step counter, read and written atomically
# through an int64 view. Entries 1-2 and 3-4 are its best unit's distance and index for
# even and odd steps. A worker writes its candidate before its counter, so another
# worker that reads the counter finds the candidate in the same cache line: one
# transfer between cores per worker and step.
MAILBOX_STRIDE = 16


@njit(inline="always", **NJIT_SERIAL)
def _post_block_best(block_distances, first, mailbox, slot):
    """Store the smallest of ``block_distances`` and its unit (``first`` + its index) at ``mailbox[slot:slot + 2]``."""
    best = 0
    best_distance = np.inf
    for j in range(block_distances.shape[0]):
        if block_distances[j] < best_distance:
            best_distance = block_distances[j]
            best = j
    mailbox[slot] = best_distance
    mailbox[slot + 1] = first + best


@njit(**NJIT_SERIAL)
def online_steps(
    worker,
    bounds,
    mailbox,
    counters,
    weights,
    weight_norms,
    data,
    order,
    etas,
    sigmas,
    positions,
    n_cols,
    distance_kind,
    neighborhood_kind,
    coefficients,
):
    """Apply one Kohonen update per entry of ``order``, in order, to ``weights`` in place.

    Step t takes x = data[order[t]], finds the best-matching unit c (the first unit with the
    smallest distance), and updates every unit j:
    w_j <- w_j + etas[t] * h(|p_j - p_c|, sigmas[t]) * (x - w_j).

    k = len(bounds) - 1 threads may run this kernel at once on the same arrays, each with
    its own ``worker`` index in [0, k). Worker w updates units bounds[w] to bounds[w + 1] - 1
    and computes their distances to the next sample, then posts its block's best unit and
    that unit's distance in its part of ``mailbox`` and
    stores t + 1 in its step counter, ``counters[w * MAILBOX_STRIDE]``, where
    ``counters`` is an int64 view of ``mailbox``. It waits until every other worker's
    counter reaches t + 1, and every worker then picks the same best-matching unit from
    the k candidates. ``mailbox`` (float64, (k + 1) * MAILBOX_STRIDE) must be zero at the
    start; a non-zero ``counters[k * MAILBOX_STRIDE]`` tells waiting workers to stop and
    return -1 (set when a worker could not start). The result does not depend on k,
    because each unit's arithmetic is the same.

    ``weight_norms`` (n_units,) contains ||w_j||. The cosine distance reads it and keeps it current.
    ``coefficients`` (k, m) with m >= n_units is scratch in the weights' dtype, so the update
    runs in that precision; worker w uses row w.
    Units are numbered row by row with ``n_cols`` per row, and a unit's x position depends
    only on its column and the parity of its row, its y position only on its row (true of
    both grids in ``assoc.som.grid``); the Gaussian neighbourhood uses this to compute
    2 n_cols + n_rows exponentials per step instead of n_units.
    Returns the number of unit updates this worker made (units with h = 0 are skipped),
    or -1 when it stopped at the abort flag.
    """
    n_units = weights.shape[0]
    n_rows = n_units // n_cols
    n_updates = 0
    n_steps = order.shape[0]
    if n_steps == 0:
        return 0
    n_workers = bounds.shape[0] - 1
    first = bounds[worker]
    stop = bounds[worker + 1]
    # Views of this worker's block of units, indexed from 0. With loops over range(first,
    # stop) on the full arrays, LLVM could not prove the unit index non-negative. It kept
    # Numba's negative-index checks in the inner loops, and a step ran up to 30% slower.
    n_block = stop - first
    block = weights[first:stop]
    block_norms = weight_norms[first:stop]
    block_positions = positions[first:stop]
    coef = coefficients[worker]
    block_coef = coef[first:stop]
    # Distances of the block's units to the samples of even and odd steps. Only this
    # worker reads them, so they are its own array and share no cache line with another's.
    block_distances = np.empty((2, n_block))
    own = worker * MAILBOX_STRIDE
    abort = n_workers * MAILBOX_STRIDE
    # Gaussian factors: exponents, then exponentials, of the even rows' columns, the odd
    # rows' columns, and the rows, in one buffer for one vectorized exponential.
    n_factors = 2 * n_cols + n_rows
    factors = np.zeros(n_factors)
    bits = np.empty(n_factors, dtype=np.int64)
    first_row = first // n_cols
    stop_row = (stop + n_cols - 1) // n_cols
    zero = np.zeros(1, dtype=weights.dtype)[0]

    # Distances to the first sample; later steps get theirs from the update pass. Both
    # use the same helpers, so that a step's result does not depend on where a call
    # boundary falls.
    x = data[order[0]]
    current = block_distances[0]
    if distance_kind == DISTANCE_EUCLIDEAN:
        for j in range(n_block):
            current[j] = _distance_euclidean(x, block, j, zero)
    elif distance_kind == DISTANCE_COSINE:
        x_norm = _vector_norm(x)
        for j in range(n_block):
            current[j] = _distance_cosine(x, x_norm, block, j, block_norms[j], zero)
    elif distance_kind == DISTANCE_MANHATTAN:
        for j in range(n_block):
            current[j] = _distance_manhattan(x, block, j, zero)
    else:
        for j in range(n_block):
            current[j] = _distance_chebyshev(x, block, j, zero)
    _post_block_best(current, first, mailbox, own + 1)

    for t in range(n_steps):
        slot = 1 + 2 * (t & 1)
        if n_workers > 1:
            store_release(counters, own, t + 1)
            for other in range(n_workers):
                if other != worker and not wait_at_least(counters, other * MAILBOX_STRIDE, t + 1, abort):
                    return -1
        x = data[order[t]]
        # The first unit with the smallest distance: blocks are in unit order, and each
        # block's candidate is its first smallest.
        best_unit = 0
        best_distance = np.inf
        for other in range(n_workers):
            if mailbox[other * MAILBOX_STRIDE + slot] < best_distance:
                best_distance = mailbox[other * MAILBOX_STRIDE + slot]
                best_unit = int(mailbox[other * MAILBOX_STRIDE + slot + 1])

        # Neighbourhood coefficients eta * h, in the weights' dtype.
        eta = etas[t]
        sigma = sigmas[t]
        best_x = positions[best_unit, 0]
        best_y = positions[best_unit, 1]
        if neighborhood_kind == NEIGHBORHOOD_GAUSSIAN or neighborhood_kind == NEIGHBORHOOD_CUT_GAUSSIAN:
            # exp(-(dx^2 + dy^2) / (2 sigma^2)) = exp(-dx^2 / (2 sigma^2)) * exp(-dy^2 / (2 sigma^2)).
            scale = -1.0 / (2.0 * sigma * sigma)
            for parity in range(min(2, n_rows)):
                for col in range(n_cols):
                    dx = positions[parity * n_cols + col, 0] - best_x
                    factors[parity * n_cols + col] = scale * dx * dx
            for row in range(n_rows):
                dy = positions[row * n_cols, 1] - best_y
                factors[2 * n_cols + row] = scale * dy * dy
            exp_nonpositive(factors, n_factors, bits)
            # The grid rows that hold this worker's units, whole: loops over full rows
            # vectorize, and ran faster than loops over the block's exact range.
            for row in range(first_row, stop_row):
                row_factor = eta * factors[2 * n_cols + row]
                offset = (row & 1) * n_cols
                for col in range(n_cols):
                    coef[row * n_cols + col] = row_factor * factors[offset + col]
            if neighborhood_kind == NEIGHBORHOOD_CUT_GAUSSIAN:
                for j in range(n_block):
                    dx = block_positions[j, 0] - best_x
                    dy = block_positions[j, 1] - best_y
                    if dx * dx + dy * dy > sigma * sigma:
                        block_coef[j] = 0.0
        else:
            for j in range(n_block):
                dx = block_positions[j, 0] - best_x
                dy = block_positions[j, 1] - best_y
                block_coef[j] = eta * _neighborhood_value(dx * dx + dy * dy, sigma, neighborhood_kind)

        # Kohonen rule w_j += eta h_j (x - w_j), fused with the distances to the next sample.
        next_x = data[order[t + 1]] if t + 1 < n_steps else x
        following = block_distances[1 - (t & 1)]
        if distance_kind == DISTANCE_EUCLIDEAN:
            for j in range(n_block):
                if block_coef[j] == 0.0:
                    following[j] = _distance_euclidean(next_x, block, j, zero)
                else:
                    following[j] = _update_euclidean(block, j, x, block_coef[j], next_x, zero)
                    n_updates += 1
        elif distance_kind == DISTANCE_COSINE:
            next_norm = _vector_norm(next_x)
            for j in range(n_block):
                if block_coef[j] == 0.0:
                    following[j] = _distance_cosine(next_x, next_norm, block, j, block_norms[j], zero)
                else:
                    following[j] = _update_cosine(block, j, x, block_coef[j], next_x, next_norm, block_norms, zero)
                    n_updates += 1
        elif distance_kind == DISTANCE_MANHATTAN:
            for j in range(n_block):
                if block_coef[j] == 0.0:
                    following[j] = _distance_manhattan(next_x, block, j, zero)
                else:
                    following[j] = _update_manhattan(block, j, x, block_coef[j], next_x, zero)
                    n_updates += 1
        else:
            for j in range(n_block):
                if block_coef[j] == 0.0:
                    following[j] = _distance_chebyshev(next_x, block, j, zero)
                else:
                    following[j] = _update_chebyshev(block, j, x, block_coef[j], next_x, zero)
                    n_updates += 1
        _post_block_best(following, first, mailbox, own + 4 - slot)
    return n_updates


@njit(**NJIT_PARALLEL)
def best_two(scores, data, weights, data_norms, weight_norms, distance_kind, best, second, best_distance):
    """Fill the best and second-best unit of every row of ``data``, and the exact distance to the best.

    For the Euclidean and cosine distances ``scores`` must hold the dot products
    ``data @ weights.T``: Euclidean ranks units by ||w||^2 - 2 x.w (||x||^2 is the same for
    every unit), cosine by -x.w / ||w||, and the distance to the best unit is recomputed
    from the vectors, so cancellation in the expanded form never reaches the reported
    distance. For the other distances ``scores`` must hold the distances themselves
    (:func:`all_distances`). Ties go to the lower unit index. Rows are independent, so each
    thread writes only its own rows.
    """
    n_units = weights.shape[0]
    for i in prange(data.shape[0]):
        first_unit, second_unit = 0, 0
        first_value, second_value = np.inf, np.inf
        for j in range(n_units):
            if distance_kind == DISTANCE_EUCLIDEAN:
                value = weight_norms[j] * weight_norms[j] - 2.0 * scores[i, j]
            elif distance_kind == DISTANCE_COSINE:
                value = -scores[i, j] / max(weight_norms[j], NORM_FLOOR)
            else:
                value = scores[i, j]
            if value < first_value:
                second_value, second_unit = first_value, first_unit
                first_value, first_unit = value, j
            elif value < second_value:
                second_value, second_unit = value, j
        best[i] = first_unit
        second[i] = second_unit if n_units > 1 else first_unit
        if distance_kind == DISTANCE_EUCLIDEAN or distance_kind == DISTANCE_COSINE:
            best_distance[i] = _exact_distance(
                data[i], weights[first_unit], data_norms[i], weight_norms[first_unit], distance_kind
            )
        else:
            best_distance[i] = first_value


@njit(**NJIT_SERIAL)
def sum_by_unit(data, units, sums, counts):
    """Add every row of ``data`` to ``sums[units[i]]`` and count it in ``counts[units[i]]``."""
    for i in range(data.shape[0]):
        unit = units[i]
        counts[unit] += 1.0
        for f in range(data.shape[1]):
            sums[unit, f] += data[i, f]


@njit(**NJIT_SERIAL)
def neighborhood_matrix(positions, start, stop, sigma, neighborhood_kind):
    """Return h(|p_j - p_k|, sigma) for units j in [start, stop) and all units k."""
    n_units = positions.shape[0]
    result = np.empty((stop - start, n_units))
    for row in range(stop - start):
        j = start + row
        for k in range(n_units):
            dx = positions[j, 0] - positions[k, 0]
            dy = positions[j, 1] - positions[k, 1]
            result[row, k] = _neighborhood_value(dx * dx + dy * dy, sigma, neighborhood_kind)
    return result


@njit(**NJIT_SERIAL)
def mean_neighbor_distance(weights, weight_norms, offsets, neighbors, distance_kind):
    """Return, for every unit, the mean distance from its weights to its grid neighbours' weights."""
    n_units = weights.shape[0]
    result = np.zeros(n_units)
    for j in range(n_units):
        count = offsets[j + 1] - offsets[j]
        if count == 0:
            continue
        total = 0.0
        for position in range(offsets[j], offsets[j + 1]):
            k = neighbors[position]
            total += _exact_distance(weights[j], weights[k], weight_norms[j], weight_norms[k], distance_kind)
        result[j] = total / count
    return result


@njit(**NJIT_SERIAL)
def all_distances(data, weights, data_norms, weight_norms, distance_kind, out):
    """Fill ``out[i, j]`` with the distance from ``data[i]`` to ``weights[j]``.

    One unit loop per distance, as in :func:`online_steps`, so the inner loops vectorize.
    Serial, because a second parallel kernel would add seconds of compilation to every
    cold start for a path (transform, and metrics under the Manhattan and Chebyshev
    distances) that is rarely the bottleneck.
    """
    n_units = weights.shape[0]
    for i in range(data.shape[0]):
        x = data[i]
        if distance_kind == DISTANCE_EUCLIDEAN:
            for j in range(n_units):
                out[i, j] = math.sqrt(_distance_euclidean(x, weights, j, 0.0))
        elif distance_kind == DISTANCE_COSINE:
            for j in range(n_units):
                out[i, j] = _distance_cosine(x, data_norms[i], weights, j, weight_norms[j], 0.0)
        elif distance_kind == DISTANCE_MANHATTAN:
            for j in range(n_units):
                out[i, j] = _distance_manhattan(x, weights, j, 0.0)
        else:
            for j in range(n_units):
                out[i, j] = _distance_chebyshev(x, weights, j, 0.0)
