"""Per-epoch evaluation: encode splits to numpy codes and hand them to ``analysis``."""

from __future__ import annotations

import numpy as np

from analysis.reconstruction import reconstruction_report
from analysis.retrieval import retrieval_scores
from analysis.rotation import rotation_diagnostics
from analysis.transfer import cross_modal_transfer, missing_modality_accuracy, preprocess_codes
from assoc.data.contract import Split
from models.config import TrainConfig
from models.model import AUDIO, VISUAL, LateFusionClassifier, RotationModel

# Pairs of the evaluation split decoded for the reconstruction MSE; decoding
# spectrograms is the costly part of evaluation.
RECONSTRUCTION_SAMPLES = 1000


def probe_subset(split: Split, size: int, seed: int) -> Split:
    """Return a seeded random subsample of at most ``size`` pairs, in index order."""
    if len(split) <= size:
        return split
    index = np.sort(np.random.default_rng([seed, 7]).choice(len(split), size=size, replace=False))
    return split.subset(index)


def evaluate(model, splits: dict[str, Split], config: TrainConfig) -> dict[str, float]:
    """Return the metrics of ``model`` on ``splits[config.eval_split]``.

    Rotation models get transfer, retrieval, missing-modality, reconstruction and
    rotation metrics (keys listed in :func:`evaluate_rotation_model`); the late-fusion
    classifier gets ``accuracy``.
    """
    evaluation = splits[config.eval_split]
    if isinstance(model, LateFusionClassifier):
        predicted = model.predict_numpy(evaluation.image, evaluation.audio)
        return {"accuracy": float(np.mean(predicted == evaluation.label))}
    return evaluate_rotation_model(model, probe_subset(splits["train"], config.probe_train_size, config.seed), evaluation)


def evaluate_rotation_model(model: RotationModel, train: Split, evaluation: Split) -> dict[str, float]:
    """Compute every code-level metric of a rotation model.

    Probes are fitted on ``train`` codes and scored on ``evaluation`` codes. Keys:

    - ``transfer_{rotated,derotated}_{visual_to_audio,audio_to_visual}`` and the
      within-modality ``..._visual_within``, ``..._audio_within``;
    - ``retrieval_{visual_to_audio,audio_to_visual}_{R@1,R@5,R@10,mAP}`` on the
      de-rotated codes, ``retrieval_rotated_visual_to_audio_R@1`` on the rotated ones,
      both after centring each modality on its mean training code;
    - ``missing_{both,visual_only,audio_only}``: fused de-rotated codes with the absent
      code replaced by the present one;
    - ``mse_*`` reconstruction errors (on the first pairs of the evaluation split);
    - ``orthogonality_error_*``, ``det_*``, ``geodesic_distance``.
    """
    rotations = model.rotations_numpy()
    codes = {}
    for name, split in (("train", train), ("eval", evaluation)):
        for modality, inputs in ((VISUAL, split.image), (AUDIO, split.audio)):
            derotated = model.encode_numpy(inputs, modality, derotate=True)
            codes[name, modality, "derotated"] = derotated
            codes[name, modality, "rotated"] = derotated @ rotations[modality].T
    metrics: dict[str, float] = {}

    # Cross-modal transfer of linear probes, on rotated and de-rotated codes.
    for space in ("rotated", "derotated"):
        scores = cross_modal_transfer(
            codes["train", VISUAL, space],
            codes["train", AUDIO, space],
            train.label,
            codes["eval", VISUAL, space],
            codes["eval", AUDIO, space],
            evaluation.label,
        )
        metrics.update({f"transfer_{space}_{key}": value for key, value in scores.items()})

    # Class-level retrieval in both directions, by cosine similarity of codes centred on
    # their modality's mean training code (the same centring as the probes).
    centred = {
        (modality, space): preprocess_codes(
            codes["eval", modality, space], codes["train", modality, space].mean(axis=0), normalize=False
        )
        for modality in (VISUAL, AUDIO)
        for space in ("rotated", "derotated")
    }
    shared_v, shared_a = centred[VISUAL, "derotated"], centred[AUDIO, "derotated"]
    for direction, queries, gallery in (("visual_to_audio", shared_v, shared_a), ("audio_to_visual", shared_a, shared_v)):
        scores = retrieval_scores(queries, gallery, evaluation.label, evaluation.label)
        metrics.update({f"retrieval_{direction}_{key}": value for key, value in scores.items()})
    rotated_scores = retrieval_scores(
        centred[VISUAL, "rotated"], centred[AUDIO, "rotated"], evaluation.label, evaluation.label, ks=(1,)
    )
    metrics["retrieval_rotated_visual_to_audio_R@1"] = rotated_scores["R@1"]

    # Classification with one modality absent, in the shared space.
    missing = missing_modality_accuracy(
        codes["train", VISUAL, "derotated"],
        codes["train", AUDIO, "derotated"],
        train.label,
        codes["eval", VISUAL, "derotated"],
        codes["eval", AUDIO, "derotated"],
        evaluation.label,
        impute="copy",
    )
    metrics.update({f"missing_{key}": value for key, value in missing.items()})

    metrics.update(_reconstruction_metrics(model, evaluation.subset(slice(0, RECONSTRUCTION_SAMPLES))))
    metrics.update(rotation_diagnostics(rotations))
    return metrics


def _reconstruction_metrics(model: RotationModel, split: Split) -> dict[str, float]:
    code_v = model.encode_numpy(split.image, VISUAL)
    code_a = model.encode_numpy(split.audio, AUDIO)
    rotations = model.rotations_numpy()
    # Carry a code into the other modality's frame: R_target R_sourceᵀ z, as rows z R_source R_targetᵀ.
    audio_in_visual_frame = (code_a @ rotations[AUDIO] @ rotations[VISUAL].T).astype(np.float32)
    visual_in_audio_frame = (code_v @ rotations[VISUAL] @ rotations[AUDIO].T).astype(np.float32)
    return reconstruction_report(
        split.image,
        split.audio,
        visual_from_visual=model.decode_numpy(code_v, VISUAL),
        audio_from_audio=model.decode_numpy(code_a, AUDIO),
        visual_from_audio=model.decode_numpy(audio_in_visual_frame, VISUAL),
        audio_from_visual=model.decode_numpy(visual_in_audio_frame, AUDIO),
    )
