"""Reports of a run file: learning curves, t-SNE of codes, comparison chart, table.

:func:`write_run_report` reads the run file's kind and writes that kind's report:
:func:`write_report` for a binding run, curves and a table for a conditioning run, the
spiking summary figure and a table for a spiking run. Each plot is built from data returned by a function that tests can check without
looking at pixels: :func:`learning_curves` for the curves, :func:`tsne_embeddings` for
the t-SNE panels and :func:`final_metrics` for the comparison chart and the table.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assoc.errors import DataError
from sims.evaluation import SUMMARY_METRICS
from sims.runfile import RunReader

logger = logging.getLogger(__name__)

# Metrics of the comparison chart, each in [0, 1] and higher-is-better.
COMPARISON_METRICS = (
    "retrieval_visual_to_audio_R@1",
    "retrieval_audio_to_visual_R@1",
    "transfer_visual_to_audio",
    "transfer_audio_to_visual",
    "missing_visual_only",
    "missing_audio_only",
)
# Bookkeeping series that are axes or costs rather than curves worth a plot each.
_NOT_PLOTTED = ("pairs_seen", "epochs", "eval_seconds")


@dataclass(frozen=True)
class Report:
    """Files written by :func:`write_report`.

    Attributes
    ----------
    directory : Path
    curves : list of Path
        One PNG per metric, against pairs seen (binding) or trial (conditioning).
    tsne : Path or None
        The t-SNE figure; None when the run stored no snapshots or t-SNE was skipped.
    comparison : Path or None
        The learner comparison chart of a binding run.
    table : Path
        The Markdown summary table.
    kind : str
        Experiment kind of the run file.
    summary_plot : Path or None
        The raster, rate and cross-modal fraction figure of a spiking run.
    """

    directory: Path
    curves: list
    tsne: Path | None
    comparison: Path | None
    table: Path
    kind: str = "binding"
    summary_plot: Path | None = None

    def describe(self) -> str:
        """Return the list of written files that ``assoc run`` and ``assoc report`` print."""
        names = [self.table.name]
        names += [path.name for path in (self.summary_plot, self.comparison, self.tsne) if path is not None]
        if self.curves:
            names.append(f"{len(self.curves)} curve_*.png")
        return ", ".join(names)


def learning_curves(reader: RunReader) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Return {metric: {learner: (pairs_seen, values)}} for every metric of the run."""
    curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    for learner in reader.learners():
        pairs_seen = reader.pairs_seen(learner)
        for name, values in reader.metrics(learner).items():
            curves.setdefault(name, {})[learner] = (pairs_seen, values)
    return dict(sorted(curves.items()))


def final_metrics(reader: RunReader) -> dict[str, dict[str, float]]:
    """Return each learner's metrics at its last committed checkpoint."""
    result = {}
    for learner in reader.learners():
        if reader.n_checkpoints(learner):
            result[learner] = {name: float(values[-1]) for name, values in reader.metrics(learner).items()}
    return result


