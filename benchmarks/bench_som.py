"""Benchmark assoc's SOM against MiniSom on identical data, grid, iterations and schedules.

Run from the repository root:

    python benchmarks/bench_som.py                    # full run, a few minutes
    python benchmarks/bench_som.py --quick            # smaller sizes, under a minute
    python benchmarks/bench_som.py --codes codes.npy  # case (b) on rotation-model codes

Rotation-model codes are what the experiment runner's SOM learners bind (after it
subtracts the mean training code). ``benchmarks/export_codes.py`` writes them as an
(n_samples, k) array: it trains the rotation model for one epoch on the first 10,000
AV-MNIST training pairs, or loads a trained checkpoint, and encodes the first 10,000
training images:

    python benchmarks/export_codes.py --out /tmp/codes.npy
    python benchmarks/export_codes.py --checkpoint runs/rotation --out /tmp/codes.npy

Cases:

(a) 16,000 x 300 uniform random data on a 25 x 15 map.
(b) AV-MNIST codes on a 20 x 20 map: the first 10,000 rows (2,000 with ``--quick``) of
    the array in ``--codes``, made by ``export_codes.py`` as above. Without ``--codes``
    the case falls back to a PCA-64 projection of the AV-MNIST training images from
    ``assoc.data.load_dataset("avmnist", ...)``, which only stands in for real codes.
    The case is skipped, with the reason printed, when neither is available.

Both libraries start from the same weights (rows sampled from the data), visit the samples
in the same order (assoc replays the order MiniSom's ``train_random`` draws) and use the same
hyperbolic schedules x(t) = x0 / (1 + 2t/T) for the learning rate and the radius (MiniSom's
``asymptotic_decay``, assoc's ``decay='inverse'`` with ``final = x0 / 3``) and a Gaussian
neighbourhood. Online training compares MiniSom's ``train_random`` with
``SOM(algorithm='online')`` over the same single-sample steps. Rows marked "2 threads"
run ``SOM(n_jobs=2)``: two threads each update half of the map and meet once per step,
with the same weights as one thread. One more online row trains assoc with its cut
Gaussian neighbourhood (the Gaussian within radius sigma, 0 beyond), which MiniSom does
not offer. That map differs from MiniSom's, so compare its QE and TE, not only its time. Batch training compares
MiniSom's ``train_batch_offline`` with ``SOM(algorithm='batch')`` over the same passes.
Times exclude Numba compilation, which is measured once and printed separately. Every
row is the fastest of several runs (3 for assoc, 2 for MiniSom). Wall
time and process CPU time are both printed: other processes sharing the CPU inflate wall
time, while CPU time sums over threads (the batch trainer's mapping step uses all cores). Each
library's quantization error is computed by its own method on the full data; assoc's is
also computed on MiniSom's weights, to show that the two metrics agree.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np

from minisom import _build_iteration_indexes

from assoc.som import SOM

# Pause before each timed run. The metrics computed after the previous run use Numba's
# OpenMP threads, which keep spinning for a while after their work ends and would take
# a core from the next run, notably from a two-thread online run.
SETTLE_SECONDS = 0.5

# Each assoc row is the fastest of ASSOC_REPEATS runs and each MiniSom row the fastest of
# MINISOM_REPEATS (MiniSom's runs last seconds, so one burst of load matters less).
ASSOC_REPEATS = 3
MINISOM_REPEATS = 2


@dataclass
class Case:
    name: str
    data: np.ndarray
    n_rows: int
    n_cols: int
    online_steps: int
    batch_passes: int
    sigma: float


@dataclass
class Result:
    library: str
    algorithm: str
    seconds: float
    cpu_seconds: float
    quantization_error: float
    topographic_error: float
    note: str = ""


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages, as ``uptime`` prints them."""
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unavailable"


def random_case(quick: bool) -> Case:
    rng = np.random.default_rng(0)
    n_samples = 2000 if quick else 16000
    data = rng.random((n_samples, 300))
    return Case(
        "(a) random 16,000 x 300" if not quick else "(a) random 2,000 x 300 (quick)",
        data,
        25,
        15,
        online_steps=2000 if quick else 16000,
        batch_passes=1 if quick else 2,
        sigma=5.0,
    )


