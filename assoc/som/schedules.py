"""Decay schedules for the learning rate ``eta`` and the neighbourhood radius ``sigma``.

A schedule maps the step ``t = 0, 1, ..., n_iter - 1`` to a value that starts at ``x0``
and heads for ``x_final``, the value it would reach at ``t = n_iter``. With
``T = n_iter``:

=============  ==========================================  ===========================
decay          x(t)                                        x_final
=============  ==========================================  ===========================
constant       x0                                          ignored
linear         x0 + (x_final - x0) t / T                   any value >= 0
exponential    x0 (x_final / x0) ** (t / T)                > 0
inverse        x0 / (1 + (x0 / x_final - 1) t / T)         > 0
=============  ==========================================  ===========================

``inverse`` is the hyperbolic decay of MiniSom and of Kohonen's early papers: with
``x_final = x0 / 3`` it is MiniSom's ``asymptotic_decay`` x0 / (1 + 2t/T); with
``x_final = 1`` it is MiniSom's ``inverse_decay_to_one`` for sigma; with
``x_final = x0 / 101`` it is ``inverse_decay_to_zero`` x0 C / (C + t), C = T/100.
``linear`` with ``x_final = 0`` or ``1`` gives ``linear_decay_to_zero`` and
``linear_decay_to_one``. Steps past ``T`` keep the value ``x(T) = x_final``.
"""

from __future__ import annotations

import enum

import numpy as np

from assoc.errors import ConfigError


class Decay(str, enum.Enum):
    """How a training parameter falls from its start value to its final value."""

    CONSTANT = "constant"
    LINEAR = "linear"
    EXPONENTIAL = "exponential"
    INVERSE = "inverse"


def validate_schedule(name: str, start: float, final: float, decay: Decay) -> None:
    """Raise ConfigError unless ``start`` and ``final`` suit ``decay``; ``name`` is the parameter."""
    if not np.isfinite(start) or start <= 0:
        raise ConfigError(f"The '{name}' parameter must be a positive number; got {start!r}.")
    if decay is Decay.CONSTANT:
        return
    if not np.isfinite(final) or final < 0:
        raise ConfigError(f"The '{name}_final' parameter must be a finite number >= 0; got {final!r}.")
    if decay in (Decay.EXPONENTIAL, Decay.INVERSE) and final <= 0:
        raise ConfigError(
            f"The '{name}_final' parameter must be > 0 for {name}_decay={decay.value!r}, because that "
            f"decay never reaches 0; got {final!r}. Use {name}_decay='linear' to decay to 0."
        )


def decay_values(start: float, final: float, decay: Decay, steps: np.ndarray, n_iter: int) -> np.ndarray:
    """Return the schedule at each step in ``steps`` as float64, shape ``steps.shape``.

    Parameters
    ----------
    start, final : float
        x0 and x_final of the table in the module docstring.
    decay : Decay
    steps : ndarray of int
        Step indices t, counted from 0; steps at or past ``n_iter`` get ``x_final``.
    n_iter : int
        Length T of the schedule.
    """
    fraction = np.minimum(np.asarray(steps, dtype=np.float64) / float(n_iter), 1.0)
    if decay is Decay.CONSTANT:
        return np.full(fraction.shape, float(start))
    if decay is Decay.LINEAR:
        return start + (final - start) * fraction
    if decay is Decay.EXPONENTIAL:
        return start * (final / start) ** fraction
    if decay is Decay.INVERSE:
        return start / (1.0 + (start / final - 1.0) * fraction)
    raise ConfigError(f"Unknown decay {decay!r}; choose one of {', '.join(d.value for d in Decay)}.")
