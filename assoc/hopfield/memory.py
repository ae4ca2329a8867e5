"""A modern Hopfield memory that validates and converts its stored arrays once.

:func:`assoc.hopfield.retrieve` and :func:`assoc.hopfield.hetero_retrieve` check the
stored patterns on every call. For one query against 1,000 patterns of 64 features
that check took a third to a half of the call's time in ``benchmarks/bench_hopfield.py``.
:class:`ModernHopfield` runs it once, at construction, and each call then checks only
the queries before the same retrieval step (``modern._retrieve_step``).
"""

from __future__ import annotations

import numpy as np

from assoc.errors import ConfigError
from assoc.hopfield import modern
from assoc.hopfield._validation import as_matrix, check_beta, check_finite, check_positive_int, float_dtype

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _check_dtype(dtype) -> np.dtype:
    """Return ``dtype`` as a NumPy dtype after checking that it is float32 or float64."""
    try:
        checked = np.dtype(dtype)
    except TypeError:
        checked = np.dtype(object)  # rejected below; np.dtype(None) itself would mean float64
    if checked not in _FLOAT_DTYPES:
        raise ConfigError(f"dtype must be numpy.float32, numpy.float64 or None; got {dtype!r}.")
    return checked


def _stored_copy(name: str, array, dtype: np.dtype) -> np.ndarray:
    """Return a read-only, C-contiguous copy of ``array`` in ``dtype``, checked for NaN and inf."""
    # Checked after the conversion: a finite float64 entry above 3.4e38 becomes inf in
    # float32, and the check below reports it.
    with np.errstate(over="ignore"):
        stored = np.array(array, dtype=dtype, order="C", copy=True)
    check_finite(name, stored, original=array)
    stored.flags.writeable = False
    return stored


