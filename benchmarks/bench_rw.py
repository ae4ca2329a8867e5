"""Benchmark Rescorla-Wagner sessions against pyndl and a NumPy loop.

Usage: python benchmarks/bench_rw.py [--quick]

Every learner gets identical cue-outcome events: the trial orders that
``run_sessions`` draws for the design below. The NumPy baseline loops over trials
and vectorizes over subjects. pyndl learns one weight matrix per call, so it gets
the events of several subjects concatenated into one event file, and its figure is
a rate in events per second. Each pyndl call runs in a fresh process,
because a second ``ndl()`` call in one process hangs in pyndl 1.2.4. The script
prints Markdown tables and the machine's load average (``uptime``) before and after.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# Four trial types, each with one of two outcomes, so every event has an outcome
# (pyndl's event files need one) and the other outcome is extinguished.
DESIGN = "Bench: !{n}AB(US1)/{n}AC(US2)/{n}BD(US1)/{n}D(US2)"
PARAMETERS = {"alpha": 0.1, "beta_plus": 0.1, "beta_minus": 0.1, "lambda_": 1.0}
PYNDL_TIMEOUT_S = 300

_PYNDL_SCRIPT = """
import json, sys, time
import numpy as np
from pyndl import ndl
events, out = sys.argv[1], sys.argv[2]
start = time.perf_counter()
weights = ndl.ndl(events, alpha=0.1, betas=(0.1, 0.1), lambda_=1.0, method=sys.argv[3], n_jobs=1,
                  remove_duplicates=True)
elapsed = time.perf_counter() - start
np.save(out, weights.values)
print(json.dumps({"seconds": elapsed, "outcomes": [str(o) for o in weights.outcomes.values],
                  "cues": [str(c) for c in weights.cues.values]}))
