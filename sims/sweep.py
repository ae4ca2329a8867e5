"""Parameter and seed sweeps on dask.distributed, and their aggregate report.

A sweep runs one task per (grid point, seed). Each task writes one run file,
``<grid point>-seed<N>.h5`` in the output directory, and the client keeps
``index.json`` beside them up to date as tasks finish::

    {
      "format_version": 1,
      "experiment": "conditioning",      # the NAME|FILE argument
      "kind": "conditioning",            # binding, conditioning or spiking-conditioning
      "quick": true,
      "grid": {"beta_plus": [0.1, 0.2]},
      "seeds": [0, 1],
      "retries": 1,
      "scheduler": "local" or the scheduler address,
      "updated": "2026-12-04T21:30:00+00:00",
      "tasks": [
        {"name": "beta_plus=0.1-seed0", "point": {"beta_plus": 0.1}, "seed": 0,
         "file": "beta_plus=0.1-seed0.h5", "status": "done" | "failed" | "pending",
         "skipped": false, "attempts": 1, "wall_seconds": 12.3,
         "error": null, "traceback": null}
      ]
    }

``attempts`` counts the times a worker started the task, over every run of the sweep in
that directory. A task whose run file is complete is skipped (``skipped`` true) and
not sent to the cluster. A task that raises is run again by dask up to ``retries``
times, continuing its run file where the experiment supports resuming, and is then
recorded as failed with its error and traceback.

Workers run one thread each, and the variables in :data:`THREAD_ENV` pin BLAS,
OpenMP, numba and torch to one thread. A local cluster sets them before its worker
processes start (dask's ``distributed.nanny.pre-spawn-environ``). On an existing
cluster the task can only set what is still settable at run time (torch, numba and
threadpoolctl limits), so start those workers with the variables set.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import math
import os
import re
import time
import tomllib
import traceback
import warnings
from concurrent.futures import CancelledError
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assoc.errors import ConfigError, DataError, DataNotFoundError
from sims.experiments import ExperimentKind, experiment_kind, load_experiment

logger = logging.getLogger(__name__)

INDEX_NAME = "index.json"
INDEX_FORMAT_VERSION = 1

#: Environment of every worker process: one thread for BLAS, OpenMP, numba and torch.
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}


# ---------------------------------------------------------------------------
# Grid
# ---------------------------------------------------------------------------


def parse_grid(specs: Sequence[str]) -> dict[str, list]:
    """Parse ``KEY=V1,V2,...`` strings into ``{key: [values]}``, in the order given.

    Each value is read as a TOML value (``1000``, ``0.5``, ``true``, ``"text"``,
    ``[1, 2]``). A value that is not valid TOML is kept as a string, so
    ``topology=hexagonal,rectangular`` needs no quotes. Commas inside brackets or
    quotes do not split values.
    """
    grid: dict[str, list] = {}
    for spec in specs:
        key, separator, values_text = spec.partition("=")
        key = key.strip()
        if not separator or not key:
            raise ConfigError(f"Invalid --grid {spec!r}: write KEY=V1,V2,... for example binding.budget_pairs=1000,2000.")
        if not re.fullmatch(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*", key):
            raise ConfigError(f"Invalid --grid key {key!r}: use a dotted config path such as learners.delta.beta_plus.")
        if key == "seeds":
            raise ConfigError("--grid seeds=... is not allowed; give the seeds with --seeds, for example --seeds 0:10.")
        if key in grid:
            raise ConfigError(f"--grid key {key!r} is given twice; list all its values in one --grid {key}=V1,V2.")
        values = [_parse_value(text.strip(), key) for text in _split_values(values_text)]
        if not values:
            raise ConfigError(f"--grid {key}= has no values; give at least one, for example {key}=1,2.")
        if len({json.dumps(value, sort_keys=True) for value in values}) != len(values):
            raise ConfigError(f"--grid {key} lists a value twice: {values_text}.")
        grid[key] = values
    return grid


def _split_values(text: str) -> list[str]:
    parts, depth, quote, current = [], 0, None, []
    for character in text:
        if quote:
            quote = None if character == quote else quote
        elif character in "\"'":
            quote = character
        elif character == "[":
            depth += 1
        elif character == "]":
            depth -= 1
        elif character == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(character)
    parts.append("".join(current))
    return parts if text.strip() else []


def _parse_value(text: str, key: str):
    if not text:
        raise ConfigError(f"--grid {key} has an empty value; remove the extra comma.")
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def parse_seeds(text: str) -> list[int]:
    """Parse ``START:STOP`` (STOP excluded), ``N`` or ``N,M,...`` into a list of seeds."""
    text = text.strip()
    try:
        if ":" in text:
            start, stop = (int(part) for part in text.split(":", 1))
            seeds = list(range(start, stop))
        else:
            seeds = [int(part) for part in text.split(",")]
    except ValueError:
        raise ConfigError(f"Invalid --seeds {text!r}: write START:STOP (STOP excluded), N or N,M,...") from None
    if not seeds:
        raise ConfigError(f"--seeds {text!r} selects no seed; STOP must exceed START, as in 0:10.")
    if any(seed < 0 for seed in seeds) or len(set(seeds)) != len(seeds):
        raise ConfigError(f"--seeds {text!r} must give distinct non-negative integers.")
    return seeds


def grid_points(grid: Mapping[str, list]) -> list[dict]:
    """Return every combination of the grid's values, the last key varying fastest."""
    points = [{}]
    for key, values in grid.items():
        points = [{**point, key: value} for point in points for value in values]
    return points


