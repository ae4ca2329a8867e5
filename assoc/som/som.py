"""The self-organizing map (Kohonen map): online and batch training, mapping and metrics."""

from __future__ import annotations

import enum
import logging
import math
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from assoc._finite import nonfinite_message
from assoc.errors import ConfigError
from assoc.progress import ProgressCallback
from assoc.som import _kernels
from assoc.som.grid import Grid, Topology, parse_option
from assoc.som.schedules import Decay, decay_values, validate_schedule

logger = logging.getLogger(__name__)

# Rows of data mapped at once by the chunked methods: a chunk of (rows x n_units) distances
# contains about 2**22 values (32 MiB in float64), whatever the number of samples.
CHUNK_VALUES = 1 << 22

# The online trainer calls the kernel in chunks of steps and reports progress between them.
MIN_STEPS_PER_CALL = 2000
# Chunks on several threads are longer: each one wakes the pool threads, and on the
# benchmark machine (a virtual machine) that took up to about 0.5 ms, which 2,000 steps
# of 1.7 us did not hide.
MIN_STEPS_PER_THREADED_CALL = 20000

# Threads that run the online kernel beside the calling thread when n_jobs > 1. They are
# started once per process and kept, because starting threads for every chunk of steps
# would cost more than the chunk saves on small maps.
_WORKER_POOL: ThreadPoolExecutor | None = None
_WORKER_POOL_LOCK = threading.Lock()
# Held while a chunk runs on several threads. Every worker of a chunk must be running
# for any of them to pass a step, so two maps trained from two Python threads at once
# could otherwise fill the pool with half-started chunks that wait for each other.
_MULTI_WORKER_LOCK = threading.Lock()


def _block_bounds(weights: np.ndarray, n_workers: int) -> np.ndarray:
    """Return the first unit of every worker's block, and n_units, as int64.

    Blocks are near-equal. Each boundary moves forward, by less than the period with which
    rows start on a 64-byte boundary, to a unit whose weights start on one, so that two
    workers do not write to the same cache line of the weights.
    """
    n_units = weights.shape[0]
    row_bytes = weights.strides[0]
    address = weights.ctypes.data
    period = 64 // math.gcd(64, row_bytes)
    bounds = [0]
    for worker in range(1, n_workers):
        target = worker * n_units // n_workers
        for shift in range(period):
            if (address + (target + shift) * row_bytes) % 64 == 0:
                target = target + shift
                break
        bounds.append(min(max(target, bounds[-1]), n_units))
    bounds.append(n_units)
    return np.asarray(bounds, dtype=np.int64)


def _generator(random_state) -> np.random.Generator:
    """Return a Generator for ``random_state``: None, an int >= 0, or a Generator used as is."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    valid_int = isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool) and random_state >= 0
    if random_state is None or valid_int:
        return np.random.default_rng(random_state)
    raise ConfigError(
        f"The 'random_state' parameter must be None, an integer >= 0 or a numpy.random.Generator; "
        f"got {random_state!r}. Pass a seed such as random_state=0."
    )


def _usable_cpu_count() -> int:
    """Return the number of CPUs this process may run on (its affinity mask), or os.cpu_count()."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def _distinct_cpus(n_workers: int) -> list[int | None]:
    """Return a CPU for each worker, all different, or None for each when that is not possible."""
    try:
        available = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return [None] * n_workers
    if len(available) < n_workers:
        return [None] * n_workers
    return available[:n_workers]


def _on_cpu(cpu, function, *args):
    """Run ``function(*args)`` with the calling thread pinned to ``cpu`` (unless None), then unpin it.

    Workers of the online kernel spin while they wait for each other, so two of them on
    one CPU waste its time slices. Without pinning, Linux often woke a pool thread on the
    CPU of the thread that woke it. After NumPy's BLAS threads had run, two threads then
    took 6 us per step of a 20 x 20 x 64 map instead of 1.7 us.
    """
    if cpu is None:
        return function(*args)
    try:
        previous = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {cpu})
    except OSError:  # a restricted cpuset: run unpinned
        return function(*args)
    try:
        return function(*args)
    finally:
        os.sched_setaffinity(0, previous)


