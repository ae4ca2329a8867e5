"""Experiment configs: validated, frozen, loaded from TOML text or a built-in name.

An experiment config is a TOML document with top-level keys (dataset, seeds, sizes)
and the tables ``[unimodal]``, ``[binding]``, ``[learners.<name>]``, optional
``[datasets.<dataset>]`` tables and an optional ``[quick]``. A ``[datasets.<dataset>]``
table repeats any of the other keys with the values for that dataset, and ``[quick]``
repeats them with smaller values for runs started with ``--quick``. Every key is checked when the config is
loaded. An unknown key raises ConfigError naming the key, the closest valid key and
every valid key. An invalid value raises ConfigError naming the key, the value and
the allowed range or choices.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from assoc.data.load import DATASETS
from assoc.errors import ConfigError, DataNotFoundError

logger = logging.getLogger(__name__)

EVAL_SPLITS = ("val", "test")

# The binding experiment. The demo sizes took 1 min 42 s (43 s CPU) on a busy 2-core
# machine. The [datasets.avmnist] table replaces them when the run uses AV-MNIST; its
# measured time is in docs/results.md.
_BINDING_TOML = """\
name = "binding"
description = "Unimodal pre-training, then cross-modal binding by gradient training and by associative learners"
dataset = "demo"
seeds = [0]
eval_split = "test"
snapshot_size = 200

[unimodal]
epochs = 2
batch_size = 32
lr = 2e-3
k = 64
width = 32

[binding]
budget_pairs = 1250
checkpoint_every = 250
block_size = 50
eval_size = 360
probe_size = 600
reconstruction_size = 100

[learners.gradient]
kind = "gradient"
lr = 1e-3
cross_weight = 1.0
contrastive_weight = 0.1
batch_size = 64

[learners.hebbian]
kind = "hebbian"
eta = 1.0

[learners.hebbian_normalised]
kind = "hebbian_normalised"
normalisation = "whitened"

[learners.delta]
kind = "delta"
alpha = 1.0
beta_plus = 0.005

[learners.hopfield]
kind = "hopfield"
beta = 1.0
capacity = 20000

[learners.som]
kind = "som"
rows = 10
columns = 10
topology = "hexagonal"
som_epochs = 5
eta = 0.1
link_rule = "coactivation"
recall_mode = "weighted"

[datasets.avmnist]
limit = 10000
snapshot_size = 400

[datasets.avmnist.unimodal]
epochs = 2
batch_size = 128

[datasets.avmnist.binding]
budget_pairs = 10000
checkpoint_every = 1000
block_size = 100
eval_size = 1000
probe_size = 1000
reconstruction_size = 100

[datasets.avmnist.learners.gradient]
batch_size = 128

# AV-MNIST codes are larger than the demo's (centred squared norms about 200 to 260,
# up to 2,500, against 3 to 54): the delta rule is stable only for
# alpha * beta_plus * |z|^2 < 2, and beta * |z|^2 sets how sharp Hopfield recall is.
[datasets.avmnist.learners.delta]
beta_plus = 2e-4

[datasets.avmnist.learners.hopfield]
beta = 0.02

[quick]
limit = 300
snapshot_size = 50

[quick.unimodal]
epochs = 1

