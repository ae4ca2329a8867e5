"""``assoc condition``: run a Rescorla-Wagner conditioning experiment and summarize it."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

_EPILOG = """\
DESIGN is one of:
  design text       "Blocking: 10A+ | 10AB+ | 1#B" (groups separated by newlines or ';')
  a paradigm name   acquisition, extinction, blocking, overshadowing, conditioned_inhibition,
                    overexpectation, partial_reinforcement, latent_inhibition
  a file            FILE.toml (groups, us, parameters) or FILE.txt (one group per line)

Values are recorded before each trial's update. See docs/conditioning.md for the grammar.
"""


def register(subparsers) -> None:
    """Add the ``condition`` subcommand."""
    parser = subparsers.add_parser(
        "condition",
        help="run a Rescorla-Wagner conditioning experiment",
        description="Run a Rescorla-Wagner conditioning experiment and print the final V per cue and group.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("design", metavar="DESIGN", help="design text, a paradigm name, or a .toml/.txt file")
    parser.add_argument("--subjects", type=int, default=20, metavar="N", help="subjects per group (default: 20)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="root seed of the trial orders (default: 0)")
    parser.add_argument("--out", type=Path, metavar="FILE.h5", help="write every trial's values to this HDF5 file")
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help="save learning curves and the design to this image")
    parser.set_defaults(func=run)


def resolve_design(spec: str):
    """Return (design, parameters) for design text, a paradigm name or a file path."""
    from assoc.conditioning import RWParameters, get_paradigm, load_design, parse_design
    from assoc.conditioning.paradigms import PARADIGMS
    from assoc.errors import DataNotFoundError

    path = Path(spec)
    if path.suffix in (".toml", ".txt"):
        if not path.is_file():
            raise DataNotFoundError(f"Design file {spec!r} not found; check the path.")
        design, parameters = load_design(path)
        return design, RWParameters.from_mapping(parameters)
    if spec in PARADIGMS:
        paradigm = get_paradigm(spec)
        return paradigm.design, paradigm.parameters
    # ';' separates groups so that a multi-group design fits on one shell line.
    return parse_design(spec.replace(";", "\n")), RWParameters()


def run(args: argparse.Namespace) -> int:
    from assoc.conditioning import run_sessions
    from assoc.conditioning.results import format_summary
    from assoc.errors import ConfigError
    from assoc.progress import progress_bar

    if args.subjects < 1:
        raise ConfigError(f"--subjects must be at least 1; got {args.subjects}.")
    design, parameters = resolve_design(args.design)
    logger.info(
        "running %d group(s) x %d subject(s), seed %d", len(design.groups), args.subjects, args.seed
    )
    with progress_bar("subjects", unit="subject") as progress:
        result = run_sessions(design, parameters, n_subjects=args.subjects, seed=args.seed, progress=progress)

    sys.stdout.write(format_summary(result.summary()) + "\n")
    if args.out is not None:
        result.to_hdf5(args.out)
        logger.info("wrote %s", args.out)
    if args.plot is not None:
        _save_plot(result, args.plot)
        logger.info("wrote %s", args.plot)
    return 0


def _save_plot(result, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.conditioning_plots import design_summary, learning_curves, plot_design_summary, plot_learning_curves

    curves = learning_curves(
        {name: result.learning_curve(name) for name in result.groups},
        result.cues,
        phase_boundaries={name: result.phase_boundaries(name) for name in result.groups},
    )
    phases, counts = result.design_table()
    figure, (curve_axes, design_axes) = plt.subplots(
        2, 1, figsize=(8, 6), gridspec_kw={"height_ratios": [3, 1]}, layout="constrained"
    )
    plot_learning_curves(curves, ax=curve_axes)
    plot_design_summary(design_summary(phases, counts), ax=design_axes)
    figure.savefig(path, dpi=120)
    plt.close(figure)