def _run_worker(cpu, counters: np.ndarray, abort: int, worker: int, arguments: tuple) -> None:
    """Run one worker of the online kernel on ``cpu``; on failure, release the others and re-raise.

    The other workers wait for this one at every step, so a worker that fails without
    reaching the kernel sets the abort entry of ``counters``, and they return -1.
    """
    try:
        _on_cpu(cpu, _kernels.online_steps, worker, *arguments)
    except BaseException:
        counters[abort] = 1
        raise


def _worker_pool(n_threads: int) -> ThreadPoolExecutor:
    """Return the process's worker pool, grown to at least ``n_threads`` threads."""
    global _WORKER_POOL
    with _WORKER_POOL_LOCK:
        if _WORKER_POOL is None or _WORKER_POOL._max_workers < n_threads:
            if _WORKER_POOL is not None:
                _WORKER_POOL.shutdown(wait=True)
            _WORKER_POOL = ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="assoc-som")
        return _WORKER_POOL


class Neighborhood(str, enum.Enum):
    """Neighbourhood function h(d, sigma) of the grid distance d to the best-matching unit."""

    GAUSSIAN = "gaussian"
    BUBBLE = "bubble"
    MEXICAN_HAT = "mexican_hat"
    TRIANGLE = "triangle"
    CUT_GAUSSIAN = "cut_gaussian"


class Distance(str, enum.Enum):
    """Distance between an input vector and a unit's weight vector."""

    EUCLIDEAN = "euclidean"
    COSINE = "cosine"
    MANHATTAN = "manhattan"
    CHEBYSHEV = "chebyshev"


class Init(str, enum.Enum):
    """Initialisation method of the weights in ``fit``."""

    RANDOM = "random"
    SAMPLE = "sample"
    PCA = "pca"


class Algorithm(str, enum.Enum):
    """Training algorithm used by ``fit``."""

    ONLINE = "online"
    BATCH = "batch"


