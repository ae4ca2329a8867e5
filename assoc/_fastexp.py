"""An exponential for Numba loops that vectorizes, for the non-positive arguments of softmax weights and Gaussians.

Kernels call :func:`exp_nonpositive` on a scratch buffer of arguments instead of
``math.exp`` per element, whose libm call keeps the surrounding loop scalar.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from assoc._config import NUMBA_CACHE

# Cody-Waite constants of exp(x) = 2^k exp(r), r = x - k ln 2: ln 2 split into a high
# part whose products with small integers k are exact, and the rest.
_LOG2_E = 1.4426950408889634
_LN2_HIGH_64 = 6.93147180369123816490e-01
_LN2_LOW_64 = 1.90821492927058770002e-10
_LN2_HIGH_32 = 0.693145751953125
_LN2_LOW_32 = 1.42860682030941723212e-06
# Below these arguments exp is near the smallest normal number, and exp_nonpositive
# returns 0. Above them the scaling 2^k stays a normal number.
_EXP_FLOOR_64 = -708.0
_EXP_FLOOR_32 = -87.0


# fastmath 'contract' only: with 'reassoc', LLVM may fold k*high + k*low into
# k*(high + low), which undoes the split of ln 2 and costs 100 ulp in float64.
@njit(cache=NUMBA_CACHE, nogil=True, fastmath={"contract"})
def exp_nonpositive(x, n, bits):
    """Replace x[:n] by exp(x[:n]), for arguments <= 0, in a loop that vectorizes.

    A call to libm's exp per element keeps a compiled loop scalar: in a one-query
    modern Hopfield retrieval it took a quarter of the time. Here exp(x) = 2^k p(r),
    with k = round(x / ln 2), r = x - k ln 2 in [-ln 2 / 2, ln 2 / 2] and p the Taylor
    polynomial of exp (degree 7
    in float32, 13 in float64; truncation below 1e-8 and 1e-17 of the result). 2^k is
    built from its exponent bits in ``bits`` (int64 scratch of at least n entries). The
    result is within about one ulp of exp. Arguments below -87 (float32) or -708
    (float64) give 0.
    """
    if x.itemsize == 4:
        integer_bits = bits.view(np.int32)
        scales = integer_bits.view(np.float32)
        for i in range(n):
            value = x[i]
            clamped = max(value, np.float32(_EXP_FLOOR_32))
            k = np.floor(clamped * np.float32(_LOG2_E) + np.float32(0.5))
            r = clamped - k * np.float32(_LN2_HIGH_32) - k * np.float32(_LN2_LOW_32)
            p = np.float32(1.0 / 5040.0)
            p = p * r + np.float32(1.0 / 720.0)
            p = p * r + np.float32(1.0 / 120.0)
            p = p * r + np.float32(1.0 / 24.0)
            p = p * r + np.float32(1.0 / 6.0)
            p = p * r + np.float32(0.5)
            p = p * r + np.float32(1.0)
            p = p * r + np.float32(1.0)
            x[i] = p if value >= np.float32(_EXP_FLOOR_32) else np.float32(0.0)
            integer_bits[i] = (np.int32(k) + np.int32(127)) << np.int32(23)
        for i in range(n):
            x[i] *= scales[i]
    else:
        scales = bits.view(np.float64)
        for i in range(n):
            value = x[i]
            clamped = max(value, _EXP_FLOOR_64)
            k = np.floor(clamped * _LOG2_E + 0.5)
            r = clamped - k * _LN2_HIGH_64 - k * _LN2_LOW_64
            p = 1.0 / 6227020800.0
            p = p * r + 1.0 / 479001600.0
            p = p * r + 1.0 / 39916800.0
            p = p * r + 1.0 / 3628800.0
            p = p * r + 1.0 / 362880.0
            p = p * r + 1.0 / 40320.0
            p = p * r + 1.0 / 5040.0
            p = p * r + 1.0 / 720.0
            p = p * r + 1.0 / 120.0
            p = p * r + 1.0 / 24.0
            p = p * r + 1.0 / 6.0
            p = p * r + 0.5
            p = p * r + 1.0
            p = p * r + 1.0
            x[i] = p if value >= _EXP_FLOOR_64 else 0.0
            bits[i] = (np.int64(k) + 1023) << 52
        for i in range(n):
            x[i] *= scales[i]
