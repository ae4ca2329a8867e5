"""Export rotation-model codes of AV-MNIST training items as an (n_samples, k) float32 .npy file.

Run from the repository root:

    # train a short model (1 epoch on the first 10,000 training pairs, seed 0), then encode
    python benchmarks/export_codes.py --out /tmp/avmnist_image_codes.npy
    # encode with a trained model: a checkpoint file, or an 'assoc train rotation --out' folder
    python benchmarks/export_codes.py --checkpoint runs/rotation --out codes.npy
    # the spectrograms' codes instead of the images'
    python benchmarks/export_codes.py --checkpoint runs/rotation --modality audio --out audio.npy

The codes are z_m = R_m W t_m(x_m), what ``RotationModel.encode_numpy`` returns and
the experiment runner hands to its associative learners (``--derotate`` gives R_mᵀ z_m).
They are saved uncentred; the runner subtracts the mean training code before binding.
``benchmarks/bench_som.py --codes FILE`` reads the file for its case (b).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

# The data contract names the modalities by their arrays, 'image' and 'audio', but the
# model calls them 'visual' and 'audio'.
MODEL_MODALITY = {"image": "visual", "audio": "audio"}
INPUT_NOUN = {"image": "images", "audio": "spectrograms"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the options in ``argv`` (default: ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="the .npy file to write, shape (n_samples, k), float32")
    parser.add_argument(
        "--checkpoint",
        help="a checkpoint epoch_NNN.pt, or a folder of them, whose latest epoch is used. "
        "Without it a short model is trained first",
    )
    parser.add_argument("--modality", choices=tuple(MODEL_MODALITY), default="image", help="which input to encode (default: image)")
    parser.add_argument("--n-samples", type=int, default=10000, help="encode the first N training pairs (default: 10000)")
    parser.add_argument("--derotate", action="store_true", help="save the de-rotated codes R_mᵀ z_m instead of z_m")
    parser.add_argument("--dataset", default="avmnist", help="dataset name: avmnist or demo (default: avmnist)")
    parser.add_argument("--data-dir", default=None, help="raw MNIST + FSDD directory (default: $ASSOC_DATA_DIR)")
    parser.add_argument("--train-limit", type=int, default=10000, help="training pairs when no --checkpoint is given (default: 10000)")
    parser.add_argument("--epochs", type=int, default=1, help="training epochs when no --checkpoint is given (default: 1)")
    parser.add_argument("--seed", type=int, default=0, help="training seed when no --checkpoint is given (default: 0)")
    parser.add_argument("--train-out", default=None, help="folder for the trained model's checkpoint and history (default: keep nothing)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads (default: the number of logical CPUs)")
    args = parser.parse_args(argv)

    for name in ("n_samples", "train_limit", "epochs", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1; got {getattr(args, name)}")
    if args.data_dir is None:
        args.data_dir = os.environ.get("ASSOC_DATA_DIR")
    return args


def train_short_model(args):
    """Train a rotation model with the default architecture on the first ``args.train_limit`` pairs."""
    from assoc.progress import progress_bar
    from models.config import TrainConfig
    from models.train import train

    config = TrainConfig(
        dataset=args.dataset,
        data_dir=args.data_dir,
        limit=args.train_limit,
        epochs=args.epochs,
        seed=args.seed,
        device="cpu",
    )
    with progress_bar("train rotation", unit="pair") as progress:
        result = train(config, out_dir=args.train_out, progress=progress)
    return result.model


def load_trained_model(path: str):
    """Load the rotation model of a checkpoint file, or of the latest checkpoint in a folder."""
    from assoc.errors import ConfigError, DataNotFoundError
    from models.model import RotationModel
    from models.train import latest_checkpoint, load_model

    checkpoint = Path(path)
    if checkpoint.is_dir():
        found = latest_checkpoint(checkpoint)
        if found is None:
            raise DataNotFoundError(f"No epoch_NNN.pt checkpoint found in {checkpoint}. Pass a checkpoint file or a training --out folder.")
        checkpoint = found
    model = load_model(checkpoint, device="cpu")
    if not isinstance(model, RotationModel):
        raise ConfigError(
            f"Checkpoint {checkpoint} contains a {type(model).__name__}, which produces no codes. "
            "Pass a checkpoint of the rotation, no_rotation or separate variant."
        )
    return model, checkpoint


def encode_training_items(model, args) -> np.ndarray:
    """Return the float32 codes, shape (n_samples, k), of the first ``args.n_samples`` training items."""
    from assoc.data import load_dataset

    splits = load_dataset(args.dataset, data_dir=args.data_dir, limit=args.n_samples)
    inputs = getattr(splits["train"], args.modality)
    codes = model.encode_numpy(inputs, MODEL_MODALITY[args.modality], derotate=args.derotate)
    return np.ascontiguousarray(codes, dtype=np.float32)


def main(argv: list[str] | None = None) -> int:
    """Load or train a model, encode the training items and save the codes."""
    import torch

    from assoc.cli import configure_logging

    args = parse_args(argv)
    configure_logging(0, False)
    torch.set_num_threads(args.threads)

    # Step 1: a trained model, from the checkpoint or from a short training run.
    started = time.perf_counter()
    if args.checkpoint:
        model, checkpoint = load_trained_model(args.checkpoint)
        model_source = f"loaded {checkpoint}"
    else:
        model = train_short_model(args)
        model_source = (
            f"trained the rotation model on the first {args.train_limit:,} {args.dataset} training pairs "
            f"for {args.epochs} epoch(s), seed {args.seed}"
        )
        if args.train_out:
            model_source += f", checkpoint in {args.train_out}"
    model_seconds = time.perf_counter() - started

    # Step 2: encode the first n_samples training items of one modality.
    started = time.perf_counter()
    codes = encode_training_items(model, args)
    encode_seconds = time.perf_counter() - started

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, codes)

    kind = "de-rotated codes" if args.derotate else "codes"
    print(f"model: {model_source} ({model_seconds:.1f} s, {args.threads} torch threads)")
    print(f"encoded: {kind} of the first {len(codes):,} {args.dataset} training {INPUT_NOUN[args.modality]} ({encode_seconds:.1f} s)")
    print(f"saved: {out}, shape {codes.shape}, {codes.dtype}")
    return 0


if __name__ == "__main__":
    from assoc.errors import AssocError

    try:
        sys.exit(main())
    except AssocError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
