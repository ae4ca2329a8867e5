"""Online and batch training of the SOM, against the NumPy reference in som_reference.py."""

import numpy as np
import pytest

from assoc.som import SOM

from .som_reference import online_step

DISTANCES = ["euclidean", "cosine", "manhattan", "chebyshev"]
NEIGHBORHOODS = ["gaussian", "bubble", "mexican_hat", "triangle", "cut_gaussian"]


def blobs(n_samples=300, seed=0):
    """Four Gaussian clusters in 3-d."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0, 0, 0], [4, 0, 0], [0, 4, 0], [0, 0, 4]], dtype=float)
    labels = rng.integers(0, 4, n_samples)
    return centers[labels] + 0.5 * rng.normal(size=(n_samples, 3)), labels


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("distance", DISTANCES)
@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
def test_online_equals_reference_step_by_step(dtype, distance, topology):
    X, _ = blobs(24, seed=1)
    X = X.astype(dtype)
    som = SOM(3, 4, topology=topology, distance=distance, sigma=2.0, eta=0.6, n_iter=len(X), dtype=dtype)
    som.initialize(X)
    reference = som.weights_.copy()
    etas, sigmas = som.schedule(np.arange(len(X)))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for t, x in enumerate(X):
        reference, winner = online_step(reference, x, etas[t], sigmas[t], som.positions, distance, "gaussian")
        assert som.bmu(x[None, :])[0] == winner
        som.partial_fit(x[None, :])
        assert som.n_steps_ == t + 1
        np.testing.assert_allclose(som.weights_, reference, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("neighborhood", NEIGHBORHOODS)
def test_online_block_equals_reference(neighborhood):
    X, _ = blobs(40, seed=2)
    som = SOM(4, 3, neighborhood=neighborhood, sigma=1.5, n_iter=len(X), dtype=np.float64, random_state=0)
    som.initialize(X)
    reference = som.weights_.copy()
    etas, sigmas = som.schedule(np.arange(len(X)))
    for t, x in enumerate(X):
        reference, _ = online_step(reference, x, etas[t], sigmas[t], som.positions, "euclidean", neighborhood)
    som.partial_fit(X)
    np.testing.assert_allclose(som.weights_, reference, rtol=1e-12, atol=1e-12)


def test_partial_fit_blocks_equal_one_call():
    X, _ = blobs(60, seed=3)
    whole = SOM(3, 3, n_iter=60, dtype=np.float64).initialize(X)
    parts = SOM(3, 3, n_iter=60, dtype=np.float64).set_weights(whole.weights_)
    whole.partial_fit(X)
    for block in np.array_split(X, 4):
        parts.partial_fit(block)
    np.testing.assert_allclose(parts.weights_, whole.weights_, rtol=1e-12)


@pytest.mark.parametrize("algorithm", ["online", "batch"])
def test_quantization_error_falls_with_training(algorithm):
    X, _ = blobs(300)
    errors = []
    for n_iter in (1, 5, 40) if algorithm == "batch" else (10, 300, 3000):
        # The batch runs use Kohonen's batch map: eta = 1 at every pass.
        eta_decay = "constant" if algorithm == "batch" else "inverse"
        som = SOM(4, 4, algorithm=algorithm, n_iter=n_iter, eta=1.0 if algorithm == "batch" else 0.5,
                  eta_decay=eta_decay, init="random", random_state=0)
        errors.append(som.fit(X).quantization_error(X))
    assert errors[0] > errors[1] > errors[2]


def test_trained_map_is_ordered():
    X, _ = blobs(300)
    som = SOM(5, 5, n_iter=5000, random_state=0).fit(X)
    assert som.topographic_error(X) < 0.1


def test_fit_is_reproducible_with_seed():
    X, _ = blobs(100)
    first = SOM(3, 3, init="random", n_iter=500, random_state=7).fit(X).weights_
    second = SOM(3, 3, init="random", n_iter=500, random_state=7).fit(X).weights_
    other = SOM(3, 3, init="random", n_iter=500, random_state=8).fit(X).weights_
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first, other)


def test_batch_with_unit_eta_is_neighborhood_mean():
    X, _ = blobs(50)
    som = SOM(2, 3, algorithm="batch", n_iter=1, sigma=1.0, eta=1.0, eta_decay="constant",
              sigma_decay="constant", dtype=np.float64, random_state=0)
    initial = SOM(2, 3, init=som.init, dtype=np.float64).initialize(X)
    som.fit(X)
    winners = initial.bmu(X)
    squared = np.sum((som.positions[:, None, :] - som.positions[None, :, :]) ** 2, axis=2)
    h = np.exp(-squared / 2.0)[:, winners]
    np.testing.assert_allclose(som.weights_, (h @ X) / h.sum(axis=1, keepdims=True), rtol=1e-10)
    assert som.n_epochs_ == 1


def test_progress_callback_counts_steps():
    X, _ = blobs(50)
    calls = []
    SOM(2, 2, n_iter=5000).fit(X, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (5000, 5000)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    batch_calls = []
    SOM(2, 2, algorithm="batch", n_iter=3).fit(X, progress=lambda done, total: batch_calls.append((done, total)))
    assert batch_calls == [(1, 3), (2, 3), (3, 3)]


def test_pca_init_spans_leading_components():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 3)) * [3.0, 1.0, 0.1] + [1.0, 2.0, 3.0]
    som = SOM(3, 5, init="pca", dtype=np.float64).initialize(X)
    weights = som.weights_.reshape(3, 5, 3)
    # Columns (the longer axis) run along the first component x, rows along the second, y.
    assert abs(weights[1, 4, 0] - weights[1, 0, 0]) == pytest.approx(2 * np.sqrt(3) * 3.0, rel=0.1)
    assert abs(weights[2, 2, 1] - weights[0, 2, 1]) == pytest.approx(2 * np.sqrt(3) * 1.0, rel=0.1)
    np.testing.assert_allclose(weights[1, 2], X.mean(axis=0), atol=1e-9)


def test_sample_and_random_init():
    X, _ = blobs(30)
    sample = SOM(2, 3, init="sample", dtype=np.float64, random_state=0).initialize(X)
    assert all(any(np.array_equal(w, x) for x in X) for w in sample.weights_)
    random = SOM(2, 3, init="random", random_state=0).initialize(X)
    assert np.all(random.weights_ >= X.min(axis=0) - 1e-6)
    assert np.all(random.weights_ <= X.max(axis=0) + 1e-6)


def test_set_weights_copies_the_array():
    initial = np.zeros((4, 2))
    SOM(2, 2, n_iter=3, dtype=np.float64).set_weights(initial).partial_fit(np.ones((3, 2)))
    assert not initial.any()


def test_online_tiny_coefficients_still_update():
    # On a 1 x 16 map with sigma = 1, units 6 to 13 from the winner get coefficients
    # between 1e-37 and 2^-26, below float32's rounding error of 1. Entries of 1e-20
    # must still move towards x = 1, by far more than their own rounding error.
    weights = np.full((16, 3), 0.5, dtype=np.float32)
    weights[:, 0] = 1e-20
    weights[0] = 1.0  # unit 0 wins every step
    X = np.ones((5, 3), dtype=np.float32)
    som = SOM(1, 16, sigma=1.0, sigma_decay="constant", eta=0.5, eta_decay="constant", n_iter=5, dtype=np.float32)
    som.set_weights(weights)
    reference = weights.copy()
    for x in X:
        reference, winner = online_step(reference, x, 0.5, 1.0, som.positions, "euclidean", "gaussian")
        assert winner == 0
        som.partial_fit(x[None, :])
        np.testing.assert_allclose(som.weights_, reference, rtol=2**-22, atol=0)
    assert som.weights_[6, 0] > 3e-8  # five steps of 0.5 exp(-18), about 7.6e-9 each
    assert som.weights_[10, 0] > 1.04e-20  # five steps of 0.5 exp(-50), about 1e-22 each


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("distance", DISTANCES)
@pytest.mark.parametrize("n_jobs", [2, 3])
def test_online_threads_give_identical_weights(dtype, distance, n_jobs, monkeypatch):
    # 5 x 7 units split over 2 or 3 threads: blocks may start inside grid rows. The CPU
    # count is faked so that n_jobs threads run whatever the machine has. Three threads
    # then spin on two cores in CI and wait for the scheduler, hence fewer steps.
    from assoc.som import som as som_module

    monkeypatch.setattr(som_module, "_usable_cpu_count", lambda: n_jobs)
    X, _ = blobs(200 if n_jobs == 2 else 40, seed=4)
    X = X.astype(dtype)
    options = dict(topology="hexagonal", distance=distance, sigma=2.0, n_iter=len(X), dtype=dtype, random_state=0)
    serial = SOM(5, 7, **options).fit(X)
    threaded = SOM(5, 7, n_jobs=n_jobs, **options).fit(X)
    np.testing.assert_array_equal(threaded.weights_, serial.weights_)
    assert threaded.n_steps_ == serial.n_steps_


@pytest.mark.parametrize("neighborhood", ["bubble", "cut_gaussian"])
def test_online_threads_skip_the_same_units(neighborhood):
    X, _ = blobs(100, seed=5)
    options = dict(neighborhood=neighborhood, sigma=1.5, n_iter=len(X), dtype=np.float64, random_state=1)
    serial = SOM(4, 6, **options).fit(X)
    threaded = SOM(4, 6, n_jobs=2, **options).fit(X)
    np.testing.assert_array_equal(threaded.weights_, serial.weights_)


def test_thread_blocks_start_on_cache_lines():
    from assoc.som.som import _block_bounds

    weights = np.zeros((375, 300), dtype=np.float32)  # rows of 1,200 bytes: every 4th starts a line
    for n_workers in (1, 2, 3):
        bounds = _block_bounds(weights, n_workers)
        assert bounds[0] == 0
        assert bounds[-1] == 375
        assert np.all(np.diff(bounds) > 0)
        for first in bounds[1:-1]:
            assert (weights.ctypes.data + first * 1200) % 64 == 0


def test_threaded_training_restores_cpu_affinity():
    import os

    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("os.sched_getaffinity is Linux-only")
    before = os.sched_getaffinity(0)
    X, _ = blobs(50, seed=6)
    SOM(3, 4, n_iter=50, n_jobs=2).fit(X)
    assert os.sched_getaffinity(0) == before


def test_failed_thread_releases_the_others(monkeypatch):
    from assoc.som import som as som_module

    original = som_module._on_cpu

    def fail_in_worker_one(cpu, function, worker, *args):
        if worker == 1:
            raise RuntimeError("worker 1 failed to start")
        return original(cpu, function, worker, *args)

    monkeypatch.setattr(som_module, "_on_cpu", fail_in_worker_one)
    X, _ = blobs(50, seed=7)
    with pytest.raises(RuntimeError, match="worker 1 failed to start"):
        SOM(3, 4, n_iter=50, n_jobs=2).fit(X)


def test_n_jobs_capped_at_usable_cpus(monkeypatch, caplog):
    from assoc.som import som as som_module

    monkeypatch.setattr(som_module, "_usable_cpu_count", lambda: 2)
    assert SOM(3, 4, n_jobs=16)._online_workers() == 2
    assert "n_jobs=16 but this process may use 2 CPU(s)" in caplog.text
    assert SOM(3, 4, n_jobs=-1)._online_workers() == 2
    assert SOM(1, 1, n_jobs=2)._online_workers() == 1  # one unit: one thread