class ModernHopfield:
    """Modern Hopfield memory: stored patterns (or keys and values) and an inverse temperature.

    Parameters
    ----------
    patterns : array_like of shape (n_patterns, n_features)
        Stored patterns, one per row. With ``values`` given, these are the keys.
    beta : float
        Inverse temperature, >= 0.
    values : array_like of shape (n_patterns, n_value_features), optional
        Row i is the item recalled through key row i (hetero-associative memory). By
        default the memory is auto-associative and recalls the patterns themselves.
    dtype : {None, numpy.float32, numpy.float64}, default None
        Dtype of the stored arrays, the queries and the results. By default float32
        when every stored array is float32 or float16, else float64.

    Raises
    ------
    ConfigError
        When beta is negative or not finite, or an array is not a non-empty 2-d real
        array. Also when values and patterns differ in row count, a stored entry is NaN
        or infinite after conversion to ``dtype``, or ``dtype`` is not float32 or float64.

    Notes
    -----
    The memory keeps read-only copies of the stored arrays, so later changes to the
    caller's arrays do not reach it. Each call converts the queries to the memory's
    dtype. A float64 query of a float32 memory therefore gives a float32 result, while
    :func:`assoc.hopfield.retrieve` would return float64 for the same arrays.
    """

    def __init__(self, patterns, beta: float, *, values=None, dtype=None):
        self._beta = check_beta(beta)
        key_name = "patterns" if values is None else "keys"
        keys = as_matrix(key_name, patterns, finite=False)
        if values is not None:
            values = as_matrix("values", values, finite=False)
            if values.shape[0] != keys.shape[0]:
                raise ConfigError(
                    f"values has {values.shape[0]} rows but patterns has {keys.shape[0]}; "
                    "row i of values must be the item stored under row i of patterns."
                )

        if dtype is None:
            self._dtype = float_dtype(keys) if values is None else float_dtype(keys, values)
        else:
            self._dtype = _check_dtype(dtype)

        self._keys = _stored_copy(key_name, keys, self._dtype)
        self._values = self._keys if values is None else _stored_copy("values", values, self._dtype)

    @property
    def beta(self) -> float:
        """Inverse temperature of the softmax."""
        return self._beta

    @property
    def dtype(self) -> np.dtype:
        """Dtype of the stored arrays and of every result."""
        return self._dtype

    @property
    def patterns(self) -> np.ndarray:
        """Read-only stored patterns (the keys of a hetero-associative memory), shape (n_patterns, n_features)."""
        return self._keys

    @property
    def values(self) -> np.ndarray:
        """Read-only recalled items, shape (n_patterns, n_value_features), which are the patterns in an auto-associative memory."""
        return self._values

    @property
    def is_hetero(self) -> bool:
        """Whether the memory was built with separate values."""
        return self._values is not self._keys

    @property
    def n_patterns(self) -> int:
        """Number of stored patterns."""
        return self._keys.shape[0]

    @property
    def n_features(self) -> int:
        """Number of features of a pattern and of a query."""
        return self._keys.shape[1]

    def __repr__(self) -> str:
        kind = f", n_value_features={self._values.shape[1]}" if self.is_hetero else ""
        return (
            f"ModernHopfield(n_patterns={self.n_patterns}, n_features={self.n_features}{kind}, "
            f"beta={self._beta!r}, dtype={self._dtype.name})"
        )

    def _as_queries(self, queries) -> tuple[np.ndarray, bool]:
        """Return the queries as a C-contiguous 2-d array in the memory's dtype, and whether one 1-d query was passed."""
        array = np.asarray(queries)
        single = array.ndim == 1
        if single:
            array = array[np.newaxis, :]

        # Queries already 2-d, C-contiguous and in the memory's dtype skip the general
        # dtype and shape checks and the conversion. Finiteness is checked by the
        # retrieval step (modern._retrieve_step with queries_finite=False), inside the
        # kernel for small batches.
        ready = (
            array.dtype == self._dtype
            and array.ndim == 2
            and array.shape[0] > 0
            and array.shape[1] == self._keys.shape[1]
            and array.flags.c_contiguous
        )
        if not ready:
            array = as_matrix("queries", array, n_columns=self._keys.shape[1], finite=False)
            array = np.ascontiguousarray(array, dtype=self._dtype)
        return array, single

    def recall(self, queries) -> np.ndarray:
        """Recall one step: softmax(beta * patterns @ q) @ values for each query.

        Parameters
        ----------
        queries : array_like of shape (n_queries, n_features) or (n_features,)

        Returns
        -------
        ndarray of shape (n_queries, n_value_features) or (n_value_features,)
            In the memory's dtype. n_value_features is n_features when the memory is
            auto-associative. Equal to :func:`assoc.hopfield.hetero_retrieve` (or
            :func:`assoc.hopfield.retrieve` with one step) on the stored arrays.
        """
        queries, single = self._as_queries(queries)
        out = modern._retrieve_step(queries, self._keys, self._values, self._beta, stored_finite=True, queries_finite=False)
        return out[0] if single else out

    def retrieve(self, queries, *, max_steps: int = 1, tol: float | None = None, return_steps: bool = False):
        """Retrieve stored patterns from queries by the modern Hopfield update.

        Same update, stopping rule and results as :func:`assoc.hopfield.retrieve` on the
        stored patterns, in the memory's dtype.

        Parameters
        ----------
        queries : array_like of shape (n_queries, n_features) or (n_features,)
            Initial states, one per row.
        max_steps : int, default 1
            Upper bound on the number of update steps. A hetero-associative memory
            allows only 1, because its values need not live in the query space.
        tol : float, optional
            Stop a query early once its update moves it by less than ``tol`` (Euclidean norm).
        return_steps : bool, default False
            Also return the number of steps each query took.

        Returns
        -------
        states : ndarray of shape (n_queries, n_value_features) or (n_value_features,)
        n_steps : ndarray of shape (n_queries,), int64
            Only when ``return_steps`` is true.
        """
        max_steps = check_positive_int("max_steps", max_steps)
        tol = modern._check_tol(tol)
        if self.is_hetero and max_steps != 1:
            raise ConfigError(
                f"max_steps must be 1 for a memory with separate values; got {max_steps}. "
                "Iterate only an auto-associative memory, built without values=."
            )
        queries, single = self._as_queries(queries)
        if self.is_hetero:
            states = modern._retrieve_step(
                queries, self._keys, self._values, self._beta, stored_finite=True, queries_finite=False
            )
            n_steps = np.ones(queries.shape[0], dtype=np.int64)
            if single:
                states = states[0]
            return (states, n_steps) if return_steps else states
        return modern._run_steps(
            queries, self._keys, self._beta, max_steps, tol, single, return_steps, stored_finite=True, queries_finite=False
        )
