"""Linear-probe accuracy: cross-modal transfer and missing-modality classification.

A probe is a multinomial logistic regression (scikit-learn, L2 penalty, lbfgs) fitted
on one set of codes and scored on another. The cross-modal functions first centre each
modality's codes on that modality's mean training code and scale every code to unit
length (both on by default). Centring removes the modality gap. Contrastive training
aligns the directions of paired codes but leaves a constant offset between the two
modalities' codes free. That offset alone can move every code of one modality across
the decision boundaries of a probe fitted on the other. Unit length matches the cosine
geometry that InfoNCE trains. Neither step uses labels, and neither mixes the
coordinates, so codes that lie in different subspaces stay there.
"""

from __future__ import annotations

import numpy as np

from assoc.errors import ConfigError

IMPUTATIONS = ("mean", "copy")


def _check_codes(codes, labels, name: str) -> tuple[np.ndarray, np.ndarray]:
    codes = np.asarray(codes, dtype=np.float64)
    labels = np.asarray(labels)
    if codes.ndim != 2 or codes.shape[0] == 0:
        raise ConfigError(f"{name} must be a non-empty (n_samples, n_features) array; got shape {codes.shape}.")
    if labels.shape != (codes.shape[0],):
        raise ConfigError(f"labels for {name} have shape {labels.shape}; expected ({codes.shape[0]},).")
    if not np.all(np.isfinite(codes)):
        raise ConfigError(f"{name} contains NaN or infinite values; check the codes passed in.")
    return codes, labels


def preprocess_codes(codes: np.ndarray, mean: np.ndarray | None, *, normalize: bool) -> np.ndarray:
    """Subtract ``mean`` (when given) from every code, then scale each to unit length if ``normalize``.

    A code that is zero after centring stays zero.
    """
    codes = np.asarray(codes, dtype=np.float64)
    if mean is not None:
        codes = codes - mean
    if normalize:
        norms = np.linalg.norm(codes, axis=1, keepdims=True)
        codes = codes / np.where(norms > 0, norms, 1.0)
    return codes


def fit_probe(codes: np.ndarray, labels: np.ndarray, *, C: float = 1.0, max_iter: int = 1000):
    """Fit a logistic-regression probe on codes (n_samples, n_features); return the estimator."""
    from sklearn.linear_model import LogisticRegression

    codes, labels = _check_codes(codes, labels, "training codes")
    if np.unique(labels).size < 2:
        raise ConfigError("A probe needs training codes of at least two classes; got one.")
    probe = LogisticRegression(C=C, max_iter=max_iter)
    return probe.fit(codes, labels)


def probe_accuracy(
    train_codes: np.ndarray,
    train_labels: np.ndarray,
    test_codes: np.ndarray,
    test_labels: np.ndarray,
    *,
    C: float = 1.0,
    max_iter: int = 1000,
) -> float:
    """Fit a probe on ``train_codes`` and return its accuracy on ``test_codes``.

    Parameters
    ----------
    train_codes : ndarray of shape (n_train, n_features)
    train_labels : ndarray of shape (n_train,)
    test_codes : ndarray of shape (n_test, n_features)
    test_labels : ndarray of shape (n_test,)
    C : float
        Inverse L2 regularisation strength.
    max_iter : int
        lbfgs iterations.
    """
    test_codes, test_labels = _check_codes(test_codes, test_labels, "test codes")
    probe = fit_probe(train_codes, train_labels, C=C, max_iter=max_iter)
    if probe.coef_.shape[1] != test_codes.shape[1]:
        raise ConfigError(
            f"test codes have {test_codes.shape[1]} features but the probe was fitted on {probe.coef_.shape[1]}."
        )
    return float(np.mean(probe.predict(test_codes) == test_labels))


