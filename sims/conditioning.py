"""Rescorla-Wagner conditioning over the shared embedding: digit images as CSs, a spoken digit as the US.

The experiment, for one seed:

1. the unimodal stage of the binding runner (``sims.learners.run_unimodal_stage``),
   which trains on no pair, stored under ``/stages/unimodal`` so that a resumed run
   skips it, and checkpointed after every epoch so that a killed stage resumes there;
2. stimuli from the frozen codes. Each cue letter of a design names a digit; its
   vector is a code of that digit in the CS modality (``cs_modality``, visual by
   default). The US is a code of ``us_digit`` in the other modality, so with the
   default cues the image of a 3 is conditioned to the spoken "three". Codes are
   centred on their modality's mean training code, whitened with that modality's
   training covariance (statistics of one modality, so no pair is used) and scaled to
   unit norm. ``stimuli = "class_mean"`` uses each digit's mean training code
   on every trial; ``stimuli = "item"`` draws a training pair of ``us_digit`` on every
   reinforced trial (its audio code is the US, its image code the vector of any cue of
   that digit) and a random training item for the other cues;
3. each group of each paradigm in ``paradigms`` (designs from
   ``assoc.conditioning.paradigms``) learns a map W, (k, k), from zero with the
   hetero-associative delta rule ``hetero_delta_update``: on a trial with cues x_i,
   x = Σ x_i and W ← W + α β (u − W x) xᵀ, with u the US code and β = ``beta_plus``
   on reinforced trials, u = 0 and β = ``beta_minus`` on non-reinforced trials, and
   no update on probe (``#``) trials.

After every trial (values are taken after the trial's update) the run file stores, for
each cue c of the design, with r = W x̄_c the recall that the cue's evaluation code
x̄_c evokes and ū the US code of the evaluation split:

- ``strength_<c>`` = r·ū / |ū|², the share of the US the cue calls up, which is
  Rescorla-Wagner's V_c when the codes are one-hot;
- ``overlap_us_<c>`` = cos(r, ū);
- ``overlap_other_<c>``: the mean cosine of r with the other digits' codes in the US
  modality, a control for ``overlap_us_<c>``.

It also stores ``strength_digit<d>`` for every digit d (generalization) and
``generalization_r``, the Pearson correlation over the digits that are no cue of the
design between strength_digit<d> and the cosine similarity of x̄_d to the first
reinforced cue's code, both in the learner's input space (centred, whitened).
``generalization_r_raw`` is the same correlation against the similarity of the
rotated codes before whitening (centred only). Both similarity matrices are stored in
``/stages/stimuli``. One run-file learner is written per group, named
``<paradigm>.<group>`` (for example ``blocking.Blocking``), with the trial number as
its pairs-seen axis.

NOTE: one salience α applies to every cue. The overshadowing paradigm's per-cue
saliences (α_A = 0.5, α_B = 0.2 in the discrete engine) are not carried over, so the
two cues split the US about equally here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assoc.errors import ConfigError, DataNotFoundError
from sims.config import (
    EVAL_SPLITS,
    ConfigTable,
    UnimodalConfig,
    check_value,
    dataclass_from_table,
    deep_merge,
    format_toml_key,
    format_toml_value,
    suggest_choice,
    warn_without_quick_table,
)
from sims.runfile import RunReader, RunWriter, array_checksum, check_run_file_kind

logger = logging.getLogger(__name__)

KIND = "conditioning"
STIMULI = ("class_mean", "item")
MODALITIES = ("visual", "audio")
N_DIGITS = 10
STIMULI_STAGE = "stimuli"
FINISHED_MESSAGE = "finished"

# The designs are the paradigms of assoc.conditioning.paradigms with these names.
PARADIGM_NAMES = ("acquisition", "extinction", "blocking", "overshadowing", "conditioned_inhibition")

CONDITIONING_TOML = """\
kind = "conditioning"
name = "conditioning"
description = "Rescorla-Wagner designs over embedding stimuli: digit images as CSs, the spoken digit as the US"
dataset = "demo"
seeds = [0]
eval_split = "test"
stimuli = "class_mean"
cs_modality = "visual"
us_digit = 3
paradigms = ["acquisition", "extinction", "blocking", "overshadowing", "conditioned_inhibition"]
whiten = true
whiten_ridge = 1e-3
alpha = 1.0
beta_plus = 0.2
beta_minus = 0.2

