"""Slow NumPy versions of the SOM rules, written from the textbook formulas, for comparison."""

import numpy as np


def distances(x, weights, distance):
    """Distance from one sample to every unit, shape (n_units,)."""
    x64 = x.astype(np.float64)
    w64 = weights.astype(np.float64)
    if distance == "euclidean":
        return np.sqrt(np.sum((x64 - w64) ** 2, axis=1))
    if distance == "cosine":
        return 1.0 - (w64 @ x64) / (np.linalg.norm(w64, axis=1) * np.linalg.norm(x64))
    if distance == "manhattan":
        return np.sum(np.abs(x64 - w64), axis=1)
    if distance == "chebyshev":
        return np.max(np.abs(x64 - w64), axis=1)
    raise ValueError(distance)


def neighborhood(squared_grid_distance, sigma, kind):
    """h(d, sigma) for an array of squared grid distances d^2."""
    d2 = squared_grid_distance
    if kind == "gaussian":
        return np.exp(-d2 / (2 * sigma**2))
    if kind == "bubble":
        return (d2 <= sigma**2).astype(np.float64)
    if kind == "mexican_hat":
        return (1 - d2 / sigma**2) * np.exp(-d2 / (2 * sigma**2))
    if kind == "triangle":
        return np.maximum(0.0, 1 - np.sqrt(d2) / sigma)
    if kind == "cut_gaussian":
        return np.where(d2 <= sigma**2, np.exp(-d2 / (2 * sigma**2)), 0.0)
    raise ValueError(kind)


def online_step(weights, x, eta, sigma, positions, distance, kind):
    """Return the weights after one Kohonen step w_j += eta h_cj (x - w_j), and the winner c."""
    winner = int(np.argmin(distances(x, weights, distance)))
    squared = np.sum((positions - positions[winner]) ** 2, axis=1)
    coefficient = (eta * neighborhood(squared, sigma, kind)).astype(weights.dtype)
    return weights + coefficient[:, None] * (x[None, :] - weights), winner
