"""``assoc sweep``: run an experiment over a grid of config values and seeds on dask.distributed."""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    """Add ``assoc sweep`` to the top-level parser."""
    sweep = subparsers.add_parser(
        "sweep",
        help="run an experiment over a grid of config values and seeds, one dask task per run",
        description=(
            "Run one task per (grid point, seed) on a local dask cluster, or on an existing one given "
            "--scheduler. Each task writes one HDF5 run file into --out, and index.json there records every "
            "task's status, file, attempts, wall time and error. Tasks whose run file is complete are "
            "skipped on a rerun; a failing task is retried --retries times and then reported. Exits with 1 "
            "when any task failed. Ends by writing summary.md and plots (mean ± sd across seeds) to OUT/report."
        ),
    )

    # What to run.
    sweep.add_argument(
        "experiment", metavar="NAME|FILE", help="built-in experiment (binding, conditioning, spiking-conditioning) or TOML file"
    )
    sweep.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="dotted config key and its values, for example binding.budget_pairs=1000,2000; repeat for more keys",
    )
    sweep.add_argument("--seeds", default=None, metavar="START:STOP", help="seeds START..STOP-1, or N,M,... (default: the config's)")

    # Where and how it runs.
    sweep.add_argument(
        "--scheduler", default=None, metavar="ADDRESS", help="address of a running dask scheduler (default: start a local cluster)"
    )
    sweep.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output directory (default: sweeps/<experiment name>, with -quick appended under --quick)",
    )
    sweep.add_argument("--workers", type=int, default=2, metavar="N", help="worker processes of the local cluster, one thread each (default: 2)")
    sweep.add_argument("--retries", type=int, default=1, metavar="N", help="times a failed task is run again (default: 1)")
    sweep.add_argument("--quick", action="store_true", help="use the config's smaller [quick] sizes, for a smoke test")
    sweep.add_argument("--dataset", default=None, help="dataset to run on (demo or avmnist); default: the config's")
    sweep.add_argument("--data-dir", default=None, metavar="DIR", help="raw MNIST + FSDD directory for avmnist")
    sweep.add_argument("--no-report", action="store_true", help="skip summary.md and the plots")
    sweep.set_defaults(func=sweep_command)


def sweep_command(args) -> int:
    """Run the sweep, print failed tasks, write the report; return 1 when a task failed."""
    from pathlib import Path

    from assoc.progress import progress_bar
    from sims.experiments import load_experiment
    from sims.sweep import parse_grid, parse_seeds, run_sweep, write_sweep_report

    grid = parse_grid(args.grid)
    seeds = parse_seeds(args.seeds) if args.seeds is not None else None
    out = args.out
    if out is None:
        _, config = load_experiment(args.experiment, quick=args.quick, dataset=args.dataset)
        out = Path("sweeps") / (config.name + ("-quick" if args.quick else ""))

    with progress_bar("sweep", unit="task") as progress:
        result = run_sweep(
            args.experiment,
            grid,
            out,
            seeds=seeds,
            quick=args.quick,
            dataset=args.dataset,
            data_dir=args.data_dir,
            scheduler=args.scheduler,
            workers=args.workers,
            retries=args.retries,
            progress=progress,
        )
    done = [task for task in result.tasks if task["status"] == "done"]
    skipped = [task for task in done if task["skipped"]]
    sys.stdout.write(
        f"{len(done)} of {len(result.tasks)} tasks done ({len(skipped)} skipped as complete), "
        f"{len(result.failed)} failed\nindex: {result.index_path}\n"
    )
    for task in result.failed:
        sys.stdout.write(f"FAILED {task['name']} after {task['attempts']} attempt(s): {task['error']}\n")
        if task["traceback"]:
            sys.stdout.write(task["traceback"].rstrip() + "\n")
    if not args.no_report and done:
        report = write_sweep_report(result.index_path.parent)
        sys.stdout.write(f"report: {report.summary_path} and {len(report.plots)} plots in {report.directory}/\n")
    return 1 if result.failed else 0


def run_other_experiment(args) -> int:
    """Run a conditioning or spiking-conditioning experiment for ``assoc run``; return the exit code.

    ``args`` carries the options of ``assoc run`` (experiment, dataset, data_dir, out,
    seed, quick, resume, overwrite, threads, no_report). Prints each seed's final metrics and run
    file, and writes the report beside the run file unless ``no_report`` is set.
    """
    from assoc.errors import ConfigError
    from assoc.progress import progress_bar
    from sims.report import metrics_table, write_run_report
    from sims.experiments import load_experiment
    from sims.sweep import apply_point

    kind, config = load_experiment(args.experiment, quick=args.quick, dataset=args.dataset)
    if kind.name == "binding":
        raise ConfigError(f"{args.experiment} is a binding experiment; the binding runner runs it.")
    if getattr(args, "threads", 1) < 1:
        raise ConfigError(f"--threads must be at least 1; got {args.threads}.")
    if args.data_dir is not None:
        config = apply_point(kind, config, {"data_dir": args.data_dir})
    if kind.name != "spiking-conditioning":
        import torch

        torch.set_num_threads(getattr(args, "threads", 1))
    seeds = [args.seed] if args.seed is not None else list(config.seeds)
    if args.out is not None and len(seeds) > 1:
        logger.warning("--out names one file, so only seed %d of %s runs; pass --seed to choose", seeds[0], seeds)
        seeds = seeds[:1]

    for seed in seeds:
        result = kind.run(
            config,
            seed=seed,
            out=args.out,
            resume=args.resume,
            overwrite=getattr(args, "overwrite", False),
            progress_factory=lambda description, unit: progress_bar(description, unit=unit),
        )
        sys.stdout.write(metrics_table(result.final_metrics) + f"\n\nrun file: {result.path}\n")
        if not getattr(args, "no_report", False):
            report = write_run_report(result.path)
            sys.stdout.write(f"plots and summary: {report.directory}/ ({report.describe()})\n")
    return 0
