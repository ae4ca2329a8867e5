"""Vector stimuli and the hetero-associative delta rule.

Rescorla-Wagner is formally the delta rule (Widrow-Hoff). With a cue given as an
embedding vector x instead of a discrete element, its strength is V(x) = wᵀx and a
trial updates w ← w + α β (λ − wᵀx) x, where x is the sum of the present cues'
vectors. Training on x_A moves w along x_A only, so a cue B then evokes
V(x_B) = V(x_A) · (x_A·x_B) / |x_A|², which for unit vectors is V(x_A) times their
cosine similarity: generalization follows similarity in the embedding. One-hot
vectors give back discrete Rescorla-Wagner.

With a vector US u (for example the audio code of a digit) the rule becomes the
hetero-associative map W ← W + α β (u − W x) xᵀ, which binds one modality's codes
to another's. :func:`hetero_delta_update` applies it to a stream of blocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from assoc.conditioning import _kernels
from assoc.errors import ConfigError

# Below this many multiply-adds per call the serial kernel wins over thread start-up.
_PARALLEL_MIN_WORK = 1 << 18


def cosine_similarity(embedding: Mapping[str, np.ndarray], cues: Sequence[str] | None = None) -> np.ndarray:
    """Return the (n_cues, n_cues) cosine similarities of the cues' vectors.

    This is the generalization that a single trained cue predicts: after training
    on unit vector x_A alone, V(x_B) = V(x_A) · cos(x_A, x_B).
    """
    cues = tuple(embedding) if cues is None else tuple(cues)
    vectors = np.stack([np.asarray(embedding[name], dtype=np.float64) for name in cues])
    norms = np.linalg.norm(vectors, axis=1)
    if np.any(norms == 0):
        raise ConfigError("A cue vector has norm 0, so its cosine similarity is undefined; give it a nonzero vector.")
    unit = vectors / norms[:, None]
    return unit @ unit.T


def _cue_matrix(embedding: Mapping[str, np.ndarray], cues: Sequence[str]) -> np.ndarray:
    missing = [name for name in cues if name not in embedding]
    if missing:
        raise ConfigError(f"embedding has no vector for cue(s) {', '.join(missing)}; give one for every cue.")
    vectors = [np.asarray(embedding[name], dtype=np.float64) for name in cues]
    shapes = {vector.shape for vector in vectors}
    if len(shapes) != 1 or len(next(iter(shapes))) != 1:
        raise ConfigError(
            f"embedding vectors must all have shape (n_features,); got shapes {sorted(shapes)}."
        )
    matrix = np.stack(vectors)
    if not np.all(np.isfinite(matrix)):
        raise ConfigError("embedding contains NaN or infinite values; check the cue vectors.")
    return matrix


def run_vector_plan(plan, seeds, values, embedding, cues, n_us, record, dtype) -> dict:
    """Run one group's sessions over vector stimuli (called by ``run_sessions``)."""
    cue_vectors = _cue_matrix(embedding, cues)
    n_features = cue_vectors.shape[1]
    type_inputs = np.zeros((len(plan.trial_labels), n_features))
    for k in range(len(plan.trial_labels)):
        for c in range(plan.type_n_cues[k]):
            type_inputs[k] += plan.type_cue_counts[k, c] * cue_vectors[plan.type_cues[k, c]]
    alpha = np.full(n_features, values["alpha"][0])

    n_subjects, n_trials = seeds.shape[0], plan.base_order.shape[0]
    # Recorded in float64 (one compiled kernel) and cast afterwards.
    strength = np.zeros((n_subjects, n_trials if record == "trials" else 0, len(cues), n_us))
    order = np.empty((n_subjects, n_trials), dtype=np.int32)
    final = np.empty((n_subjects, len(cues), n_us))
    weights = np.empty((n_subjects, n_features, n_us))
    _kernels.run_vector_sessions(
        plan.base_order, plan.phase_start, plan.phase_stop, plan.phase_shuffle, seeds,
        type_inputs, plan.type_us, plan.type_learn,
        alpha, values["beta_plus"], values["beta_minus"], values["lambda_"],
        np.zeros((n_features, n_us)), cue_vectors, strength, order, final, weights,
    )  # fmt: skip
    return {
        "strength": strength.astype(dtype, copy=False) if record == "trials" else None,
        "final": final,
        "trial_type": order,
    }


def hetero_delta_update(weights: np.ndarray, inputs: np.ndarray, targets: np.ndarray, rate: float) -> np.ndarray:
    """Learn a block of pairs with the delta rule, updating ``weights`` in place.

    For each pair (x, u) in row order: W ← W + rate (u − W x) xᵀ, where
    ``rate`` = α β. Calling this on consecutive blocks gives the same W as one call
    on their concatenation.

    Parameters
    ----------
    weights : ndarray of shape (n_targets, n_inputs), float32 or float64, C-contiguous
        The map W, updated in place.
    inputs : ndarray of shape (n_pairs, n_inputs)
        Input codes x, for example visual codes.
    targets : ndarray of shape (n_pairs, n_targets)
        Target codes u, for example audio codes; converted to ``weights.dtype``.
    rate : float
        Learning rate α β, positive. The rule is stable for rate · |x|² < 2.

    Returns
    -------
    ndarray
        ``weights`` itself, for chaining.

    Examples
    --------
    >>> W = np.zeros((2, 3))
    >>> _ = hetero_delta_update(W, np.eye(3)[:1], np.array([[1.0, -1.0]]), 0.5)
    >>> W[:, 0]
    array([ 0.5, -0.5])
    """
    if not isinstance(weights, np.ndarray) or weights.dtype not in (np.float32, np.float64):
        raise ConfigError("weights must be a float32 or float64 numpy array; create it with np.zeros((k_out, k_in)).")
    if weights.ndim != 2 or not weights.flags.c_contiguous or not weights.flags.writeable:
        raise ConfigError(
            f"weights must be a writeable C-contiguous 2-d array; got shape {weights.shape}, "
            f"contiguous={weights.flags.c_contiguous}, writeable={weights.flags.writeable}."
        )
    inputs = np.ascontiguousarray(inputs, dtype=weights.dtype)
    targets = np.ascontiguousarray(targets, dtype=weights.dtype)
    n_targets, n_inputs = weights.shape
    if inputs.ndim != 2 or inputs.shape[1] != n_inputs:
        raise ConfigError(f"inputs must have shape (n_pairs, {n_inputs}) to match weights; got {inputs.shape}.")
    if targets.shape != (inputs.shape[0], n_targets):
        raise ConfigError(
            f"targets must have shape ({inputs.shape[0]}, {n_targets}), one row per input; got {targets.shape}."
        )
    rate = float(rate)
    if not np.isfinite(rate) or rate <= 0:
        raise ConfigError(f"rate must be a positive finite number (alpha * beta); got {rate}.")

    if inputs.shape[0] * weights.size >= _PARALLEL_MIN_WORK:
        _kernels.hetero_delta_parallel(weights, inputs, targets, rate)
    else:
        _kernels.hetero_delta_serial(weights, inputs, targets, rate)
    return weights


def hetero_recall(weights: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """Return the targets W x that the map evokes, (n_samples, n_targets), for inputs (n_samples, n_inputs)."""
    inputs = np.asarray(inputs)
    if inputs.ndim != 2 or inputs.shape[1] != weights.shape[1]:
        raise ConfigError(f"inputs must have shape (n_samples, {weights.shape[1]}); got {inputs.shape}.")
    return inputs @ weights.T
