"""Benchmark degradations applied after a dataset is assembled."""

from __future__ import annotations

import numpy as np

from assoc.errors import ConfigError

# Fraction of the training images' variance that the degraded images keep.
PCA_KEPT_VARIANCE = 0.25


def fit_pca_basis(train_images: np.ndarray, kept_variance: float = PCA_KEPT_VARIANCE) -> tuple[np.ndarray, np.ndarray]:
    """Fit the leading principal components that explain ``kept_variance`` of the variance.

    Parameters
    ----------
    train_images : ndarray of shape (n_samples, ...)
        Training images only: the basis must never see validation or test images.
    kept_variance : float in (0, 1]
        The number of components is the smallest whose cumulative explained-variance
        ratio reaches this value.

    Returns
    -------
    mean : ndarray of shape (n_features,), float64
    components : ndarray of shape (n_components, n_features), float64
        Orthonormal rows, in order of decreasing variance.
    """
    if not 0.0 < kept_variance <= 1.0:
        raise ConfigError(f"kept_variance must be in (0, 1]; got {kept_variance}.")
    flat = np.asarray(train_images, dtype=np.float64).reshape(len(train_images), -1)
    if flat.shape[0] < 2:
        raise ConfigError(f"PCA needs at least 2 training images; got {flat.shape[0]}.")
    mean = flat.mean(axis=0)
    centred = flat - mean

    # Eigen-decomposition of the (n_features, n_features) covariance: cheaper than an SVD
    # of the data when n_samples >> n_features, as for 55,000 MNIST images of 784 pixels.
    covariance = centred.T @ centred / (flat.shape[0] - 1)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues = np.clip(eigenvalues[order], 0.0, None)
    eigenvectors = eigenvectors[:, order]

    ratio = np.cumsum(eigenvalues) / eigenvalues.sum()
    n_components = int(np.searchsorted(ratio, kept_variance - 1e-12) + 1)
    return mean, eigenvectors[:, :n_components].T.copy()


def project_images(images: np.ndarray, mean: np.ndarray, components: np.ndarray) -> np.ndarray:
    """Reconstruct images from their projection on a PCA basis, clipped to [0, 1].

    Parameters
    ----------
    images : ndarray of shape (n_samples, 1, 28, 28)
    mean, components : the output of :func:`fit_pca_basis`

    Returns
    -------
    ndarray of the input's shape, float32 in [0, 1]
        mean + (x - mean) Cᵀ C for each image x; clipping removes the small negative
        and above-one values that the truncated reconstruction produces.
    """
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    coefficients = (flat - mean) @ components.T
    reconstructed = mean + coefficients @ components
    return np.clip(reconstructed, 0.0, 1.0).astype(np.float32).reshape(images.shape)


def validate_snr(noise_snr: float | None) -> float | None:
    """Return ``noise_snr`` as a float, or raise ConfigError for NaN or infinity."""
    if noise_snr is None:
        return None
    value = float(noise_snr)
    if not np.isfinite(value):
        raise ConfigError(f"noise_snr must be a finite number of decibels; got {noise_snr!r}.")
    return value


def degrade_splits(splits: dict) -> dict:
    """Return the splits with every image replaced by its 25 %-variance PCA reconstruction.

    The basis is fit on ``splits['train']`` only and applied to every split. Each
    split's ``attrs`` gains ``degrade_images=True`` and ``pca_components``.
    """
    from assoc.data.contract import Split

    mean, components = fit_pca_basis(splits["train"].image)
    degraded = {}
    for name, split in splits.items():
        attrs = dict(split.attrs, degrade_images=True, pca_components=int(components.shape[0]))
        degraded[name] = Split(
            image=project_images(split.image, mean, components),
            audio=split.audio,
            label=split.label,
            image_index=split.image_index,
            recording=split.recording,
            attrs=attrs,
        )
    return degraded
