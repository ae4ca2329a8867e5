"""Progress reporting through callbacks.

Long-running library functions accept ``progress``, a callable
``progress(done, total)`` called with counts of finished work items (samples,
trials, pairs). The library never prints. The command line turns the callback
into a terminal bar with :func:`progress_bar`, the runner turns it into log
rows, and tests can record the calls.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator

ProgressCallback = Callable[[int, int], None]


@contextlib.contextmanager
def progress_bar(description: str, *, unit: str = "it", disable: bool | None = None) -> Iterator[ProgressCallback]:
    """Yield a progress callback that drives a tqdm bar on stderr.

    The bar is hidden when ``disable`` is true, and by default when stderr is not a
    terminal or the ``assoc`` logger is quieter than INFO (``assoc -q``).
    """
    from tqdm.auto import tqdm

    if disable is None:
        disable = not sys.stderr.isatty() or not logging.getLogger("assoc").isEnabledFor(logging.INFO)
    bar = tqdm(desc=description, unit=unit, disable=disable, dynamic_ncols=True, file=sys.stderr)
    try:

        def update(done: int, total: int) -> None:
            if bar.total != total:
                bar.total = total
            bar.n = done
            bar.refresh()

        yield update
    finally:
        bar.close()
