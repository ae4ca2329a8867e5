"""Choice of Numba thread count by the size of a call."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from numba import get_num_threads, set_num_threads

# Calls with fewer multiply-adds than this run their Numba kernels on one thread. A
# parallel region costs microseconds to start on an idle machine, and milliseconds when
# other processes occupy the cores and a worker thread waits to be scheduled.
PARALLEL_MIN_WORK = 1 << 21


@contextlib.contextmanager
def threads_for(work: int) -> Iterator[int]:
    """Run the block on one Numba thread when ``work`` is small; yield the thread count in use.

    The setting is restored on exit. Numba keeps it per calling thread, so concurrent
    callers in other threads are unaffected.
    """
    n_threads = get_num_threads()
    if work >= PARALLEL_MIN_WORK:
        yield n_threads
        return
    set_num_threads(1)
    try:
        yield 1
    finally:
        set_num_threads(n_threads)