[quick.binding]
budget_pairs = 200
checkpoint_every = 100
block_size = 50
eval_size = 100
probe_size = 150
reconstruction_size = 20
"""

BUILTIN_EXPERIMENTS: dict[str, str] = {"binding": _BINDING_TOML}


# ---------------------------------------------------------------------------
# Config dataclasses
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UnimodalConfig:
    """Settings of the unimodal stage, where each modality trains alone.

    Attributes
    ----------
    epochs : int
        Epochs over the training split, within-modality reconstruction only.
    batch_size : int
    lr : float
        AdamW learning rate.
    k : int
        Code width; the rotations are k × k.
    width : int
        Token width d; the shared embedding W is k × d, so width <= k.
    """

    epochs: int = 3
    batch_size: int = 128
    lr: float = 1e-3
    k: int = 64
    width: int = 32


@dataclass(frozen=True)
class BindingConfig:
    """Settings of the binding stage, shared by every learner.

    Attributes
    ----------
    budget_pairs : int
        Training pairs given to each learner in total, in the same order for all.
    checkpoint_every : int
        Pairs between checkpoints, the same for every learner; for the gradient learner
        a checkpoint falls every ``checkpoint_every / n_train`` of an epoch.
    block_size : int
        Pairs passed to one ``partial_fit`` call of an associative learner; divides
        ``checkpoint_every``. The gradient learner uses its own ``batch_size``.
    eval_size : int
        Items of the evaluation split scored at each checkpoint (the first ones).
    probe_size : int
        Training pairs (a seeded subsample) that the transfer and missing-modality
        probes fit on at each checkpoint.
    reconstruction_size : int
        Evaluation items decoded for the cross-modal reconstruction MSE.
    """

    budget_pairs: int = 20000
    checkpoint_every: int = 2000
    block_size: int = 100
    eval_size: int = 2000
    probe_size: int = 2000
    reconstruction_size: int = 200


@dataclass(frozen=True)
class LearnerConfig:
    """One learner of the binding stage.

    Attributes
    ----------
    name : str
        The learner's name in the run file and the plots.
    kind : str
        One of :data:`LEARNER_PARAMETERS`'s keys.
    params : mapping of str to value
        The kind's parameters, with defaults filled in; read-only.
    """

    name: str
    kind: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole experiment.

    Attributes
    ----------
    name, description : str
    dataset : str
        Dataset name passed to ``assoc.data.load_dataset``.
    data_dir : str or None
        Raw-data directory; None uses the dataset's default.
    limit : int or None
        Cap on pairs per split; None uses every pair.
    seeds : tuple of int
        One run, and one run file, per seed.
    eval_split : {'val', 'test'}
        Split every checkpoint is evaluated on.
    snapshot_size : int
        Items of the fixed evaluation subsample whose codes each checkpoint stores.
    unimodal, binding : stage settings
    learners : tuple of LearnerConfig
        In the order the config lists them.
    quick : bool
        Whether the ``[quick]`` sizes were applied.
    """

    name: str
    description: str = ""
    dataset: str = "demo"
    data_dir: str | None = None
    limit: int | None = None
    seeds: tuple[int, ...] = (0,)
    eval_split: str = "test"
    snapshot_size: int = 500
    unimodal: UnimodalConfig = UnimodalConfig()
    binding: BindingConfig = BindingConfig()
    learners: tuple[LearnerConfig, ...] = ()
    quick: bool = False

    def learner(self, name: str) -> LearnerConfig:
        """Return the learner called ``name``."""
        for learner in self.learners:
            if learner.name == name:
                return learner
        names = [learner.name for learner in self.learners]
        raise ConfigError(f"Experiment {self.name!r} has no learner {name!r}{suggest_choice(name, names)}")

    def replace(self, **changes) -> ExperimentConfig:
        """Return a copy with top-level ``changes`` (for example seeds or dataset), validated."""
        allowed = [field.name for field in dataclasses.fields(self)]
        for key in changes:
            if key not in allowed:
                raise ConfigError(f"Unknown config key {key!r}{suggest_choice(key, allowed)}")
        updated = dataclasses.replace(self, **changes)
        _validate_experiment(updated)
        return updated


