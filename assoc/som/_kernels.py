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

from assoc._config import NJIT_PARALLEL, NJIT_SERIAL

DISTANCE_EUCLIDEAN = 0
DISTANCE_COSINE = 1
DISTANCE_MANHATTAN = 2
DISTANCE_CHEBYSHEV = 3

NEIGHBORHOOD_GAUSSIAN = 0
NEIGHBORHOOD_BUBBLE = 1
NEIGHBORHOOD_MEXICAN_HAT = 2
NEIGHBORHOOD_TRIANGLE = 3

# numba 0.68 rejects a frozenset for ``fastmath``; pass the same flags as a set.
_SERIAL = {**NJIT_SERIAL, "fastmath": set(NJIT_SERIAL["fastmath"])}
_PARALLEL = {**NJIT_PARALLEL, "fastmath": set(NJIT_PARALLEL["fastmath"])}

# Guards the cosine distance of an all-zero vector, which is defined as 1 (no similarity).
NORM_FLOOR = 1e-30


@njit(inline="always", **_SERIAL)
def _neighborhood_value(squared_grid_distance, sigma, kind):
    """h(d) for grid distance d and radius sigma; see docs/som.md for the formulas."""
    if kind == NEIGHBORHOOD_GAUSSIAN:
        return math.exp(-squared_grid_distance / (2.0 * sigma * sigma))
    if kind == NEIGHBORHOOD_BUBBLE:
        return 1.0 if squared_grid_distance <= sigma * sigma else 0.0
    if kind == NEIGHBORHOOD_MEXICAN_HAT:
        ratio = squared_grid_distance / (sigma * sigma)
        return (1.0 - ratio) * math.exp(-0.5 * ratio)
    # Triangle: falls linearly from 1 at the centre to 0 at distance sigma.
    return max(0.0, 1.0 - math.sqrt(squared_grid_distance) / sigma)


@njit(inline="always", **_SERIAL)
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


@njit(inline="always", **_SERIAL)
def _exact_distance(x, w, x_norm, w_norm, kind):
    value = _ranking_distance(x, w, x_norm, w_norm, kind)
    if kind == DISTANCE_EUCLIDEAN:
        return math.sqrt(value)
    return value


@njit(**_SERIAL)
def _vector_norm(x):
    total = 0.0
    for f in range(x.shape[0]):
        total += x[f] * x[f]
    return math.sqrt(total)


@njit(**_SERIAL)
def online_steps(weights, weight_norms, data, order, etas, sigmas, positions, distance_kind, neighborhood_kind, coef):
    """Apply one Kohonen update per entry of ``order``, in order, to ``weights`` in place.

    Step t takes x = data[order[t]], finds the best-matching unit c, and updates every unit j:
    w_j <- w_j + etas[t] * h(|p_j - p_c|, sigmas[t]) * (x - w_j).
    ``weight_norms`` (n_units,) contains ||w_j||. The cosine distance reads it and keeps it current.
    ``coef`` (n_units,) is scratch in the weights' dtype, so the update runs in that precision.
    Returns the number of unit updates made (units with h = 0 are skipped).
    """
    n_units = weights.shape[0]
    n_updates = 0
    for t in range(order.shape[0]):
        x = data[order[t]]
        x_norm = _vector_norm(x) if distance_kind == DISTANCE_COSINE else 1.0

        # Best-matching unit: the first unit with the smallest distance.
        best_unit = 0
        best_distance = np.inf
        for j in range(n_units):
            distance = _ranking_distance(x, weights[j], x_norm, weight_norms[j], distance_kind)
            if distance < best_distance:
                best_distance = distance
                best_unit = j

        # Neighbourhood coefficients eta * h, in the weights' dtype.
        eta = etas[t]
        sigma = sigmas[t]
        best_x = positions[best_unit, 0]
        best_y = positions[best_unit, 1]
        for j in range(n_units):
            dx = positions[j, 0] - best_x
            dy = positions[j, 1] - best_y
            coef[j] = eta * _neighborhood_value(dx * dx + dy * dy, sigma, neighborhood_kind)

        # Kohonen rule w_j += eta h_j (x - w_j), keeping ||w_j|| current.
        for j in range(n_units):
            g = coef[j]
            if g == 0.0:
                continue
            w = weights[j]
            for f in range(w.shape[0]):
                w[f] += g * (x[f] - w[f])
            if distance_kind == DISTANCE_COSINE:
                weight_norms[j] = _vector_norm(w)
            n_updates += 1
    return n_updates


@njit(**_PARALLEL)
def best_two(products, data, weights, data_norms, weight_norms, distance_kind, best, second, best_distance):
    """Fill the best and second-best unit of every row of ``data``, and the exact distance to the best.

    For the Euclidean and cosine distances ``products`` must hold ``data @ weights.T``:
    Euclidean ranks units by ||w||^2 - 2 x.w (||x||^2 is the same for every unit), cosine by
    -x.w / ||w||. The distance to the best unit is then recomputed from the vectors, so
    cancellation in the expanded form never reaches the reported distance. The other
    distances ignore ``products`` and compare the vectors directly. Ties go to the lower
    unit index. Rows are independent, so each thread writes only its own rows.
    """
    n_units = weights.shape[0]
    use_products = distance_kind == DISTANCE_EUCLIDEAN or distance_kind == DISTANCE_COSINE
    for i in prange(data.shape[0]):
        x = data[i]
        first_unit, second_unit = 0, 0
        first_value, second_value = np.inf, np.inf
        for j in range(n_units):
            if not use_products:
                value = _ranking_distance(x, weights[j], data_norms[i], weight_norms[j], distance_kind)
            elif distance_kind == DISTANCE_EUCLIDEAN:
                value = weight_norms[j] * weight_norms[j] - 2.0 * products[i, j]
            else:
                value = -products[i, j] / max(weight_norms[j], NORM_FLOOR)
            if value < first_value:
                second_value, second_unit = first_value, first_unit
                first_value, first_unit = value, j
            elif value < second_value:
                second_value, second_unit = value, j
        best[i] = first_unit
        second[i] = second_unit if n_units > 1 else first_unit
        best_distance[i] = _exact_distance(x, weights[first_unit], data_norms[i], weight_norms[first_unit], distance_kind)


@njit(**_SERIAL)
def sum_by_unit(data, units, sums, counts):
    """Add every row of ``data`` to ``sums[units[i]]`` and count it in ``counts[units[i]]``."""
    for i in range(data.shape[0]):
        unit = units[i]
        counts[unit] += 1.0
        for f in range(data.shape[1]):
            sums[unit, f] += data[i, f]


@njit(**_SERIAL)
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


@njit(**_SERIAL)
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


@njit(**_SERIAL)
def all_distances(data, weights, data_norms, weight_norms, distance_kind, out):
    """Fill ``out[i, j]`` with the distance from ``data[i]`` to ``weights[j]``."""
    for i in range(data.shape[0]):
        for j in range(weights.shape[0]):
            out[i, j] = _exact_distance(data[i], weights[j], data_norms[i], weight_norms[j], distance_kind)