[cues]
A = 3
B = 7
C = 5
X = 8

[unimodal]
epochs = 1
batch_size = 32
lr = 2e-3
k = 64
width = 32

[quick]
limit = 300
"""


# ---------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ConditioningConfig:
    """The embedding-conditioning experiment.

    Attributes
    ----------
    name, description : str
    dataset : str
        Dataset name passed to ``assoc.data.load_dataset``.
    data_dir : str or None
    limit : int or None
        Cap on pairs per split.
    seeds : tuple of int
    eval_split : {'val', 'test'}
        Split whose class-mean codes are the evaluation cues and US.
    stimuli : {'class_mean', 'item'}
        Cue and US vectors on training trials (see the module docstring).
    cs_modality : {'visual', 'audio'}
        Modality of the CSs; the US comes from the other one.
    us_digit : int
        Digit whose code in the US modality is the US.
    cues : mapping of str to int
        Digit of each cue letter used by the designs; read-only.
    paradigms : tuple of str
        Designs to run, from :data:`PARADIGM_NAMES`.
    whiten_ridge : float or None
        Ridge of the per-modality ZCA whitening of the codes, relative to the largest
        eigenvalue of the training covariance; None (``whiten = false`` in TOML) only
        centres them. Class-mean codes of a briefly trained model are strongly
        correlated (cosines near 0.9 between digits), and whitening separates them.
    alpha : float
        Cue salience α, in (0, 1].
    beta_plus, beta_minus : float
        US learning rates on reinforced and non-reinforced trials. The rule is stable
        while α β |x|² < 2; compound trials of two unit cues have |x|² up to 4.
    unimodal : UnimodalConfig
    quick : bool
    """

    name: str
    description: str = ""
    dataset: str = "demo"
    data_dir: str | None = None
    limit: int | None = None
    seeds: tuple[int, ...] = (0,)
    eval_split: str = "test"
    stimuli: str = "class_mean"
    cs_modality: str = "visual"
    us_digit: int = 3
    cues: Mapping[str, int] = dataclasses.field(default_factory=dict)
    paradigms: tuple[str, ...] = PARADIGM_NAMES
    whiten_ridge: float | None = 1e-3
    alpha: float = 1.0
    beta_plus: float = 0.2
    beta_minus: float = 0.2
    unimodal: UnimodalConfig = UnimodalConfig()
    quick: bool = False

    kind = KIND

    @property
    def us_modality(self) -> str:
        """The modality of the US, the one that is not ``cs_modality``."""
        return MODALITIES[1 - MODALITIES.index(self.cs_modality)]

    def replace(self, **changes) -> ConditioningConfig:
        """Return a copy with top-level ``changes``, validated."""
        allowed = [field.name for field in dataclasses.fields(self)]
        for key in changes:
            if key not in allowed:
                raise ConfigError(f"Unknown config key {key!r}{suggest_choice(key, allowed)}")
        updated = dataclasses.replace(self, **changes)
        return conditioning_config_from_dict(_config_dict(updated), source="config", quick=updated.quick)


def load_conditioning_config(
    name_or_path: str | Path = "conditioning", *, quick: bool = False, dataset: str | None = None
) -> ConditioningConfig:
    """Load the built-in ``conditioning`` config or a TOML file of the same form."""
    text = str(name_or_path)
    if text == KIND and not Path(text).is_file():
        return parse_conditioning_config(CONDITIONING_TOML, quick=quick, dataset=dataset, source="built-in experiment 'conditioning'")
    path = Path(name_or_path)
    if not path.is_file():
        raise DataNotFoundError(f"Config file {path} not found; check the path.")
    text = path.read_text(encoding="utf-8")
    if quick:
        warn_without_quick_table(text, path)
    return parse_conditioning_config(text, quick=quick, dataset=dataset, source=str(path))


def parse_conditioning_config(
    text: str, *, quick: bool = False, dataset: str | None = None, source: str = "config"
) -> ConditioningConfig:
    """Parse and validate a conditioning config from TOML text.

    The ``[quick]`` table replaces keys when ``quick`` is set, and is validated on
    every load. ``dataset`` replaces the config's ``dataset`` key.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"Invalid TOML in {source}: {error}.") from None
    quick_table = data.pop("quick", {})
    if not isinstance(quick_table, dict):
        raise ConfigError(f"Key 'quick' in {source} must be a table; got {quick_table!r}.")
    if "quick" in quick_table:
        raise ConfigError(f"Key 'quick.quick' in {source} is not allowed; [quick] cannot contain [quick].")
    if dataset is not None:
        data["dataset"] = dataset
    full = conditioning_config_from_dict(data, source=source)
    shrunk = conditioning_config_from_dict(deep_merge(data, quick_table), source=f"{source} with [quick]", quick=True)
    return shrunk if quick else full


