"""Dense associative memory for bipolar states (Krotov & Hopfield 2016).

The energy of a state sigma in {-1, +1}^n_features is E(sigma) = -sum_mu F(xi_mu . sigma)
over the stored patterns xi_mu (rows of ``patterns``). A unit update sets sigma_i to the
sign of sum_mu F(xi_mu_i + a_mu) - F(-xi_mu_i + a_mu), where a_mu = sum_{j != i} xi_mu_j sigma_j,
which picks the value of sigma_i with the lower energy. Interaction functions:

- ``"polynomial"``: F(x) = x^n,
- ``"rectified"``: F(x) = max(x, 0)^n,
- ``"exponential"``: F(x) = exp(x) (Demircigil et al. 2017).

Asynchronous updates (one unit at a time) never raise the energy; synchronous updates
(all units at once) are faster per step but may oscillate between two states.
"""

from __future__ import annotations

import numpy as np

from assoc.hopfield import _kernels
from assoc.hopfield._parallel import threads_for
from assoc.hopfield._validation import (
    as_generator,
    as_matrix,
    as_queries,
    check_bipolar,
    check_choice,
    check_positive_int,
    float_dtype,
)

INTERACTIONS = ("polynomial", "rectified", "exponential")
UPDATES = ("synchronous", "asynchronous")

_INTERACTION_CODES = {
    "polynomial": _kernels.POLYNOMIAL,
    "rectified": _kernels.RECTIFIED_POLYNOMIAL,
    "exponential": _kernels.EXPONENTIAL,
}


def _prepare_bipolar(states, patterns, state_name="states"):
    """Validate bipolar states and patterns; return float64 copies and the output dtype."""
    patterns = as_matrix("patterns", patterns)
    states, single = as_queries(state_name, states, patterns.shape[1])
    check_bipolar("patterns", patterns)
    check_bipolar(state_name, states)
    # +-1 is exact in every dtype, so the kernels compute in float64 and the result is
    # cast back to the precision of the input.
    dtype = float_dtype(states)
    states = np.ascontiguousarray(states, dtype=np.float64)
    patterns = np.ascontiguousarray(patterns, dtype=np.float64)
    return states, patterns, dtype, single


def _check_interaction(interaction, degree):
    check_choice("interaction", interaction, INTERACTIONS)
    if interaction == "exponential":
        return 0
    return check_positive_int("degree", degree, minimum=2)


def random_orders(n_sweeps: int, n_features: int, seed=None) -> np.ndarray:
    """Draw one random permutation of the units per sweep, shape (n_sweeps, n_features), int64.

    Asynchronous updates of every state in one call share these orders.
    """
    rng = as_generator(seed)
    return np.stack([rng.permutation(n_features) for _ in range(n_sweeps)]).astype(np.int64)


def dense_update(
    states,
    patterns,
    *,
    interaction: str = "polynomial",
    degree: int = 3,
    update: str = "asynchronous",
    max_steps: int = 100,
    seed=None,
    return_steps: bool = False,
):
    """Run dense-associative-memory updates from each state until a fixed point or ``max_steps``.

    Parameters
    ----------
    states : array_like of shape (n_states, n_features) or (n_features,), entries +-1
        Initial states, for example corrupted cues.
    patterns : array_like of shape (n_patterns, n_features), entries +-1
        Stored patterns, one per row.
    interaction : {'polynomial', 'rectified', 'exponential'}, default 'polynomial'
        The interaction function F.
    degree : int, default 3
        The power n of the polynomial interactions (>= 2; 2 gives the classical
        Hopfield net). Ignored for ``'exponential'``.
    update : {'asynchronous', 'synchronous'}, default 'asynchronous'
        One unit at a time in a random order drawn from ``seed`` for each sweep, or
        all units at once.
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
        Only when ``return_steps`` is true. A state with n_steps < max_steps reached a
        fixed point.

    Notes
    -----
    Krotov & Hopfield (2016), "Dense Associative Memory for Pattern Recognition";
    Demircigil et al. (2017), "On a model of associative memory with huge storage capacity".
    """
    states, patterns, dtype, single = _prepare_bipolar(states, patterns)
    degree = _check_interaction(interaction, degree)
    check_choice("update", update, UPDATES)
    max_steps = check_positive_int("max_steps", max_steps)

    code = _INTERACTION_CODES[interaction]
    # A power of two near 1 / n_features, so that scaled polynomial terms cannot overflow.
    scale = 2.0 ** -np.ceil(np.log2(states.shape[1]))
    patterns_transposed = np.ascontiguousarray(patterns.T)
    out = np.empty_like(states)
    n_steps = np.empty(states.shape[0], dtype=np.int64)
    work = states.shape[0] * states.shape[1] * patterns.shape[0]
    if update == "synchronous":
        with threads_for(work):
            _kernels.dense_synchronous(states, patterns_transposed, code, degree, scale, max_steps, out, n_steps)
    else:
        orders = random_orders(max_steps, states.shape[1], seed)
        with threads_for(work):
            _kernels.dense_asynchronous(states, patterns_transposed, code, degree, scale, orders, out, n_steps)

    out = out.astype(dtype, copy=False)
    if single:
        out = out[0]
    return (out, n_steps) if return_steps else out


def dense_energy(states, patterns, *, interaction: str = "polynomial", degree: int = 3) -> np.ndarray:
    """Compute E(sigma) = -sum_mu F(xi_mu . sigma) for each state.

    Parameters
    ----------
    states : array_like of shape (n_states, n_features) or (n_features,), entries +-1
    patterns : array_like of shape (n_patterns, n_features), entries +-1
    interaction : {'polynomial', 'rectified', 'exponential'}
    degree : int
        Power of the polynomial interactions (>= 2).

    Returns
    -------
    ndarray of shape (n_states,), or a scalar for a single state
        Accumulated in float64 and returned in the input's precision. With the
        exponential interaction the energy is -inf once an overlap exceeds about 709,
        the limit of float64; updates are unaffected because they compare shifted terms.
    """
    states, patterns, dtype, single = _prepare_bipolar(states, patterns)
    degree = _check_interaction(interaction, degree)
    out = np.empty(states.shape[0])
    _kernels.dense_energy(states, patterns, _INTERACTION_CODES[interaction], degree, out)
    out = out.astype(dtype, copy=False)
    return out[0] if single else out
