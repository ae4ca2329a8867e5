import numpy as np
import pytest
import torch

from assoc.cli import main
from assoc.data import load_dataset
from assoc.errors import ConfigError
from models.config import TrainConfig
from models.train import BindingStage, batch_indices, latest_checkpoint, load_model, resolve_device, train

TINY = TrainConfig(
    dataset="demo", k=8, width=4, hidden=8, batch_size=16, epochs=2, fold_interval=2, device="cpu", probe_train_size=48
)


@pytest.fixture(scope="module")
def demo_splits():
    return load_dataset("demo", limit=256)


@pytest.fixture(scope="module")
def tiny_splits(demo_splits):
    return {name: split.subset(slice(0, 48)) for name, split in demo_splits.items()}


@pytest.mark.slow
def test_short_run_lowers_loss_and_transfers(demo_splits):
    config = TrainConfig(
        dataset="demo", k=16, width=8, batch_size=32, epochs=3, device="cpu", probe_train_size=256,
        joint_weight=0.0, cross_weight=0.0, contrastive_weight=1.0,
    )
    history = train(config, splits=demo_splits).history
    assert history[-1]["loss_total"] < history[0]["loss_total"]
    assert history[-1]["loss_contrastive"] < history[0]["loss_contrastive"]
    # Chance is 0.1 for ten balanced digits.
    transfer = (history[-1]["transfer_derotated_visual_to_audio"] + history[-1]["transfer_derotated_audio_to_visual"]) / 2
    assert transfer > 0.2
    assert history[-1]["det_visual"] == pytest.approx(1.0, abs=1e-4)


def test_resume_matches_uninterrupted_run(tiny_splits, tmp_path):
    uninterrupted = train(TINY, splits=tiny_splits, out_dir=tmp_path / "a")
    train(TINY.replace(epochs=1), splits=tiny_splits, out_dir=tmp_path / "b")
    resumed = train(TINY, splits=tiny_splits, out_dir=tmp_path / "b", resume=True)

    expected = uninterrupted.model.state_dict()
    got = resumed.model.state_dict()
    assert expected.keys() == got.keys()
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], rtol=0, atol=0, msg=f"parameter {name} differs")
    assert [row["epoch"] for row in resumed.history] == [1, 2]
    assert resumed.history[-1]["loss_total"] == uninterrupted.history[-1]["loss_total"]


def test_checkpoint_loads_with_weights_only(tiny_splits, tmp_path):
    train(TINY.replace(epochs=1), splits=tiny_splits, out_dir=tmp_path)
    path = latest_checkpoint(tmp_path)
    assert path.name == "epoch_001.pt"
    state = torch.load(path, weights_only=True)
    assert state["epoch"] == 1
    model = load_model(path)
    assert not model.training
    assert model.encode_numpy(tiny_splits["test"].image[:3], "visual").shape == (3, 8)
    assert (tmp_path / "history.jsonl").read_text().count("\n") == 1


def test_resume_rejects_changed_config(tiny_splits, tmp_path):
    train(TINY.replace(epochs=1), splits=tiny_splits, out_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"other settings \(k: 8 → 16\)"):
        train(TINY.replace(k=16), splits=tiny_splits, out_dir=tmp_path, resume=True)


def test_same_seed_same_weights(tiny_splits):
    first = train(TINY.replace(epochs=1), splits=tiny_splits).model.state_dict()
    second = train(TINY.replace(epochs=1), splits=tiny_splits).model.state_dict()
    for name in first:
        torch.testing.assert_close(first[name], second[name], rtol=0, atol=0)


