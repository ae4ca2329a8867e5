"""``assoc report``: plots and a summary table of a run file of any kind, or of a sweep directory."""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    """Add ``assoc report`` to the top-level parser."""
    report = subparsers.add_parser(
        "report",
        help="write PNG plots and a Markdown summary of a run file",
        description=(
            "Write the report that assoc run writes for the run file's kind, and print its summary table. "
            "Binding: one PNG per metric against pairs seen (a line per learner), a t-SNE of the codes at "
            "the first and last checkpoint (tsne.png), a learner comparison chart (comparison.png) and "
            "summary.md. Conditioning: one PNG per readout against trial and summary.md. "
            "Spiking-conditioning: summary.png (raster, rates, cross-modal fraction) and summary.md."
        ),
    )
    report.add_argument(
        "run_file", metavar="FILE.h5|DIR", help="run file written by assoc run, or a sweep directory written by assoc sweep"
    )
    report.add_argument(
        "--out", default=None, metavar="DIR", help="output directory (default: <run file without .h5>_report)"
    )
    report.add_argument("--no-tsne", action="store_true", help="skip the t-SNE figure of a binding run, the slowest part")
    report.set_defaults(func=run_report)


def run_report(args) -> int:
    """Write the report and print the table and the output directory."""
    from pathlib import Path

    from sims.report import write_run_report

    if Path(args.run_file).is_dir():
        from sims.sweep import write_sweep_report

        sweep_report = write_sweep_report(args.run_file, args.out)
        sys.stdout.write(sweep_report.summary_path.read_text(encoding="utf-8"))
        files = f"{sweep_report.summary_path.name}, {len(sweep_report.plots)} curve_*.png"
        sys.stdout.write(f"\nplots and summary: {sweep_report.directory}/ ({files})\n")
        return 0

    report = write_run_report(args.run_file, args.out, tsne=not args.no_tsne)
    sys.stdout.write(report.table.read_text(encoding="utf-8"))
    sys.stdout.write(f"\nplots and summary: {report.directory}/ ({report.describe()})\n")
    return 0
