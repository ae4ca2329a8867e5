"""The validated configuration of the rotation model and its trainer."""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

from assoc.errors import ConfigError
from models.rotation import RotationInit, RotationMap


class Variant(str, Enum):
    """Model that the trainer builds.

    ``rotation``: shared W with learned rotations R_v, R_a (the model).
    ``no_rotation``: shared W with R_v = R_a = I (ablation).
    ``separate``: separate embeddings W_v, W_a with learned rotations (ablation: nothing shared).
    ``late_fusion``: supervised classifier on concatenated tokenizer features (accuracy anchor).
    """

    ROTATION = "rotation"
    NO_ROTATION = "no_rotation"
    SEPARATE = "separate"
    LATE_FUSION = "late_fusion"


DEVICES = ("auto", "cpu", "cuda")
EVAL_SPLITS = ("val", "test")


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a rotation-model training run.

    The defaults keep one AV-MNIST epoch affordable on a 2-core CPU: k = 64 and d = 32
    keep the rotation and embedding cheap next to the convolutions.

    Attributes
    ----------
    variant : str
        One of :class:`Variant`'s values.
    dataset, data_dir, limit, degrade_images, noise_snr : dataset selection, passed to
        ``assoc.data.load_dataset``; ``limit`` caps the pairs per split, ``noise_snr``
        adds white noise to the audio at that signal-to-noise ratio in dB.
    k : int
        Code width (dimension of the rotations).
    width : int
        Token width d, the output of each tokenizer's projection; W is k × d.
    rotation_map : {'exp', 'cayley'}
    rotation_init : {'haar', 'identity'}
    fold_interval : int
        Optimizer steps between folds of the rotation generators into their base
        rotations (dynamic trivialization); a fold also happens whenever a generator's
        angle exceeds ``max_generator_angle`` radians.
    joint_weight, cross_weight, contrastive_weight, orthogonality_weight : float
        Weights of the four losses (see ``models.losses``); 0 switches a loss off.
    temperature : float
        InfoNCE temperature.
    hidden : int
        Hidden units of the late-fusion MLP.
    epochs, batch_size, lr, weight_decay : optimisation (AdamW).
    seed : int
        Seeds the weights, the Haar draws and the order of batches.
    device : {'auto', 'cpu', 'cuda'}
    eval_split : {'val', 'test'}
        Split the per-epoch metrics are computed on.
    probe_train_size : int
        Training pairs (a seeded subsample) that the logistic-regression probes fit on.
    """

    variant: str = Variant.ROTATION.value
    dataset: str = "avmnist"
    data_dir: str | None = None
    limit: int | None = None
    degrade_images: bool = False
    noise_snr: float | None = None

    k: int = 64
    width: int = 32
    rotation_map: str = RotationMap.EXP.value
    rotation_init: str = RotationInit.HAAR.value
    fold_interval: int = 100
    max_generator_angle: float = math.pi / 2

    joint_weight: float = 1.0
    cross_weight: float = 1.0
    contrastive_weight: float = 1.0
    orthogonality_weight: float = 0.1
    temperature: float = 0.1
    hidden: int = 100

    epochs: int = 5
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0
    device: str = "auto"
    eval_split: str = "val"
    probe_train_size: int = 5000

    def __post_init__(self):
        validate_config(self)

    def replace(self, **changes) -> TrainConfig:
        """Return a copy with ``changes`` applied and validated."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ConfigError(unknown_key_message(unknown))
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a dict of plain Python values (safe for ``weights_only`` checkpoints)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], *, flags: dict[str, str] | None = None) -> TrainConfig:
        """Build a config from a dict, rejecting unknown keys.

        ``flags`` maps config keys to the command-line flags that set them, for example
        ``{'epochs': '--epochs'}``; an error about such a key then names the flag first.
        """
        try:
            return cls().replace(**values)
        except ConfigError as error:
            key = getattr(error, "key", None)
            if flags is None or key not in flags:
                raise
            raise ConfigError(f"{flags[key]} (config key {key!r}) {error.detail}") from None


def config_keys() -> list[str]:
    """Return the names of every config key, in declaration order."""
    return [f.name for f in dataclasses.fields(TrainConfig)]


