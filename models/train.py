"""Train the rotation model (or an ablation) with AdamW, with checkpoints and resume.

Runs are deterministic on the CPU: the weights and Haar rotations are drawn from
``config.seed``, and the batch order of epoch e from ``(config.seed, e)``, so a run
resumed from the checkpoint of epoch e repeats the uninterrupted run exactly.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from assoc.data.contract import Split
from assoc.errors import ConfigError, DataNotFoundError
from assoc.progress import ProgressCallback
from models.config import TrainConfig, Variant
from models.evaluate import evaluate
from models.model import LateFusionClassifier, RotationModel, build_model

logger = logging.getLogger(__name__)

CHECKPOINT_NAME = "epoch_{epoch:03d}.pt"
_CHECKPOINT_RE = re.compile(r"^epoch_(\d+)\.pt$")
HISTORY_NAME = "history.jsonl"
# Config keys that may differ between a checkpoint and the run that resumes from it.
RESUMABLE_CHANGES = frozenset({"epochs", "device"})


@dataclass
class TrainResult:
    """Outcome of :func:`train`.

    Attributes
    ----------
    model : RotationModel or LateFusionClassifier
    history : list of dict
        One row per epoch (including epochs restored from a checkpoint): ``epoch``,
        ``pairs_seen``, ``seconds``, ``loss_*`` means over the epoch, and the metrics of
        :func:`models.evaluate.evaluate`.
    out_dir : Path or None
    """

    model: RotationModel | LateFusionClassifier
    history: list[dict] = field(default_factory=list)
    out_dir: Path | None = None


def resolve_device(name: str) -> torch.device:
    """Return the torch device for ``auto``, ``cpu`` or ``cuda``; ``auto`` picks CUDA when present."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was requested but torch finds no CUDA GPU; use --device cpu or auto.")
    if name not in ("cpu", "cuda"):
        raise ConfigError(f"Unknown device {name!r}; choose 'auto', 'cpu' or 'cuda'.")
    return torch.device(name)


def load_splits(config: TrainConfig, progress: ProgressCallback | None = None) -> dict[str, Split]:
    """Load the dataset that ``config`` names through ``assoc.data.load_dataset``."""
    from assoc.data import load_dataset

    return load_dataset(
        config.dataset,
        data_dir=config.data_dir,
        seed=config.seed,
        limit=config.limit,
        degrade_images=config.degrade_images,
        noise_snr=config.noise_snr,
        progress=progress,
    )


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    """Return AdamW with weight decay on weight matrices and convolution kernels only.

    Biases, BatchNorm parameters and rotation generators are not decayed: decaying a
    generator would pull R towards its base rotation, which folds move around.
    """
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if parameter.ndim >= 2 and not name.startswith("rotations."):
            decay.append(parameter)
        else:
            no_decay.append(parameter)
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.lr)


