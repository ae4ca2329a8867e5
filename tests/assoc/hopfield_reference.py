"""Plain NumPy versions of the Hopfield formulas, written for clarity, used only by tests.

Each function follows its textbook formula directly (loops where the formula has sums),
so that the Numba kernels in assoc.hopfield can be checked against it on small inputs.
"""

import numpy as np


def softmax(scores):
    """Row-wise softmax, shifted by the row maximum."""
    shifted = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=-1, keepdims=True)


def retrieve(queries, patterns, beta, n_steps=1):
    """xi <- X softmax(beta X^T xi), with patterns as the rows of ``patterns``."""
    states = np.array(queries, dtype=np.float64)
    patterns = np.asarray(patterns, dtype=np.float64)
    for _ in range(n_steps):
        states = softmax(beta * states @ patterns.T) @ patterns
    return states


def hetero_retrieve(queries, keys, values, beta):
    """V softmax(beta K^T q) for each query row."""
    queries = np.asarray(queries, dtype=np.float64)
    return softmax(beta * queries @ np.asarray(keys, dtype=np.float64).T) @ np.asarray(values, dtype=np.float64)


def modern_energy(states, patterns, beta):
    """-lse(beta, X^T xi) + xi.xi / 2 + log(N) / beta + M^2 / 2, term by term."""
    states = np.asarray(states, dtype=np.float64)
    patterns = np.asarray(patterns, dtype=np.float64)
    n_patterns = patterns.shape[0]
    max_norm = np.max(np.linalg.norm(patterns, axis=1))
    energies = []
    for state in states:
        overlaps = patterns @ state
        top = overlaps.max()
        lse = top + np.log(np.sum(np.exp(beta * (overlaps - top)))) / beta
        energies.append(-lse + 0.5 * state @ state + np.log(n_patterns) / beta + 0.5 * max_norm**2)
    return np.array(energies)


def interaction(name, degree):
    """The dense-memory interaction function F."""
    if name == "polynomial":
        return lambda x: x**degree
    if name == "rectified":
        return lambda x: np.maximum(x, 0.0) ** degree
    return np.exp


def dense_energy(states, patterns, name, degree):
    """E(sigma) = -sum_mu F(xi_mu . sigma)."""
    function = interaction(name, degree)
    return np.array([-np.sum(function(patterns @ state)) for state in np.asarray(states, dtype=np.float64)])


def _dense_unit_value(state, patterns, i, function):
    """The value of unit i with the lower energy -sum_mu F(xi_mu . sigma); ties keep the state."""
    plus, minus = state.copy(), state.copy()
    plus[i], minus[i] = 1.0, -1.0
    difference = np.sum(function(patterns @ plus)) - np.sum(function(patterns @ minus))
    if difference == 0:
        return state[i]
    return np.sign(difference)


def dense_update(states, patterns, name, degree, synchronous, max_steps, orders=None):
    """Dense-memory updates by direct energy comparison, one state at a time."""
    function = interaction(name, degree)
    patterns = np.asarray(patterns, dtype=np.float64)
    results = []
    for state in np.array(states, dtype=np.float64):
        for step in range(max_steps):
            if synchronous:
                new_state = np.array([_dense_unit_value(state, patterns, i, function) for i in range(state.size)])
            else:
                new_state = state.copy()
                for i in orders[step]:
                    new_state[i] = _dense_unit_value(new_state, patterns, i, function)
            if np.array_equal(new_state, state):
                break
            state = new_state
        results.append(state)
    return np.array(results)


def hebbian_weights(patterns):
    """w_ij = (1/n) sum_mu xi_mu_i xi_mu_j for i != j, w_ii = 0."""
    patterns = np.asarray(patterns, dtype=np.float64)
    n_features = patterns.shape[1]
    weights = np.zeros((n_features, n_features))
    for pattern in patterns:
        weights += np.outer(pattern, pattern) / n_features
    np.fill_diagonal(weights, 0.0)
    return weights


def storkey_weights(patterns):
    """Storkey (1997) rule with literal sums h_ij = sum_{k != i, j} w_ik xi_k; diagonal kept 0."""
    patterns = np.asarray(patterns, dtype=np.float64)
    n_features = patterns.shape[1]
    weights = np.zeros((n_features, n_features))
    for pattern in patterns:
        fields = np.zeros((n_features, n_features))
        for i in range(n_features):
            for j in range(n_features):
                fields[i, j] = sum(weights[i, k] * pattern[k] for k in range(n_features) if k not in (i, j))
        new_weights = weights.copy()
        for i in range(n_features):
            for j in range(n_features):
                if i != j:
                    new_weights[i, j] += (
                        pattern[i] * pattern[j] - pattern[i] * fields[j, i] - fields[i, j] * pattern[j]
                    ) / n_features
        weights = new_weights
    return weights


def classical_update(states, weights, synchronous, max_steps, orders=None):
    """Sign updates; a zero local field keeps the unit's state."""
    weights = np.asarray(weights, dtype=np.float64)
    results = []
    for state in np.array(states, dtype=np.float64):
        for step in range(max_steps):
            new_state = state.copy()
            if synchronous:
                fields = weights @ state
                new_state = np.where(fields == 0, state, np.sign(fields))
            else:
                for i in orders[step]:
                    field = weights[i] @ new_state
                    if field != 0:
                        new_state[i] = np.sign(field)
            if np.array_equal(new_state, state):
                break
            state = new_state
        results.append(state)
    return np.array(results)


def classical_energy(states, weights):
    """E(sigma) = -sigma^T W sigma / 2."""
    states = np.asarray(states, dtype=np.float64)
    return np.array([-0.5 * state @ np.asarray(weights, dtype=np.float64) @ state for state in states])