def apply_point(kind: ExperimentKind, config, point: Mapping[str, object]):
    """Return ``config`` with each dotted key of ``point`` set, validated by the config's own rules."""
    if not point:
        return config
    data = tomllib.loads(kind.to_toml(config))
    for key, value in point.items():
        parts = key.split(".")
        table = data
        for depth, part in enumerate(parts[:-1]):
            table = table.setdefault(part, {})
            if not isinstance(table, dict):
                raise ConfigError(
                    f"Invalid --grid key {key!r}: {'.'.join(parts[: depth + 1])!r} is a value, not a table."
                )
        table[parts[-1]] = value
    source = "grid point " + ", ".join(f"{key}={_format_value(value)}" for key, value in point.items())
    return kind.from_dict(data, source=source, quick=config.quick)


def _format_value(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def task_name(point: Mapping[str, object], seed: int) -> str:
    """Return ``key=value-key=value-seedN`` with characters unsafe in file names replaced by '_'."""
    parts = [f"{key}={_format_value(value)}" for key, value in point.items()] or ["base"]
    return re.sub(r"[^A-Za-z0-9._=+\-]", "_", "-".join(parts)) + f"-seed{seed}"


# ---------------------------------------------------------------------------
# Tasks (run on the workers)
# ---------------------------------------------------------------------------


def pin_threads() -> None:
    """Limit this process to one thread in torch, numba and every BLAS/OpenMP pool threadpoolctl finds."""
    for name, value in THREAD_ENV.items():
        os.environ.setdefault(name, value)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    with contextlib.suppress(ImportError, ValueError):
        import numba

        numba.set_num_threads(1)
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)


def run_task(spec: Mapping) -> dict:
    """Run one (grid point, seed) of a sweep in the calling process and return a summary.

    ``spec`` contains ``kind``, ``config_text``, ``quick``, ``seed`` and ``path``. The
    task counts its attempt in ``<path>.attempts`` first, then skips the run when the
    file is already complete and otherwise runs or resumes it. Exceptions propagate, so
    that dask retries the task.
    """
    pin_threads()
    path = Path(spec["path"])
    attempts = _count_attempt(path)
    kind = experiment_kind(spec["kind"])
    if kind.is_complete(path):
        return {"attempts": attempts, "wall_seconds": 0.0, "skipped": True}
    config = kind.parse(spec["config_text"], quick=spec["quick"])
    started = time.perf_counter()
    kind.run(config, seed=int(spec["seed"]), out=path, resume=True)
    return {"attempts": attempts, "wall_seconds": time.perf_counter() - started, "skipped": False}


def _attempts_path(path: Path) -> Path:
    return path.with_name(path.name + ".attempts")


def _count_attempt(path: Path) -> int:
    counter = _attempts_path(path)
    counter.parent.mkdir(parents=True, exist_ok=True)
    with counter.open("a", encoding="utf-8") as handle:
        handle.write(f"{time.time():.3f}\n")
    return _read_attempts(path)


def _read_attempts(path: Path) -> int:
    counter = _attempts_path(path)
    if not counter.is_file():
        return 0
    return sum(1 for line in counter.read_text(encoding="utf-8").splitlines() if line.strip())


# ---------------------------------------------------------------------------
# The sweep (client side)
# ---------------------------------------------------------------------------