def codes_case(args) -> tuple[Case | None, str]:
    """Return case (b), or None with the reason it is skipped."""
    n_limit = 2000 if args.quick else 10000
    if args.codes:
        data = np.load(args.codes).astype(np.float64)
        if data.ndim != 2:
            return None, f"--codes {args.codes} has shape {data.shape}; expected (n_samples, k)"
        data = data[:n_limit]
        source = f"codes from {args.codes}"
    else:
        try:
            from assoc.data import load_dataset
        except ImportError as error:
            return None, f"assoc.data.load_dataset is not available ({error})"
        data_dir = args.data_dir or os.environ.get("ASSOC_DATA_DIR")
        try:
            splits = load_dataset("avmnist", data_dir=data_dir, limit=n_limit)
        except (OSError, ValueError) as error:
            return None, f"AV-MNIST could not be loaded ({error}); pass --data-dir or --codes"
        from sklearn.decomposition import PCA

        images = splits["train"].image.reshape(len(splits["train"]), -1).astype(np.float64)
        data = PCA(n_components=64, random_state=0).fit_transform(images)
        source = "PCA-64 of AV-MNIST training images"
    name = f"(b) {source}, {data.shape[0]:,} x {data.shape[1]}"
    return Case(name, data, 20, 20, online_steps=data.shape[0], batch_passes=2 if args.quick else 5, sigma=5.0), ""


def assoc_map(case: Case, algorithm: str, n_iter: int, dtype, neighborhood: str = "gaussian", n_jobs: int = 1) -> SOM:
    return SOM(
        case.n_rows,
        case.n_cols,
        neighborhood=neighborhood,
        n_jobs=n_jobs,
        sigma=case.sigma,
        sigma_final=case.sigma / 3.0,
        sigma_decay="inverse",
        eta=0.5,
        eta_final=0.5 / 3.0,
        eta_decay="inverse",
        algorithm=algorithm,
        n_iter=n_iter,
        init="sample",
        dtype=dtype,
        random_state=0,
    )


def minisom_map(case: Case, initial_weights: np.ndarray):
    from minisom import MiniSom

    som = MiniSom(
        case.n_rows,
        case.n_cols,
        case.data.shape[1],
        sigma=case.sigma,
        learning_rate=0.5,
        decay_function="asymptotic_decay",
        sigma_decay_function="asymptotic_decay",
        neighborhood_function="gaussian",
        topology="rectangular",
        activation_distance="euclidean",
        random_seed=0,
    )
    som._weights = initial_weights.reshape(case.n_rows, case.n_cols, -1).astype(np.float64).copy()
    return som


def run_case(case: Case) -> list[Result]:
    data = case.data
    results = []

    # The same rows start both maps: assoc's fit draws them first from its seeded generator.
    initial = assoc_map(case, "online", case.online_steps, np.float64).initialize(data).weights_

    for algorithm, n_iter in (("online", case.online_steps), ("batch", case.batch_passes)):
        minisom = minisom_map(case, initial)
        # MiniSom's train_random visits the samples in this order, indexing the data
        # inside its loop. assoc replays the order from a copy made outside the timing.
        order = _build_iteration_indexes(data.shape[0], n_iter, random_generator=copy.deepcopy(minisom._random_generator))
        ordered = data[order] if algorithm == "online" else None
        variants = [(np.float32, "gaussian", 1), (np.float64, "gaussian", 1)]
        if algorithm == "online":
            variants += [(np.float32, "gaussian", 2), (np.float64, "gaussian", 2), (np.float32, "cut_gaussian", 1)]
        for dtype, neighborhood, n_jobs in variants:
            seconds = cpu_seconds = float("inf")
            for _ in range(ASSOC_REPEATS):
                som = assoc_map(case, algorithm, n_iter, dtype, neighborhood, n_jobs)
                time.sleep(SETTLE_SECONDS)
                started, cpu_started = time.perf_counter(), time.process_time()
                if algorithm == "online":
                    som.set_weights(initial).partial_fit(ordered)
                else:
                    som.fit(data)
                run_seconds, run_cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
                if run_seconds < seconds:
                    seconds, cpu_seconds = run_seconds, run_cpu_seconds
            label = np.dtype(dtype).name
            if neighborhood != "gaussian":
                label += f", {neighborhood}"
            if n_jobs > 1:
                label += f", {n_jobs} threads"
            results.append(
                Result(
                    f"assoc ({label})",
                    algorithm,
                    seconds,
                    cpu_seconds,
                    som.quantization_error(data),
                    som.topographic_error(data),
                )
            )

        seconds = cpu_seconds = float("inf")
        for _ in range(MINISOM_REPEATS):
            minisom = minisom_map(case, initial)
            time.sleep(SETTLE_SECONDS)
            started, cpu_started = time.perf_counter(), time.process_time()
            if algorithm == "online":
                minisom.train_random(data, n_iter)
            else:
                minisom.train_batch_offline(data, n_iter)
            run_seconds, run_cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
            if run_seconds < seconds:
                seconds, cpu_seconds = run_seconds, run_cpu_seconds
        check = assoc_map(case, algorithm, n_iter, np.float64).set_weights(
            minisom.get_weights().reshape(-1, data.shape[1])
        )
        results.append(
            Result(
                "MiniSom",
                algorithm,
                seconds,
                cpu_seconds,
                float(minisom.quantization_error(data)),
                float(minisom.topographic_error(data)),
                note=f"assoc's QE of these weights: {check.quantization_error(data):.4f}",
            )
        )
    return results


