"""The learners of the binding stage behind one interface, and the unimodal stage.

The runner uses every learner through :class:`GradientLearner` or
:class:`AssociativeLearner`. Both train on pairs given as indices into the training
split, and both expose, for evaluation, each modality's current codes and ``recall``,
which maps codes of one modality into the other modality's frame:

- associative learners keep the encoders of the unimodal stage frozen, so their codes
  never change, and recall is the binder's learned map. Binders receive each
  modality's codes centred on that modality's mean training code. That mean is a
  statistic of one modality, so no pair is used, and centring makes the Hebbian sums
  covariances. Recall adds the target modality's mean back, so recalled codes are in
  the frame of the raw codes;
- the gradient learner moves the encoders, and its recall is the model's own transfer
  R_target R_sourceᵀ z, so recalled visual codes and audio codes live in one frame.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch

from assoc.data.contract import Split
from assoc.errors import ConfigError
from assoc.progress import ProgressCallback
from sims.binders import make_binder
from sims.config import ExperimentConfig, LearnerConfig

logger = logging.getLogger(__name__)

MODALITIES = ("visual", "audio")
# Run-file stage of the unimodal model, in /stages and /stage_checkpoints.
UNIMODAL_STAGE = "unimodal"


# ---------------------------------------------------------------------------
# Pair order
# ---------------------------------------------------------------------------


def pair_indices(start: int, stop: int, n_train: int, seed: int) -> np.ndarray:
    """Return the training-pair indices at stream positions ``start … stop − 1``.

    The stream visits the training split epoch after epoch, each epoch in the order
    ``default_rng([seed, 2, epoch]).permutation(n_train)``. Position p therefore depends
    only on the seed and p, so every learner gets the same pairs in the same order and
    a resumed run continues the stream where its last checkpoint left it.
    """
    if n_train < 1:
        raise ConfigError(f"The train split has {n_train} pairs; the binding stage needs at least 1.")
    pieces = []
    position = start
    while position < stop:
        epoch, offset = divmod(position, n_train)
        order = np.random.default_rng([seed, 2, epoch]).permutation(n_train)
        take = min(stop - position, n_train - offset)
        pieces.append(order[offset : offset + take])
        position += take
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)


# ---------------------------------------------------------------------------
# Torch state as numpy arrays (for run-file checkpoints)
# ---------------------------------------------------------------------------


def model_arrays(model: torch.nn.Module) -> dict[str, np.ndarray]:
    """Return a model's state_dict as numpy arrays, keyed by parameter name."""
    return {name: tensor.detach().cpu().numpy().copy() for name, tensor in model.state_dict().items()}


def load_model_arrays(model: torch.nn.Module, arrays: dict[str, np.ndarray]) -> None:
    """Load :func:`model_arrays` output into ``model`` (strict: every key must match)."""
    model.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value in arrays.items()})


def training_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, np.ndarray]:
    """Return the model and the optimizer's per-parameter state as numpy arrays.

    Keys are ``model/<parameter>`` and ``optimizer/<parameter id>/<name>`` (for AdamW
    the moments and the step count). The parameter groups are not stored, because the
    config rebuilds them.
    """
    state = {f"model/{name}": value for name, value in model_arrays(model).items()}
    for parameter_id, moments in optimizer.state_dict()["state"].items():
        for name, value in moments.items():
            state[f"optimizer/{parameter_id}/{name}"] = torch.as_tensor(value).detach().cpu().numpy().copy()
    return state


def load_training_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer, state: dict[str, np.ndarray]) -> None:
    """Restore :func:`training_state` output; keys without its two prefixes are ignored."""
    load_model_arrays(model, {key[len("model/") :]: value for key, value in state.items() if key.startswith("model/")})
    saved = optimizer.state_dict()
    moments: dict[int, dict] = {}
    for key, value in state.items():
        if key.startswith("optimizer/"):
            _, parameter_id, name = key.split("/")
            moments.setdefault(int(parameter_id), {})[name] = torch.from_numpy(np.array(value))
    saved["state"] = moments
    optimizer.load_state_dict(saved)


