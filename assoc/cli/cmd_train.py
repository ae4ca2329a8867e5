"""``assoc train rotation``: train the rotation model or one of its ablations."""

from __future__ import annotations

import json
import logging
import numbers

logger = logging.getLogger(__name__)

VARIANTS = ("rotation", "no_rotation", "separate", "late_fusion")


def register(subparsers) -> None:
    parser = subparsers.add_parser("train", help="train a model by backpropagation")
    models = parser.add_subparsers(dest="model", metavar="MODEL", required=True)
    rotation = models.add_parser(
        "rotation",
        help="shared embedding with learned SO(k) modality rotations",
        description=(
            "Train the rotation model (or an ablation) with AdamW. A checkpoint and a row of "
            "history.jsonl are written to --out after every epoch; rerunning with the same --out "
            "resumes from the latest checkpoint."
        ),
    )
    rotation.add_argument("--dataset", default="avmnist", help="dataset name: avmnist or demo (default: avmnist)")
    rotation.add_argument("--data-dir", default=None, help="raw MNIST + FSDD directory for avmnist (default: $ASSOC_DATA_DIR)")
    rotation.add_argument("--variant", choices=VARIANTS, default="rotation", help="model or ablation to train (default: rotation)")
    rotation.add_argument("--epochs", type=int, default=None, help="epochs to train (default: 5)")
    rotation.add_argument("--limit", type=int, default=None, help="keep at most this many pairs per split")
    rotation.add_argument("--degrade-images", action="store_true", help="use the PCA-degraded image variant")
    rotation.add_argument("--out", default=None, help="output directory for checkpoints and history.jsonl (default: write nothing)")
    rotation.add_argument("--seed", type=int, default=None, help="seed of weights, rotations, data and batch order (default: 0)")
    rotation.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where to train; auto picks CUDA when present (default: auto)")
    rotation.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any config key, e.g. --set k=128 --set rotation_map=cayley (repeatable)",
    )
    rotation.add_argument("--no-resume", action="store_true", help="start a new run even if --out contains checkpoints")
    rotation.set_defaults(func=run)


# Config keys that a flag of 'assoc train rotation' sets, so errors name the flag.
_FLAGS = {"data_dir": "--data-dir", "epochs": "--epochs", "limit": "--limit", "seed": "--seed", "dataset": "--dataset"}


def run(args) -> int:
    """Build the config from the arguments, train, and print the last epoch's metrics."""
    from assoc.progress import progress_bar
    from models.config import TrainConfig, parse_override
    from models.train import train

    values = dict(parse_override(text) for text in args.overrides)
    values.update({"dataset": args.dataset, "variant": args.variant, "device": args.device})
    flags = {"dataset": _FLAGS["dataset"]}
    for key in ("data_dir", "epochs", "limit", "seed"):
        value = getattr(args, key)
        if value is not None:
            values[key] = value
            flags[key] = _FLAGS[key]
    if args.degrade_images:
        values["degrade_images"] = True
    config = TrainConfig.from_dict(values, flags=flags)

    if args.out is None:
        logger.warning("no --out given: checkpoints and history are not saved; pass --out DIR to keep them")
    with progress_bar(f"train {config.variant}", unit="pair") as progress:
        result = train(config, out_dir=args.out, resume=args.out is not None and not args.no_resume, progress=progress)
    if result.history:
        logger.debug("final metrics: %s", json.dumps(result.history[-1], sort_keys=True))
        print(format_metrics(result.history[-1]))
    return 0


def format_metrics(row: dict) -> str:
    """Format one history row as a two-column table, with floats to 4 significant digits."""
    width = max(len(name) for name in row)
    lines = [f"final metrics (epoch {row.get('epoch', '?')}):"]
    for name, value in row.items():
        if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
            text = f"{value:.4g}"
        else:
            text = str(value)
        lines.append(f"  {name:<{width}}  {text}")
    return "\n".join(lines)