"""


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def best_of(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def best_of_cpu(function, repeats: int) -> tuple[float, float]:
    """Return the minimum wall and process CPU seconds; CPU time is less affected by other jobs' load."""
    wall, cpu = [], []
    for _ in range(repeats):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def design_text(n_trials: int) -> str:
    return DESIGN.format(n=n_trials // 4)


def numpy_sessions(result) -> np.ndarray:
    """The same sessions as a NumPy loop over trials, vectorized over subjects; returns final V."""
    group = result.group("Bench")
    cues, us = result.cues, result.us
    alpha = np.full(len(cues), PARAMETERS["alpha"])
    presence = np.zeros((len(group.trial_labels), len(cues)))
    reinforced = np.zeros((len(group.trial_labels), len(us)))
    for k, (names, outcomes) in enumerate(zip(group.trial_cues, group.trial_us)):
        presence[k, [cues.index(name) for name in names]] = 1.0
        reinforced[k, [us.index(name) for name in outcomes]] = 1.0
    strength = np.zeros((group.n_subjects, len(cues), len(us)))
    for trial in range(group.n_trials):
        kind = group.trial_type[:, trial]
        x = presence[kind]  # (n_subjects, n_cues)
        target = reinforced[kind] * PARAMETERS["lambda_"]  # (n_subjects, n_us)
        error = target - np.einsum("sc,scu->su", x, strength)
        strength += PARAMETERS["beta_plus"] * (alpha * x)[:, :, None] * error[:, None, :]
    return strength


def write_events(result, n_subjects: int, path: Path) -> list[tuple[list[str], list[str]]]:
    group = result.group("Bench")
    events = []
    for subject in range(n_subjects):
        for kind in group.trial_type[subject]:
            events.append((list(group.trial_cues[kind]), list(group.trial_us[kind])))
    with gzip.open(path, "wt", compresslevel=1) as file:
        file.write("cues\toutcomes\n")
        file.writelines(f"{'_'.join(c)}\t{'_'.join(o)}\n" for c, o in events)
    return events


def run_pyndl(events_path: Path, method: str, workdir: Path) -> dict | None:
    out = workdir / f"pyndl_{method}.npy"
    environment = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    try:
        completed = subprocess.run(
            [sys.executable, "-c", _PYNDL_SCRIPT, str(events_path), str(out), method],
            capture_output=True, text=True, timeout=PYNDL_TIMEOUT_S, env=environment, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        print(f"pyndl {method}: timed out after {PYNDL_TIMEOUT_S} s", file=sys.stderr)
        return None
    if completed.returncode != 0:
        print(f"pyndl {method} failed:\n{completed.stderr[-2000:]}", file=sys.stderr)
        return None
    info = json.loads(completed.stdout.strip().splitlines()[-1])
    info["weights"] = np.load(out)  # (n_outcomes, n_cues)
    return info


def hetero_benchmark(n_pairs: int, repeats: int, k: int = 64, block: int = 1_000) -> None:
    """Time the hetero-associative delta rule at the cross-modal size: k × k maps, blocks of pairs."""
    from assoc.conditioning import hetero_delta_update

    rng = np.random.default_rng(0)
    inputs = (rng.normal(size=(n_pairs, k)) / np.sqrt(k)).astype(np.float32)
    targets = rng.normal(size=(n_pairs, k)).astype(np.float32)
    hetero_delta_update(np.zeros((k, k), np.float32), inputs[:block], targets[:block], 0.05)  # compile

    def assoc_stream():
        weights = np.zeros((k, k), dtype=np.float32)
        for start in range(0, n_pairs, block):
            hetero_delta_update(weights, inputs[start : start + block], targets[start : start + block], 0.05)
        return weights

    def numpy_stream():
        weights = np.zeros((k, k), dtype=np.float32)
        for x, u in zip(inputs, targets):
            weights += np.float32(0.05) * np.outer(u - weights @ x, x)
        return weights

    assoc_seconds = best_of(assoc_stream, repeats)
    start = time.perf_counter()
    numpy_weights = numpy_stream()
    numpy_seconds = time.perf_counter() - start
    difference = np.abs(numpy_weights - assoc_stream()).max()
    print(f"\n## Hetero-associative delta rule, W ({k} x {k}) float32, {n_pairs} pairs in blocks of {block}\n")
    print("| learner | seconds | pairs/s |")
    print("|---|---|---|")
    print(f"| assoc hetero_delta_update | {assoc_seconds:.4f} | {n_pairs / assoc_seconds:.3g} |")
    print(f"| NumPy loop over pairs (np.outer) | {numpy_seconds:.3f} | {n_pairs / numpy_seconds:.3g} |")
    print(f"\nmax |assoc - NumPy| = {difference:.1e}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()

    import numba

    from assoc.conditioning import RWParameters, run_events, run_sessions

    n_subjects, n_trials = (1_000, 200) if args.quick else (10_000, 1_000)
    pyndl_subjects = 100 if args.quick else 1_000
    repeats = 2 if args.quick else 3
    parameters = RWParameters.from_mapping(PARAMETERS)
    load_before = uptime()
    print(f"load before: {load_before}")
    print(f"numba {numba.__version__}, numpy {np.__version__}, {numba.config.NUMBA_NUM_THREADS} numba threads\n")

    # Compile once, outside every timing.
    start = time.perf_counter()
    run_sessions(design_text(8), parameters, n_subjects=2, seed=0, record="final")
    run_sessions(design_text(8), parameters, n_subjects=2, seed=0, record="trials", dtype=np.float32)
    print(f"first call (compile or cache load): {time.perf_counter() - start:.2f} s\n")

    # 1. Engine against the NumPy loop on identical trial orders.
    text = design_text(n_trials)
    result = run_sessions(text, parameters, n_subjects=n_subjects, seed=0, record="final")
    n_events = n_subjects * n_trials
    rows = []
    for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
        numba.set_num_threads(threads)
        seconds = best_of(lambda: run_sessions(text, parameters, n_subjects=n_subjects, seed=0, record="final"), repeats)
        rows.append((f"assoc, final only, {threads} thread(s)", seconds))
        seconds = best_of(
            lambda: run_sessions(text, parameters, n_subjects=n_subjects, seed=0, dtype=np.float32), repeats
        )
        rows.append((f"assoc, every trial float32, {threads} thread(s)", seconds))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    start = time.perf_counter()
    numpy_final = numpy_sessions(result)
    rows.append(("NumPy loop over trials (vectorized over subjects)", time.perf_counter() - start))
    difference = np.abs(numpy_final - result.group("Bench").final).max()
    print(f"## {n_subjects} subjects x {n_trials} trials ({n_events:.0e} trials), max |assoc - NumPy| = {difference:.1e}\n")
    print("| learner | seconds | trials/s | time / assoc final 1 thread |")
    print("|---|---|---|---|")
    reference_seconds = rows[0][1]
    for name, seconds in rows:
        print(f"| {name} | {seconds:.3f} | {n_events / seconds:.3g} | {seconds / reference_seconds:.2f} |")

    # 2. Linear scaling in subjects x trials.
    print("\n## Scaling (final only, 1 thread)\n")
    print("| subjects | trials | wall seconds | CPU seconds | CPU ns per trial |")
    print("|---|---|---|---|---|")
    numba.set_num_threads(1)
    per_trial = []
    for subjects, trials in [(n_subjects // 4, n_trials), (n_subjects // 2, n_trials), (n_subjects, n_trials),
                             (n_subjects, n_trials // 2), (n_subjects, n_trials * 2)]:  # fmt: skip
        scaled = design_text(trials)
        wall, cpu = best_of_cpu(
            lambda: run_sessions(scaled, parameters, n_subjects=subjects, seed=1, record="final"), repeats
        )
        per_trial.append(cpu / (subjects * trials) * 1e9)
        print(f"| {subjects} | {trials} | {wall:.3f} | {cpu:.3f} | {per_trial[-1]:.1f} |")
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    print(f"\nCPU ns per trial, max / min over sizes: {max(per_trial) / min(per_trial):.2f} (1.0 is perfectly linear)")

    # 3. pyndl on the concatenated events of the first subjects, one process per call.
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        events_path = workdir / "events.tab.gz"
        events = write_events(result, pyndl_subjects, events_path)
        numba.set_num_threads(1)
        start = time.perf_counter()
        weights, cues, outcomes = run_events(events, parameters)
        assoc_seconds = time.perf_counter() - start
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        print(f"\n## pyndl 1.2.4, one weight matrix over {len(events):.0e} events, 1 thread each\n")
        print("| learner | seconds | events/s | max abs weight difference to assoc |")
        print("|---|---|---|---|")
        print(f"| assoc run_events (includes building the trial table in Python) | {assoc_seconds:.2f} | "
              f"{len(events) / assoc_seconds:.3g} | 0 |")  # fmt: skip
        session_rate = n_events / reference_seconds
        ratios = []
        for method in ("openmp", "threading"):
            info = run_pyndl(events_path, method, workdir)
            if info is None:
                print(f"| pyndl ndl(method={method!r}) | failed or timed out | | |")
                continue
            reordered = np.array(
                [[info["weights"][info["outcomes"].index(o), info["cues"].index(c)] for o in outcomes] for c in cues]
            )
            rate = len(events) / info["seconds"]
            print(f"| pyndl ndl(method={method!r}) | {info['seconds']:.2f} | {rate:.3g} | "
                  f"{np.abs(reordered - weights).max():.1e} |")  # fmt: skip
            ratios.append((method, session_rate / rate, len(events) / assoc_seconds / rate))
        print()
        for method, sessions_ratio, stream_ratio in ratios:
            print(f"events per second, assoc / pyndl {method}: sessions (final only, 1 thread) {sessions_ratio:.0f}x, "
                  f"run_events on the same stream {stream_ratio:.0f}x")
    hetero_benchmark(n_pairs=2_000 if args.quick else 20_000, repeats=repeats)
    print(f"\nload after: {uptime()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