def cross_modal_transfer(
    train_visual: np.ndarray,
    train_audio: np.ndarray,
    train_labels: np.ndarray,
    test_visual: np.ndarray,
    test_audio: np.ndarray,
    test_labels: np.ndarray,
    *,
    center: bool = True,
    normalize: bool = True,
    C: float = 1.0,
    max_iter: int = 1000,
) -> dict[str, float]:
    """Score probes fitted on one modality's codes against both modalities' test codes.

    The training codes are pairs (row i of ``train_visual`` and of ``train_audio`` share
    ``train_labels[i]``), and likewise for the test codes. Transfer is high only when
    the two modalities' codes of one class lie in the same region of the space. For the
    rotation model that holds for de-rotated codes R_mᵀ z_m. It fails for rotated codes
    z_m when R_v W and R_a W map into different subspaces.

    Parameters
    ----------
    train_visual, train_audio : ndarray of shape (n_train, n_features)
    train_labels : ndarray of shape (n_train,)
    test_visual, test_audio : ndarray of shape (n_test, n_features)
    test_labels : ndarray of shape (n_test,)
    center : bool
        Centre each modality's codes (train and test) on its mean training code.
    normalize : bool
        Scale every code to unit length, after centring.
    C, max_iter : logistic-regression settings, as in :func:`probe_accuracy`.

    Returns
    -------
    dict
        ``visual_to_audio`` (fitted on visual, scored on audio), ``audio_to_visual``,
        and the within-modality baselines ``visual_within`` and ``audio_within``.
    """
    train_visual, train_labels = _check_codes(train_visual, train_labels, "train_visual")
    train_audio, _ = _check_codes(train_audio, train_labels, "train_audio")
    test_visual, test_labels = _check_codes(test_visual, test_labels, "test_visual")
    test_audio, _ = _check_codes(test_audio, test_labels, "test_audio")
    train_visual, test_visual = _preprocess_pair(train_visual, test_visual, center, normalize)
    train_audio, test_audio = _preprocess_pair(train_audio, test_audio, center, normalize)

    probe_v = fit_probe(train_visual, train_labels, C=C, max_iter=max_iter)
    probe_a = fit_probe(train_audio, train_labels, C=C, max_iter=max_iter)
    return {
        "visual_to_audio": float(np.mean(probe_v.predict(test_audio) == test_labels)),
        "audio_to_visual": float(np.mean(probe_a.predict(test_visual) == test_labels)),
        "visual_within": float(np.mean(probe_v.predict(test_visual) == test_labels)),
        "audio_within": float(np.mean(probe_a.predict(test_audio) == test_labels)),
    }


def missing_modality_accuracy(
    train_visual: np.ndarray,
    train_audio: np.ndarray,
    train_labels: np.ndarray,
    test_visual: np.ndarray,
    test_audio: np.ndarray,
    test_labels: np.ndarray,
    *,
    impute: str = "mean",
    center: bool = True,
    normalize: bool = True,
    C: float = 1.0,
    max_iter: int = 1000,
) -> dict[str, float]:
    """Score a probe on fused codes [z_v, z_a] when one modality is absent at test time.

    The probe is fitted on the concatenated codes of training pairs. At test time the
    absent modality's code is replaced according to ``impute``:

    - ``mean``: the mean training code of the absent modality;
    - ``copy``: the present modality's own code, which is meaningful only when both
      modalities share one space (de-rotated codes).

    ``center`` and ``normalize`` preprocess each modality's codes before fusion, as in
    :func:`cross_modal_transfer`.

    Returns
    -------
    dict
        ``both`` (nothing missing), ``visual_only`` (audio absent), ``audio_only``
        (image absent).
    """
    if impute not in IMPUTATIONS:
        raise ConfigError(f"Unknown impute {impute!r}; choose one of {', '.join(map(repr, IMPUTATIONS))}.")
    train_visual, train_labels = _check_codes(train_visual, train_labels, "train_visual")
    train_audio, _ = _check_codes(train_audio, train_labels, "train_audio")
    test_visual, test_labels = _check_codes(test_visual, test_labels, "test_visual")
    test_audio, _ = _check_codes(test_audio, test_labels, "test_audio")
    if impute == "copy" and train_visual.shape[1] != train_audio.shape[1]:
        raise ConfigError(
            f"impute='copy' needs codes of equal width; got {train_visual.shape[1]} and {train_audio.shape[1]}. "
            "Use impute='mean'."
        )

    train_visual, test_visual = _preprocess_pair(train_visual, test_visual, center, normalize)
    train_audio, test_audio = _preprocess_pair(train_audio, test_audio, center, normalize)

    probe = fit_probe(np.hstack([train_visual, train_audio]), train_labels, C=C, max_iter=max_iter)
    if impute == "mean":
        fill_audio = np.broadcast_to(train_audio.mean(axis=0), test_audio.shape)
        fill_visual = np.broadcast_to(train_visual.mean(axis=0), test_visual.shape)
    else:
        fill_audio, fill_visual = test_visual, test_audio

    def accuracy(visual, audio) -> float:
        return float(np.mean(probe.predict(np.hstack([visual, audio])) == test_labels))

    return {
        "both": accuracy(test_visual, test_audio),
        "visual_only": accuracy(test_visual, fill_audio),
        "audio_only": accuracy(fill_visual, test_audio),
    }


def _preprocess_pair(train, test, center: bool, normalize: bool):
    mean = train.mean(axis=0) if center else None
    return preprocess_codes(train, mean, normalize=normalize), preprocess_codes(test, mean, normalize=normalize)