def batch_indices(n_samples: int, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """Return the shuffled batches of epoch ``epoch``; a last batch of one pair is dropped.

    InfoNCE needs at least two pairs per batch, so a single leftover pair is skipped in
    that epoch (a different pair each epoch, because the order changes).
    """
    order = np.random.default_rng([seed, epoch]).permutation(n_samples)
    batches = [order[start : start + batch_size] for start in range(0, n_samples, batch_size)]
    if batches and len(batches[-1]) < 2:
        batches.pop()
    return batches


def train(
    config: TrainConfig,
    *,
    splits: dict[str, Split] | None = None,
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    progress: ProgressCallback | None = None,
) -> TrainResult:
    """Train the model that ``config`` describes.

    Parameters
    ----------
    config : TrainConfig
    splits : dict of Split, optional
        Preloaded data; by default :func:`load_splits` loads ``config.dataset``.
    out_dir : path, optional
        Where a checkpoint ``epoch_NNN.pt`` is written after every epoch, together with
        ``history.jsonl`` (one JSON row per epoch). Without it nothing is written.
    resume : bool
        Continue from the latest checkpoint in ``out_dir`` (if any) up to
        ``config.epochs`` epochs.
    progress : callable, optional
        ``progress(done, total)`` in pairs over the whole run.

    Returns
    -------
    TrainResult
    """
    device = resolve_device(config.device)
    if splits is None:
        splits = load_splits(config)
    out_path = Path(out_dir) if out_dir is not None else None
    if out_path is not None:
        out_path.mkdir(parents=True, exist_ok=True)
    if resume and out_path is None:
        raise ConfigError("resume=True requires out_dir, the directory that contains the checkpoints.")

    model = build_model(config).to(device)
    optimizer = make_optimizer(model, config)
    history: list[dict] = []
    start_epoch, step = 0, 0
    if resume:
        checkpoint_path = latest_checkpoint(out_path)
        if checkpoint_path is not None:
            state = load_checkpoint(checkpoint_path, config)
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            start_epoch, step, history = int(state["epoch"]), int(state["step"]), list(state["history"])
            logger.info("resumed from %s (epoch %d, step %d)", checkpoint_path, start_epoch, step)

    train_split = splits["train"]
    n_train = len(train_split)
    if n_train < 2:
        raise ConfigError(f"The train split has {n_train} pair(s); training needs at least 2. Raise --limit.")
    logger.info(
        "training %s on %s (%d train pairs) for epochs %d..%d on %s",
        config.variant, config.dataset, n_train, start_epoch + 1, config.epochs, device,
    )
    for epoch in range(start_epoch + 1, config.epochs + 1):
        started = time.perf_counter()
        losses, step = _train_epoch(model, optimizer, train_split, config, epoch, step, device, progress)
        seconds = time.perf_counter() - started
        metrics = evaluate(model, splits, config)
        row = {"epoch": epoch, "pairs_seen": epoch * n_train, "seconds": seconds, **losses, **metrics}
        history.append(row)
        _log_epoch(row, config)
        if out_path is not None:
            save_checkpoint(out_path / CHECKPOINT_NAME.format(epoch=epoch), model, optimizer, config, epoch, step, history)
            _write_history(out_path / HISTORY_NAME, history)
    return TrainResult(model=model, history=history, out_dir=out_path)


def _train_epoch(model, optimizer, split: Split, config, epoch, step, device, progress):
    model.train()
    n_train = len(split)
    batches = batch_indices(n_train, config.batch_size, config.seed, epoch)
    sums: dict[str, float] = {}
    n_seen = 0
    for index in batches:
        image = torch.as_tensor(split.image[index], device=device)
        audio = torch.as_tensor(split.audio[index], device=device)
        if isinstance(model, LateFusionClassifier):
            terms = model.loss_terms(image, audio, torch.as_tensor(split.label[index], device=device))
        else:
            terms = model.loss_terms(image, audio, config)

        optimizer.zero_grad(set_to_none=True)
        terms["total"].backward()
        optimizer.step()
        step += 1

        # Dynamic trivialization: fold on schedule, or early when a generator's angle grows large.
        if isinstance(model, RotationModel):
            model.fold_rotations(force=step % config.fold_interval == 0)

        for name, value in terms.items():
            sums[name] = sums.get(name, 0.0) + float(value.detach()) * len(index)
        n_seen += len(index)
        if progress is not None:
            progress((epoch - 1) * n_train + n_seen, config.epochs * n_train)
    losses = {f"loss_{name}": total / max(n_seen, 1) for name, total in sums.items()}
    return losses, step


def _log_epoch(row: dict, config: TrainConfig) -> None:
    if config.variant == Variant.LATE_FUSION.value:
        logger.info(
            "epoch %d/%d  loss %.4f  %s accuracy %.4f  %.1f s",
            row["epoch"], config.epochs, row["loss_total"], config.eval_split, row["accuracy"], row["seconds"],
        )
        return
    logger.info(
        "epoch %d/%d  loss %.4f (joint %.4f, cross %.4f, contrastive %.4f, orthogonality %.4f)  "
        "transfer v→a %.3f rotated / %.3f de-rotated  R@1 v→a %.3f  %.1f s",
        row["epoch"], config.epochs, row["loss_total"], row["loss_joint"], row["loss_cross"],
        row["loss_contrastive"], row["loss_orthogonality"], row["transfer_rotated_visual_to_audio"],
        row["transfer_derotated_visual_to_audio"], row["retrieval_visual_to_audio_R@1"], row["seconds"],
    )


# --- checkpoints --------------------------------------------------------------------------


def save_checkpoint(path, model, optimizer, config: TrainConfig, epoch: int, step: int, history: list[dict]) -> None:
    """Write a checkpoint atomically (a temporary file, then a rename).

    It holds only tensors and plain Python values, so :func:`torch.load` reads it with
    ``weights_only=True``.
    """
    path = Path(path)
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "config": config.to_dict(),
        "epoch": epoch,
        "step": step,
        "history": history,
    }
    temporary = path.with_name(path.name + ".tmp")
    torch.save(state, temporary)
    os.replace(temporary, path)


def latest_checkpoint(out_dir) -> Path | None:
    """Return the checkpoint of the highest epoch in ``out_dir``, or None."""
    candidates = []
    for path in Path(out_dir).iterdir():
        match = _CHECKPOINT_RE.match(path.name)
        if match:
            candidates.append((int(match.group(1)), path))
    return max(candidates)[1] if candidates else None


