"""Benchmark the spiking conditioning protocol on brian2's numpy and Cython targets.

Usage: python benchmarks/bench_spiking.py [--neurons 1000] [--quick]

The figure of merit is simulated seconds per wall-clock second of the protocol run
(the ``Network.run`` calls of all phases). Other processes may share the CPU, so the
script also reports CPU seconds of this process and of its children (the C compiler). The Cython target is run twice in this
process with a fresh cache directory: the first run compiles every code object, the
second reuses them, so the compile time is the difference of the two. The protocol
is shortened to 16 trials of 500 ms (8 s simulated; --quick: 6 trials, 3 s) so that
the script finishes in a few minutes on 2 shared cores. The script prints a Markdown
table, the machine and the load average (``uptime``) before and after.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def make_config(n_neurons: int, quick: bool, target: str, cache_dir: str | None):
    import brian2

    from assoc.spiking import NetworkConfig, ProtocolConfig, SpikingConfig

    trials = (2, 2, 2, 0) if quick else (4, 6, 4, 2)
    protocol = ProtocolConfig(
        trial_period=500 * brian2.ms,
        n_pretest_trials=trials[0],
        n_conditioning_trials=trials[1],
        n_posttest_trials=trials[2],
        n_extinction_trials=trials[3],
        block_trials=2,
    )
    return SpikingConfig(
        network=NetworkConfig(n_neurons=n_neurons), protocol=protocol, target=target, cython_cache_dir=cache_dir
    )


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_run(config, seed: int) -> dict:
    from assoc.spiking import run_spiking_conditioning

    started = time.perf_counter()
    cpu_started = cpu_seconds()
    results = run_spiking_conditioning(config, seed=seed)
    total = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_started
    run = sum(results.wall_time.values())
    n_spikes = sum(times.size for times, _ in results.spikes.values())
    return {
        "simulated": results.schedule.duration,
        "total": total,
        "cpu": cpu,
        "run": run,
        "spikes": n_spikes,
        "fraction": results.phases["posttest"].cross_modal_fraction["auditory"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=1000, help="neurons per population (default 1000)")
    parser.add_argument("--quick", action="store_true", help="6 trials (3 s simulated) instead of 16 (8 s)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import brian2

    from assoc.spiking.experiment import cython_available

    print(f"command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical cores, {platform.platform()}")
    print(f"python {platform.python_version()}, brian2 {brian2.__version__}")
    print(f"load before: {uptime()}")

    rows = []
    numpy_figures = timed_run(make_config(args.neurons, args.quick, "numpy", None), args.seed)
    rows.append(("numpy", numpy_figures, None))
    print(f"numpy done: {numpy_figures}", flush=True)

    available, reason = cython_available()
    if available:
        cache_dir = tempfile.mkdtemp(prefix="bench-spiking-cython-")
        try:
            cold = timed_run(make_config(args.neurons, args.quick, "cython", cache_dir), args.seed)
            print(f"cython cold done: {cold}", flush=True)
            warm = timed_run(make_config(args.neurons, args.quick, "cython", cache_dir), args.seed)
        finally:
            shutil.rmtree(cache_dir, ignore_errors=True)
        rows.append(("cython, cold cache", cold, None))
        rows.append(("cython, warm cache", warm, (cold["total"] - warm["total"], cold["cpu"] - warm["cpu"])))
    else:
        print(f"cython skipped: {reason}")

    print(f"load after: {uptime()}")
    print()
    print(f"{args.neurons} neurons per population, {numpy_figures['simulated']:g} s simulated")
    print()
    print(
        "| target | total wall (s) | total CPU (s) | run wall (s) | simulated s per wall s (run) "
        "| compile wall / CPU (s) | spikes | post-test cross-modal fraction |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, figures, compile_seconds in rows:
        compile_text = f"{compile_seconds[0]:.1f} / {compile_seconds[1]:.1f}" if compile_seconds is not None else "-"
        print(
            f"| {name} | {figures['total']:.1f} | {figures['cpu']:.1f} | {figures['run']:.1f} | "
            f"{figures['simulated'] / figures['run']:.3f} | {compile_text} | {figures['spikes']} | {figures['fraction']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