def conditioning_config_from_dict(
    data: Mapping[str, Any], *, source: str = "config", quick: bool = False
) -> ConditioningConfig:
    """Build and validate a :class:`ConditioningConfig` from parsed TOML."""
    table = ConfigTable(dict(data), "", source)
    kind = table.take("kind", str, default=KIND)
    if kind != KIND:
        raise ConfigError(f"Key 'kind' in {source} is {kind!r}; a conditioning config needs kind = {KIND!r}.")
    seeds = table.take("seeds", list, default=[0])
    paradigms = table.take("paradigms", list, default=list(PARADIGM_NAMES))
    config = ConditioningConfig(
        name=table.take("name", str, required=True),
        description=table.take("description", str, default=""),
        dataset=table.take("dataset", str, default="demo"),
        data_dir=table.take("data_dir", str, default=None),
        limit=table.take("limit", int, default=None, check=("min", 20)),
        seeds=tuple(seeds),
        eval_split=table.take("eval_split", str, default="test", check=("choice", EVAL_SPLITS)),
        stimuli=table.take("stimuli", str, default="class_mean", check=("choice", STIMULI)),
        cs_modality=table.take("cs_modality", str, default="visual", check=("choice", MODALITIES)),
        us_digit=table.take("us_digit", int, default=3, check=("choice", tuple(range(N_DIGITS)))),
        cues=_cues_from_table(table.subtable("cues", required=True)),
        paradigms=tuple(paradigms),
        whiten_ridge=_whiten_ridge(table),
        alpha=table.take("alpha", float, default=1.0, check=("range", 0.0, 1.0)),
        beta_plus=table.take("beta_plus", float, default=0.2, check=("above", 0.0)),
        beta_minus=table.take("beta_minus", float, default=0.2, check=("above", 0.0)),
        unimodal=dataclass_from_table(UnimodalConfig, table.subtable("unimodal")),
        quick=quick,
    )
    table.reject_unknown()
    _validate(config, source)
    return config


def _whiten_ridge(table: ConfigTable) -> float | None:
    whiten = table.take("whiten", bool, default=True)
    ridge = table.take("whiten_ridge", float, default=1e-3, check=("above", 0.0))
    return ridge if whiten else None


def _cues_from_table(table: ConfigTable) -> Mapping[str, int]:
    from types import MappingProxyType

    cues = {}
    for letter in list(table.data):
        cues[letter] = table.take(letter, int, check=("choice", tuple(range(N_DIGITS))))
    return MappingProxyType(cues)


def _validate(config: ConditioningConfig, source: str) -> None:
    if not config.seeds:
        raise ConfigError(f"Key 'seeds' in {source} is empty; give at least one seed, for example seeds = [0].")
    for seed in config.seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"Key 'seeds' in {source} must list non-negative integers; got {seed!r}.")
    if len(set(config.seeds)) != len(config.seeds):
        raise ConfigError(f"Key 'seeds' in {source} lists a seed twice: {list(config.seeds)}.")
    if not config.paradigms:
        raise ConfigError(f"Key 'paradigms' in {source} is empty; choose from {', '.join(PARADIGM_NAMES)}.")
    for name in config.paradigms:
        check_value("paradigms", name, str, ("choice", PARADIGM_NAMES), source)
    if len(set(config.paradigms)) != len(config.paradigms):
        raise ConfigError(f"Key 'paradigms' in {source} lists a paradigm twice: {list(config.paradigms)}.")
    needed = sorted({cue for name in config.paradigms for cue in _design(name).cues})
    missing = [cue for cue in needed if cue not in config.cues]
    if missing:
        raise ConfigError(
            f"Table [cues] in {source} has no digit for cue(s) {', '.join(missing)}, which the paradigms "
            f"{', '.join(config.paradigms)} use; add for example {missing[0]} = 5."
        )
    if config.unimodal.width > config.unimodal.k:
        raise ConfigError(
            f"Key 'unimodal.width' ({config.unimodal.width}) in {source} exceeds 'unimodal.k' "
            f"({config.unimodal.k}); W is k × width, so set width <= k."
        )
    digits = [config.cues[cue] for cue in needed]
    if len(set(digits)) != len(digits):
        raise ConfigError(f"Table [cues] in {source} gives two cues the same digit ({dict(config.cues)}); give each its own.")


