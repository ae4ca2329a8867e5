"""``assoc condition``: run a Rescorla-Wagner conditioning experiment and summarize it."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

_PARADIGM_NAME = re.compile(r"[a-z_]+")

_EPILOG = """\
DESIGN is one of:
  design text       "Blocking: 10A+ | 10AB+ | 1#B" (groups separated by newlines or ';')
  a paradigm name   acquisition, extinction, blocking, overshadowing, conditioned_inhibition,
                    overexpectation, partial_reinforcement, latent_inhibition
                    (any bare lower-case word is read as a paradigm name)
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
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing --out file instead of stopping"
    )
    parser.add_argument(
        "--plot", type=Path, metavar="FILE.png",
        help="save learning curves and the design to this image (format from the extension: png, pdf, svg, ...)",
    )  # fmt: skip
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
    # A bare lower-case word is read as a paradigm name, so a misspelled name gets a
    # suggestion instead of running each letter as a cue. Designs mark themselves with
    # a digit, ':', '+', '-', '(' or an upper-case cue.
    if spec in PARADIGMS or _PARADIGM_NAME.fullmatch(spec):
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
    if args.seed < 0:
        raise ConfigError(f"--seed must be a non-negative integer; got {args.seed}.")
    # Check the output paths before the run, so that a bad path does not waste it.
    if args.out is not None:
        _check_out_path(args.out, args.overwrite)
    if args.plot is not None:
        _check_plot_path(args.plot)
    design, parameters = resolve_design(args.design)
    logger.info(
        "running %d group(s) x %d subject(s), seed %d", len(design.groups), args.subjects, args.seed
    )
    with progress_bar("subjects", unit="subject") as progress:
        result = run_sessions(design, parameters, n_subjects=args.subjects, seed=args.seed, progress=progress)

    sys.stdout.write(format_summary(result.summary()) + "\n")
    shuffled = any(phase.shuffle for group in design.groups for phase in group.phases)
    if args.subjects > 1 and not shuffled:
        logger.info(
            "trials run in a fixed order, so the subjects of a group are identical (SD 0) "
            "unless a phase is shuffled with '!', as in '!10A+/10B-'"
        )
    try:
        if args.out is not None:
            result.to_hdf5(args.out)
            logger.info("wrote %s", args.out)
        if args.plot is not None:
            _save_plot(result, args.plot)
            logger.info("wrote %s", args.plot)
    except OSError as error:
        raise ConfigError(f"Writing {error.filename or 'an output file'} failed: {error.strerror or error}.") from error
    return 0


def _make_parent(path: Path, option: str) -> None:
    from assoc.errors import ConfigError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError as error:
        raise ConfigError(
            f"Cannot write {option} {str(path)!r}: {str(path.parent)!r} is a file, not a folder; choose another path."
        ) from error
    except OSError as error:
        raise ConfigError(
            f"Creating the folder {str(path.parent)!r} for {option} failed: {error.strerror}; choose another path."
        ) from error


def _check_out_path(path: Path, overwrite: bool) -> None:
    from assoc.errors import ConfigError

    if path.is_dir():
        raise ConfigError(f"--out {str(path)!r} is a folder; give a file name such as {str(path / 'run.h5')!r}.")
    if path.exists() and not overwrite:
        raise ConfigError(f"--out file {str(path)!r} already exists; pass --overwrite to replace it.")
    _make_parent(path, "--out")


def _check_plot_path(path: Path) -> None:
    from matplotlib.backend_bases import FigureCanvasBase

    from assoc.errors import ConfigError

    formats = sorted(FigureCanvasBase.get_supported_filetypes())
    extension = path.suffix.lower().lstrip(".")
    if extension not in formats:
        suffix_text = repr(path.suffix) if path.suffix else "no extension"
        raise ConfigError(
            f"--plot {str(path)!r} has {suffix_text}; end the file name in one of the formats matplotlib "
            f"writes: {', '.join('.' + name for name in formats)}."
        )
    _make_parent(path, "--plot")


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
