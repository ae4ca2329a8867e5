"""Reports of run files: curve data, final metrics, table, t-SNE panels and the PNG files.

The run file is written directly with RunWriter, so no model is trained here.
"""

from __future__ import annotations

import numpy as np
import pytest

from assoc.cli import main
from sims.report import final_metrics, learning_curves, summary_table, tsne_embeddings, write_report
from sims.runfile import RunReader, RunWriter

PAIRS = [50, 100, 150]


@pytest.fixture
def run_file(tmp_path):
    path = tmp_path / "run.h5"
    rng = np.random.default_rng(0)
    with RunWriter.create(path, config_text='name = "fake"\n', seed=0) as writer:
        for offset, learner in enumerate(("gradient", "hebbian")):
            for index, pairs_seen in enumerate(PAIRS):
                labels = np.arange(30) % 10
                metrics = {
                    "pairs_seen": pairs_seen,
                    "retrieval_visual_to_audio_R@1": 0.1 * (index + 1) + offset,
                    "transfer_visual_to_audio": 0.2 + 0.1 * index,
                    "overlap_cka": 0.5,
                    "train_seconds": 1.5 * index,
                }
                if learner == "hebbian":
                    metrics["map_rotation_distance"] = 1.0 - 0.1 * index
                snapshot = {
                    "z_visual": rng.normal(size=(30, 4)).astype(np.float32),
                    "z_audio": rng.normal(size=(30, 4)).astype(np.float32),
                    "label": labels,
                }
                writer.append_checkpoint(learner, pairs_seen, metrics, snapshot=snapshot)
    return path


def test_learning_curves_data(run_file):
    with RunReader(run_file) as reader:
        curves = learning_curves(reader)
    pairs_seen, values = curves["retrieval_visual_to_audio_R@1"]["hebbian"]
    np.testing.assert_array_equal(pairs_seen, PAIRS)
    np.testing.assert_allclose(values, [1.1, 1.2, 1.3])
    assert set(curves["map_rotation_distance"]) == {"hebbian"}


def test_summary_table_rows(run_file):
    with RunReader(run_file) as reader:
        finals = final_metrics(reader)
    assert finals["gradient"]["transfer_visual_to_audio"] == pytest.approx(0.4)
    table = summary_table(finals, metrics=("pairs_seen", "transfer_visual_to_audio", "map_rotation_distance"))
    lines = table.splitlines()
    assert lines[0] == "| learner | pairs_seen | transfer_visual_to_audio | map_rotation_distance |"
    assert lines[2] == "| gradient | 150 | 0.400 |  |"
    assert lines[3] == "| hebbian | 150 | 0.400 | 0.800 |"


def test_tsne_panels_shapes(run_file):
    with RunReader(run_file) as reader:
        panels = tsne_embeddings(reader)
    assert set(panels) == {"gradient", "hebbian"}
    for which in ("first", "last"):
        panel = panels["hebbian"][which]
        assert panel["xy"].shape == (60, 2)
        np.testing.assert_array_equal(panel["modality"], np.repeat([0, 1], 30))
        np.testing.assert_array_equal(panel["label"][:30], panel["label"][30:])


def test_write_report_files(run_file, tmp_path, close_figures):
    report = write_report(run_file, tmp_path / "report")
    names = {path.name for path in report.curves}
    assert "curve_retrieval_visual_to_audio_Rat1.png" in names
    assert "curve_map_rotation_distance.png" in names
    assert "curve_pairs_seen.png" not in names
    for path in [*report.curves, report.comparison, report.tsne, report.table]:
        assert path.is_file(), path
        assert path.stat().st_size > 0, path
    text = report.table.read_text(encoding="utf-8")
    assert "| hebbian | 150 |" in text


def test_report_command_prints_table(run_file, tmp_path, capsys, close_figures):
    code = main(["report", str(run_file), "--out", str(tmp_path / "out"), "--no-tsne"])
    output = capsys.readouterr().out
    assert code == 0
    assert "| gradient | 150 |" in output
    assert str(tmp_path / "out") in output
    assert not (tmp_path / "out" / "tsne.png").exists()


def test_summary_table_has_comparison_metrics():
    from sims.evaluation import SUMMARY_METRICS
    from sims.report import COMPARISON_METRICS

    for metric in COMPARISON_METRICS:
        assert metric in SUMMARY_METRICS, metric


def test_tsne_figure_has_digit_key(run_file, close_figures):
    from sims.report import plot_tsne

    with RunReader(run_file) as reader:
        fig = plot_tsne(tsne_embeddings(reader))
    labels = [text.get_text() for text in fig.legends[0].get_texts()]
    assert labels[:10] == [f"digit {digit}" for digit in range(10)]
    assert "visual (recalled)" in labels
    assert "audio" in labels


def test_report_kind_from_binding_file(run_file, tmp_path, close_figures):
    from sims.report import write_run_report

    report = write_run_report(run_file, tmp_path / "report", tsne=False)
    assert report.kind == "binding"
    assert report.describe().startswith("summary.md, comparison.png, ")
