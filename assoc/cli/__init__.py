"""The ``assoc`` command line.

Each subcommand lives in a module ``assoc/cli/cmd_<name>.py`` that defines
``register(subparsers)``. The module adds its parser with
``subparsers.add_parser(...)`` and sets ``func`` through ``set_defaults``, a function
that takes the parsed arguments and returns an exit code. Modules are found by name,
so adding a subcommand touches no other file. A subcommand imports ``torch``,
``models``, ``sims`` or ``analysis`` inside ``func``, never at module level, so that
``assoc --help`` stays fast and torch-free.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys

from assoc import __version__
from assoc.errors import AssocError

logger = logging.getLogger("assoc")


def _command_modules():
    package = importlib.import_module(__name__)
    names = sorted(
        info.name for info in pkgutil.iter_modules(package.__path__) if info.name.startswith("cmd_")
    )
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="assoc",
        description="Hebbian and associative-memory simulation over a shared, modality-rotated embedding.",
    )
    parser.add_argument("--version", action="version", version=f"assoc {__version__}")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more detail (-vv for debug messages)"
    )
    verbosity.add_argument(
        "-q", "--quiet", action="store_true", help="log warnings and errors only, and hide progress bars"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        module.register(subparsers)
    return parser


def configure_logging(verbose: int, quiet: bool) -> None:
    """Send ``assoc`` log records to stderr at the level that -v/-q select."""
    if quiet:
        level = logging.WARNING
    elif verbose >= 2:
        level = logging.DEBUG
    else:
        level = logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    for name in ("assoc", "models", "sims", "analysis"):
        package_logger = logging.getLogger(name)
        package_logger.handlers[:] = [handler]
        package_logger.setLevel(level)
        package_logger.propagate = False


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return the exit code (0 success, 1 error, 2 usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose, args.quiet)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except AssocError as error:
        logger.error("%s", error)
        return 1
    except KeyboardInterrupt:
        logger.error("interrupted; completed checkpoints and files are kept (assoc run ... --resume continues a run)")
        return 130
    except BrokenPipeError:
        # The reader of stdout went away (for example `assoc data info | head`). Point
        # stdout at devnull so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