def summary_table(finals: dict[str, dict[str, float]], metrics=("pairs_seen",) + SUMMARY_METRICS) -> str:
    """Return a Markdown table: one row per learner, one column per metric (blank when missing)."""
    lines = ["| learner | " + " | ".join(metrics) + " |", "|---|" + "---|" * len(metrics)]
    for learner, values in finals.items():
        cells = [_format(values.get(name, math.nan), name) for name in metrics]
        lines.append(f"| {learner} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def metrics_table(finals: dict[str, dict[str, float]]) -> str:
    """Return a Markdown table of a conditioning or spiking run: a row per group, a column per metric.

    The columns are every final metric in first-seen order, except the per-digit
    ``strength_digit*`` values; cells of metrics a group lacks are blank.
    """
    columns = []
    for metrics in finals.values():
        columns += [key for key in metrics if key not in columns and not key.startswith("strength_digit")]
    lines = ["| | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for learner, metrics in finals.items():
        cells = [f"{metrics[key]:.3g}" if key in metrics else "" for key in columns]
        lines.append(f"| {learner} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _format(value: float, name: str) -> str:
    if math.isnan(value):
        return ""
    if name == "pairs_seen":
        return f"{int(value)}"
    if name.endswith("seconds"):
        return f"{value:.1f}"
    return f"{value:.3f}"


def tsne_embeddings(reader: RunReader, *, seed: int = 0) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """Return t-SNE coordinates of the snapshots at the first and last checkpoint.

    Returns
    -------
    dict
        ``{learner: {"first" | "last": {"xy": (2n, 2), "label": (2n,), "modality": (2n,)}}}``,
        with the n recalled visual codes first (modality 0) and the n audio codes after
        them (modality 1), embedded together so that the two modalities share one map.
    """
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    result = {}
    for learner in reader.learners():
        count = reader.n_checkpoints(learner)
        if count == 0:
            continue
        result[learner] = {}
        for which, index in (("first", 0), ("last", count - 1)):
            snapshot = reader.snapshot(learner, index)
            points = np.vstack([snapshot["z_visual"], snapshot["z_audio"]]).astype(np.float64)
            n = snapshot["z_visual"].shape[0]
            perplexity = float(min(30.0, max(2.0, (points.shape[0] - 1) / 3.0)))
            # One OpenMP thread: on a busy 2-core machine more threads made t-SNE ~30 times slower.
            with threadpool_limits(1):
                tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", max_iter=500, random_state=seed)
                xy = tsne.fit_transform(points)
            result[learner][which] = {
                "xy": xy,
                "label": np.concatenate([snapshot["label"], snapshot["label"]]),
                "modality": np.repeat([0, 1], n),
            }
    return result


def plot_curve(curve: dict[str, tuple[np.ndarray, np.ndarray]], metric: str, ax=None, *, x_label: str = "pairs seen") -> list:
    """Draw one metric against pairs seen (or ``x_label``), one line per learner; return the line artists."""
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.gca()
    lines = []
    for learner, (pairs_seen, values) in curve.items():
        if np.all(np.isnan(values)):
            continue
        lines += ax.plot(pairs_seen, values, marker="o", markersize=3, label=learner)
    ax.set_xlabel(x_label)
    ax.set_ylabel(metric)
    ax.set_title(metric)
    if lines:
        ax.legend(fontsize="small")
    return lines


def plot_tsne(panels: dict[str, dict[str, dict[str, np.ndarray]]], fig=None):
    """Draw the t-SNE panels: a row per learner, first and last checkpoint; return the figure.

    Colour is the digit; circles are recalled visual codes, crosses are audio codes. A
    legend at the right gives the colour of each digit and the two markers.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    learners = list(panels)
    n_rows = max(len(learners), 1)
    fig = fig if fig is not None else plt.figure(figsize=(7.5, 0.4 + 2.9 * n_rows), layout="constrained")
    axes = fig.subplots(n_rows, 2, squeeze=False)
    colours = plt.get_cmap("tab10")
    for row, learner in enumerate(learners):
        for column, which in enumerate(("first", "last")):
            ax = axes[row, column]
            panel = panels[learner][which]
            for modality, marker in ((0, "o"), (1, "x")):
                mask = panel["modality"] == modality
                ax.scatter(
                    panel["xy"][mask, 0], panel["xy"][mask, 1], c=panel["label"][mask], cmap="tab10",
                    vmin=-0.5, vmax=9.5, marker=marker, s=12, linewidths=0.9,
                )
            ax.set_title(f"{learner}: {which} checkpoint", fontsize="medium")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.margins(0.03)

    handles = [
        Line2D([], [], linestyle="", marker="s", markersize=7, color=colours(digit), label=f"digit {digit}")
        for digit in range(10)
    ]
    handles += [
        Line2D([], [], linestyle="", marker="o", markersize=6, color="0.3", label="visual (recalled)"),
        Line2D([], [], linestyle="", marker="x", markersize=6, color="0.3", label="audio"),
    ]
    fig.legend(handles=handles, loc="outside right center", fontsize="small", frameon=False)
    fig.suptitle("t-SNE of recalled visual codes and audio codes")
    return fig


def plot_comparison(finals: dict[str, dict[str, float]], ax=None, metrics=COMPARISON_METRICS) -> list:
    """Draw grouped bars of the final metrics, a group per metric; return the bar containers."""
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.gca()
    learners = list(finals)
    width = 0.8 / max(len(learners), 1)
    positions = np.arange(len(metrics))
    containers = []
    for i, learner in enumerate(learners):
        values = [finals[learner].get(name, math.nan) for name in metrics]
        containers.append(ax.bar(positions + i * width, values, width, label=learner))
    ax.set_xticks(positions + width * (len(learners) - 1) / 2)
    ax.set_xticklabels(metrics, rotation=30, ha="right", fontsize="small")
    ax.set_ylabel("score at the last checkpoint")
    ax.set_ylim(0.0, 1.0)
    ax.legend(fontsize="small")
    return containers


def write_run_report(run_path: str | Path, out_dir: str | Path | None = None, *, tsne: bool = True) -> Report:
    """Write the report of a run file of any kind into ``out_dir``; ``tsne`` applies to binding runs.

    ``out_dir`` defaults to ``<run file without .h5>_report`` beside the run file.
    """
    from sims.runfile import run_file_kind

    kind = run_file_kind(run_path)
    if kind == "binding":
        return write_report(run_path, out_dir, tsne=tsne)
    if kind == "conditioning":
        return _write_conditioning_report(Path(run_path), _report_directory(run_path, out_dir))
    if kind == "spiking-conditioning":
        return _write_spiking_report(Path(run_path), _report_directory(run_path, out_dir))
    raise DataError(
        f"Run file {run_path} contains a run of kind {kind!r}, which has no report; "
        "the kinds with one are binding, conditioning and spiking-conditioning."
    )


def _report_directory(run_path: str | Path, out_dir: str | Path | None) -> Path:
    run_path = Path(run_path)
    directory = Path(out_dir) if out_dir is not None else run_path.with_name(run_path.stem + "_report")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _write_conditioning_report(run_path: Path, directory: Path) -> Report:
    import matplotlib

    matplotlib.use("Agg")

    # Conditioning files use the binding layout, with trials in place of pairs seen,
    # but store no code snapshots, so the report has curves and a table only.
    with RunReader(run_path) as reader:
        curves = learning_curves(reader)
        finals = final_metrics(reader)
    curve_paths = _write_curves(curves, directory, x_label="trial")
    table_path = directory / "summary.md"
    table_path.write_text(
        f"# Conditioning run {run_path.name}\n\nReadouts after each group's last trial.\n\n{metrics_table(finals)}\n",
        encoding="utf-8",
    )
    logger.info("report of %s written to %s", run_path, directory)
    return Report(
        directory=directory, curves=curve_paths, tsne=None, comparison=None, table=table_path, kind="conditioning"
    )


def _write_spiking_report(run_path: Path, directory: Path) -> Report:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.spiking_plots import plot_spiking_summary, read_spiking_run
    from sims.spiking import final_metrics as spiking_final_metrics

    artists = plot_spiking_summary(read_spiking_run(run_path))
    summary_path = directory / "summary.png"
    try:
        artists["figure"].savefig(summary_path, dpi=90, bbox_inches="tight")
    finally:
        plt.close(artists["figure"])

    table_path = directory / "summary.md"
    table_path.write_text(
        f"# Spiking run {run_path.name}\n\nReadouts of each phase.\n\n{metrics_table(spiking_final_metrics(run_path))}\n",
        encoding="utf-8",
    )
    logger.info("report of %s written to %s", run_path, directory)
    return Report(
        directory=directory,
        curves=[],
        tsne=None,
        comparison=None,
        table=table_path,
        kind="spiking-conditioning",
        summary_plot=summary_path,
    )


def _write_curves(curves: dict, directory: Path, *, x_label: str = "pairs seen") -> list[Path]:
    """Write one PNG per plotted metric; return their paths."""
    import matplotlib.pyplot as plt

    curve_paths = []
    for metric, curve in curves.items():
        if metric in _NOT_PLOTTED:
            continue
        fig, ax = plt.subplots(figsize=(6, 4))
        plot_curve(curve, metric, ax, x_label=x_label)
        path = directory / f"curve_{_file_name(metric)}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=80)
        plt.close(fig)
        curve_paths.append(path)
    return curve_paths


def write_report(run_path: str | Path, out_dir: str | Path | None = None, *, tsne: bool = True) -> Report:
    """Write the PNG plots and the Markdown table of a binding run file into ``out_dir``.

    ``out_dir`` defaults to ``<run file without .h5>_report`` beside the run file.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_path = Path(run_path)
    directory = _report_directory(run_path, out_dir)
    with RunReader(run_path) as reader:
        curves = learning_curves(reader)
        finals = final_metrics(reader)
        panels = tsne_embeddings(reader) if tsne else {}

    curve_paths = _write_curves(curves, directory)

    tsne_path = None
    if panels:
        fig = plot_tsne(panels)
        tsne_path = directory / "tsne.png"
        fig.savefig(tsne_path, dpi=100)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4.5))
    plot_comparison(finals, ax)
    comparison_path = directory / "comparison.png"
    fig.tight_layout()
    fig.savefig(comparison_path, dpi=80)
    plt.close(fig)

    table_path = directory / "summary.md"
    table_path.write_text(
        f"# Run {run_path.name}\n\nMetrics at each learner's last checkpoint.\n\n{summary_table(finals)}\n",
        encoding="utf-8",
    )
    logger.info("report of %s written to %s", run_path, directory)
    return Report(directory=directory, curves=curve_paths, tsne=tsne_path, comparison=comparison_path, table=table_path)


def _file_name(metric: str) -> str:
    return metric.replace("@", "at").replace("/", "_")
