"""Reconstruction error within and across modalities."""

from __future__ import annotations

import numpy as np

from assoc.errors import ConfigError


def reconstruction_mse(target: np.ndarray, reconstruction: np.ndarray, *, per_sample: bool = False):
    """Return the mean squared error between targets and reconstructions.

    Parameters
    ----------
    target, reconstruction : ndarray of shape (n_samples, ...)
        Same shape, for example (n, 1, 28, 28) images.
    per_sample : bool
        Return one MSE per sample, shape (n_samples,), instead of the overall mean.

    Returns
    -------
    float or ndarray of shape (n_samples,)
    """
    target = np.asarray(target, dtype=np.float64)
    reconstruction = np.asarray(reconstruction, dtype=np.float64)
    if target.shape != reconstruction.shape:
        raise ConfigError(
            f"target has shape {target.shape} but reconstruction has shape {reconstruction.shape}; they must match."
        )
    if target.ndim == 0 or target.shape[0] == 0:
        raise ConfigError("target must contain at least one sample.")
    squared = (target - reconstruction) ** 2
    if per_sample:
        return squared.reshape(target.shape[0], -1).mean(axis=1)
    return float(squared.mean())


def reconstruction_report(
    visual: np.ndarray,
    audio: np.ndarray,
    *,
    visual_from_visual: np.ndarray,
    audio_from_audio: np.ndarray,
    visual_from_audio: np.ndarray,
    audio_from_visual: np.ndarray,
) -> dict[str, float]:
    """Return reconstruction MSE within each modality and across modalities.

    ``visual_from_audio`` is the image decoded from the audio code of the same pair, and
    so on. Keys: ``mse_visual_within``, ``mse_audio_within``, ``mse_visual_from_audio``,
    ``mse_audio_from_visual``.
    """
    return {
        "mse_visual_within": reconstruction_mse(visual, visual_from_visual),
        "mse_audio_within": reconstruction_mse(audio, audio_from_audio),
        "mse_visual_from_audio": reconstruction_mse(visual, visual_from_audio),
        "mse_audio_from_visual": reconstruction_mse(audio, audio_from_visual),
    }