# Parameters of each learner kind: name → (type, default, check). A check is
# ('min', bound), ('above', bound), ('range', low, high) or ('choice', values).
LEARNER_PARAMETERS: dict[str, dict[str, tuple]] = {
    "gradient": {
        "lr": (float, 1e-3, ("above", 0.0)),
        "cross_weight": (float, 1.0, ("min", 0.0)),
        "contrastive_weight": (float, 0.1, ("min", 0.0)),
        "batch_size": (int, 128, ("min", 2)),
    },
    "hebbian": {
        "eta": (float, 1.0, ("above", 0.0)),
    },
    "hebbian_normalised": {
        "eta": (float, 1.0, ("above", 0.0)),
        "normalisation": (str, "whitened", ("choice", ("pairs", "target_norm", "whitened"))),
        "ridge": (float, 1e-3, ("min", 0.0)),
    },
    "delta": {
        "alpha": (float, 1.0, ("range", 0.0, 1.0)),
        "beta_plus": (float, 0.05, ("above", 0.0)),
    },
    "hopfield": {
        "beta": (float, 8.0, ("above", 0.0)),
        "capacity": (int, 20000, ("min", 1)),
    },
    "som": {
        "rows": (int, 10, ("min", 2)),
        "columns": (int, 10, ("min", 2)),
        "topology": (str, "hexagonal", ("choice", ("rectangular", "hexagonal"))),
        "som_epochs": (int, 5, ("min", 1)),
        "eta": (float, 0.1, ("above", 0.0)),
        "link_rule": (str, "coactivation", ("choice", ("coactivation", "bmu"))),
        "recall_mode": (str, "weighted", ("choice", ("weighted", "argmax"))),
    },
}


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def builtin_names() -> list[str]:
    """Return the names of the built-in experiments, sorted."""
    return sorted(BUILTIN_EXPERIMENTS)


def builtin_descriptions() -> dict[str, str]:
    """Return each built-in experiment's name and description, for ``assoc list``."""
    return {name: parse_config(BUILTIN_EXPERIMENTS[name]).description for name in builtin_names()}


def load_config(name_or_path: str | Path, *, quick: bool = False, dataset: str | None = None) -> ExperimentConfig:
    """Load an experiment config from a built-in name or a TOML file.

    Parameters
    ----------
    name_or_path : str or path-like
        A built-in experiment name (:func:`builtin_names`) or the path of a TOML file.
        A string ending in ``.toml`` or containing a path separator is read as a path.
    quick : bool
        Apply the config's ``[quick]`` sizes. A TOML file without a ``[quick]`` table
        then runs at full size, and a warning names the file.
    dataset : str, optional
        Run on this dataset instead of the config's ``dataset``; see :func:`parse_config`.
    """
    text = str(name_or_path)
    looks_like_path = isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text or "\\" in text
    if not looks_like_path and text in BUILTIN_EXPERIMENTS:
        return parse_config(
            BUILTIN_EXPERIMENTS[text], quick=quick, dataset=dataset, source=f"built-in experiment {text!r}"
        )
    path = Path(name_or_path)
    if not path.is_file():
        if looks_like_path:
            raise DataNotFoundError(f"Config file {path} not found; check the path.")
        raise ConfigError(
            f"Unknown experiment {text!r}{suggest_choice(text, builtin_names())} "
            "Pass a built-in name or the path of a TOML file (assoc list shows the names)."
        )
    text = path.read_text(encoding="utf-8")
    if quick:
        warn_without_quick_table(text, path)
    return parse_config(text, quick=quick, dataset=dataset, source=str(path))


def warn_without_quick_table(text: str, path: str | Path) -> None:
    """Log a warning when the config file at ``path`` (TOML ``text``) has no ``[quick]`` table.

    ``--quick`` on such a file keeps every size, so the warning states that the run is full size.
    Invalid TOML is left for the parser to report.
    """
    try:
        has_quick = "quick" in tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    if not has_quick:
        logger.warning("%s has no [quick] table, so --quick runs it at full size; add [quick] with smaller sizes", path)


