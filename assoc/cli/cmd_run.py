"""``assoc run`` and ``assoc list``: run an experiment, list the built-in ones."""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    """Add ``assoc run`` and ``assoc list`` to the top-level parser."""
    run = subparsers.add_parser(
        "run",
        help="run an experiment (built-in name or TOML file) into an HDF5 run file",
        description=(
            "Run a built-in experiment or a TOML config: binding, conditioning or spiking-conditioning "
            "(assoc list shows them). A binding run trains the unimodal stage, then every learner of the "
            "experiment on the same training pairs, with a checkpoint every binding.checkpoint_every pairs. "
            "Writes one HDF5 run file per seed and a "
            "report (PNG plots and summary.md) beside it, then prints the comparison table and the paths."
        ),
    )
    run.add_argument("experiment", metavar="NAME|FILE", help="built-in experiment name (see assoc list) or TOML file")
    run.add_argument("--dataset", default=None, help="dataset to run on (demo or avmnist); default: the config's")
    run.add_argument("--data-dir", default=None, metavar="DIR", help="raw MNIST + FSDD directory for avmnist")
    run.add_argument(
        "--out", default=None, metavar="FILE.h5", help="run file (default: runs/<name>-<dataset>-seed<N>.h5)"
    )
    run.add_argument("--seed", type=int, default=None, metavar="N", help="seed (default: the config's first seed)")
    run.add_argument("--quick", action="store_true", help="use the config's [quick] sizes, for a smoke test (a config without [quick] runs at full size, with a warning)")
    # argparse rejects the two together as a usage error (exit code 2).
    existing = run.add_mutually_exclusive_group()
    existing.add_argument("--resume", action="store_true", help="continue the run file from its last complete checkpoint")
    existing.add_argument("--overwrite", action="store_true", help="replace an existing run file instead of stopping")
    run.add_argument(
        "--threads",
        type=int,
        default=1,
        metavar="N",
        help="torch threads (default: 1); a resumed run must use the same number to repeat the same numbers",
    )
    run.add_argument("--no-report", action="store_true", help="skip the PNG plots and summary.md")
    run.set_defaults(func=run_command)

    listing = subparsers.add_parser("list", help="list the built-in experiments", description="List the built-in experiments.")
    listing.set_defaults(func=list_command)


def run_command(args) -> int:
    """Run the experiment, write the report, print the table and the file paths."""
    from assoc.cli.cmd_sweep import run_other_experiment
    from sims.experiments import resolve_experiment

    if resolve_experiment(args.experiment).name != "binding":
        return run_other_experiment(args)

    from assoc.progress import progress_bar
    from sims.config import load_config
    from sims.report import final_metrics, summary_table, write_report
    from sims.runfile import RunReader
    from sims.runner import run_experiment

    import torch

    from assoc.errors import ConfigError

    if args.threads < 1:
        raise ConfigError(f"--threads must be at least 1; got {args.threads}.")
    # One thread by default: on a busy 2-core machine, two torch threads made a
    # spectrogram training step about 6 times slower than one (0.18 s against 1.19 s).
    torch.set_num_threads(args.threads)
    config = load_config(args.experiment, quick=args.quick, dataset=args.dataset)
    if args.data_dir is not None:
        config = config.replace(data_dir=args.data_dir)
    seeds = [args.seed] if args.seed is not None else list(config.seeds)
    if args.out is not None and len(seeds) > 1:
        logger.warning("--out names one file, so only seed %d of %s runs; pass --seed to choose", seeds[0], seeds)
        seeds = seeds[:1]

    for seed in seeds:
        result = run_experiment(
            config,
            seed=seed,
            out=args.out,
            resume=args.resume,
            overwrite=args.overwrite,
            progress_factory=lambda description, unit: progress_bar(description, unit=unit),
        )
        with RunReader(result.path) as reader:
            table = summary_table(final_metrics(reader))
        sys.stdout.write(f"\n{table}\n\nrun file: {result.path}\n")
        if not args.no_report:
            report = write_report(result.path)
            sys.stdout.write(f"plots and summary: {report.directory}/ ({report.describe()})\n")
    return 0


def list_command(args) -> int:
    """Print each built-in experiment's name and description."""
    from sims.experiments import builtin_descriptions

    for name, description in builtin_descriptions().items():
        sys.stdout.write(f"{name:22s} {description}\n")
    return 0