def conditioning_config_to_toml(config: ConditioningConfig) -> str:
    """Return TOML text of the sizes and parameters ``config`` runs with (no ``[quick]`` table)."""
    data = _config_dict(config)
    lines = []
    for key, value in data.items():
        if not isinstance(value, dict):
            lines.append(f"{key} = {format_toml_value(value)}")
    for key, value in data.items():
        if isinstance(value, dict):
            lines += ["", f"[{key}]"]
            lines += [f"{format_toml_key(name)} = {format_toml_value(item)}" for name, item in value.items()]
    return "\n".join(lines) + "\n"


def _config_dict(config: ConditioningConfig) -> dict:
    data = {"kind": KIND}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if field.name == "quick":
            continue
        if field.name == "cues":
            value = dict(value)
        elif field.name == "whiten_ridge":
            data["whiten"] = value is not None
            value = 1e-3 if value is None else value
        elif field.name == "unimodal":
            value = dataclasses.asdict(value)
        elif isinstance(value, tuple):
            value = list(value)
        if value is not None:
            data[field.name] = value
    return data


def _design(name: str):
    from assoc.conditioning.paradigms import get_paradigm

    return get_paradigm(name).design


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ConditioningResult:
    """Outcome of :func:`run_conditioning_experiment`.

    Attributes
    ----------
    path : Path
        The run file.
    final_metrics : dict of str to dict of str to float
        Each group's metrics after its last trial, keyed ``<paradigm>.<group>``.
    """

    path: Path
    final_metrics: dict


def default_conditioning_path(config: ConditioningConfig, seed: int) -> Path:
    """Return ``runs/<name>-<dataset>[-quick]-seed<seed>.h5``."""
    suffix = "-quick" if config.quick else ""
    return Path("runs") / f"{config.name}-{config.dataset}{suffix}-seed{seed}.h5"


def run_conditioning_experiment(
    config: ConditioningConfig,
    *,
    seed: int | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress_factory=None,
    splits=None,
) -> ConditioningResult:
    """Run one seed of the embedding-conditioning experiment and write its run file.

    Parameters
    ----------
    config : ConditioningConfig
    seed : int, optional
        Default: the config's first seed.
    out : path, optional
        Run file; default :func:`default_conditioning_path`.
    resume : bool
        Continue ``out``: the unimodal stage is read back and groups whose trials are
        all committed are skipped. A group cut short is computed again from its first
        trial (it is cheap and deterministic) and only its missing trials are written.
        Without ``resume`` an existing file raises ConfigError, unless ``overwrite`` is set.
    overwrite : bool
        Replace an existing run file instead of raising; ignored with ``resume``.
    progress_factory : callable, optional
        ``progress_factory(description, unit)`` returns a context manager yielding a
        ``progress(done, total)`` callback.
    splits : dict of Split, optional
        Preloaded data; by default the config's dataset is loaded.
    """
    if not isinstance(config, ConditioningConfig):
        raise ConfigError(f"config must be a ConditioningConfig; got {type(config).__name__}.")
    seed = config.seeds[0] if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer; got {seed!r}.")
    path = Path(out) if out is not None else default_conditioning_path(config, seed)
    progress_factory = progress_factory or _no_progress
    config_text = conditioning_config_to_toml(config)

    if resume and path.exists():
        # Before loading data, so a file of another kind is reported at once.
        check_run_file_kind(path, KIND)
    if splits is None:
        from assoc.data import load_dataset

        with progress_factory(f"load {config.dataset}", "pair") as progress:
            splits = load_dataset(config.dataset, data_dir=config.data_dir, seed=seed, limit=config.limit, progress=progress)
    writer = _open_writer(path, config, config_text, seed, splits, resume, overwrite)
    with writer:
        started = time.perf_counter()
        model = _unimodal_model(writer, config, splits["train"], seed, progress_factory)
        stimuli = _stimuli(model, config, splits)
        if writer.read_stage(STIMULI_STAGE) is None:
            writer.write_stage(STIMULI_STAGE, stimuli.arrays())
        groups = [(name, group) for name in config.paradigms for group in _design(name).groups]
        with progress_factory("conditioning groups", "group") as progress:
            for index, (paradigm, group) in enumerate(groups):
                _run_group(writer, config, stimuli, paradigm, group, seed)
                if progress is not None:
                    progress(index + 1, len(groups))
        writer.log("run", f"{FINISHED_MESSAGE} in {time.perf_counter() - started:.1f} s")

    with RunReader(path) as reader:
        final = {name: {key: float(values[-1]) for key, values in reader.metrics(name).items()} for name in reader.learners()}
    return ConditioningResult(path=path, final_metrics=final)