def parse_config(
    text: str, *, quick: bool = False, dataset: str | None = None, source: str = "config"
) -> ExperimentConfig:
    """Parse and validate an experiment config from TOML text.

    Sizes are applied in three layers: the top-level keys, then the table
    ``[datasets.<dataset>]`` of the dataset the run uses (if the config has one), then
    ``[quick]`` when ``quick`` is set. ``dataset`` replaces the config's ``dataset`` key
    before the layers are merged. Every ``[datasets.*]`` table and the ``[quick]`` table
    are validated on every load, so a mistake in them shows up on the first run too.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"Invalid TOML in {source}: {error}.") from None
    quick_table = _pop_table(data, "quick", source)
    dataset_tables = _pop_table(data, "datasets", source)
    for key in ("quick", "datasets"):
        if key in quick_table:
            raise ConfigError(f"Key 'quick.{key}' in {source} is not allowed; [quick] cannot contain [{key}].")
    config_from_dict(data, source=source)
    for name, table in dataset_tables.items():
        if name not in DATASETS:
            raise ConfigError(
                f"Unknown dataset table [datasets.{name}] in {source}{suggest_choice(name, DATASETS)} "
                f"Name a dataset: {', '.join(DATASETS)}."
            )
        if not isinstance(table, dict):
            raise ConfigError(f"Key 'datasets.{name}' in {source} must be a table; got {table!r}.")
        for key in ("quick", "datasets", "dataset"):
            if key in table:
                raise ConfigError(f"Key 'datasets.{name}.{key}' in {source} is not allowed; move it to the top level.")
        merged = deep_merge(deep_merge(data, table), {"dataset": name})
        config_from_dict(merged, source=f"{source} with [datasets.{name}]")
        config_from_dict(deep_merge(merged, quick_table), source=f"{source} with [datasets.{name}] and [quick]")
    config_from_dict(deep_merge(data, quick_table), source=f"{source} with [quick]", quick=True)

    if dataset is not None:
        data["dataset"] = dataset
    name = data.get("dataset", "demo")
    layers = [data, dataset_tables.get(name, {})]
    if quick:
        layers.append(quick_table)
    merged = layers[0]
    for layer in layers[1:]:
        merged = deep_merge(merged, layer)
    label = source
    if name in dataset_tables:
        label += f" with [datasets.{name}]"
    if quick:
        label += " with [quick]"
    return config_from_dict(merged, source=label, quick=quick)


def _pop_table(data: dict, key: str, source: str) -> dict:
    table = data.pop(key, {})
    if not isinstance(table, dict):
        raise ConfigError(f"Key {key!r} in {source} must be a table; got {table!r}.")
    return table


def config_from_dict(data: Mapping[str, Any], *, source: str = "config", quick: bool = False) -> ExperimentConfig:
    """Build and validate an :class:`ExperimentConfig` from parsed TOML."""
    table = ConfigTable(dict(data), "", source)
    name = table.take("name", str, required=True)
    config = ExperimentConfig(
        name=name,
        description=table.take("description", str, default=""),
        dataset=table.take("dataset", str, default="demo"),
        data_dir=table.take("data_dir", str, default=None),
        limit=table.take("limit", int, default=None, check=("min", 1)),
        seeds=tuple(table.take("seeds", list, default=[0])),
        eval_split=table.take("eval_split", str, default="test", check=("choice", EVAL_SPLITS)),
        snapshot_size=table.take("snapshot_size", int, default=500, check=("min", 10)),
        unimodal=dataclass_from_table(UnimodalConfig, table.subtable("unimodal")),
        binding=dataclass_from_table(BindingConfig, table.subtable("binding")),
        learners=_learners_from_table(table.subtable("learners", required=True)),
        quick=quick,
    )
    table.reject_unknown()
    _validate_experiment(config, source)
    return config


# ---------------------------------------------------------------------------
# Writing TOML back (for the run file)
# ---------------------------------------------------------------------------


def config_to_toml(config: ExperimentConfig) -> str:
    """Return TOML text that records the sizes and parameters ``config`` runs with.

    No ``[quick]`` table is written, because the text already contains the sizes in use;
    ``parse_config(text, quick=config.quick)`` returns a config equal to ``config``.
    """
    lines = []
    for key in ("name", "description", "dataset", "data_dir", "limit", "seeds", "eval_split", "snapshot_size"):
        value = getattr(config, key)
        if value is not None:
            lines.append(f"{key} = {format_toml_value(value)}")
    for section in ("unimodal", "binding"):
        lines += ["", f"[{section}]"]
        values = dataclasses.asdict(getattr(config, section))
        lines += [f"{key} = {format_toml_value(value)}" for key, value in values.items()]
    for learner in config.learners:
        lines += ["", f"[learners.{format_toml_key(learner.name)}]", f"kind = {format_toml_value(learner.kind)}"]
        lines += [f"{key} = {format_toml_value(value)}" for key, value in learner.params.items()]
    return "\n".join(lines) + "\n"


def format_toml_value(value) -> str:
    """Return ``value`` (a bool, int, finite float, str, or a list or tuple of them) as a TOML literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Validated configs hold finite floats only, and repr() of a finite float is valid TOML.
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_toml_value(item) for item in value) + "]"
    raise ConfigError(f"Cannot write {value!r} of type {type(value).__name__} as TOML.")