@dataclass
class SweepResult:
    """Outcome of :func:`run_sweep`.

    Attributes
    ----------
    index_path : Path
    tasks : list of dict
        The index's task entries.
    """

    index_path: Path
    tasks: list

    @property
    def failed(self) -> list[dict]:
        """Entries of tasks that failed after their retries."""
        return [task for task in self.tasks if task["status"] == "failed"]


def plan_sweep(
    experiment: str | Path,
    grid: Mapping[str, list],
    *,
    seeds: Sequence[int] | None = None,
    quick: bool = False,
    dataset: str | None = None,
    data_dir: str | None = None,
):
    """Validate every grid point and return (kind, base config, task specs without paths).

    Every point's config is built here, so a bad key or value raises ConfigError before
    any task starts.
    """
    kind, config = load_experiment(experiment, quick=quick, dataset=dataset)
    if data_dir is not None:
        config = apply_point(kind, config, {"data_dir": data_dir})
    seeds = list(config.seeds) if seeds is None else list(seeds)
    tasks = []
    for point in grid_points(grid):
        point_config = apply_point(kind, config, point)
        text = kind.to_toml(point_config)
        for seed in seeds:
            tasks.append({"name": task_name(point, seed), "point": point, "seed": seed, "kind": kind.name,
                          "config_text": text, "quick": quick})  # fmt: skip
    names = [task["name"] for task in tasks]
    if len(set(names)) != len(names):
        raise ConfigError("Two grid points give the same run-file name; make the --grid values differ in more than punctuation.")
    return kind, config, seeds, tasks