@contextlib.contextmanager
def _no_progress(description: str, unit: str = "it"):
    yield None


def _open_writer(path: Path, config, config_text: str, seed: int, splits, resume: bool, overwrite: bool) -> RunWriter:
    checksums = {f"{name}/label": array_checksum(split.label) for name, split in splits.items()}
    if resume and path.exists():
        with RunReader(path) as reader:
            saved_text, saved_seed = reader.config_text, reader.seed
        if saved_seed != seed or parse_conditioning_config(saved_text) != parse_conditioning_config(config_text):
            raise ConfigError(
                f"Run file {path} was written with another config or seed (seed {saved_seed}); "
                "resume with the same config and seed, or write to a new file."
            )
        writer = RunWriter.resume(path)
        writer.log("run", "resumed")
        return writer
    if path.exists() and not overwrite:
        raise ConfigError(
            f"Run file {path} already exists; pass --resume to continue it, --overwrite to replace it "
            "or --out to write elsewhere."
        )
    writer = RunWriter.create(
        path, config_text=config_text, seed=seed, data_checksums=checksums, overwrite=overwrite, kind=KIND
    )
    writer.log("run", f"started {config.name} on {config.dataset}, seed {seed}")
    return writer


def _unimodal_model(writer: RunWriter, config, train, seed: int, progress_factory):
    from sims.learners import run_unimodal_stage

    return run_unimodal_stage(writer, config, train, seed, progress_factory)


# ---------------------------------------------------------------------------
# Stimuli
# ---------------------------------------------------------------------------


@dataclass
class Stimuli:
    """Unit-norm, centred codes that the trials and the readouts use.

    Attributes
    ----------
    train_cs, train_us : ndarray of shape (n_train, k)
        Every training item's code in the CS and US modality.
    train_label : ndarray of shape (n_train,)
    mean_cs, mean_us : ndarray of shape (10, k)
        Class-mean training codes per digit (rows of absent digits are NaN).
    eval_cs, eval_us : ndarray of shape (10, k)
        Class-mean codes of the evaluation split: the probes and the US reference.
    similarity : ndarray of shape (10, 10)
        Cosine similarity of the digits' evaluation codes in the CS modality, as the
        learner receives them (centred, whitened).
    similarity_raw : ndarray of shape (10, 10)
        The same for the rotated codes centred on the training mean, without whitening.
    """

    train_cs: np.ndarray
    train_us: np.ndarray
    train_label: np.ndarray
    mean_cs: np.ndarray
    mean_us: np.ndarray
    eval_cs: np.ndarray
    eval_us: np.ndarray
    similarity: np.ndarray
    similarity_raw: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "mean_cs": self.mean_cs,
            "mean_us": self.mean_us,
            "eval_cs": self.eval_cs,
            "eval_us": self.eval_us,
            "similarity": self.similarity,
            "similarity_raw": self.similarity_raw,
        }