def load_paired_codes(args, limit: int):
    """Return PCA-64 codes of AV-MNIST images and spectrograms with labels, per split, or None."""
    try:
        from assoc.data import load_dataset
    except ImportError:
        return None
    data_dir = args.data_dir or os.environ.get("ASSOC_DATA_DIR")
    try:
        splits = load_dataset("avmnist", data_dir=data_dir, limit=limit)
    except (OSError, ValueError):
        return None
    from sklearn.decomposition import PCA

    codes = {}
    for modality in ("image", "audio"):
        train = getattr(splits["train"], modality).reshape(len(splits["train"]), -1).astype(np.float64)
        test = getattr(splits["test"], modality).reshape(len(splits["test"]), -1).astype(np.float64)
        pca = PCA(n_components=64, svd_solver="randomized", random_state=0).fit(train)
        codes[modality] = (pca.transform(train), pca.transform(test))
    return codes, splits["train"].label, splits["test"].label


def compare_link_rules(args) -> None:
    """Print visual-to-audio label accuracy and Recall@5 against pairs seen, per link rule.

    The maps are fitted once on the training codes of their own modality; each rule then
    learns links from the same sequence of training pairs. ``bmu + error product`` is the
    BMU-only rule whose increment is the product of the two samples' distances to their
    best-matching units, never normalised.
    """
    from analysis.retrieval import retrieval_scores
    from assoc.som import LinkedSOMs

    loaded = load_paired_codes(args, 2000 if args.quick else 5000)
    if loaded is None:
        print("\nlink rules: skipped, AV-MNIST could not be loaded (pass --data-dir)")
        return
    codes, train_labels, test_labels = loaded
    (visual_train, visual_test), (audio_train, audio_test) = codes["image"], codes["audio"]

    # 1,000 test pairs: every query, and the gallery that Recall@5 ranks, come from them.
    visual_test, audio_test, test_labels = visual_test[:1000], audio_test[:1000], test_labels[:1000]
    som_visual = SOM(10, 10, n_iter=20 * len(visual_train), random_state=0).fit(visual_train)
    som_audio = SOM(10, 10, n_iter=20 * len(audio_train), random_state=1).fit(audio_train)

    rules = {
        "bmu + error product": {"activation": "bmu"},
        "bmu": {"activation": "bmu"},
        "neighborhood": {"activation": "neighborhood", "link_sigma": 1.0},
        "neighborhood + oja": {"activation": "neighborhood", "link_sigma": 1.0, "normalization": "oja", "eta": 0.05},
    }
    checkpoints = [n for n in (20, 100, 500, 2000, 5000) if n <= len(visual_train)]
    print(f"\n### Link rules: AV-MNIST PCA-64 codes, 10 x 10 maps, {len(visual_test):,} test queries (visual to audio)")
    print()
    print("| rule | " + " | ".join(f"{n:,} pairs: acc / R@5" for n in checkpoints) + " |")
    print("|---|" + "---:|" * len(checkpoints))
    for name, options in rules.items():
        linked = LinkedSOMs(som_visual, som_audio, names=("visual", "audio"), **options)
        linked.label_units(audio_train, train_labels, "audio")
        cells = []
        seen = 0
        for checkpoint in checkpoints:
            block = slice(seen, checkpoint)
            if name == "bmu + error product":
                errors_visual = np.min(som_visual.transform(visual_train[block]), axis=1)
                errors_audio = np.min(som_audio.transform(audio_train[block]), axis=1)
                state = linked.state_dict()
                np.add.at(
                    state["links"],
                    (som_visual.bmu(visual_train[block]), som_audio.bmu(audio_train[block])),
                    errors_visual * errors_audio,
                )
                state["pairs_seen"] = np.array(checkpoint)
                linked.load_state_dict(state)
            else:
                linked.partial_fit(visual_train[block], audio_train[block])
            seen = checkpoint
            accuracy = linked.score(visual_test, test_labels, "visual")
            recalled = linked.recall(visual_test, "visual")
            recall_at_5 = retrieval_scores(recalled, audio_test, test_labels, test_labels, ks=(5,), metric="euclidean")
            cells.append(f"{accuracy:.3f} / {recall_at_5['R@5']:.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


FRESH_PROCESS_SCRIPT = """
import resource, sys
import numpy as np
from minisom import MiniSom
data = np.load(sys.argv[1])
n_rows, n_cols, n_steps, sigma = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
som = MiniSom(n_rows, n_cols, data.shape[1], sigma=sigma, learning_rate=0.5, random_seed=0)
som.random_weights_init(data)
before = resource.getrusage(resource.RUSAGE_SELF)
som.train_random(data, n_steps)
after = resource.getrusage(resource.RUSAGE_SELF)
print(after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime)
"""


def minisom_fresh_process(case: Case, n_steps: int) -> tuple[float, float]:
    """Return MiniSom's user and system CPU microseconds per online step in a new process.

    MiniSom allocates several arrays the size of the map per step. In a new process glibc
    returns them to the system after each step, so every step pays page faults (system
    time); in a process that has already freed large arrays, glibc's adaptive mmap
    threshold keeps them on the heap. The in-process figures above are the second case.
    Only the time is measured here, so the run starts from MiniSom's own random weights.
    """
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "data.npy")
        np.save(path, case.data)
        environment = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        output = subprocess.run(
            [sys.executable, "-c", FRESH_PROCESS_SCRIPT, path, str(case.n_rows), str(case.n_cols), str(n_steps),
             str(case.sigma)],
            capture_output=True, text=True, check=True, env=environment, timeout=600,
        ).stdout.split()
    user, system = float(output[0]), float(output[1])
    return 1e6 * user / n_steps, 1e6 * system / n_steps


