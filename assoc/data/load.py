"""One entry point for every dataset: :func:`load_dataset`."""

from __future__ import annotations

import os

from assoc.data.contract import Split
from assoc.errors import ConfigError
from assoc.progress import ProgressCallback

DATASETS = {
    "demo": "embedded: scikit-learn 8x8 digits resized to 28x28, paired with SYNTHETIC spoken-digit "
    "spectrograms; no download, builds in seconds",
    "avmnist": "AV-MNIST: MNIST digits paired with Free Spoken Digit Dataset recordings, built from the "
    "raw files and cached as HDF5 (55,000 / 5,000 / 10,000 pairs)",
}


def load_dataset(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    seed: int = 0,
    limit: int | None = None,
    degrade_images: bool = False,
    noise_snr: float | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, Split]:
    """Load a paired image-audio dataset, building it first if needed.

    Parameters
    ----------
    name : {'demo', 'avmnist'}
        ``demo`` is built in memory from scikit-learn's digits with synthetic audio;
        ``avmnist`` is built from the raw MNIST and FSDD files and cached.
    data_dir : path, optional
        Raw files (``mnist/*.gz``, ``fsdd/recordings/*.wav``) for ``avmnist``; default
        ``ASSOC_DATA_DIR``, else the cache directory.
    cache_dir : path, optional
        Where built datasets are cached; default ``ASSOC_CACHE_DIR``, else the user
        cache directory (see :func:`assoc.data.default_cache_dir`).
    seed : int
        Seeds the image-audio pairing (``avmnist``), the synthetic audio (``demo``) and
        the audio noise.
    limit : int, optional
        Keep at most this many pairs per split (the first ones, in source order), for
        fast tests. A limited build is cached separately from the full one.
    degrade_images : bool
        Replace every image by its reconstruction from the leading principal components
        that explain 25 % of the training images' variance (basis fit on train only).
    noise_snr : float, optional
        Add white noise to the audio at this signal-to-noise ratio in dB.
    progress : callable, optional
        ``progress(done, total)``, called while a dataset is built.

    Returns
    -------
    dict mapping 'train', 'val', 'test' to Split
    """
    from assoc.data.transforms import validate_snr

    if name not in DATASETS:
        raise ConfigError(f"Unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}.")
    seed = _validate_seed(seed)
    limit = _validate_limit(limit)
    noise_snr = validate_snr(noise_snr)

    if name == "demo":
        from assoc.data.demo import load_demo
        from assoc.data.transforms import degrade_splits

        splits = load_demo(seed=seed, limit=limit, noise_snr=noise_snr)
        if progress is not None:
            total = sum(len(split) for split in splits.values())
            progress(total, total)
        return degrade_splits(splits) if degrade_images else splits

    from assoc.data.avmnist import load_avmnist

    return load_avmnist(
        data_dir=data_dir,
        cache_dir=cache_dir,
        seed=seed,
        limit=limit,
        degrade_images=degrade_images,
        noise_snr=noise_snr,
        progress=progress,
    )


def _validate_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer; got {seed!r}.")
    return seed


def _validate_limit(limit) -> int | None:
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigError(f"limit must be a positive integer or None; got {limit!r}.")
    return limit
