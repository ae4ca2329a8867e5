"""The binding runner: unimodal stage, then every learner on the same pairs, into one run file.

:func:`run_experiment` carries out one seed of an experiment config:

1. load the dataset and fix the evaluation items and the probe subsample;
2. the unimodal stage (``sims.learners.run_unimodal_stage``), stored in the run file
   under ``/stages/unimodal`` so that a resumed run does not repeat it, with a stage
   checkpoint after every epoch so that a run killed during the stage resumes after
   the last completed epoch;
3. each learner in config order: the pairs at stream positions
   ``0 … budget_pairs − 1`` (``sims.learners.pair_indices``), with a checkpoint every
   ``checkpoint_every`` pairs that stores the metrics of
   ``sims.evaluation.evaluate_learner``, a snapshot of the first ``snapshot_size``
   evaluation items and the learner's state.

Resuming. Everything a checkpoint depends on is a function of the seed and the
position in the pair stream (or the epoch of the unimodal stage), or is stored in the
checkpoint (model weights, AdamW moments, step count, binder state). A run resumed from its last committed checkpoint
therefore ends with the same metrics as an uninterrupted run on the same machine with
the same torch thread count. Only the wall-time metrics differ.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assoc.errors import ConfigError
from sims.config import ExperimentConfig, config_to_toml, parse_config
from sims.evaluation import evaluate_learner
from sims.learners import (
    encode_split,
    make_learner,
    model_arrays,
    pair_indices,
    run_unimodal_stage,
)
from sims.runfile import RunReader, RunWriter, array_checksum, check_run_file_kind

logger = logging.getLogger(__name__)

# State keys the runner adds to a learner's own state; stripped before restoring it.
_RUNNER_PREFIX = "runner/"


@dataclass(frozen=True)
class RunResult:
    """Outcome of :func:`run_experiment`.

    Attributes
    ----------
    path : Path
        The run file.
    final_metrics : dict of str to dict of str to float
        Each learner's metrics at its last checkpoint.
    """

    path: Path
    final_metrics: dict


def default_run_path(config: ExperimentConfig, seed: int) -> Path:
    """Return ``runs/<name>-<dataset>[-quick]-seed<seed>.h5``, the default run file."""
    suffix = "-quick" if config.quick else ""
    return Path("runs") / f"{config.name}-{config.dataset}{suffix}-seed{seed}.h5"


def checkpoint_positions(budget_pairs: int, checkpoint_every: int) -> list[int]:
    """Return the pairs-seen values of the checkpoints; the budget is always the last one."""
    positions = list(range(checkpoint_every, budget_pairs + 1, checkpoint_every))
    if not positions or positions[-1] != budget_pairs:
        positions.append(budget_pairs)
    return positions


def run_experiment(
    config: ExperimentConfig,
    *,
    seed: int | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress_factory=None,
    splits=None,
) -> RunResult:
    """Run one seed of a binding experiment and write its run file.

    Parameters
    ----------
    config : ExperimentConfig
    seed : int, optional
        Default: the config's first seed.
    out : path, optional
        Run file; default :func:`default_run_path`.
    resume : bool
        Continue ``out`` from its last committed checkpoints. The file must have been
        written with the same config and seed. Without ``resume`` an existing file
        raises ConfigError, unless ``overwrite`` is set.
    overwrite : bool
        Replace an existing run file instead of raising; ignored with ``resume``.
    progress_factory : callable, optional
        ``progress_factory(description, unit)`` returns a context manager that yields a
        ``progress(done, total)`` callback, for example ``assoc.progress.progress_bar``.
    splits : dict of Split, optional
        Preloaded data; by default the config's dataset is loaded.

    Returns
    -------
    RunResult
    """
    seed = config.seeds[0] if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer; got {seed!r}.")
    path = Path(out) if out is not None else default_run_path(config, seed)
    progress_factory = progress_factory or _no_progress
    config_text = config_to_toml(config)

    if path.exists() and not resume and not overwrite:
        raise ConfigError(
            f"Run file {path} already exists; pass --resume to continue it, --overwrite to replace it "
            "or --out to write elsewhere."
        )
    if resume and path.exists():
        # Before loading data, so a file of another kind is reported at once.
        check_run_file_kind(path, "binding")
    splits = splits if splits is not None else _load_splits(config, seed, progress_factory)
    data = _evaluation_data(config, splits, seed)
    writer = _open_writer(path, config, config_text, seed, splits, resume, overwrite)
    with writer:
        started = time.perf_counter()
        model = run_unimodal_stage(writer, config, splits["train"], seed, progress_factory)
        context = _learner_context(config, seed, model, splits["train"], data)
        for learner_config in config.learners:
            _run_learner(writer, learner_config, config, context, data, progress_factory)
        writer.log("run", f"finished in {time.perf_counter() - started:.1f} s")

    with RunReader(path) as reader:
        final = {name: {key: float(values[-1]) for key, values in reader.metrics(name).items()} for name in reader.learners()}
    return RunResult(path=path, final_metrics=final)


# ---------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------


@contextlib.contextmanager
def _no_progress(description: str, unit: str = "it"):
    yield None


def _load_splits(config: ExperimentConfig, seed: int, progress_factory):
    from assoc.data import load_dataset

    with progress_factory(f"load {config.dataset}", "pair") as progress:
        return load_dataset(config.dataset, data_dir=config.data_dir, seed=seed, limit=config.limit, progress=progress)


def _evaluation_data(config: ExperimentConfig, splits, seed: int) -> dict:
    from models.evaluate import probe_subset

    binding = config.binding
    evaluation = splits[config.eval_split]
    evaluation = evaluation.subset(slice(0, min(binding.eval_size, len(evaluation))))
    probe = probe_subset(splits["train"], binding.probe_size, seed)
    n_recon = min(binding.reconstruction_size, len(evaluation))
    if len(np.unique(probe.label)) < 2:
        raise ConfigError(
            f"The probe subsample ({len(probe)} training pairs) contains one digit only; raise binding.probe_size or limit."
        )
    return {
        "evaluation": evaluation,
        "probe": probe,
        "eval_labels": evaluation.label,
        "probe_labels": probe.label,
        "eval_image": evaluation.image[:n_recon],
        "eval_audio": evaluation.audio[:n_recon],
        "snapshot_size": min(config.snapshot_size, len(evaluation)),
    }


def _data_checksums(splits) -> dict[str, str]:
    checksums = {}
    for name, split in splits.items():
        checksums[f"{name}/label"] = array_checksum(split.label)
        checksums[f"{name}/image_index"] = array_checksum(split.image_index)
        checksums[f"{name}/recording"] = array_checksum(np.asarray(split.recording, dtype=str))
        # Raw-file checksums that the dataset builder recorded (AV-MNIST has them).
        for file_name, digest in split.attrs.get("checksums", {}).items():
            checksums[f"raw/{file_name}"] = str(digest)
    return checksums


def _open_writer(path: Path, config, config_text: str, seed: int, splits, resume: bool, overwrite: bool) -> RunWriter:
    if resume and path.exists():
        with RunReader(path) as reader:
            saved_text, saved_seed = reader.config_text, reader.seed
        if saved_seed != seed or parse_config(saved_text, quick=config.quick) != parse_config(config_text, quick=config.quick):
            raise ConfigError(
                f"Run file {path} was written with another config or seed (seed {saved_seed}); "
                "resume with the same experiment, dataset, --quick and --seed, or pass a new --out."
            )
        writer = RunWriter.resume(path)
        writer.log("run", "resumed")
        return writer
    if resume:
        logger.info("no run file at %s yet; starting a new run", path)
    writer = RunWriter.create(
        path,
        config_text=config_text,
        seed=seed,
        data_checksums=_data_checksums(splits),
        overwrite=overwrite,
        kind="binding",
    )
    writer.log("run", f"started {config.name} on {config.dataset}, seed {seed}")
    return writer


def _learner_context(config, seed: int, model, train, data) -> dict:
    started = time.perf_counter()
    rotations = model.rotations_numpy()
    context = {
        "config": config,
        "seed": seed,
        "unimodal_model": model,
        "unimodal_state": model_arrays(model),
        "train": train,
        "evaluation": data["evaluation"],
        "probe": data["probe"],
        "train_codes": encode_split(model, train),
        "codes": {"eval": encode_split(model, data["evaluation"]), "probe": encode_split(model, data["probe"])},
        # R_a R_vᵀ carries z_v = R_v s onto z_a = R_a s: the map a perfect linear binder learns.
        "reference_map": rotations["audio"] @ rotations["visual"].T,
    }
    logger.info("encoded the frozen codes in %.1f s", time.perf_counter() - started)
    return context


def _run_learner(writer: RunWriter, learner_config, config, context, data, progress_factory) -> None:
    name = learner_config.name
    binding = config.binding
    positions = checkpoint_positions(binding.budget_pairs, binding.checkpoint_every)
    point = writer.resume_point(name)
    if point.n_checkpoints >= len(positions):
        logger.info("learner %s: all %d checkpoints already in the run file", name, len(positions))
        return

    restoring = point.state_checkpoint >= 0
    learner = make_learner(learner_config, context, fit_unimodal=not restoring)
    train_seconds = 0.0
    if restoring:
        own_state = {key: value for key, value in point.state.items() if not key.startswith(_RUNNER_PREFIX)}
        learner.load_state_dict(own_state)
        train_seconds = float(point.state[_RUNNER_PREFIX + "train_seconds"])
        writer.log(name, f"resumed at {point.pairs_seen} pairs")
    else:
        writer.log(name, "started")

    n_train = len(context["train"])
    done = point.pairs_seen
    with progress_factory(f"bind {name}", "pair") as progress:
        for index in range(point.n_checkpoints, len(positions)):
            stop = positions[index]
            started = time.perf_counter()
            learner.train(pair_indices(done, stop, n_train, context["seed"]), binding.block_size)
            train_seconds += time.perf_counter() - started
            done = stop

            started = time.perf_counter()
            metrics = evaluate_learner(learner, data, context["reference_map"])
            metrics.update(
                pairs_seen=done,
                epochs=done / n_train,
                train_seconds=train_seconds,
                eval_seconds=time.perf_counter() - started,
            )
            state = dict(learner.state_dict())
            state[_RUNNER_PREFIX + "train_seconds"] = np.float64(train_seconds)
            writer.append_checkpoint(name, done, metrics, snapshot=_snapshot(learner, data), state=state)
            message = (
                f"checkpoint {index} committed: {done} pairs, R@1 v→a {metrics['retrieval_visual_to_audio_R@1']:.3f}, "
                f"transfer v→a {metrics['transfer_visual_to_audio']:.3f}, CKA {metrics['overlap_cka']:.3f}"
            )
            writer.log(name, message)
            logger.info("learner %s: %s", name, message)
            if progress is not None:
                progress(done, binding.budget_pairs)


def _snapshot(learner, data) -> dict[str, np.ndarray]:
    size = data["snapshot_size"]
    z_visual, z_audio = learner.codes("eval")
    return {
        "z_visual": learner.recall(z_visual[:size], "visual").astype(np.float32),
        "z_audio": z_audio[:size].astype(np.float32),
        "label": np.asarray(data["eval_labels"][:size], dtype=np.int64),
    }
