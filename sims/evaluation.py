"""Checkpoint evaluation, the same for every learner of the binding stage.

A learner is seen only through its codes, its ``recall`` and its decoders (see
``sims.learners``), so one function scores them all with the functions of
``analysis/``. Every cross-modal score compares what one modality's input calls up in
the other modality's frame with the other modality's own codes:

- visual to audio: queries ``recall(z_v, "visual")`` against audio codes z_a;
- audio to visual: queries ``recall(z_a, "audio")`` against visual codes z_v.

Codes are centred on the mean of the same quantity over the probe subsample of
training pairs (label-free, as in ``analysis.transfer``) before retrieval and probes.
"""

from __future__ import annotations

import logging

import numpy as np

from analysis.overlap import map_distance, modality_gap, overlap_metrics, principal_angles, procrustes_rotation
from analysis.reconstruction import reconstruction_mse
from analysis.retrieval import retrieval_scores
from analysis.transfer import fit_probe, preprocess_codes
from assoc.errors import ConfigError

logger = logging.getLogger(__name__)

DIRECTIONS = (("visual_to_audio", "visual"), ("audio_to_visual", "audio"))

# Columns of the summary table, in this order. They include every metric of the
# report's comparison chart (sims.report.COMPARISON_METRICS).
SUMMARY_METRICS = (
    "retrieval_visual_to_audio_R@1",
    "retrieval_audio_to_visual_R@1",
    "retrieval_visual_to_audio_mAP",
    "transfer_visual_to_audio",
    "transfer_audio_to_visual",
    "missing_visual_only",
    "missing_audio_only",
    "mse_audio_from_visual",
    "overlap_cka",
    "overlap_modality_gap",
    "overlap_responsive_fraction",
    "map_rotation_distance",
    "train_seconds",
)


def evaluate_learner(learner, data: dict, reference_map: np.ndarray) -> dict[str, float]:
    """Score one learner at one checkpoint, with BLAS and OpenMP held to one thread.

    See :func:`score_learner` for the parameters and the metrics returned.
    """
    from threadpoolctl import threadpool_limits

    # The probes and overlap measures work on small matrices, where extra threads only
    # contend with torch for the cores.
    with threadpool_limits(1):
        return score_learner(learner, data, reference_map)


