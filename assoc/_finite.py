"""Messages for arrays with NaN or infinite entries, shared by the input checks."""

from __future__ import annotations

import numpy as np


def nonfinite_message(name: str, array: np.ndarray, original=None, fix: str = "remove or replace them") -> str:
    """Describe the NaN and infinite entries of ``array``: how many, and the first one.

    ``original`` is the caller's array before its conversion to ``array.dtype``. When
    the first bad entry is finite there, the conversion overflowed, and the message
    advises float64 or smaller data instead of ``fix``.
    """
    bad = np.argwhere(~np.isfinite(array))
    if bad.size == 0:
        return f"{name} contains no NaN or infinite values."
    index = tuple(int(i) for i in bad[0])
    position = index[0] if len(index) == 1 else index
    entries = "1 entry" if len(bad) == 1 else f"{len(bad)} entries"
    message = f"{name} contains NaN or infinite values ({entries}, the first at index {position}: {array[index].item()!r})"
    if original is not None:
        source = np.asarray(original)
        if source.shape == array.shape and np.isfinite(source[index]):
            limit = np.finfo(array.dtype).max
            return (
                f"{message}, converted from the finite {source[index].item()!r}, which exceeds the {array.dtype} "
                f"limit of {limit:.3g}; keep the data in float64 (dtype=np.float64) or scale it down."
            )
    return f"{message}; {fix}."