def _stimuli(model, config: ConditioningConfig, splits) -> Stimuli:
    from sims.learners import encode_split

    train, evaluation = splits["train"], splits[config.eval_split]
    codes = dict(zip(MODALITIES, encode_split(model, train)))
    eval_codes = dict(zip(MODALITIES, encode_split(model, evaluation)))
    centres = {modality: codes[modality].mean(axis=0) for modality in MODALITIES}
    transforms = {modality: _whitening(codes[modality], config.whiten_ridge) for modality in MODALITIES}

    def prepare(z, modality):
        centred = (z - centres[modality]) @ transforms[modality]
        norms = np.linalg.norm(centred, axis=-1, keepdims=True)
        return centred / np.where(norms > 0, norms, 1.0)

    def class_means(z, labels, modality):
        means = np.full((N_DIGITS, z.shape[1]), np.nan)
        for digit in np.unique(labels):
            means[digit] = z[labels == digit].mean(axis=0)
        return prepare(means, modality)

    cs, us = config.cs_modality, config.us_modality
    needed = sorted(set(config.cues.values()) | {config.us_digit})
    for split_name, labels in (("train", train.label), (config.eval_split, evaluation.label)):
        absent = [digit for digit in needed if not np.any(labels == digit)]
        if absent:
            raise ConfigError(
                f"The {split_name} split has no item of digit(s) {absent}, which [cues] or us_digit use; "
                "raise limit or choose other digits."
            )
    eval_cs = class_means(eval_codes[cs], evaluation.label, cs)
    present = ~np.isnan(eval_cs[:, 0])
    similarity = np.full((N_DIGITS, N_DIGITS), np.nan)
    similarity[np.ix_(present, present)] = eval_cs[present] @ eval_cs[present].T
    raw = np.stack([eval_codes[cs][evaluation.label == d].mean(axis=0) - centres[cs] for d in np.flatnonzero(present)])
    raw /= np.linalg.norm(raw, axis=1, keepdims=True)
    similarity_raw = np.full((N_DIGITS, N_DIGITS), np.nan)
    similarity_raw[np.ix_(present, present)] = raw @ raw.T
    return Stimuli(
        train_cs=prepare(codes[cs], cs),
        train_us=prepare(codes[us], us),
        train_label=np.asarray(train.label),
        mean_cs=class_means(codes[cs], train.label, cs),
        mean_us=class_means(codes[us], train.label, us),
        eval_cs=eval_cs,
        eval_us=class_means(eval_codes[us], evaluation.label, us),
        similarity=similarity,
        similarity_raw=similarity_raw,
    )


def _whitening(codes: np.ndarray, ridge: float | None) -> np.ndarray:
    """Return T, (k, k), such that (z − mean) T has identity covariance over ``codes``; identity when ridge is None.

    T = V diag(1 / sqrt(λ + ridge · max λ)) Vᵀ from the eigendecomposition C = V diag(λ) Vᵀ
    of the codes' covariance (ZCA whitening, regularised by ``ridge`` relative to the
    largest eigenvalue).
    """
    k = codes.shape[1]
    if ridge is None:
        return np.eye(k)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(codes, rowvar=False))
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    scale = 1.0 / np.sqrt(eigenvalues + ridge * max(float(eigenvalues.max()), 1e-12))
    return (eigenvectors * scale) @ eigenvectors.T


# ---------------------------------------------------------------------------
# Trials
# ---------------------------------------------------------------------------


def _trial_sequence(group, seed_key: list[int]):
    """Yield (phase index, TrialType) for every trial of a group, shuffled phases per ``seed_key``."""
    for phase_index, phase in enumerate(group.phases):
        trials = [trial_type for trial_type in phase.trial_types for _ in range(trial_type.count)]
        if phase.shuffle:
            order = np.random.default_rng([*seed_key, phase_index]).permutation(len(trials))
            trials = [trials[i] for i in order]
        for trial_type in trials:
            yield phase_index, trial_type


def _run_group(writer: RunWriter, config: ConditioningConfig, stimuli: Stimuli, paradigm: str, group, seed: int) -> None:
    from assoc.conditioning.vector import hetero_delta_update

    name = f"{paradigm}.{group.name}"
    design = _design(paradigm)
    group_index = next(i for i, candidate in enumerate(design.groups) if candidate.name == group.name)
    paradigm_index = PARADIGM_NAMES.index(paradigm)
    trials = list(_trial_sequence(group, [seed, paradigm_index, group_index]))
    committed = writer.n_checkpoints(name)
    if committed >= len(trials):
        logger.info("group %s: all %d trials already in the run file", name, len(trials))
        return
    writer.log(name, "started" if committed == 0 else f"recomputed; writing from trial {committed + 1}")

    rng = np.random.default_rng([seed, paradigm_index, group_index, 1])
    cues = design.cues
    reference_cue = _reference_cue(group)
    weights = np.zeros((stimuli.eval_us.shape[1], stimuli.eval_cs.shape[1]))
    rate_plus = config.alpha * config.beta_plus
    rate_minus = config.alpha * config.beta_minus
    for trial, (phase_index, trial_type) in enumerate(trials):
        reinforced = bool(trial_type.us)
        if not trial_type.probe:
            x, u = _trial_vectors(config, stimuli, trial_type.cues, reinforced, rng)
            hetero_delta_update(weights, x[None, :], u[None, :], rate_plus if reinforced else rate_minus)
        if trial < committed:
            continue
        metrics = _readouts(weights, stimuli, config, cues, reference_cue)
        metrics.update(phase=phase_index, reinforced=float(reinforced), probe=float(trial_type.probe))
        state = {"weights": weights} if trial == len(trials) - 1 else None
        writer.append_checkpoint(name, trial + 1, metrics, state=state)
    summary = ", ".join(f"V_{cue} {metrics[f'strength_{cue}']:.3f}" for cue in cues)
    writer.log(name, f"finished {len(trials)} trials: {summary}")