def build_rotation_model(config: ExperimentConfig, seed: int, **train_settings):
    """Build a rotation model of the experiment's sizes, with its TrainConfig.

    ``train_settings`` (learning rate, loss weights, batch size) go into the
    ``models.config.TrainConfig`` that the trainer helpers read.
    """
    from models.config import TrainConfig
    from models.model import build_model

    train_config = TrainConfig(
        dataset=config.dataset,
        k=config.unimodal.k,
        width=config.unimodal.width,
        seed=seed,
        device="cpu",
        **train_settings,
    )
    return build_model(train_config), train_config


# ---------------------------------------------------------------------------
# Unimodal stage
# ---------------------------------------------------------------------------


def train_unimodal(
    config: ExperimentConfig,
    train: Split,
    seed: int,
    *,
    progress: ProgressCallback | None = None,
    resume_state: dict[str, np.ndarray] | None = None,
    epoch_callback=None,
):
    """Train tokenizers, W and rotations by within-modality reconstruction; return the model.

    Each optimizer step uses one modality only: a batch of images reconstructed from
    their own codes, then a batch of spectrograms. The two modalities are shuffled by
    independent orders, ``default_rng([seed, 1, epoch, m])``, so no step ever receives a
    pair. W is shared, so it learns from both modalities, one at a time.

    Parameters
    ----------
    config : ExperimentConfig
    train : Split
    seed : int
    progress : callable, optional
        ``progress(done, total)`` after every optimizer step.
    resume_state : dict of str to ndarray, optional
        A state that ``epoch_callback`` received. Training continues with the epoch
        after it and ends with the same weights as an uninterrupted run.
    epoch_callback : callable, optional
        ``epoch_callback(epochs_done, state)`` after every epoch but the last. ``state``
        contains the model, the AdamW moments and ``epochs_done`` as numpy arrays.
    """
    from models.losses import reconstruction_loss
    from models.train import make_optimizer

    settings = config.unimodal
    model, train_config = build_rotation_model(config, seed, lr=settings.lr, batch_size=settings.batch_size)
    optimizer = make_optimizer(model, train_config)
    first_epoch = 0
    if resume_state is not None:
        load_training_state(model, optimizer, resume_state)
        first_epoch = int(resume_state["epochs_done"])
    n_train = len(train)
    n_batches = -(-n_train // settings.batch_size)
    total = settings.epochs * n_batches * 2
    inputs = {"visual": train.image, "audio": train.audio}
    model.train()
    # The fold schedule counts steps from the start of the stage, resumed or not.
    steps = first_epoch * n_batches * 2
    for epoch in range(first_epoch, settings.epochs):
        orders = [np.random.default_rng([seed, 1, epoch, m]).permutation(n_train) for m in range(2)]
        for batch in range(n_batches):
            for modality, order in zip(MODALITIES, orders):
                index = np.sort(order[batch * settings.batch_size : (batch + 1) * settings.batch_size])
                x = torch.as_tensor(inputs[modality][index])
                loss = reconstruction_loss(model.decode(model.encode(x, modality), modality), x)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                steps += 1
                model.fold_rotations(force=steps % train_config.fold_interval == 0)
                if progress is not None:
                    progress(steps, total)
        logger.info("unimodal epoch %d/%d: last %s reconstruction loss %.4f", epoch + 1, settings.epochs, modality, loss.item())
        if epoch_callback is not None and epoch + 1 < settings.epochs:
            state = training_state(model, optimizer)
            state["epochs_done"] = np.int64(epoch + 1)
            epoch_callback(epoch + 1, state)
    return model.eval()


def run_unimodal_stage(writer, config: ExperimentConfig, train: Split, seed: int, progress_factory):
    """Restore the unimodal model from a run file, or train it there with epoch checkpoints.

    A finished stage is read from ``/stages/unimodal``. Otherwise training starts, or
    continues after the newest epoch checkpoint of a killed run, and commits a stage
    checkpoint into the run file after every epoch but the last.

    Parameters
    ----------
    writer : sims.runfile.RunWriter
    config : ExperimentConfig
    train : Split
    seed : int
    progress_factory : callable
        ``progress_factory(description, unit)`` returns a context manager that yields a
        ``progress(done, total)`` callback or None.
    """
    state = writer.read_stage(UNIMODAL_STAGE)
    if state is not None:
        logger.info("unimodal stage restored from the run file")
        model, _ = build_rotation_model(config, seed)
        load_model_arrays(model, state)
        return model.eval()

    epochs = config.unimodal.epochs
    epochs_done, checkpoint = writer.read_stage_checkpoint(UNIMODAL_STAGE)
    if epochs_done < 0:
        writer.log(UNIMODAL_STAGE, f"started on {len(train)} training items per modality, no pairs")
    else:
        writer.log(UNIMODAL_STAGE, f"resumed after epoch {epochs_done} of {epochs}")
        logger.info("unimodal stage resumed after epoch %d of %d", epochs_done, epochs)

    def commit_epoch(epochs_done: int, state: dict[str, np.ndarray]) -> None:
        writer.write_stage_checkpoint(UNIMODAL_STAGE, epochs_done, state)
        message = f"epoch {epochs_done} of {epochs} committed"
        writer.log(UNIMODAL_STAGE, message)
        logger.info("unimodal stage: %s", message)

    started = time.perf_counter()
    with progress_factory("unimodal stage", "step") as progress:
        model = train_unimodal(
            config, train, seed, progress=progress, resume_state=checkpoint or None, epoch_callback=commit_epoch
        )
    writer.write_stage(UNIMODAL_STAGE, model_arrays(model))
    writer.log(UNIMODAL_STAGE, f"finished in {time.perf_counter() - started:.1f} s")
    return model


def encode_split(model, split: Split, *, derotate: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Return (z_visual, z_audio) of a split as float64 arrays of shape (n_samples, k)."""
    z_visual = model.encode_numpy(split.image, "visual", derotate=derotate).astype(np.float64)
    z_audio = model.encode_numpy(split.audio, "audio", derotate=derotate).astype(np.float64)
    return z_visual, z_audio


# ---------------------------------------------------------------------------
# Learners
# ---------------------------------------------------------------------------


class AssociativeLearner:
    """A binder on the frozen codes of the unimodal model.

    Parameters
    ----------
    learner : LearnerConfig
    binder : Binder
    model : RotationModel
        The unimodal model; its decoders turn recalled codes into images and spectrograms.
    train_codes : tuple of ndarray
        (z_visual, z_audio) of every training pair, each (n_train, k).
    codes : dict of str to tuple of ndarray
        Frozen (z_visual, z_audio) of the evaluation items ('eval') and the probe
        subsample ('probe').
    """

    kind = "associative"

    def __init__(self, learner: LearnerConfig, binder, model, train_codes, codes):
        self.name = learner.name
        self.binder = binder
        self.model = model
        self.means = {modality: codes_.mean(axis=0) for modality, codes_ in zip(MODALITIES, train_codes)}
        self.centred_train_codes = tuple(codes_ - self.means[m] for m, codes_ in zip(MODALITIES, train_codes))
        self._codes = codes

    def train(self, index: np.ndarray, block_size: int) -> None:
        """Pass the centred codes of pairs ``index`` to the binder in blocks of ``block_size``, in order."""
        z_visual, z_audio = self.centred_train_codes
        for start in range(0, len(index), block_size):
            block = index[start : start + block_size]
            self.binder.partial_fit(z_visual[block], z_audio[block])

    def codes(self, subset: str) -> tuple[np.ndarray, np.ndarray]:
        """Return the frozen (z_visual, z_audio) of 'eval' or 'probe' items."""
        return self._codes[subset]

    def recall(self, z: np.ndarray, source: str) -> np.ndarray:
        """Return the binder's recall of ``z`` in the other modality's frame: μ_target + recall(z − μ_source)."""
        target = "audio" if source == "visual" else "visual"
        return self.binder.recall(z - self.means[source], source) + self.means[target]

    def linear_map(self) -> np.ndarray | None:
        """Return the visual-to-audio map in column form, or None for a non-linear binder."""
        method = getattr(self.binder, "linear_map", None)
        return None if method is None else method("visual")

    def decode(self, codes: np.ndarray, modality: str) -> np.ndarray:
        """Decode codes with the unimodal model's decoder of ``modality``."""
        return self.model.decode_numpy(codes, modality)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Return the binder's state."""
        return self.binder.state_dict()

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore the binder's state."""
        self.binder.load_state_dict(state)


class GradientLearner:
    """Continue training the unimodal model on pairs by backpropagation.

    The losses are cross-modal reconstruction, InfoNCE on the de-rotated codes and the
    orthogonality term of ``models.config.TrainConfig`` (``models.train.BindingStage``).
    Gradients reach the tokenizers, W and the rotations.

    Parameters
    ----------
    learner : LearnerConfig
    config : ExperimentConfig
    seed : int
    unimodal_state : dict of str to ndarray
        The unimodal model's state, the starting point.
    train, evaluation, probe : Split
        Training pairs, the evaluation items and the probe subsample.
    """

    kind = "gradient"

    def __init__(self, learner: LearnerConfig, config: ExperimentConfig, seed: int, unimodal_state, train, evaluation, probe):
        from models.train import BindingStage

        params = learner.params
        self.name = learner.name
        self.batch_size = int(params["batch_size"])
        self.model, train_config = build_rotation_model(
            config,
            seed,
            lr=params["lr"],
            cross_weight=params["cross_weight"],
            contrastive_weight=params["contrastive_weight"],
            batch_size=self.batch_size,
        )
        load_model_arrays(self.model, unimodal_state)
        self.stage = BindingStage(self.model, train_config)
        self.train_split = train
        self.splits = {"eval": evaluation, "probe": probe}
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def train(self, index: np.ndarray, block_size: int) -> None:
        """Take one optimizer step per batch of ``batch_size`` pairs of ``index``, in order.

        ``block_size`` is ignored. A leftover of one pair joins the batch before it,
        because InfoNCE needs at least two pairs.
        """
        bounds = list(range(0, len(index), self.batch_size)) + [len(index)]
        if len(bounds) > 2 and bounds[-1] - bounds[-2] < 2:
            del bounds[-2]
        for start, stop in zip(bounds[:-1], bounds[1:]):
            batch = index[start:stop]
            self.stage.partial_fit(self.train_split.image[batch], self.train_split.audio[batch])
        self._codes.clear()

    def codes(self, subset: str) -> tuple[np.ndarray, np.ndarray]:
        """Return the current (z_visual, z_audio) of 'eval' or 'probe' items."""
        if subset not in self._codes:
            self._codes[subset] = encode_split(self.model, self.splits[subset])
        return self._codes[subset]

    def recall(self, z: np.ndarray, source: str) -> np.ndarray:
        """Carry codes into the other modality's frame: R_target R_sourceᵀ z."""
        rotations = self.model.rotations_numpy()
        target = "audio" if source == "visual" else "visual"
        return z @ rotations[source] @ rotations[target].T

    def linear_map(self) -> np.ndarray:
        """Return the current relative rotation R_a R_vᵀ, the gradient learner's visual-to-audio map."""
        rotations = self.model.rotations_numpy()
        return rotations["audio"] @ rotations["visual"].T

    def decode(self, codes: np.ndarray, modality: str) -> np.ndarray:
        """Decode codes with the current decoder of ``modality``."""
        return self.model.decode_numpy(codes, modality)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Return the model, the AdamW moments and the step count as numpy arrays."""
        state = training_state(self.model, self.stage.optimizer)
        state["steps"] = np.int64(self.stage.steps)
        state["pairs_seen"] = np.int64(self.stage.pairs_seen)
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`state_dict` output."""
        load_training_state(self.model, self.stage.optimizer, state)
        self.stage.steps = int(state["steps"])
        self.stage.pairs_seen = int(state["pairs_seen"])
        self._codes.clear()


def make_learner(learner: LearnerConfig, context: dict, *, fit_unimodal: bool = True):
    """Build the learner that ``learner.kind`` names from the run's shared ``context``.

    A binder with ``fit_unimodal`` (the linked SOMs) trains its maps on the training
    codes unless ``fit_unimodal`` is false, as when a resumed run restores them.
    """
    if learner.kind == "gradient":
        return GradientLearner(
            learner,
            context["config"],
            context["seed"],
            context["unimodal_state"],
            context["train"],
            context["evaluation"],
            context["probe"],
        )
    binder = make_binder(
        learner.kind, context["config"].unimodal.k, name=learner.name, seed=context["seed"], **dict(learner.params)
    )
    associative = AssociativeLearner(learner, binder, context["unimodal_model"], context["train_codes"], context["codes"])
    if fit_unimodal and hasattr(binder, "fit_unimodal"):
        binder.fit_unimodal(*associative.centred_train_codes)
    return associative
