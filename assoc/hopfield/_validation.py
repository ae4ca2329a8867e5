"""Input checks shared by the Hopfield modules.

Every check raises :class:`assoc.errors.ConfigError` with a message that names the
argument, the bad value and the fix.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from assoc._finite import nonfinite_message
from assoc.errors import ConfigError


def check_beta(beta) -> float:
    """Return ``beta`` as a float after checking it is a finite number >= 0."""
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real):
        raise ConfigError(f"beta must be a real number (the inverse temperature); got {beta!r} of type {type(beta).__name__}.")
    value = float(beta)
    if not math.isfinite(value) or value < 0.0:
        raise ConfigError(
            f"beta must be a finite number >= 0 (the inverse temperature); got {value!r}. "
            "Use beta=0 for uniform attention over all patterns, or a large finite beta for "
            "retrieval of the single nearest pattern."
        )
    return value


def check_real_dtype(name: str, array: np.ndarray) -> None:
    """Reject arrays that are not real integers or floats (complex, bool, object, strings)."""
    if array.dtype.kind not in "iuf":
        raise ConfigError(
            f"{name} must contain real numbers (integer or floating dtype); got dtype {array.dtype}. "
            f"Convert it first, for example {name}.astype(np.float64)."
        )


def float_dtype(*arrays: np.ndarray) -> np.dtype:
    """Return float32 when every array is float32 or float16, and float64 otherwise."""
    if all(array.dtype in (np.float32, np.float16) for array in arrays):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


# Arrays of at most this many entries are checked with np.isfinite directly. Its
# temporary boolean array is then small, and the call skips np.errstate, which costs
# about 1.3 us (NumPy 2.3), as much as the check itself for a single query.
_SMALL_ARRAY_SIZE = 1 << 14


def all_finite(array: np.ndarray) -> bool:
    """Return whether every entry is finite.

    Arrays above ``_SMALL_ARRAY_SIZE`` entries are checked in one pass without a
    temporary array: a finite sum proves that no entry is NaN or infinite. Only a
    non-finite sum needs the entry-by-entry check, because finite entries can also
    overflow the sum.
    """
    if array.dtype.kind != "f":
        return True
    if array.size <= _SMALL_ARRAY_SIZE:
        return bool(np.isfinite(array).all())
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.sum(array)
    return bool(np.isfinite(total)) or bool(np.all(np.isfinite(array)))


def check_finite(name: str, array: np.ndarray, original=None) -> None:
    """Raise ConfigError when ``array`` contains NaN or infinite entries, naming the first.

    ``original``, when given, is the caller's array before a conversion of dtype, so
    that an entry that overflowed in the conversion is reported as such.
    """
    if not all_finite(array):
        raise ConfigError(nonfinite_message(name, array, original, fix="remove or replace them before the call"))


def as_matrix(
    name: str,
    array,
    *,
    n_columns: int | None = None,
    column_name: str = "n_features",
    finite: bool = True,
) -> np.ndarray:
    """Return ``array`` as a 2-d array after checking dtype, shape and (if ``finite``) finiteness.

    ``n_columns``, when given, is the number of columns the array must have. Callers
    that pass ``finite=False`` must check finiteness themselves.
    """
    array = np.asarray(array)
    check_real_dtype(name, array)
    if array.ndim != 2:
        raise ConfigError(
            f"{name} must be a 2-d array of shape (n_rows, {column_name}); got shape {array.shape}. "
            f"Stack single vectors with {name}[np.newaxis, :]."
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ConfigError(f"{name} must have at least one row and one column; got shape {array.shape}.")
    if n_columns is not None and array.shape[1] != n_columns:
        raise ConfigError(
            f"{name} has {array.shape[1]} columns but {n_columns} are expected ({column_name}); "
            "pass arrays whose rows live in the same space."
        )
    if finite:
        check_finite(name, array)
    return array


def as_queries(
    name: str, array, n_features: int, column_name: str = "n_features", finite: bool = True
) -> tuple[np.ndarray, bool]:
    """Return queries as a 2-d array and whether the caller passed a single 1-d vector.

    ``finite`` is as for :func:`as_matrix`.
    """
    array = np.asarray(array)
    single = array.ndim == 1
    if single:
        array = array[np.newaxis, :]
    return as_matrix(name, array, n_columns=n_features, column_name=column_name, finite=finite), single


def check_bipolar(name: str, array: np.ndarray) -> None:
    """Reject arrays with entries other than -1 and +1."""
    bad = (array != 1) & (array != -1)
    if np.any(bad):
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ConfigError(
            f"{name} must contain only -1 and +1 (bipolar states); got {array[index].item()!r} at index {index}. "
            f"Map binary 0/1 data with 2 * {name} - 1, or real data with np.where({name} >= 0, 1, -1)."
        )


def check_positive_int(name: str, value, minimum: int = 1) -> int:
    """Return ``value`` as an int after checking that it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def check_choice(name: str, value, choices: tuple[str, ...]) -> str:
    """Return ``value`` after checking that it is one of ``choices``."""
    if value not in choices:
        raise ConfigError(f"Unknown {name} {value!r}; choose one of {', '.join(map(repr, choices))}.")
    return value


def as_generator(seed) -> np.random.Generator:
    """Return a Generator for ``seed`` (an int, None or a Generator, which is used as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise ConfigError(f"seed must be an int, None or a numpy.random.Generator; got {seed!r}.")