def load_checkpoint(path, config: TrainConfig | None = None) -> dict:
    """Load a checkpoint with ``weights_only=True``.

    When ``config`` is given, raise ConfigError if the checkpoint was written with other
    settings than ``config`` (apart from ``epochs`` and ``device``).
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"Checkpoint {path} not found; train first or pass an existing file.")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if config is not None:
        saved = state["config"]
        current = config.to_dict()
        changed = sorted(key for key in current if key not in RESUMABLE_CHANGES and saved.get(key) != current[key])
        if changed:
            details = ", ".join(f"{key}: {saved.get(key)!r} → {current[key]!r}" for key in changed)
            raise ConfigError(
                f"Checkpoint {path} was written with other settings ({details}); "
                "use the same settings or a new output directory."
            )
    return state


def load_model(path, *, device: str = "cpu") -> RotationModel | LateFusionClassifier:
    """Rebuild a trained model from a checkpoint, in evaluation mode."""
    state = load_checkpoint(path)
    config = TrainConfig.from_dict(state["config"])
    model = build_model(config)
    model.load_state_dict(state["model"])
    return model.to(resolve_device(device)).eval()


def _write_history(path: Path, history: list[dict]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        for row in history:
            handle.write(json.dumps(row) + "\n")
    os.replace(temporary, path)


# --- binding stage ------------------------------------------------------------------------


class BindingStage:
    """Continue training a rotation model on paired batches, counting pairs seen.

    The binding stage minimises the cross-modal reconstruction, contrastive and
    orthogonality losses of ``config`` (joint reconstruction is left out), so what it
    learns is the association between the modalities.

    Parameters
    ----------
    model : RotationModel
    config : TrainConfig
        Loss weights, temperature, learning rate, weight decay and fold interval.
    optimizer : torch.optim.Optimizer, optional
        Default: a fresh AdamW from :func:`make_optimizer`.

    Attributes
    ----------
    pairs_seen : int
        Pairs trained on so far.
    """

    def __init__(self, model: RotationModel, config: TrainConfig, *, optimizer=None):
        if not isinstance(model, RotationModel):
            raise ConfigError(f"BindingStage trains a RotationModel; got {type(model).__name__}.")
        self.model = model
        self.config = config
        self.optimizer = optimizer if optimizer is not None else make_optimizer(model, config)
        self.pairs_seen = 0
        self.steps = 0

    def partial_fit(self, image, audio) -> dict[str, float]:
        """Take one optimizer step on a batch of pairs; return the loss terms as floats.

        Parameters
        ----------
        image : array or Tensor of shape (n_samples, 1, 28, 28)
        audio : array or Tensor of shape (n_samples, 1, 112, 112)
        """
        device = self.model.embeddings[0].weight.device
        image = _as_float_tensor(image, device)
        audio = _as_float_tensor(audio, device)
        if image.shape[0] != audio.shape[0] or image.shape[0] < 2:
            raise ConfigError(
                f"A binding batch needs at least 2 pairs and as many images as spectrograms; "
                f"got {image.shape[0]} images and {audio.shape[0]} spectrograms."
            )
        self.model.train()
        terms = self.model.loss_terms(image, audio, self.config, joint=False)
        self.optimizer.zero_grad(set_to_none=True)
        terms["total"].backward()
        self.optimizer.step()
        self.steps += 1
        self.model.fold_rotations(force=self.steps % self.config.fold_interval == 0)
        self.pairs_seen += int(image.shape[0])
        return {name: float(value.detach()) for name, value in terms.items()}

    def run(self, batches: Iterable, *, progress: ProgressCallback | None = None, total: int | None = None) -> dict[str, float]:
        """Train on every ``(image, audio)`` batch of ``batches``.

        Returns
        -------
        dict
            ``pairs_seen`` (cumulative) and the pair-weighted mean of each loss term over
            these batches, as ``loss_<name>``.
        """
        sums: dict[str, float] = {}
        n_pairs = 0
        for image, audio in batches:
            terms = self.partial_fit(image, audio)
            n_batch = len(image)
            for name, value in terms.items():
                sums[name] = sums.get(name, 0.0) + value * n_batch
            n_pairs += n_batch
            if progress is not None:
                progress(n_pairs, total if total is not None else n_pairs)
        result = {f"loss_{name}": value / max(n_pairs, 1) for name, value in sums.items()}
        result["pairs_seen"] = self.pairs_seen
        return result


def _as_float_tensor(values, device) -> torch.Tensor:
    if torch.is_tensor(values):
        return values.to(device=device, dtype=torch.float32)
    return torch.as_tensor(np.asarray(values, dtype=np.float32), device=device)
