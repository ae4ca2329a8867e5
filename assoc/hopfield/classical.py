"""The classical Hopfield net: storage rules, sign updates and energy for bipolar states.

Stored patterns are the rows of ``patterns``, shape (n_patterns, n_features), with entries
+-1; the net has n_features units and a symmetric weight matrix of shape
(n_features, n_features) with zero diagonal.
"""

from __future__ import annotations

import numpy as np

from assoc.errors import ConfigError
from assoc.hopfield import _kernels
from assoc.hopfield._parallel import threads_for
from assoc.hopfield._validation import (
    as_matrix,
    as_queries,
    check_bipolar,
    check_choice,
    check_positive_int,
    float_dtype,
)
from assoc.hopfield.dense import UPDATES, random_orders

RULES = ("hebbian", "pseudo_inverse", "storkey")


def _bipolar_patterns(patterns) -> np.ndarray:
    patterns = as_matrix("patterns", patterns)
    check_bipolar("patterns", patterns)
    return patterns


def hebbian_weights(patterns) -> np.ndarray:
    """Build W = (1/n_features) sum_mu xi_mu xi_mu^T with zero diagonal.

    Parameters
    ----------
    patterns : array_like of shape (n_patterns, n_features), entries +-1

    Returns
    -------
    ndarray of shape (n_features, n_features)
        float32 for float32 patterns, float64 otherwise.

    Notes
    -----
    Hopfield (1982). Patterns are recalled reliably up to a load
    n_patterns / n_features of about 0.138 (Amit, Gutfreund & Sompolinsky 1985).
    """
    patterns = _bipolar_patterns(patterns)
    dtype = float_dtype(patterns)
    patterns = np.ascontiguousarray(patterns, dtype=np.float64)
    weights = patterns.T @ patterns / patterns.shape[1]
    np.fill_diagonal(weights, 0.0)
    return weights.astype(dtype, copy=False)


def pseudo_inverse_weights(patterns) -> np.ndarray:
    """Build the projection (pseudo-inverse) rule W = Xi^T (Xi Xi^T)^+ Xi with zero diagonal.

    Xi is ``patterns`` (patterns as rows) and ^+ the Moore-Penrose pseudo-inverse, so W
    projects onto the span of the patterns and stores correlated patterns as well as
    uncorrelated ones. Removing the diagonal turns the field of unit i at pattern xi into
    (1 - P_ii) xi_i. Every pattern therefore stays a fixed point while each diagonal entry
    P_ii of the projection is below 1; their mean is n_patterns / n_features.

    Parameters
    ----------
    patterns : array_like of shape (n_patterns, n_features), entries +-1

    Returns
    -------
    ndarray of shape (n_features, n_features)
        float32 for float32 patterns, float64 otherwise.

    Notes
    -----
    Personnaz, Guyon & Dreyfus (1985); Kanter & Sompolinsky (1987).
    """
    patterns = _bipolar_patterns(patterns)
    dtype = float_dtype(patterns)
    patterns = np.ascontiguousarray(patterns, dtype=np.float64)
    weights = patterns.T @ np.linalg.pinv(patterns @ patterns.T) @ patterns
    np.fill_diagonal(weights, 0.0)
    return weights.astype(dtype, copy=False)


def storkey_weights(patterns) -> np.ndarray:
    """Build weights by the Storkey (1997) learning rule, one pattern at a time, zero diagonal.

    w_ij <- w_ij + (xi_i xi_j - xi_i h_ji - h_ij xi_j) / n_features with the local field
    h_ij = sum_{k != i, j} w_ik xi_k. The rule is incremental and local like the Hebbian
    rule; Storkey (1997) shows that it stores more patterns than the Hebbian rule.

    Parameters
    ----------
    patterns : array_like of shape (n_patterns, n_features), entries +-1

    Returns
    -------
    ndarray of shape (n_features, n_features)
        float32 for float32 patterns, float64 otherwise.

    Notes
    -----
    Storkey (1997), "Increasing the capacity of a Hopfield network without sacrificing
    functionality".
    """
    patterns = _bipolar_patterns(patterns)
    dtype = float_dtype(patterns)
    weights = _kernels.storkey_weights(np.ascontiguousarray(patterns, dtype=np.float64))
    return weights.astype(dtype, copy=False)