def run_sweep(
    experiment: str | Path,
    grid: Mapping[str, list],
    out: str | Path,
    *,
    seeds: Sequence[int] | None = None,
    quick: bool = False,
    dataset: str | None = None,
    data_dir: str | None = None,
    scheduler: str | None = None,
    client=None,
    workers: int = 2,
    retries: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run every (grid point, seed) of an experiment as a dask task; return the index.

    Parameters
    ----------
    experiment : str or path
        Built-in name (binding, conditioning, spiking-conditioning) or TOML file.
    grid : mapping of str to list
        Dotted config keys and their values (see :func:`parse_grid`).
    out : path
        Directory of the run files and ``index.json``.
    seeds : sequence of int, optional
        Default: the config's seeds.
    scheduler : str, optional
        Address of an existing scheduler (``tcp://host:8786``); by default a
        ``LocalCluster`` of ``workers`` single-threaded processes on 127.0.0.1 runs
        for the duration of the sweep.
    client : distributed.Client, optional
        An open client to submit to instead (tests pass one to share a cluster).
    retries : int
        Times dask runs a failed task again before it is recorded as failed.
    progress : callable, optional
        ``progress(done, total)`` over tasks, skipped ones included.
    """
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigError(f"retries must be a non-negative integer; got {retries!r}.")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be a positive integer; got {workers!r}.")
    kind, config, seeds, specs = plan_sweep(experiment, grid, seeds=seeds, quick=quick, dataset=dataset, data_dir=data_dir)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    index = _new_index(experiment, kind, quick, grid, seeds, retries, scheduler)
    entries = []
    for spec in specs:
        spec["path"] = str((out / f"{spec['name']}.h5").resolve())
        entries.append({
            "name": spec["name"], "point": spec["point"], "seed": spec["seed"], "file": f"{spec['name']}.h5",
            "status": "pending", "skipped": False, "attempts": _read_attempts(Path(spec["path"])),
            "wall_seconds": None, "error": None, "traceback": None,
        })  # fmt: skip
    index["tasks"] = entries

    # Tasks with a complete run file are not submitted.
    pending = []
    for spec, entry in zip(specs, entries):
        if kind.is_complete(spec["path"]):
            entry.update(status="done", skipped=True)
        else:
            pending.append((spec, entry))
    index_path = out / INDEX_NAME
    _write_index(index_path, index)
    done = len(entries) - len(pending)
    if progress is not None:
        progress(done, len(entries))
    logger.info("sweep of %d tasks: %d complete already, %d to run", len(entries), done, len(pending))

    if pending:
        with _client(scheduler, client, workers) as active:
            if kind.name == "spiking-conditioning":
                # brian2 installs a SIGINT handler when it is first imported, which only the main
                # thread may do. Dask runs tasks in other threads, but client.run uses the main one.
                # NOTE: a worker that joins the cluster after this call has not imported brian2, so
                # spiking tasks sent to it fail with "signal only works in main thread".
                active.run(_import_brian2)
            futures = {}
            for spec, entry in pending:
                future = active.submit(run_task, spec, key=f"assoc-sweep-{spec['name']}-{os.urandom(4).hex()}",
                                       retries=retries, pure=False)  # fmt: skip
                futures[future] = (spec, entry)
            from distributed import as_completed

            for future in as_completed(futures):
                spec, entry = futures[future]
                _record_outcome(future, spec, entry)
                _write_index(index_path, index)
                done += 1
                if progress is not None:
                    progress(done, len(entries))
    return SweepResult(index_path=index_path, tasks=entries)


def _import_brian2() -> None:
    import brian2  # noqa: F401


def _record_outcome(future, spec: Mapping, entry: dict) -> None:
    if future.status == "finished":
        summary = future.result()
        entry.update(status="done", error=None, traceback=None, attempts=summary["attempts"],
                     wall_seconds=summary["wall_seconds"], skipped=summary["skipped"])  # fmt: skip
        logger.info("task %s finished in %.1f s", spec["name"], summary["wall_seconds"])
        return
    try:
        error = future.exception()
        trace = future.traceback()
    except CancelledError as cancelled:
        # A cancelled future (for example after its worker was shut down) has no exception of its own.
        error, trace = cancelled, None
    entry.update(
        status="failed",
        error=f"{type(error).__name__}: {error}",
        traceback="".join(traceback.format_tb(trace)) if trace is not None else None,
        attempts=_read_attempts(Path(spec["path"])),
    )
    logger.error("task %s failed after %d attempt(s): %s", spec["name"], entry["attempts"], entry["error"])


@contextlib.contextmanager
def _client(scheduler: str | None, client, workers: int):
    if client is not None:
        yield client
        return
    from distributed import Client

    if scheduler is not None:
        with Client(scheduler) as remote:
            yield remote
        return
    with start_local_cluster(workers) as cluster, Client(cluster) as local:
        yield local


def start_local_cluster(workers: int = 2):
    """Start a ``LocalCluster`` of single-threaded worker processes on 127.0.0.1, no dashboard.

    The worker processes start with :data:`THREAD_ENV` in their environment. The
    caller closes the cluster (it is a context manager).
    """
    import dask
    from distributed import LocalCluster

    environment = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    environment.update(THREAD_ENV)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environment}):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            worker_dashboard_address=None,
        )


def _new_index(experiment, kind, quick, grid, seeds, retries, scheduler) -> dict:
    return {
        "format_version": INDEX_FORMAT_VERSION,
        "experiment": str(experiment),
        "kind": kind.name,
        "quick": bool(quick),
        "grid": {key: list(values) for key, values in grid.items()},
        "seeds": list(seeds),
        "retries": retries,
        "scheduler": scheduler or "local",
        "updated": None,
        "tasks": [],
    }


def _write_index(path: Path, index: dict) -> None:
    index["updated"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def read_index(directory: str | Path) -> dict:
    """Return the parsed ``index.json`` of a sweep directory."""
    path = Path(directory) / INDEX_NAME
    if not path.is_file():
        raise DataNotFoundError(f"No sweep index at {path}; run assoc sweep with --out {directory} first.")
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataError(f"Sweep index {path} is not valid JSON ({error}); rerun the sweep to rewrite it.") from None
    if index.get("format_version", 0) > INDEX_FORMAT_VERSION:
        raise DataError(f"Sweep index {path} has format {index['format_version']}, newer than this reader's; upgrade assoc.")
    return index


# ---------------------------------------------------------------------------
# Aggregate report
# ---------------------------------------------------------------------------


@dataclass
class SweepSummary:
    """Mean and sd across seeds of every final metric, per grid point and learner.

    Attributes
    ----------
    rows : list of dict
        ``point`` (str), ``learner``, ``metric``, ``mean``, ``sd`` (ddof 1, NaN for one
        seed), ``n_seeds``.
    curves : dict
        ``{metric: {learner: {point: (x, mean, sd)}}}`` over the seeds' common x axis.
    x_label : str
    failed : list of str
        Names of failed tasks, left out of the statistics.
    """

    rows: list
    curves: dict
    x_label: str
    failed: list


def summarize_sweep(directory: str | Path) -> SweepSummary:
    """Read a sweep directory's index and run files and aggregate them across seeds."""
    directory = Path(directory)
    index = read_index(directory)
    kind = experiment_kind(index["kind"])
    by_point: dict[str, list[Path]] = {}
    failed = []
    for task in index["tasks"]:
        label = _point_label(task["point"])
        path = directory / task["file"]
        if task["status"] == "done" and kind.is_complete(path):
            by_point.setdefault(label, []).append(path)
        elif task["status"] == "failed":
            failed.append(task["name"])

    rows, curves = [], {}
    for label, paths in by_point.items():
        finals = [kind.final_metrics(path) for path in paths]
        for learner in finals[0]:
            for metric in finals[0][learner]:
                values = np.array([final.get(learner, {}).get(metric, np.nan) for final in finals], dtype=np.float64)
                rows.append({"point": label, "learner": learner, "metric": metric, "mean": _nanmean(values),
                             "sd": _nansd(values), "n_seeds": int(np.sum(~np.isnan(values)))})  # fmt: skip
        series = [kind.curves(path) for path in paths]
        for learner, metrics in series[0].items():
            for metric, (x, _) in metrics.items():
                stacks = [s[learner][metric][1] for s in series if learner in s and metric in s[learner]]
                length = min(len(x), *(len(stack) for stack in stacks))
                values = np.stack([stack[:length] for stack in stacks])
                mean = np.nanmean(values, axis=0) if values.size else values
                sd = np.full(length, np.nan)
                if len(stacks) > 1:
                    # A trial where fewer than two seeds are finite gets NaN, without numpy's warning.
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)
                        sd = np.nanstd(values, axis=0, ddof=1)
                curves.setdefault(metric, {}).setdefault(learner, {})[label] = (x[:length], mean, sd)
    return SweepSummary(rows=rows, curves=curves, x_label=kind.x_label, failed=failed)


def _point_label(point: Mapping) -> str:
    return ", ".join(f"{key}={_format_value(value)}" for key, value in point.items()) or "base"


def _nanmean(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else math.nan


def _nansd(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.std(ddof=1)) if finite.size > 1 else math.nan


def summary_markdown(summary: SweepSummary) -> str:
    """Return a Markdown table: grid point, learner, metric, mean ± sd, seeds."""
    lines = ["| grid point | learner | metric | mean ± sd | seeds |", "|---|---|---|---|---|"]
    for row in summary.rows:
        spread = "" if math.isnan(row["sd"]) else f" ± {row['sd']:.4g}"
        lines.append(f"| {row['point']} | {row['learner']} | {row['metric']} | {row['mean']:.4g}{spread} | {row['n_seeds']} |")
    if summary.failed:
        lines += ["", f"Failed tasks, left out: {', '.join(summary.failed)}."]
    return "\n".join(lines) + "\n"


def plot_metric(summary: SweepSummary, metric: str, ax=None):
    """Plot one metric against the x axis: a line per (learner, grid point), a band of ± sd across seeds.

    Returns the line artists.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    lines = []
    for learner, points in summary.curves.get(metric, {}).items():
        for label, (x, mean, sd) in points.items():
            (line,) = ax.plot(x, mean, label=f"{learner} | {label}" if len(summary.curves[metric]) > 1 else label)
            if not np.all(np.isnan(sd)):
                ax.fill_between(x, mean - sd, mean + sd, color=line.get_color(), alpha=0.2, linewidth=0)
            lines.append(line)
    ax.set_xlabel(summary.x_label)
    ax.set_ylabel(metric)
    if lines and len(lines) <= 12:
        ax.legend(fontsize="small")
    return lines


@dataclass(frozen=True)
class SweepReport:
    """Files written by :func:`write_sweep_report`."""

    directory: Path
    summary_path: Path
    plots: tuple


def write_sweep_report(directory: str | Path, out: str | Path | None = None) -> SweepReport:
    """Write ``summary.md`` and one ``curve_<metric>.png`` per metric for a sweep directory.

    The default output directory is ``<directory>/report``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = summarize_sweep(directory)
    target = Path(out) if out is not None else Path(directory) / "report"
    target.mkdir(parents=True, exist_ok=True)
    summary_path = target / "summary.md"
    summary_path.write_text(summary_markdown(summary), encoding="utf-8")
    plots = []
    for metric in summary.curves:
        figure, ax = plt.subplots(figsize=(7, 4))
        try:
            plot_metric(summary, metric, ax=ax)
            path = target / f"curve_{re.sub(r'[^A-Za-z0-9._=+-]', '_', metric)}.png"
            figure.savefig(path, dpi=90, bbox_inches="tight")
            plots.append(path)
        finally:
            plt.close(figure)
    return SweepReport(directory=target, summary_path=summary_path, plots=tuple(plots))
