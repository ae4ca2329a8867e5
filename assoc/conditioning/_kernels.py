"""Numba kernels of the Rescorla-Wagner sessions and the delta rule.

The kernels take only arrays and scalars, trust their caller (``engine`` and
``vector`` validate and convert), and keep all randomness explicit: a subject's
trial order comes from its own 64-bit seed through SplitMix64.
"""

import numpy as np
from numba import njit, prange

from assoc._config import NJIT_PARALLEL as _PARALLEL_OPTIONS
from assoc._config import NJIT_SERIAL as _SERIAL_OPTIONS

# numba rejects a frozenset for fastmath (it accepts bool, dict or set), so copy the flags into a set.
NJIT_SERIAL = {**_SERIAL_OPTIONS, "fastmath": set(_SERIAL_OPTIONS["fastmath"])}
NJIT_PARALLEL = {**_PARALLEL_OPTIONS, "fastmath": set(_PARALLEL_OPTIONS["fastmath"])}

# SplitMix64: a 64-bit counter advanced by the golden-ratio increment, then two
# xor-shift-multiply mixing rounds. Changing a constant changes every trial order.
_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_UNIT_53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(**NJIT_SERIAL)
def _next_uniform(state):
    """Advance the SplitMix64 ``state`` (a 1-element uint64 array); return a float in [0, 1)."""
    state[0] += _GOLDEN_GAMMA
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * _UNIT_53


@njit(**NJIT_SERIAL)
def _shuffle_phases(order, phase_start, phase_stop, phase_shuffle, seed):
    """Shuffle ``order[start:stop]`` in place (Fisher-Yates) for every phase marked to shuffle."""
    state = np.empty(1, dtype=np.uint64)
    state[0] = seed
    for phase in range(phase_start.shape[0]):
        if not phase_shuffle[phase]:
            continue
        start = phase_start[phase]
        for i in range(phase_stop[phase] - 1, start, -1):
            j = start + int(_next_uniform(state) * (i - start + 1))
            if j > i:  # guards the rounding of u * n up to n for u just below 1
                j = i
            swapped = order[i]
            order[i] = order[j]
            order[j] = swapped


@njit(**NJIT_PARALLEL)
def run_discrete_sessions(
    base_order,
    phase_start,
    phase_stop,
    phase_shuffle,
    seeds,
    type_cues,
    type_cue_counts,
    type_n_cues,
    type_us,
    type_learn,
    alpha,
    beta_plus,
    beta_minus,
    lambda_,
    initial,
    strength_out,
    order_out,
    final_out,
):
    """Run one Rescorla-Wagner session per seed, subjects in parallel.

    For every US u on a learning trial, with the sum over the cues present:
        ΔV[i, u] = alpha[i] * beta * (target - Σ_j count_j V[j, u]) * count_i
    where beta, target = beta_plus[u], lambda_[u] if u occurs on the trial and
    beta_minus[u], 0 otherwise. ``strength_out[s, t]`` receives V before trial t's
    update; pass a (n_subjects, 0, n_cues, n_us) array to skip recording.
    """
    n_trials = base_order.shape[0]
    n_cues, n_us = initial.shape
    record = strength_out.shape[1] > 0
    for subject in prange(seeds.shape[0]):
        order = order_out[subject]
        order[:] = base_order
        _shuffle_phases(order, phase_start, phase_stop, phase_shuffle, seeds[subject])
        strength = initial.copy()
        for trial in range(n_trials):
            kind = order[trial]
            if record:
                for i in range(n_cues):
                    for u in range(n_us):
                        strength_out[subject, trial, i, u] = strength[i, u]
            if not type_learn[kind]:
                continue
            n_present = type_n_cues[kind]
            for u in range(n_us):
                total = 0.0
                for c in range(n_present):
                    total += type_cue_counts[kind, c] * strength[type_cues[kind, c], u]
                if type_us[kind, u]:
                    step = beta_plus[u] * (lambda_[u] - total)
                else:
                    step = -beta_minus[u] * total
                for c in range(n_present):
                    i = type_cues[kind, c]
                    strength[i, u] += alpha[i] * step * type_cue_counts[kind, c]
        final_out[subject] = strength


@njit(**NJIT_PARALLEL)
def run_vector_sessions(
    base_order,
    phase_start,
    phase_stop,
    phase_shuffle,
    seeds,
    type_inputs,
    type_us,
    type_learn,
    alpha,
    beta_plus,
    beta_minus,
    lambda_,
    initial_weights,
    cue_vectors,
    strength_out,
    order_out,
    final_out,
    weights_out,
):
    """Run one delta-rule session per seed over vector stimuli, subjects in parallel.

    A trial's input x is ``type_inputs[kind]`` (the sum of its cues' vectors); for
    every US u: w[:, u] += alpha * beta * (target - w[:, u]·x) * x, with beta and
    target as in :func:`run_discrete_sessions` and ``alpha`` per feature. Recorded
    strengths are each cue's V(e) = w·e before the trial's update.
    """
    n_trials = base_order.shape[0]
    n_features, n_us = initial_weights.shape
    n_cues = cue_vectors.shape[0]
    record = strength_out.shape[1] > 0
    for subject in prange(seeds.shape[0]):
        order = order_out[subject]
        order[:] = base_order
        _shuffle_phases(order, phase_start, phase_stop, phase_shuffle, seeds[subject])
        weights = initial_weights.copy()
        for trial in range(n_trials):
            kind = order[trial]
            if record:
                for i in range(n_cues):
                    for u in range(n_us):
                        value = 0.0
                        for f in range(n_features):
                            value += weights[f, u] * cue_vectors[i, f]
                        strength_out[subject, trial, i, u] = value
            if not type_learn[kind]:
                continue
            for u in range(n_us):
                total = 0.0
                for f in range(n_features):
                    total += weights[f, u] * type_inputs[kind, f]
                if type_us[kind, u]:
                    step = beta_plus[u] * (lambda_[u] - total)
                else:
                    step = -beta_minus[u] * total
                for f in range(n_features):
                    weights[f, u] += alpha[f] * step * type_inputs[kind, f]
        weights_out[subject] = weights
        for i in range(n_cues):
            for u in range(n_us):
                value = 0.0
                for f in range(n_features):
                    value += weights[f, u] * cue_vectors[i, f]
                final_out[subject, i, u] = value


@njit(**NJIT_SERIAL)
def hetero_delta_serial(weights, inputs, targets, rate):
    """Apply W += rate * (u - W x) xᵀ for each row pair (x, u) in order, in place."""
    n_out, n_in = weights.shape
    for row in range(n_out):
        _hetero_delta_row(weights, inputs, targets, rate, row, n_in)


@njit(**NJIT_PARALLEL)
def hetero_delta_parallel(weights, inputs, targets, rate):
    """Apply the update of :func:`hetero_delta_serial` with the rows of W in parallel.

    Row a of W changes only through u_a - W[a]·x, so rows evolve independently over
    the whole block and the parallel loop needs no reduction.
    """
    n_out, n_in = weights.shape
    for row in prange(n_out):
        _hetero_delta_row(weights, inputs, targets, rate, row, n_in)


@njit(**NJIT_SERIAL)
def _hetero_delta_row(weights, inputs, targets, rate, row, n_in):
    for n in range(inputs.shape[0]):
        prediction = 0.0
        for b in range(n_in):
            prediction += weights[row, b] * inputs[n, b]
        step = rate * (targets[n, row] - prediction)
        for b in range(n_in):
            weights[row, b] += step * inputs[n, b]