def unknown_key_message(keys: list[str]) -> str:
    """Return the error message for unknown config keys, suggesting the closest valid key for each."""
    valid = config_keys()
    suggestions = {key: difflib.get_close_matches(key, valid, n=1) for key in keys}
    if len(keys) == 1:
        close = suggestions[keys[0]]
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return f"Unknown config key {keys[0]!r}.{hint} Valid keys: {', '.join(valid)}."
    hints = [f"{close[0]!r} for {key!r}" for key, close in suggestions.items() if close]
    hint = f" Did you mean {', '.join(hints)}?" if hints else ""
    return f"Unknown config keys {', '.join(map(repr, keys))}.{hint} Valid keys: {', '.join(valid)}."


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``KEY=VALUE`` into the key and a value of the key's declared type.

    ``none`` sets an optional key to None; booleans accept true/false/1/0/yes/no.
    """
    if "=" not in text:
        raise ConfigError(f"Override {text!r} is not KEY=VALUE; write for example k=128.")
    key, raw = (part.strip() for part in text.split("=", 1))
    types = {f.name: f.type for f in dataclasses.fields(TrainConfig)}
    if key not in types:
        raise ConfigError(unknown_key_message([key]))
    declared = str(types[key])
    if raw.lower() == "none" and "None" in declared:
        return key, None
    try:
        if declared.startswith("bool"):
            lowered = raw.lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(raw)
            return key, lowered in ("true", "1", "yes")
        if declared.startswith("int"):
            return key, int(raw)
        if declared.startswith("float"):
            return key, float(raw)
    except ValueError:
        raise ConfigError(f"Config key {key!r} expects {declared}; could not parse {raw!r}.") from None
    return key, raw


def validate_config(config: TrainConfig) -> None:
    """Raise ConfigError naming the first invalid key, its value and the fix."""
    _check_choice(config, "variant", [member.value for member in Variant])
    _check_choice(config, "rotation_map", [member.value for member in RotationMap])
    _check_choice(config, "rotation_init", [member.value for member in RotationInit])
    _check_choice(config, "device", DEVICES)
    _check_choice(config, "eval_split", EVAL_SPLITS)
    if not isinstance(config.dataset, str) or not config.dataset:
        raise _invalid_key("dataset", f"must be a dataset name such as 'demo'; got {config.dataset!r}.")

    _check_int(config, "k", minimum=2)
    _check_int(config, "width", minimum=1)
    _check_int(config, "fold_interval", minimum=1)
    _check_int(config, "hidden", minimum=1)
    _check_int(config, "epochs", minimum=1)
    _check_int(config, "batch_size", minimum=2, why="InfoNCE needs at least one negative per pair")
    _check_int(config, "seed", minimum=0)
    _check_int(config, "probe_train_size", minimum=10)
    if config.limit is not None:
        _check_int(config, "limit", minimum=1)
    if config.noise_snr is not None:
        _check_float(config, "noise_snr", minimum=-math.inf, inclusive=True)
    if config.width > config.k:
        raise ConfigError(
            f"Config key 'width' ({config.width}) exceeds k ({config.k}); W is k × width and "
            "must not be wider than the code. Set width <= k."
        )

    for key in ("joint_weight", "cross_weight", "contrastive_weight", "orthogonality_weight", "weight_decay"):
        _check_float(config, key, minimum=0.0, inclusive=True)
    _check_float(config, "temperature", minimum=0.0, inclusive=False)
    _check_float(config, "lr", minimum=0.0, inclusive=False)
    value = config.max_generator_angle
    if not isinstance(value, (int, float)) or not 0 < value < math.pi:
        raise ConfigError(f"Config key 'max_generator_angle' must lie in (0, π) radians; got {value!r}.")
    if config.variant != Variant.LATE_FUSION.value and all(
        getattr(config, key) == 0 for key in ("joint_weight", "cross_weight", "contrastive_weight")
    ):
        raise ConfigError(
            "Config keys 'joint_weight', 'cross_weight' and 'contrastive_weight' are all 0, so nothing "
            "trains the tokenizers; set at least one of them above 0."
        )


def _check_choice(config, key, choices) -> None:
    value = getattr(config, key)
    if value not in choices:
        raise _invalid_key(key, f"is {value!r}; choose one of {', '.join(map(repr, choices))}.")


def _check_int(config, key, *, minimum, why=None) -> None:
    value = getattr(config, key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        reason = f" because {why}" if why else ""
        raise _invalid_key(key, f"must be an integer >= {minimum}{reason}; got {value!r}.")


def _check_float(config, key, *, minimum, inclusive) -> None:
    value = getattr(config, key)
    valid = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if valid:
        valid = value >= minimum if inclusive else value > minimum
    if not valid:
        bound = f">= {minimum}" if inclusive else f"> {minimum}"
        requirement = "a finite number" if minimum == -math.inf else f"a finite number {bound}"
        raise _invalid_key(key, f"must be {requirement}; got {value!r}.")


def _invalid_key(key: str, detail: str) -> ConfigError:
    """Return the ConfigError for an invalid value of one key.

    The error carries ``key`` and ``detail`` (the message after the key's name), so
    :meth:`TrainConfig.from_dict` can name the command-line flag in place of the key.
    """
    error = ConfigError(f"Config key {key!r} {detail}")
    error.key = key
    error.detail = detail
    return error