def store(patterns, rule: str = "hebbian") -> np.ndarray:
    """Build the weights of ``patterns`` with the storage ``rule`` ('hebbian', 'pseudo_inverse' or 'storkey')."""
    check_choice("rule", rule, RULES)
    builders = {"hebbian": hebbian_weights, "pseudo_inverse": pseudo_inverse_weights, "storkey": storkey_weights}
    return builders[rule](patterns)


def _prepare_weights(states, weights):
    weights = as_matrix("weights", weights)
    n_features = weights.shape[1]
    if weights.shape[0] != n_features:
        raise ConfigError(
            f"weights must be square, shape (n_features, n_features); got {weights.shape}. "
            "Build them with hebbian_weights, pseudo_inverse_weights or storkey_weights."
        )
    states, single = as_queries("states", states, n_features)
    check_bipolar("states", states)
    dtype = float_dtype(states)
    states = np.ascontiguousarray(states, dtype=np.float64)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    return states, weights, dtype, single


def classical_update(
    states,
    weights,
    *,
    update: str = "asynchronous",
    max_steps: int = 100,
    seed=None,
    return_steps: bool = False,
):
    """Run sign updates sigma_i <- sign(sum_j w_ij sigma_j) until a fixed point or ``max_steps``.

    A unit whose local field is exactly 0 keeps its state.

    Parameters
    ----------
    states : array_like of shape (n_states, n_features) or (n_features,), entries +-1
    weights : array_like of shape (n_features, n_features)
        Symmetric with zero diagonal for the energy to be a Lyapunov function.
    update : {'asynchronous', 'synchronous'}, default 'asynchronous'
        One unit at a time, in a random order drawn from ``seed`` for each sweep (the
        energy never rises), or all units at once (may end in a 2-cycle).
    max_steps : int, default 100
        Upper bound on sweeps (asynchronous) or steps (synchronous).
    seed : int, numpy.random.Generator or None
        Source of the asynchronous update orders.
    return_steps : bool, default False
        Also return, per state, the number of sweeps or steps that changed it.

    Returns
    -------
    states : ndarray of shape (n_states, n_features) or (n_features,)
        Entries +-1, float32 for float32 input and float64 otherwise.
    n_steps : ndarray of shape (n_states,), int64
        Only when ``return_steps`` is true.
    """
    states, weights, dtype, single = _prepare_weights(states, weights)
    check_choice("update", update, UPDATES)
    max_steps = check_positive_int("max_steps", max_steps)

    out = np.empty_like(states)
    n_steps = np.empty(states.shape[0], dtype=np.int64)
    work = states.shape[0] * states.shape[1] ** 2
    if update == "synchronous":
        with threads_for(work):
            _kernels.classical_synchronous(states, weights, max_steps, out, n_steps)
    else:
        orders = random_orders(max_steps, states.shape[1], seed)
        with threads_for(work):
            _kernels.classical_asynchronous(states, weights, orders, out, n_steps)

    out = out.astype(dtype, copy=False)
    if single:
        out = out[0]
    return (out, n_steps) if return_steps else out


def classical_energy(states, weights) -> np.ndarray:
    """Compute E(sigma) = -sigma^T W sigma / 2 for each state.

    Parameters
    ----------
    states : array_like of shape (n_states, n_features) or (n_features,), entries +-1
    weights : array_like of shape (n_features, n_features)

    Returns
    -------
    ndarray of shape (n_states,), or a scalar for a single state
        Accumulated in float64, returned in the input's precision.
    """
    states, weights, dtype, single = _prepare_weights(states, weights)
    out = np.empty(states.shape[0])
    _kernels.classical_energy(states, weights, out)
    out = out.astype(dtype, copy=False)
    return out[0] if single else out