def format_toml_key(key: str) -> str:
    """Return ``key`` bare where TOML allows it, otherwise as a quoted string."""
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else format_toml_value(key)


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------

# ConfigTable, check_value, dataclass_from_table, suggest_choice, deep_merge and the
# TOML writers above also validate and write the conditioning and spiking configs.


class ConfigTable:
    """A TOML table whose keys are consumed one by one, so that leftovers are unknown keys."""

    def __init__(self, data: dict, path: str, source: str):
        self.data = data
        self.path = path
        self.source = source
        self.known: list[str] = []

    def key_path(self, key: str) -> str:
        """Return the dotted path of ``key`` from the top of the config, for messages."""
        return f"{self.path}.{key}" if self.path else key

    def take(self, key: str, kind: type, *, default=None, required: bool = False, check=None):
        """Remove ``key`` and return its value validated by :func:`check_value`.

        An absent key returns ``default``, or raises ConfigError when ``required``.
        """
        self.known.append(key)
        if key not in self.data:
            if required:
                raise ConfigError(f"Missing key {self.key_path(key)!r} in {self.source}.")
            return default
        value = self.data.pop(key)
        return check_value(self.key_path(key), value, kind, check, self.source)

    def subtable(self, key: str, *, required: bool = False) -> ConfigTable:
        """Remove the table ``key`` and return it. An absent table is empty unless ``required``."""
        self.known.append(key)
        value = self.data.pop(key, None)
        if value is None:
            if required:
                raise ConfigError(f"Missing table [{self.key_path(key)}] in {self.source}.")
            value = {}
        if not isinstance(value, dict):
            raise ConfigError(f"Key {self.key_path(key)!r} in {self.source} must be a table; got {value!r}.")
        return ConfigTable(dict(value), self.key_path(key), self.source)

    def reject_unknown(self) -> None:
        """Raise ConfigError for the first key that no ``take`` or ``subtable`` call removed."""
        for key in self.data:
            where = f"[{self.path}]" if self.path else "the top level"
            raise ConfigError(
                f"Unknown key {self.key_path(key)!r} in {self.source}{suggest_choice(key, self.known)} "
                f"Valid keys in {where}: {', '.join(self.known)}."
            )


def check_value(key_path: str, value, kind: type, check, source: str):
    """Return ``value`` if it has type ``kind`` and passes ``check``, an int converted to float for ``kind`` float.

    ``check`` is None, ``("choice", choices)``, ``("min", low)`` (value >= low),
    ``("above", low)`` (value > low) or ``("range", low, high)`` (low < value <= high).
    The ConfigError raised otherwise names ``key_path`` and ``source``.
    """
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    valid_type = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if kind is float and valid_type and not math.isfinite(value):
        valid_type = False
    if not valid_type:
        expected = {int: "an integer", float: "a finite number", str: "a string", list: "a list", bool: "true or false"}
        raise ConfigError(
            f"Key {key_path!r} in {source} must be {expected.get(kind, kind.__name__)}; got {value!r}."
        )
    if check is None:
        return value
    rule = check[0]
    if rule == "choice" and value not in check[1]:
        raise ConfigError(
            f"Key {key_path!r} in {source} is {value!r}{suggest_choice(value, check[1])} "
            f"Choose one of {', '.join(map(repr, check[1]))}."
        )
    if rule == "min" and value < check[1]:
        raise ConfigError(f"Key {key_path!r} in {source} must be >= {check[1]}; got {value!r}.")
    if rule == "above" and value <= check[1]:
        raise ConfigError(f"Key {key_path!r} in {source} must be > {check[1]}; got {value!r}.")
    if rule == "range" and not check[1] < value <= check[2]:
        raise ConfigError(f"Key {key_path!r} in {source} must lie in ({check[1]}, {check[2]}]; got {value!r}.")
    return value