def test_progress_reports_pairs(tiny_splits):
    calls = []
    train(TINY, splits=tiny_splits, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (96, 96)
    assert all(later[0] > earlier[0] for earlier, later in zip(calls, calls[1:]))


def test_late_fusion_reports_accuracy(tiny_splits):
    history = train(TINY.replace(variant="late_fusion", epochs=1), splits=tiny_splits).history
    assert 0.0 <= history[0]["accuracy"] <= 1.0
    assert history[0]["loss_cross_entropy"] > 0.0


def test_binding_stage_counts_pairs(tiny_splits):
    model = train(TINY.replace(epochs=1), splits=tiny_splits).model
    stage = BindingStage(model, TINY)
    split = tiny_splits["train"]
    batches = [(split.image[start : start + 16], split.audio[start : start + 16]) for start in (0, 16, 32)]
    result = stage.run(batches)
    assert result["pairs_seen"] == 48
    assert stage.pairs_seen == 48
    assert result["loss_joint"] == 0.0
    assert result["loss_cross"] > 0.0


def test_binding_stage_rejects_single_pair(tiny_splits):
    model = train(TINY.replace(epochs=1), splits=tiny_splits).model
    split = tiny_splits["train"]
    with pytest.raises(ConfigError, match="at least 2 pairs"):
        BindingStage(model, TINY).partial_fit(split.image[:1], split.audio[:1])


def test_batch_indices_cover_and_drop_single_leftover():
    batches = batch_indices(33, 16, seed=0, epoch=1)
    assert [len(batch) for batch in batches] == [16, 16]
    assert len(np.unique(np.concatenate(batches))) == 32
    assert not np.array_equal(np.concatenate(batches), np.concatenate(batch_indices(33, 16, seed=0, epoch=2)))


def test_cuda_request_without_gpu():
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        resolve_device("cuda")


def test_cli_trains_and_writes_checkpoint(tmp_path):
    argv = ["-q", "train", "rotation", "--dataset", "demo", "--limit", "32", "--epochs", "1", "--out", str(tmp_path)]
    argv += ["--device", "cpu", "--set", "k=8", "--set", "width=4", "--set", "batch_size=16", "--set", "probe_train_size=32"]
    assert main(argv) == 0
    assert (tmp_path / "epoch_001.pt").is_file()


def test_cli_bad_override_exits_with_error(capsys):
    assert main(["train", "rotation", "--dataset", "demo", "--set", "k=1"]) == 1
    assert "Config key 'k' must be an integer >= 2" in capsys.readouterr().err


def test_cli_without_out_warns_and_prints_metrics(capsys):
    argv = ["-q", "train", "rotation", "--dataset", "demo", "--limit", "32", "--epochs", "1", "--device", "cpu"]
    argv += ["--set", "k=8", "--set", "width=4", "--set", "batch_size=16", "--set", "probe_train_size=32"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "no --out given: checkpoints and history are not saved; pass --out DIR to keep them" in captured.err
    assert captured.out.startswith("final metrics (epoch 1):\n")
    rows = dict(line.split() for line in captured.out.splitlines()[1:])
    assert rows["epoch"] == "1"
    assert rows["pairs_seen"] == "32"
    # Floats have at most 4 significant digits.
    digits = rows["loss_total"].replace(".", "").replace("-", "").lstrip("0")
    assert 1 <= len(digits) <= 4
    assert "retrieval_visual_to_audio_R@1" in rows


def test_format_metrics_rounds_to_4_digits():
    from assoc.cli.cmd_train import format_metrics

    table = format_metrics({"epoch": 3, "loss_total": 1.23456789, "accuracy": 0.000123456, "det_visual": 1.0})
    assert table.splitlines() == [
        "final metrics (epoch 3):",
        "  epoch       3",
        "  loss_total  1.235",
        "  accuracy    0.0001235",
        "  det_visual  1",
    ]


def test_cli_epochs_zero_names_flag(capsys):
    assert main(["train", "rotation", "--dataset", "demo", "--epochs", "0"]) == 1
    assert "--epochs (config key 'epochs') must be an integer >= 1; got 0" in capsys.readouterr().err


def test_cli_unknown_override_suggests_key(capsys):
    assert main(["train", "rotation", "--dataset", "demo", "--set", "kk=1"]) == 1
    assert "Unknown config key 'kk'. Did you mean 'k'?" in capsys.readouterr().err