def warm_up() -> float:
    """Compile every kernel the benchmark uses and return the seconds it took."""
    rng = np.random.default_rng(1)
    data = rng.random((50, 4))
    started = time.perf_counter()
    for dtype in (np.float32, np.float64):
        for algorithm in ("online", "batch"):
            som = SOM(3, 3, algorithm=algorithm, n_iter=20, dtype=dtype).fit(data)
            if algorithm == "online":
                SOM(3, 3, n_iter=20, dtype=dtype, n_jobs=2).fit(data)
            som.quantization_error(data)
            som.topographic_error(data)
    return time.perf_counter() - started


def print_results(case: Case, results: list[Result]) -> None:
    print(f"\n### {case.name}, {case.n_rows} x {case.n_cols} map")
    print(f"online: {case.online_steps:,} steps; batch: {case.batch_passes} passes; sigma0 = {case.sigma}")
    print()
    print("| algorithm | library | wall s | CPU s | speed-up (wall) | speed-up (CPU) | QE | TE | note |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for algorithm in ("online", "batch"):
        rows = [result for result in results if result.algorithm == algorithm]
        reference = next(result for result in rows if result.library == "MiniSom")
        for result in rows:
            print(
                f"| {algorithm} | {result.library} | {result.seconds:.3f} | {result.cpu_seconds:.3f} | "
                f"{reference.seconds / result.seconds:.1f}x | {reference.cpu_seconds / result.cpu_seconds:.1f}x | "
                f"{result.quantization_error:.4f} | {result.topographic_error:.4f} | {result.note} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller data and fewer iterations (under a minute)")
    parser.add_argument(
        "--codes",
        help="a .npy file of codes, shape (n_samples, k), for case (b). Write rotation-model codes with "
        "'python benchmarks/export_codes.py --out FILE.npy' (default: a PCA-64 projection of the images)",
    )
    parser.add_argument("--data-dir", help="raw MNIST/FSDD directory for case (b); default ASSOC_DATA_DIR")
    args = parser.parse_args()

    from importlib.metadata import version

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs")
    print(f"numpy {version('numpy')}, numba {version('numba')}, MiniSom {version('minisom')}")
    print(f"load average at start: {load_average()}")
    print(f"numba compilation (first calls, from cache if warm): {warm_up():.1f} s")

    cases = [random_case(args.quick)]
    codes, reason = codes_case(args)
    if codes is None:
        print(f"\ncase (b) skipped: {reason}")
    else:
        cases.append(codes)
    for case in cases:
        results = run_case(case)
        print_results(case, results)
        n_steps = min(case.online_steps, 1000 if args.quick else 2000)
        user, system = minisom_fresh_process(case, n_steps)
        assoc_online = next(r for r in results if r.algorithm == "online" and r.library == "assoc (float32)")
        assoc_per_step = 1e6 * assoc_online.cpu_seconds / case.online_steps
        print(
            f"\nMiniSom online in a new process ({n_steps:,} steps): {user:.0f} us user + {system:.0f} us system "
            f"CPU per step; assoc (float32) above: {assoc_per_step:.1f} us CPU per step, "
            f"{(user + system) / assoc_per_step:.0f}x"
        )
    if not args.codes:
        compare_link_rules(args)
    print(f"\nload average at end: {load_average()}")


if __name__ == "__main__":
    main()