def _reference_cue(group) -> str | None:
    """Return the first cue of the group's first reinforced trial type: generalization is measured from it."""
    for phase in group.phases:
        for trial_type in phase.trial_types:
            if trial_type.us and not trial_type.probe:
                return trial_type.cues[0]
    return None


def _trial_vectors(config, stimuli: Stimuli, cues, reinforced: bool, rng) -> tuple[np.ndarray, np.ndarray]:
    """Return the compound input x = Σ x_cue and the target u (zero on non-reinforced trials)."""
    us_digit = config.us_digit
    k = stimuli.mean_us.shape[1]
    if config.stimuli == "class_mean":
        x = sum(stimuli.mean_cs[config.cues[cue]] for cue in cues)
        u = stimuli.mean_us[us_digit] if reinforced else np.zeros(k)
        return np.asarray(x, dtype=np.float64), u

    # Item codes: one drawn pair of the US digit supplies the US and that digit's cue.
    pair = rng.choice(np.flatnonzero(stimuli.train_label == us_digit))
    x = np.zeros(stimuli.train_cs.shape[1])
    for cue in cues:
        digit = config.cues[cue]
        item = pair if digit == us_digit else rng.choice(np.flatnonzero(stimuli.train_label == digit))
        x += stimuli.train_cs[item]
    u = stimuli.train_us[pair] if reinforced else np.zeros(k)
    return x, u


def _readouts(weights, stimuli: Stimuli, config, cues, reference_cue) -> dict[str, float]:
    us_code = stimuli.eval_us[config.us_digit]
    recall = stimuli.eval_cs @ weights.T  # (10, k): what each digit's evaluation code evokes
    strength = recall @ us_code / (us_code @ us_code)
    recall_norm = np.linalg.norm(recall, axis=1)
    us_norms = np.linalg.norm(stimuli.eval_us, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosines = (recall @ stimuli.eval_us.T) / np.outer(recall_norm, us_norms)  # (10 CS digits, 10 US digits)
    cosines = np.where(np.outer(recall_norm, us_norms) > 0, cosines, 0.0)

    metrics = {}
    for cue in cues:
        digit = config.cues[cue]
        others = [d for d in range(N_DIGITS) if d != config.us_digit and not np.isnan(us_norms[d])]
        metrics[f"strength_{cue}"] = float(strength[digit])
        metrics[f"overlap_us_{cue}"] = float(cosines[digit, config.us_digit])
        metrics[f"overlap_other_{cue}"] = float(np.nanmean(cosines[digit, others]))
    for digit in range(N_DIGITS):
        metrics[f"strength_digit{digit}"] = float(strength[digit])
    metrics["generalization_r"] = _generalization_r(strength, stimuli.similarity, config, cues, reference_cue)
    metrics["generalization_r_raw"] = _generalization_r(strength, stimuli.similarity_raw, config, cues, reference_cue)
    return metrics


def _generalization_r(strength, similarities, config, cues, reference_cue) -> float:
    """Pearson r over non-cue digits between recalled strength and similarity to the reference cue."""
    if reference_cue is None:
        return float("nan")
    cue_digits = {config.cues[cue] for cue in cues}
    reference = config.cues[reference_cue]
    digits = [d for d in range(N_DIGITS) if d not in cue_digits and not np.isnan(similarities[reference, d])]
    if len(digits) < 3:
        return float("nan")
    values, similarity = strength[digits], similarities[reference, digits]
    if np.std(values) == 0 or np.std(similarity) == 0:
        return float("nan")
    return float(np.corrcoef(values, similarity)[0, 1])
