"""Numerical settings shared by every Numba kernel.

Kernels import their decorator options from here, so that caching, fastmath flags
and default tolerances change in one place.
"""

import os

# Cache compiled kernels on disk beside the source (numba's default cache location).
# Set ASSOC_NUMBA_CACHE=0 to compile afresh every process.
NUMBA_CACHE = os.environ.get("ASSOC_NUMBA_CACHE", "1") != "0"

# fastmath flags that keep inf and NaN semantics: never 'nnan' or 'ninf', because
# softmax and log-sum-exp at large inverse temperature rely on -inf and overflow checks.
SAFE_FASTMATH = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})

# Keyword arguments for a serial kernel and for one that runs prange loops. numba 0.68
# accepts fastmath flags as a bool, dict or set but not a frozenset, hence the copy.
NJIT_SERIAL = {"cache": NUMBA_CACHE, "nogil": True, "fastmath": set(SAFE_FASTMATH)}
NJIT_PARALLEL = {"cache": NUMBA_CACHE, "nogil": True, "fastmath": set(SAFE_FASTMATH), "parallel": True}