_DISTANCE_KIND = {
    Distance.EUCLIDEAN: _kernels.DISTANCE_EUCLIDEAN,
    Distance.COSINE: _kernels.DISTANCE_COSINE,
    Distance.MANHATTAN: _kernels.DISTANCE_MANHATTAN,
    Distance.CHEBYSHEV: _kernels.DISTANCE_CHEBYSHEV,
}
_NEIGHBORHOOD_KIND = {
    Neighborhood.GAUSSIAN: _kernels.NEIGHBORHOOD_GAUSSIAN,
    Neighborhood.BUBBLE: _kernels.NEIGHBORHOOD_BUBBLE,
    Neighborhood.MEXICAN_HAT: _kernels.NEIGHBORHOOD_MEXICAN_HAT,
    Neighborhood.TRIANGLE: _kernels.NEIGHBORHOOD_TRIANGLE,
    Neighborhood.CUT_GAUSSIAN: _kernels.NEIGHBORHOOD_CUT_GAUSSIAN,
}
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class SOM:
    """Self-organizing map on a rectangular or hexagonal grid.

    Parameters
    ----------
    n_rows, n_cols : int
        Map height and width in units; ``n_units = n_rows * n_cols``.
    topology : {'rectangular', 'hexagonal'}
    neighborhood : {'gaussian', 'bubble', 'mexican_hat', 'triangle', 'cut_gaussian'}
        h(d, sigma) of the grid distance d to the best-matching unit (formulas in docs/som.md).
        'cut_gaussian' is the Gaussian inside radius sigma and 0 outside, so the online
        trainer updates only the units within sigma of the best-matching unit.
    distance : {'euclidean', 'cosine', 'manhattan', 'chebyshev'}
        Distance that selects the best-matching unit and that the metrics report.
        Chebyshev is max_f |x_f - w_f|.
    sigma : float, optional
        Initial neighbourhood radius in grid units; default ``max(n_rows, n_cols) / 2``.
    sigma_final : float
        Radius the schedule heads for at the end of training (see ``assoc.som.schedules``).
    sigma_decay : {'constant', 'linear', 'exponential', 'inverse'}
    eta : float
        Initial learning rate.
    eta_final : float, optional
        Learning rate the schedule heads for; default ``eta / 100``.
    eta_decay : {'constant', 'linear', 'exponential', 'inverse'}
    algorithm : {'online', 'batch'}
        ``online`` applies the Kohonen rule one sample at a time; ``batch`` replaces every
        weight vector by the neighbourhood-weighted mean of the data once per pass.
    n_iter : int, optional
        Length of the schedules: single-sample updates for ``online`` (default
        ``10 * n_samples``), passes over the data for ``batch`` (default 20).
        ``partial_fit`` needs it set, because its schedule continues across calls.
    init : {'pca', 'sample', 'random'}
    dtype : {numpy.float32, numpy.float64}
        Precision of the weights; data are converted to it.
    random_state : int or numpy.random.Generator, optional
        Seed of the initial weights and of the online sample order.
    n_jobs : int, default 1
        Threads of the online trainer; -1 means one per CPU that the process may use (its
        affinity mask). Each thread updates a block of units and the threads meet once per
        step, so the weights are the same for every n_jobs. Waiting threads spin instead
        of sleeping, so a larger n_jobs than the usable CPUs is lowered to their number,
        with a warning. Even so, when other processes keep those CPUs busy a step can wait
        for the scheduler (milliseconds) instead of microseconds: use n_jobs > 1 on idle
        cores only. The batch trainer and the metrics use Numba's threads whatever n_jobs is.

    Attributes
    ----------
    grid : Grid
        Unit positions and adjacency.
    weights_ : ndarray of shape (n_units, n_features)
        Weight vector (prototype) of every unit.
    n_features_in_ : int
    n_steps_ : int
        Online updates applied so far; ``partial_fit`` continues the schedules from here.
    n_epochs_ : int
        Batch passes applied by the last ``fit``.
    """

    def __init__(
        self,
        n_rows: int = 10,
        n_cols: int = 10,
        *,
        topology="rectangular",
        neighborhood="gaussian",
        distance="euclidean",
        sigma: float | None = None,
        sigma_final: float = 1.0,
        sigma_decay="inverse",
        eta: float = 0.5,
        eta_final: float | None = None,
        eta_decay="inverse",
        algorithm="online",
        n_iter: int | None = None,
        init="pca",
        dtype=np.float32,
        random_state=None,
        n_jobs: int = 1,
    ):
        self.grid = Grid(n_rows, n_cols, topology)
        self.neighborhood = parse_option(Neighborhood, neighborhood, "neighborhood")
        self.distance = parse_option(Distance, distance, "distance")
        self.sigma = float(max(n_rows, n_cols) / 2.0 if sigma is None else sigma)
        self.sigma_final = float(sigma_final)
        self.sigma_decay = parse_option(Decay, sigma_decay, "sigma_decay")
        self.eta = float(eta)
        self.eta_final = float(self.eta / 100.0 if eta_final is None else eta_final)
        self.eta_decay = parse_option(Decay, eta_decay, "eta_decay")
        self.algorithm = parse_option(Algorithm, algorithm, "algorithm")
        self.init = parse_option(Init, init, "init")
        self.n_iter = n_iter
        self.dtype = np.dtype(dtype)
        self.random_state = random_state
        self.n_jobs = n_jobs
        self._validate_parameters()

        self._rng = _generator(random_state)
        self.weights_: np.ndarray | None = None
        self.n_features_in_: int | None = None
        self.n_steps_ = 0
        self.n_epochs_ = 0
        # Incremented on every change of the weights, so callers can tell cached results are stale.
        self.weights_version = 0

    def __repr__(self) -> str:
        return (
            f"SOM(n_rows={self.grid.n_rows}, n_cols={self.grid.n_cols}, topology={self.grid.topology.value!r}, "
            f"neighborhood={self.neighborhood.value!r}, distance={self.distance.value!r}, "
            f"algorithm={self.algorithm.value!r})"
        )

    def _validate_parameters(self) -> None:
        validate_schedule("sigma", self.sigma, self.sigma_final, self.sigma_decay)
        validate_schedule("eta", self.eta, self.eta_final, self.eta_decay)
        if self.n_iter is not None and (
            isinstance(self.n_iter, bool) or not isinstance(self.n_iter, (int, np.integer)) or self.n_iter < 1
        ):
            raise ConfigError(f"The 'n_iter' parameter must be a positive integer or None; got {self.n_iter!r}.")
        if isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, (int, np.integer)) or (
            self.n_jobs < 1 and self.n_jobs != -1
        ):
            raise ConfigError(
                f"The 'n_jobs' parameter must be a positive integer or -1 (one thread per CPU); got {self.n_jobs!r}."
            )
        if self.dtype not in _DTYPES:
            raise ConfigError(f"The 'dtype' parameter must be float32 or float64; got {self.dtype}.")
        if self.algorithm is Algorithm.BATCH and self.neighborhood is Neighborhood.MEXICAN_HAT:
            raise ConfigError(
                "neighborhood='mexican_hat' takes negative values, which make the batch update's "
                "weighted mean undefined; use algorithm='online' or another neighborhood."
            )

    # ------------------------------------------------------------------ properties

    @property
    def n_units(self) -> int:
        """Number of units on the map."""
        return self.grid.n_units

    @property
    def positions(self) -> np.ndarray:
        """(x, y) position of every unit in the plane, shape (n_units, 2)."""
        return self.grid.positions

    # ------------------------------------------------------------------ validation

    def _check_data(self, X, name: str = "X", *, fitted: bool = True) -> np.ndarray:
        """Return ``X`` as a C-contiguous 2-d array in the map's dtype, after checking it."""
        try:
            array = np.asarray(X)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"{name} must be a numeric array of shape (n_samples, n_features): {error}") from None
        if array.dtype.kind not in "biuf":
            raise ConfigError(
                f"{name} must contain real numbers; got dtype {array.dtype}. Convert it first, for example "
                f"{name}.real or {name}.astype(np.float64)."
            )
        if array.ndim != 2:
            raise ConfigError(f"{name} must be 2-d (n_samples, n_features); got shape {array.shape}.")
        if array.shape[0] == 0 or array.shape[1] == 0:
            raise ConfigError(f"{name} must have at least one sample and one feature; got shape {array.shape}.")
        if fitted:
            self._check_fitted()
            if array.shape[1] != self.n_features_in_:
                raise ConfigError(
                    f"{name} has {array.shape[1]} features, but the map was fitted with {self.n_features_in_}; "
                    "pass data with the same features, or fit a new map."
                )
        original = array
        with np.errstate(over="ignore"):
            array = np.ascontiguousarray(array, dtype=self.dtype)
        if not np.all(np.isfinite(array)):
            raise ConfigError(nonfinite_message(name, array, original, fix="remove or impute them first"))
        return array

    def _check_fitted(self) -> None:
        if self.weights_ is None:
            raise ConfigError("This SOM has no weights yet; call fit or partial_fit first.")

    # ------------------------------------------------------------------ initialisation

    def initialize(self, X) -> SOM:
        """Set the initial weights from ``X`` with the ``init`` method; return self.

        ``random`` draws each feature uniformly between its minimum and maximum in ``X``.
        ``sample`` copies randomly chosen rows of ``X`` (distinct when there are enough).
        ``pca`` spreads the units over the plane of the two leading principal components,
        centred on the mean. Along a component with variance lambda the units span
        +-sqrt(3 lambda), the extent of a uniform distribution with that variance. The
        longer grid axis follows the first component.
        """
        X = self._check_data(X, fitted=False)
        self._set_initial_weights(X)
        return self

    def set_weights(self, weights) -> SOM:
        """Set the weights to a copy of an array of shape (n_units, n_features); return self.

        Resets the step counters, so a following ``partial_fit`` starts the schedules anew.
        """
        weights = np.asarray(weights)
        if weights.ndim != 2 or weights.shape[0] != self.n_units or weights.shape[1] == 0:
            raise ConfigError(
                f"weights must have shape ({self.n_units}, n_features), one row per unit; got {weights.shape}."
            )
        # A copy, so that training never writes into the caller's array.
        original = weights
        with np.errstate(over="ignore"):
            weights = np.array(weights, dtype=self.dtype, order="C", copy=True)
        if not np.all(np.isfinite(weights)):
            raise ConfigError(nonfinite_message("weights", weights, original, fix="pass finite weights"))
        self.weights_ = weights
        self.n_features_in_ = weights.shape[1]
        self.n_steps_ = 0
        self.n_epochs_ = 0
        self.weights_version += 1
        return self

    def _set_initial_weights(self, X: np.ndarray) -> None:
        n_samples, n_features = X.shape
        if self.init is Init.RANDOM:
            low = X.min(axis=0)
            high = X.max(axis=0)
            weights = low + (high - low) * self._rng.random((self.n_units, n_features))
        elif self.init is Init.SAMPLE:
            rows = self._rng.choice(n_samples, size=self.n_units, replace=n_samples < self.n_units)
            weights = X[rows]
        else:
            weights = self._pca_weights(X)
        self.weights_ = np.ascontiguousarray(weights, dtype=self.dtype)
        self.n_features_in_ = n_features
        self.n_steps_ = 0
        self.n_epochs_ = 0
        self.weights_version += 1

    def _pca_weights(self, X: np.ndarray) -> np.ndarray:
        n_samples, n_features = X.shape
        mean, covariance = _mean_and_covariance(X)
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        order = np.argsort(eigenvalues)[::-1][:2]
        spans = np.sqrt(3.0 * np.maximum(eigenvalues[order], 0.0))
        components = eigenvectors[:, order] * spans

        # Unit positions scaled to [-1, 1] on each axis; the longer axis gets the first component.
        positions = self.grid.positions
        extent = positions.max(axis=0) - positions.min(axis=0)
        scaled = np.zeros_like(positions)
        for axis in range(2):
            if extent[axis] > 0:
                scaled[:, axis] = 2.0 * (positions[:, axis] - positions[:, axis].min()) / extent[axis] - 1.0
        if self.grid.n_rows > self.grid.n_cols:
            scaled = scaled[:, ::-1]
        coefficients = scaled[:, : components.shape[1]]
        if n_samples < 2:
            logger.warning("PCA initialisation from a single sample puts every unit at that sample.")
        return mean + coefficients @ components.T

    # ------------------------------------------------------------------ training

    def fit(self, X, progress: ProgressCallback | None = None) -> SOM:
        """Initialise the weights from ``X`` and train the map on it; return self.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        progress : callable, optional
            ``progress(done, total)``, called with online steps or batch passes done.
        """
        X = self._check_data(X, fitted=False)
        self._set_initial_weights(X)
        n_samples = X.shape[0]
        n_iter = self._fit_n_iter(n_samples)
        if self.algorithm is Algorithm.ONLINE:
            order = _epoch_order(self._rng, n_samples, n_iter)
            self._run_online(X, order, n_iter, progress)
        else:
            self._run_batch(X, n_iter, progress)
        return self

    def _fit_n_iter(self, n_samples: int) -> int:
        """Schedule length that ``fit`` uses for ``n_samples`` samples."""
        if self.n_iter is not None:
            return int(self.n_iter)
        return 10 * n_samples if self.algorithm is Algorithm.ONLINE else 20

    def partial_fit(self, X, progress: ProgressCallback | None = None) -> SOM:
        """Apply one online update per row of ``X``, in row order; return self.

        The schedules continue from ``n_steps_`` over a horizon of ``n_iter`` steps, and
        stay at their final values after it. A map without weights is first initialised
        from this block.
        """
        if self.n_iter is None:
            raise ConfigError(
                "partial_fit needs the schedule length: set n_iter to the total number of online "
                "steps the map will receive."
            )
        X = self._check_data(X, fitted=self.weights_ is not None)
        if self.weights_ is None:
            self._set_initial_weights(X)
        order = np.arange(X.shape[0], dtype=np.int64)
        self._run_online(X, order, int(self.n_iter), progress)
        return self

    def schedule(self, steps, n_iter: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(eta, sigma)`` at the given steps, each a float64 array shaped like ``steps``.

        ``n_iter`` defaults to the ``n_iter`` parameter.
        """
        n_iter = self.n_iter if n_iter is None else n_iter
        if n_iter is None:
            raise ConfigError("The schedule needs a length: pass n_iter or set it on the SOM.")
        steps = np.asarray(steps)
        etas = decay_values(self.eta, self.eta_final, self.eta_decay, steps, n_iter)
        sigmas = decay_values(self.sigma, self.sigma_final, self.sigma_decay, steps, n_iter)
        return etas, sigmas

    def _online_workers(self) -> int:
        """Return the number of threads for the online kernel: n_jobs, at most one per usable CPU and per unit."""
        usable = _usable_cpu_count()
        n_jobs = usable if self.n_jobs == -1 else int(self.n_jobs)
        if n_jobs > usable:
            logger.warning(
                "n_jobs=%d but this process may use %d CPU(s); training on %d thread(s), because "
                "spinning threads that share a CPU wait milliseconds per step.",
                n_jobs,
                usable,
                usable,
            )
            n_jobs = usable
        return max(1, min(n_jobs, self.n_units))

    def _run_online(self, X: np.ndarray, order: np.ndarray, n_iter: int, progress) -> None:
        weights = self.weights_
        weight_norms = np.sqrt(np.sum(weights.astype(np.float64) ** 2, axis=1))
        n_workers = self._online_workers()
        bounds = _block_bounds(weights, n_workers)
        # Rows padded to whole cache lines, so that no two workers write to one line.
        coefficients = np.empty((n_workers, -(-self.n_units // 16) * 16), dtype=self.dtype)
        pool = _worker_pool(n_workers - 1) if n_workers > 1 else None
        total = order.shape[0]
        chunk = max(MIN_STEPS_PER_CALL if n_workers == 1 else MIN_STEPS_PER_THREADED_CALL, total // 100)
        for start in range(0, total, chunk):
            stop = min(start + chunk, total)
            steps = np.arange(self.n_steps_, self.n_steps_ + stop - start)
            etas, sigmas = self.schedule(steps, n_iter)
            mailbox = np.zeros((n_workers + 1) * _kernels.MAILBOX_STRIDE)
            counters = mailbox.view(np.int64)
            arguments = (
                bounds,
                mailbox,
                counters,
                weights,
                weight_norms,
                X,
                order[start:stop],
                etas,
                sigmas,
                self.grid.positions,
                self.grid.n_cols,
                _DISTANCE_KIND[self.distance],
                _NEIGHBORHOOD_KIND[self.neighborhood],
                coefficients,
            )
            if pool is None:
                _kernels.online_steps(0, *arguments)
            else:
                # Workers 1.. run in the pool and worker 0 in this thread, each pinned to
                # its own CPU. All of them release the GIL, and each waits for the others
                # once per step.
                with _MULTI_WORKER_LOCK:
                    cpus = _distinct_cpus(n_workers)
                    abort = n_workers * _kernels.MAILBOX_STRIDE
                    futures = [
                        pool.submit(_run_worker, cpus[worker], counters, abort, worker, arguments)
                        for worker in range(1, n_workers)
                    ]
                    _run_worker(cpus[0], counters, abort, 0, arguments)
                    for future in futures:
                        future.result()
            self.n_steps_ += stop - start
            self.weights_version += 1
            if progress is not None:
                progress(stop, total)

    def _run_batch(self, X: np.ndarray, n_iter: int, progress) -> None:
        """Batch SOM: w_j <- (1 - eta) w_j + eta * sum_i h_{j c(i)} x_i / sum_i h_{j c(i)}.

        With eta = 1 (``eta_decay='constant'``) this is Kohonen's batch map. Units whose
        neighbourhood receives no sample keep their weights.
        """
        n_features = X.shape[1]
        for epoch in range(n_iter):
            etas, sigmas = self.schedule(np.array([epoch]), n_iter)
            eta, sigma = float(etas[0]), float(sigmas[0])

            # Per-unit sums and counts of the samples each unit wins.
            best = self.bmu(X)
            sums = np.zeros((self.n_units, n_features))
            counts = np.zeros(self.n_units)
            _kernels.sum_by_unit(X, best, sums, counts)

            # Neighbourhood-weighted means, a block of units at a time to bound memory.
            updated = self.weights_.astype(np.float64)
            block = max(1, CHUNK_VALUES // self.n_units)
            for start in range(0, self.n_units, block):
                stop = min(start + block, self.n_units)
                h = _kernels.neighborhood_matrix(
                    self.grid.positions, start, stop, sigma, _NEIGHBORHOOD_KIND[self.neighborhood]
                )
                numerator = h @ sums
                denominator = h @ counts
                reached = denominator > 0
                means = numerator[reached] / denominator[reached, None]
                rows = np.arange(start, stop)[reached]
                updated[rows] = (1.0 - eta) * updated[rows] + eta * means
            self.weights_ = np.ascontiguousarray(updated, dtype=self.dtype)
            self.n_epochs_ = epoch + 1
            self.weights_version += 1
            if progress is not None:
                progress(epoch + 1, n_iter)

    # ------------------------------------------------------------------ mapping

    def _weights64(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the weights as float64 and their Euclidean norms."""
        weights = np.ascontiguousarray(self.weights_, dtype=np.float64)
        return weights, np.sqrt(np.sum(weights**2, axis=1))

    def _chunk_rows(self) -> int:
        return max(1, CHUNK_VALUES // self.n_units)

    def _iter_best_two(self, X: np.ndarray) -> Iterator[tuple[slice, np.ndarray, np.ndarray, np.ndarray]]:
        """Yield ``(rows, best, second, best_distance)`` for consecutive chunks of ``X``."""
        kind = _DISTANCE_KIND[self.distance]
        weights, weight_norms = self._weights64()
        use_products = self.distance in (Distance.EUCLIDEAN, Distance.COSINE)
        chunk = self._chunk_rows()
        for start in range(0, X.shape[0], chunk):
            rows = slice(start, min(start + chunk, X.shape[0]))
            data = np.ascontiguousarray(X[rows], dtype=np.float64)
            n_rows = data.shape[0]
            data_norms = np.sqrt(np.sum(data**2, axis=1))
            best = np.empty(n_rows, dtype=np.int64)
            second = np.empty(n_rows, dtype=np.int64)
            best_distance = np.empty(n_rows, dtype=np.float64)
            if use_products:
                scores = data @ weights.T
            else:
                scores = np.empty((n_rows, self.n_units))
                _kernels.all_distances(data, weights, data_norms, weight_norms, kind, scores)
            _kernels.best_two(scores, data, weights, data_norms, weight_norms, kind, best, second, best_distance)
            yield rows, best, second, best_distance

    def bmu(self, X) -> np.ndarray:
        """Return the best-matching unit of every sample, shape (n_samples,), int64.

        Ties go to the lowest unit index.
        """
        X = self._check_data(X)
        result = np.empty(X.shape[0], dtype=np.int64)
        for rows, best, _, _ in self._iter_best_two(X):
            result[rows] = best
        return result

    predict = bmu

    def bmu_coordinates(self, X) -> np.ndarray:
        """Return the (row, col) of every sample's best-matching unit, shape (n_samples, 2)."""
        rows, cols = self.grid.unit_coordinates(self.bmu(X))
        return np.column_stack([rows, cols])

    def transform(self, X) -> np.ndarray:
        """Return the distance from every sample to every unit, shape (n_samples, n_units), float64.

        The output has n_samples * n_units values; for large inputs use ``bmu`` or the
        metrics, which work in chunks.
        """
        X = np.ascontiguousarray(self._check_data(X), dtype=np.float64)
        weights, weight_norms = self._weights64()
        out = np.empty((X.shape[0], self.n_units))
        data_norms = np.sqrt(np.sum(X**2, axis=1))
        _kernels.all_distances(X, weights, data_norms, weight_norms, _DISTANCE_KIND[self.distance], out)
        return out

    def prototypes(self, units) -> np.ndarray:
        """Return the weight vectors of the given units, shape ``(*units.shape, n_features)``."""
        self._check_fitted()
        return self.weights_[np.asarray(units)]

    # ------------------------------------------------------------------ metrics

    def quantization_error(self, X) -> float:
        """Return the mean distance from each sample to its best-matching unit's weights."""
        X = self._check_data(X)
        total = 0.0
        for _, _, _, best_distance in self._iter_best_two(X):
            total += float(best_distance.sum())
        return total / X.shape[0]

    def topographic_error(self, X) -> float:
        """Return the fraction of samples whose best and second-best units are not grid neighbours.

        Neighbours are the 8 surrounding units on a rectangular grid and the 6 at distance 1
        on a hexagonal grid. A 1 x 1 map has no second unit, and its error is NaN.
        """
        X = self._check_data(X)
        if self.n_units == 1:
            logger.warning("The topographic error is undefined on a 1 x 1 map; returning NaN.")
            return math.nan
        errors = 0
        for _, best, second, _ in self._iter_best_two(X):
            errors += int(np.count_nonzero(~self.grid.are_adjacent(best, second)))
        return errors / X.shape[0]

    def hit_map(self, X) -> np.ndarray:
        """Return how many samples each unit wins (the activation response), shape (n_rows, n_cols)."""
        X = self._check_data(X)
        counts = np.zeros(self.n_units, dtype=np.int64)
        for _, best, _, _ in self._iter_best_two(X):
            counts += np.bincount(best, minlength=self.n_units)
        return counts.reshape(self.grid.shape)

    activation_response = hit_map

    def label_map(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        """Count the labels of the samples that each unit wins.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels of any sortable type.

        Returns
        -------
        counts : ndarray of shape (n_rows, n_cols, n_classes), int64
            ``counts[r, c, k]``: samples of class ``classes[k]`` won by unit (r, c).
        classes : ndarray of shape (n_classes,)
            The sorted distinct labels.
        """
        X = self._check_data(X)
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ConfigError(f"y has shape {y.shape}; expected ({X.shape[0]},), one label per sample.")
        classes, class_index = np.unique(y, return_inverse=True)
        counts = np.zeros((self.n_units, classes.shape[0]), dtype=np.int64)
        for rows, best, _, _ in self._iter_best_two(X):
            np.add.at(counts, (best, class_index[rows]), 1)
        return counts.reshape(*self.grid.shape, classes.shape[0]), classes

    def unit_labels(self, X, y, *, unlabeled=-1) -> np.ndarray:
        """Return the majority label of the samples each unit wins, shape (n_units,).

        Units that win no sample get ``unlabeled``; ties go to the smallest label.
        """
        counts, classes = self.label_map(X, y)
        counts = counts.reshape(self.n_units, -1)
        labels = classes[np.argmax(counts, axis=1)]
        result = np.where(counts.sum(axis=1) > 0, labels, unlabeled)
        return result

    def u_matrix(self) -> np.ndarray:
        """Return the U-matrix: each unit's mean distance to its grid neighbours' weights.

        Distances use the map's ``distance``. Shape (n_rows, n_cols), float64.
        """
        self._check_fitted()
        offsets, neighbors = self.grid.adjacency_list()
        weights, weight_norms = self._weights64()
        values = _kernels.mean_neighbor_distance(weights, weight_norms, offsets, neighbors, _DISTANCE_KIND[self.distance])
        return values.reshape(self.grid.shape)


def _epoch_order(rng: np.random.Generator, n_samples: int, n_steps: int) -> np.ndarray:
    """Return ``n_steps`` sample indices: consecutive random permutations of all samples."""
    n_epochs = -(-n_steps // n_samples)
    order = np.concatenate([rng.permutation(n_samples) for _ in range(n_epochs)])
    return np.ascontiguousarray(order[:n_steps], dtype=np.int64)


def _mean_and_covariance(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the mean and covariance of the rows of ``X``, accumulated in float64 chunks."""
    n_samples, n_features = X.shape
    chunk = max(1, CHUNK_VALUES // n_features)
    total = np.zeros(n_features)
    for start in range(0, n_samples, chunk):
        total += X[start : start + chunk].sum(axis=0, dtype=np.float64)
    mean = total / n_samples
    scatter = np.zeros((n_features, n_features))
    for start in range(0, n_samples, chunk):
        centred = X[start : start + chunk].astype(np.float64) - mean
        scatter += centred.T @ centred
    return mean, scatter / max(n_samples - 1, 1)
