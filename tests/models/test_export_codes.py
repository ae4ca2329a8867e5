"""benchmarks/export_codes.py on the demo data set with tiny untrained models."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from assoc.data import load_dataset
from assoc.errors import ConfigError, DataNotFoundError
from models.config import TrainConfig
from models.model import build_model

REPO_ROOT = Path(__file__).resolve().parents[2]

TINY = TrainConfig(dataset="demo", k=8, width=4, hidden=8, device="cpu")


def _load_script():
    spec = importlib.util.spec_from_file_location("export_codes", REPO_ROOT / "benchmarks" / "export_codes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


export_codes = _load_script()


def _save_untrained(config: TrainConfig, folder):
    """Write an epoch-1 checkpoint of an untrained model built from ``config`` and return the model."""
    from models.train import make_optimizer, save_checkpoint

    torch.manual_seed(0)
    model = build_model(config).eval()
    folder.mkdir(parents=True, exist_ok=True)
    save_checkpoint(folder / "epoch_001.pt", model, make_optimizer(model, config), config, 1, 0, [])
    return model


def test_arguments_defaults(monkeypatch):
    monkeypatch.setenv("ASSOC_DATA_DIR", "/raw")
    args = export_codes.parse_args(["--out", "codes.npy"])
    assert args.n_samples == 10000
    assert args.train_limit == 10000
    assert args.epochs == 1
    assert args.seed == 0
    assert args.modality == "image"
    assert args.checkpoint is None
    assert args.data_dir == "/raw"


def test_arguments_reject_zero_samples(capsys):
    with pytest.raises(SystemExit):
        export_codes.parse_args(["--out", "codes.npy", "--n-samples", "0"])
    assert "--n-samples must be at least 1; got 0" in capsys.readouterr().err


@pytest.mark.parametrize("modality, model_modality", [("image", "visual"), ("audio", "audio")])
def test_checkpoint_codes_match_encoder(tmp_path, modality, model_modality):
    model = _save_untrained(TINY, tmp_path / "run")
    out = tmp_path / "codes" / "z.npy"
    argv = ["--dataset", "demo", "--checkpoint", str(tmp_path / "run"), "--modality", modality]
    argv += ["--n-samples", "20", "--threads", "1", "--out", str(out)]

    assert export_codes.main(argv) == 0

    codes = np.load(out)
    assert codes.shape == (20, TINY.k)
    assert codes.dtype == np.float32
    inputs = getattr(load_dataset("demo", limit=20)["train"], modality)
    np.testing.assert_allclose(codes, model.encode_numpy(inputs, model_modality), rtol=1e-5, atol=1e-6)


def test_checkpoint_of_late_fusion_rejected(tmp_path):
    _save_untrained(TINY.replace(variant="late_fusion"), tmp_path)
    with pytest.raises(ConfigError, match="LateFusionClassifier, which produces no codes"):
        export_codes.load_trained_model(str(tmp_path))


def test_folder_without_checkpoint_rejected(tmp_path):
    with pytest.raises(DataNotFoundError, match="No epoch_NNN.pt checkpoint found"):
        export_codes.load_trained_model(str(tmp_path))
