"""Benchmark modern Hopfield retrieval against NumPy (BLAS) and torch, and time a capacity sweep.

Usage, from the repository root:

    python benchmarks/bench_hopfield.py            # N in {1e3, 1e4, 1e5}, d in {64, 256}, batch {1, 32, 1024}
    python benchmarks/bench_hopfield.py --quick    # N in {1e3, 1e4}, fewer repeats, smaller sweep
    python benchmarks/bench_hopfield.py --threads 1 --plot capacity.png
    python benchmarks/bench_hopfield.py --memory-only  # only the ModernHopfield table

The ModernHopfield table times one call of ModernHopfield.recall, of retrieve and of
the NumPy formula in microseconds with timeit, on one thread regardless of --threads,
for batches of 1 and 32 at N in {1e3, 1e4} and d in {64, 256}, in float32 and float64.

One retrieval step softmax(beta Q X^T) X in float32 is timed for each size, with the
function ``retrieve`` (which checks the patterns on every call) and with
``ModernHopfield.recall`` (which checked them once, when the memory was built). A step
counts as 4 N d batch floating-point operations, the two matrix products without the
exponentials, and is reported in GFLOP/s beside the machine's float32 GEMM rate
measured in the same run. Every figure is the best of several repeats. assoc's two
calls are timed in turn, then NumPy, then torch, each after a pause of SETTLE_SECONDS:
a thread pool keeps spinning for a while after its work, and would slow the next
library's threads. With --threads 1 nothing spins on the other core. The script prints Markdown tables, the BLAS library that NumPy loaded, and the load average
(``uptime``) before and after, because other processes may share the CPU.

OPENBLAS_CORETYPE, when set, pins OpenBLAS to older kernels; unset it (and
OPENBLAS_L2_SIZE) for this command alone to measure what NumPy would do by default.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import time
import timeit

import numba
import numpy as np

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # the BLAS thread count then stays at OpenBLAS's default
    threadpool_limits = None

from assoc.hopfield import ClassicalMemory, DenseMemory, ModernHopfield, ModernMemory, capacity_sweep, retrieve

BETA_SCALE = 1.0  # beta = BETA_SCALE / sqrt(d), the usual attention temperature
SETTLE_SECONDS = 0.3  # pause after each library's timing, so that its idle threads stop spinning


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def best_seconds(function, min_repeats: int, min_total: float = 0.3, max_repeats: int = 50) -> float:
    """Best time over at least ``min_repeats`` calls, repeating until ``min_total`` seconds pass."""
    return best_seconds_interleaved([function], min_repeats, min_total, max_repeats)[0]


def best_seconds_interleaved(functions, min_repeats: int, min_total: float = 0.5, max_repeats: int = 200) -> list[float]:
    """Best time of each function, calling them in turn so that all see the same load.

    Each round calls the functions in order and the next round in reverse order, so
    that none always runs right after the same neighbour. Rounds continue until each
    function ran ``min_repeats`` times and ``min_total`` seconds passed, or
    ``max_repeats`` rounds ran.
    """
    for function in functions:
        function()  # warm-up: compilation, page faults, thread start-up
    best = [float("inf")] * len(functions)
    started = time.perf_counter()
    rounds = 0
    while rounds < min_repeats or (time.perf_counter() - started < min_total and rounds < max_repeats):
        order = range(len(functions)) if rounds % 2 == 0 else reversed(range(len(functions)))
        for index in order:
            begin = time.perf_counter()
            functions[index]()
            best[index] = min(best[index], time.perf_counter() - begin)
        rounds += 1
    return best


def gemm_peak(size: int, repeats: int) -> float:
    rng = np.random.default_rng(0)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    seconds = best_seconds(lambda: a @ b, repeats, min_total=0.0)
    return 2 * size**3 / seconds / 1e9


def numpy_retrieve(queries, patterns, beta):
    scores = queries @ patterns.T
    scores *= beta
    scores -= scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    return scores @ patterns


def make_torch_retrieve(n_threads: int):
    try:
        import torch
    except ImportError:
        return None, "torch not installed"
    torch.set_num_threads(n_threads)

    def torch_retrieve(queries, patterns, beta):
        with torch.inference_mode():
            q = torch.from_numpy(queries)
            x = torch.from_numpy(patterns)
            return (torch.softmax(beta * (q @ x.T), dim=1) @ x).numpy()

    return torch_retrieve, f"torch {torch.__version__}, {torch.get_num_threads()} threads"


def blas_description() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl missing)"
    rows = [
        f"{info.get('internal_api')} {info.get('version')} ({info.get('architecture')}, {info.get('num_threads')} threads)"
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    return "; ".join(rows) or "none found"


def bench_retrieval(sizes, dims, batches, repeats, torch_retrieve):
    rng = np.random.default_rng(1)
    print(
        "| N | d | batch | retrieve GFLOP/s | ModernHopfield GFLOP/s | NumPy GFLOP/s | torch GFLOP/s "
        "| retrieve / NumPy | ModernHopfield / NumPy | ModernHopfield ms |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n_patterns in sizes:
        for d in dims:
            beta = BETA_SCALE / np.sqrt(d)
            memory = ModernHopfield(rng.standard_normal((n_patterns, d), dtype=np.float32), beta)
            patterns = memory.patterns  # the same array for all three, so none finds it in a warmer cache
            for batch in batches:
                queries = rng.standard_normal((batch, d), dtype=np.float32)
                flops = 4.0 * n_patterns * d * batch

                # Check that the implementations agree before timing them.
                reference = numpy_retrieve(queries, patterns, beta)
                np.testing.assert_allclose(retrieve(queries, patterns, beta), reference, atol=1e-4)
                np.testing.assert_allclose(memory.recall(queries), reference, atol=1e-4)

                # Each library is timed on its own, after a pause: thread pools keep
                # spinning for a while after a call (OpenBLAS's, for example), and a
                # spinning pool would take a core from the next library's threads.
                ours_s, memory_s = best_seconds_interleaved(
                    [lambda: retrieve(queries, patterns, beta), lambda: memory.recall(queries)], repeats
                )
                time.sleep(SETTLE_SECONDS)
                numpy_s = best_seconds(lambda: numpy_retrieve(queries, patterns, beta), repeats)
                time.sleep(SETTLE_SECONDS)
                torch_cell = "n/a"
                if torch_retrieve is not None:
                    writable = patterns.copy()  # torch warns about read-only NumPy arrays
                    torch_s = best_seconds(lambda: torch_retrieve(queries, writable, beta), repeats)
                    torch_cell = f"{flops / torch_s / 1e9:.1f}"
                    time.sleep(SETTLE_SECONDS)
                print(
                    f"| {n_patterns:.0e} | {d} | {batch} | {flops / ours_s / 1e9:.1f} | {flops / memory_s / 1e9:.1f} "
                    f"| {flops / numpy_s / 1e9:.1f} | {torch_cell} | {numpy_s / ours_s:.2f} | {numpy_s / memory_s:.2f} "
                    f"| {memory_s * 1e3:.3f} |",
                    flush=True,
                )


def best_microseconds_timeit(functions, repeats: int, min_seconds: float = 0.02) -> list[float]:
    """Best per-call time of each function in microseconds, from timeit loops taken in turn.

    The loop length is set once, from a warm-up call, so that one loop of the first
    function lasts about ``min_seconds``. Each of ``repeats`` rounds then times one loop
    of every function.
    """
    timers = [timeit.Timer(function) for function in functions]
    for timer in timers:
        timer.timeit(1)  # warm-up: compilation, page faults
    number = max(1, int(np.ceil(min_seconds / timers[0].timeit(1))))
    best = [float("inf")] * len(timers)
    for _ in range(repeats):
        for index, timer in enumerate(timers):
            best[index] = min(best[index], timer.timeit(number) / number * 1e6)
    return best


def bench_memory(sizes, dims, batches, repeats):
    """Time ModernHopfield.recall against retrieve and the NumPy formula on one thread."""
    rng = np.random.default_rng(2)
    previous_threads = numba.get_num_threads()
    numba.set_num_threads(1)
    blas_limit = threadpool_limits(1) if threadpool_limits is not None else None
    print("\nModernHopfield, one thread (OpenBLAS and Numba), microseconds per call, best of timeit loops:")
    print("| dtype | N | d | batch | NumPy µs | retrieve µs | ModernHopfield µs | NumPy / ModernHopfield |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for dtype in (np.float32, np.float64):
        for n_patterns in sizes:
            for d in dims:
                beta = BETA_SCALE / np.sqrt(d)
                memory = ModernHopfield(rng.standard_normal((n_patterns, d)).astype(dtype), beta)
                # All three read the memory's own copy, so that none of them finds the
                # patterns in a warmer cache than the others.
                patterns = memory.patterns
                for batch in batches:
                    queries = rng.standard_normal((batch, d)).astype(dtype)
                    np.testing.assert_allclose(
                        memory.recall(queries), numpy_retrieve(queries, patterns, beta), rtol=1e-4, atol=1e-5
                    )
                    numpy_us, function_us, memory_us = best_microseconds_timeit(
                        [
                            lambda: numpy_retrieve(queries, patterns, beta),
                            lambda: retrieve(queries, patterns, beta),
                            lambda: memory.recall(queries),
                        ],
                        repeats,
                    )
                    print(
                        f"| {np.dtype(dtype).name} | {n_patterns:.0e} | {d} | {batch} | {numpy_us:.1f} "
                        f"| {function_us:.1f} | {memory_us:.1f} | {numpy_us / memory_us:.2f} |",
                        flush=True,
                    )
    print()
    if blas_limit is not None:
        blas_limit.restore_original_limits()
    numba.set_num_threads(previous_threads)


def bench_capacity(n_features: int, n_loads: int, n_corruptions: int):
    loads = np.geomspace(0.02, 2.0, n_loads)
    corruptions = np.linspace(0.0, 0.45, n_corruptions)
    memories = [
        ("classical, Hebbian, asynchronous", ClassicalMemory()),
        ("classical, Storkey, asynchronous", ClassicalMemory(rule="storkey")),
        ("dense, x^3, asynchronous", DenseMemory(degree=3)),
        ("dense, exp, synchronous", DenseMemory(interaction="exponential", update="synchronous")),
        ("modern, beta=1/sqrt(n), 1 step", ModernMemory(beta=1.0 / np.sqrt(n_features))),
    ]
    print(f"\nCapacity sweep: n_features={n_features}, {n_loads} loads x {n_corruptions} corruptions, 1 cue per pattern")
    print("| memory | seconds | cues |")
    print("|---|---:|---:|")
    grids = {}
    n_cues = int(sum(max(1, round(load * n_features)) for load in loads)) * n_corruptions
    for label, memory in memories:
        capacity_sweep(memory, n_features, loads[:1], corruptions[:1], seed=0)  # compile outside the timing
        started = time.perf_counter()
        grids[label] = capacity_sweep(memory, n_features, loads, corruptions, seed=0)
        print(f"| {label} | {time.perf_counter() - started:.2f} | {n_cues} |", flush=True)
    return loads, corruptions, grids


def save_plot(path, loads, corruptions, grids, corruption):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.capacity import critical_load, curve_from_sweep, plot

    curves = [curve_from_sweep(label, loads, corruptions, grid, corruption) for label, grid in grids.items()]
    fig, ax = plt.subplots(figsize=(7.0, 4.5))
    plot(curves, ax=ax)
    ax.set_title(f"cues with {corruption:.0%} of units flipped")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    for curve in curves:
        print(f"critical load (recall < 0.5) of {curve.label}: {critical_load(curve):.3f}")
    print(f"capacity plot written to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats (about 30 s)")
    parser.add_argument(
        "--memory-only", action="store_true", help="run only the ModernHopfield per-call table (about 20 s)"
    )
    parser.add_argument("--plot", metavar="PNG", help="also save the capacity curves at 10%% corruption to this file")
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count(),
        help="threads for OpenBLAS, Numba and torch (default: all cores); 1 gives steadier figures on a shared machine",
    )
    args = parser.parse_args()
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    blas_limit = threadpool_limits(args.threads) if threadpool_limits is not None else None

    if args.quick:
        sizes, repeats, gemm_size, sweep_features = (1_000, 10_000), 2, 2048, 100
    else:
        sizes, repeats, gemm_size, sweep_features = (1_000, 10_000, 100_000), 3, 4096, 200
    torch_retrieve, torch_description = make_torch_retrieve(args.threads)

    print(f"load before: {uptime()}")
    print(f"machine: {platform.processor() or platform.machine()}, {platform.platform()}")
    print(f"NumPy {np.__version__}, BLAS: {blas_description()}; {torch_description}; Numba {numba.get_num_threads()} threads")
    print(f"float32 GEMM ({gemm_size}^3): {gemm_peak(gemm_size, repeats):.1f} GFLOP/s\n")

    bench_memory((1_000, 10_000), (64, 256), (1, 32), 5 if args.quick else 15)
    if not args.memory_only:
        bench_retrieval(sizes, (64, 256), (1, 32, 1024), repeats, torch_retrieve)
        loads, corruptions, grids = bench_capacity(sweep_features, 20, 10)
        if args.plot:
            save_plot(args.plot, loads, corruptions, grids, corruption=corruptions[2])
    print(f"\nload after: {uptime()}")
    if blas_limit is not None:
        blas_limit.restore_original_limits()


if __name__ == "__main__":
    main()