def dataclass_from_table(cls, table: ConfigTable):
    """Build the dataclass ``cls`` from ``table``: one key per field, typed and defaulted by the field.

    Keys that are not fields raise ConfigError. The bounds of the known fields (epochs,
    batch_size, lr and so on) are the checks below.
    """
    checks = {
        "epochs": ("min", 1),
        "batch_size": ("min", 2),
        "lr": ("above", 0.0),
        "k": ("min", 2),
        "width": ("min", 1),
        "budget_pairs": ("min", 1),
        "checkpoint_every": ("min", 1),
        "block_size": ("min", 1),
        "eval_size": ("min", 10),
        "probe_size": ("min", 10),
        "reconstruction_size": ("min", 1),
    }
    values = {}
    for field in dataclasses.fields(cls):
        kind = type(field.default)
        values[field.name] = table.take(field.name, kind, default=field.default, check=checks.get(field.name))
    table.reject_unknown()
    return cls(**values)


def _learners_from_table(table: ConfigTable) -> tuple[LearnerConfig, ...]:
    learners = []
    for name in list(table.data):
        entry = table.subtable(name)
        kind = entry.take("kind", str, default=name if name in LEARNER_PARAMETERS else None)
        if kind is None:
            raise ConfigError(
                f"Missing key {entry.key_path('kind')!r} in {table.source}; "
                f"set it to one of {', '.join(map(repr, LEARNER_PARAMETERS))}."
            )
        check_value(entry.key_path("kind"), kind, str, ("choice", tuple(LEARNER_PARAMETERS)), table.source)
        params = {}
        for parameter, (parameter_type, default, check) in LEARNER_PARAMETERS[kind].items():
            params[parameter] = entry.take(parameter, parameter_type, default=default, check=check)
        entry.reject_unknown()
        learners.append(LearnerConfig(name=name, kind=kind, params=MappingProxyType(params)))
    if not learners:
        raise ConfigError(f"Table [learners] in {table.source} is empty; add at least one [learners.NAME] table.")
    return tuple(learners)


def _validate_experiment(config: ExperimentConfig, source: str = "config") -> None:
    if not config.seeds:
        raise ConfigError(f"Key 'seeds' in {source} is empty; give at least one seed, for example seeds = [0].")
    for seed in config.seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"Key 'seeds' in {source} must list non-negative integers; got {seed!r}.")
    if len(set(config.seeds)) != len(config.seeds):
        raise ConfigError(f"Key 'seeds' in {source} lists a seed twice: {list(config.seeds)}.")
    if config.unimodal.width > config.unimodal.k:
        raise ConfigError(
            f"Key 'unimodal.width' ({config.unimodal.width}) in {source} exceeds 'unimodal.k' "
            f"({config.unimodal.k}); W is k × width, so set width <= k."
        )
    binding = config.binding
    if binding.checkpoint_every > binding.budget_pairs:
        raise ConfigError(
            f"Key 'binding.checkpoint_every' ({binding.checkpoint_every}) in {source} exceeds "
            f"'binding.budget_pairs' ({binding.budget_pairs}), so no checkpoint would be written."
        )
    if binding.checkpoint_every % binding.block_size:
        raise ConfigError(
            f"Key 'binding.block_size' ({binding.block_size}) in {source} does not divide "
            f"'binding.checkpoint_every' ({binding.checkpoint_every}); checkpoints must fall between blocks."
        )
    names = [learner.name for learner in config.learners]
    if len(set(names)) != len(names):
        raise ConfigError(f"Learner names in {source} repeat: {names}.")
    for name in names:
        if not name or "/" in name:
            raise ConfigError(f"Learner name {name!r} in {source} is invalid; use a non-empty name without '/'.")


def suggest_choice(value, choices) -> str:
    """Return '; did you mean X?' for the closest choice, or '.' when none is close."""
    matches = difflib.get_close_matches(str(value), [str(choice) for choice in choices], n=1)
    return f"; did you mean {matches[0]!r}?" if matches else "."


def deep_merge(base: Mapping, overrides: Mapping) -> dict:
    """Return ``base`` updated by ``overrides``, where a nested table is merged key by key, not replaced."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