def score_learner(learner, data: dict, reference_map: np.ndarray) -> dict[str, float]:
    """Score one learner at one checkpoint.

    Parameters
    ----------
    learner : sims.learners.GradientLearner or AssociativeLearner
    data : dict
        ``eval_labels`` (n_eval,), ``probe_labels`` (n_probe,), ``eval_image``
        (n_recon, 1, 28, 28) and ``eval_audio`` (n_recon, 1, 112, 112), the first
        evaluation items, which are decoded for the reconstruction error.
    reference_map : ndarray of shape (k, k)
        R_a R_vᵀ of the unimodal model, the map a perfect linear binder would learn.

    Returns
    -------
    dict of str to float
        ``retrieval_{direction}_{R@1,R@5,R@10,mAP}``, ``transfer_{direction}``,
        ``transfer_{visual,audio}_within``, ``missing_{both,visual_only,audio_only}``,
        ``mse_audio_from_visual`` and ``mse_visual_from_audio``, ``overlap_*`` (every
        key of ``analysis.overlap.overlap_metrics`` on recall(z_v) against z_a),
        ``procrustes_rotation_distance`` and, for a linear learner,
        ``map_{rotation,relative,scaled}_distance``. The gradient learner also gets
        ``raw_modality_gap`` and ``raw_principal_angle_mean`` of its own codes z_v, z_a.
    """
    eval_labels, probe_labels = data["eval_labels"], data["probe_labels"]
    z = {"eval": learner.codes("eval"), "probe": learner.codes("probe")}
    own = {subset: dict(zip(("visual", "audio"), z[subset])) for subset in z}
    recalled = {
        subset: {source: learner.recall(own[subset][source], source) for source in ("visual", "audio")} for subset in z
    }
    metrics: dict[str, float] = {}

    # Each quantity centred on its own mean over the probe subsample; unit length for probes.
    def prepared(kind: str, source: str, subset: str, normalize: bool) -> np.ndarray:
        table = own if kind == "own" else recalled
        return preprocess_codes(table[subset][source], table["probe"][source].mean(axis=0), normalize=normalize)

    # Retrieval: recalled codes of one modality query the other modality's codes.
    for direction, source in DIRECTIONS:
        target = "audio" if source == "visual" else "visual"
        scores = retrieval_scores(
            prepared("recalled", source, "eval", False), prepared("own", target, "eval", False), eval_labels, eval_labels
        )
        metrics.update({f"retrieval_{direction}_{key}": value for key, value in scores.items()})

    # Transfer: a probe fitted on the target modality's codes labels the recalled codes.
    for direction, source in DIRECTIONS:
        target = "audio" if source == "visual" else "visual"
        probe = fit_probe(prepared("own", target, "probe", True), probe_labels)
        metrics[f"transfer_{direction}"] = _accuracy(probe, prepared("recalled", source, "eval", True), eval_labels)
        metrics[f"transfer_{target}_within"] = _accuracy(probe, prepared("own", target, "eval", True), eval_labels)

    # Missing modality: a probe on fused [z_v, z_a]; the absent code is the recalled one.
    fused = fit_probe(
        np.hstack([prepared("own", "visual", "probe", True), prepared("own", "audio", "probe", True)]), probe_labels
    )
    visual, audio = prepared("own", "visual", "eval", True), prepared("own", "audio", "eval", True)
    metrics["missing_both"] = _accuracy(fused, np.hstack([visual, audio]), eval_labels)
    metrics["missing_visual_only"] = _accuracy(
        fused, np.hstack([visual, prepared("recalled", "visual", "eval", True)]), eval_labels
    )
    metrics["missing_audio_only"] = _accuracy(
        fused, np.hstack([prepared("recalled", "audio", "eval", True), audio]), eval_labels
    )

    # Cross-modal reconstruction: decode the other modality from the recalled code.
    n_recon = data["eval_image"].shape[0]
    audio_from_visual = learner.decode(recalled["eval"]["visual"][:n_recon].astype(np.float32), "audio")
    visual_from_audio = learner.decode(recalled["eval"]["audio"][:n_recon].astype(np.float32), "visual")
    metrics["mse_audio_from_visual"] = reconstruction_mse(data["eval_audio"], audio_from_visual)
    metrics["mse_visual_from_audio"] = reconstruction_mse(data["eval_image"], visual_from_audio)

    # Overlap between what an image calls up and the heard digit's own code.
    metrics.update(_overlap(recalled["eval"]["visual"], own["eval"]["audio"], eval_labels, learner.name))
    if learner.kind == "gradient":
        angles = principal_angles(own["eval"]["visual"], own["eval"]["audio"])
        metrics["raw_modality_gap"] = modality_gap(own["eval"]["visual"], own["eval"]["audio"])
        metrics["raw_principal_angle_mean"] = float(angles.mean())

    # Distance of the learned map from the relative rotation R_a R_vᵀ.
    fitted = procrustes_rotation(own["eval"]["visual"], recalled["eval"]["visual"])
    metrics["procrustes_rotation_distance"] = map_distance(fitted, reference_map)["rotation_distance"]
    linear_map = learner.linear_map()
    if linear_map is not None:
        distances = map_distance(linear_map, reference_map)
        metrics.update({f"map_{key}": value for key, value in distances.items()})
    return metrics


def _accuracy(probe, codes: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(probe.predict(codes) == labels))


def _overlap(recalled: np.ndarray, target: np.ndarray, labels: np.ndarray, name: str) -> dict[str, float]:
    try:
        values = overlap_metrics(recalled, target, labels)
    except ConfigError as error:
        # A recall without variance (for example a memory that returns one prototype for
        # every query) has no defined CKA or RSA; the checkpoint records NaN instead.
        logger.warning("learner %s: overlap measures undefined at this checkpoint (%s)", name, error)
        values = dict.fromkeys(
            ("cka", "rsa_items", "rsa_classes", "modality_gap", "principal_angle_mean",
             "principal_angle_max", "responsive_fraction"),
            float("nan"),
        )
    return {f"overlap_{key}": float(value) for key, value in values.items()}
