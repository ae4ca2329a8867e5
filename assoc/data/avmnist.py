"""AV-MNIST built from the raw MNIST and FSDD files.

Every MNIST image is paired with an FSDD recording of the same digit:

- images: train is MNIST training images 0-54,999, val is 55,000-59,999 (the last
  5,000), test is the 10,000 MNIST test images;
- audio: FSDD's own split, so train and val draw from recordings with index 5-49 and
  test from index 0-4, and no test recording is ever paired with a training image;
- pairing: within a split, the images of digit d (in MNIST order) take that digit's
  recordings in a seeded random order, reshuffled after every pass, so each recording
  is used equally often (to within one). The assignment of the first k images does not
  depend on how many images follow, so a ``limit`` build is a prefix of the full one.

Built datasets are cached as HDF5 (see :mod:`assoc.data.cache`) under
``<cache>/datasets/avmnist-<key>.h5``; the key is a hash of the raw files' SHA-256
values and the build parameters.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np

from assoc.data import audio as audio_module
from assoc.data.cache import FORMAT_VERSION, BuiltDataset, PairedSplit, read_cached, write_cached
from assoc.data.contract import SPLIT_NAMES, Split
from assoc.data.fsdd import Recording, check_recording_sets, list_recordings, recordings_checksum
from assoc.data.mnist import MNIST_FILES, load_mnist, mnist_paths
from assoc.data.paths import resolve_cache_dir, resolve_data_dir
from assoc.data.transforms import fit_pca_basis, project_images
from assoc.errors import ConfigError, DataError
from assoc.progress import ProgressCallback

logger = logging.getLogger(__name__)

NAME = "avmnist"
N_TRAIN = 55_000
N_VAL = 5_000

# Source of each split's images: MNIST file, first row, end row (None: to the end).
_IMAGE_SOURCES = {
    "train": ("train", 0, N_TRAIN),
    "val": ("train", N_TRAIN, N_TRAIN + N_VAL),
    "test": ("test", 0, None),
}
# Separate random streams per split, so the pairing of one split never changes another's.
_PAIRING_STREAMS = {"train": 0, "val": 1, "test": 2}
_NOISE_STREAM = 3


def load_avmnist(
    *,
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    seed: int = 0,
    limit: int | None = None,
    degrade_images: bool = False,
    noise_snr: float | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, Split]:
    """Load AV-MNIST from the cache, building and caching it first if needed.

    Parameters are those of :func:`assoc.data.load_dataset`. Each split's ``attrs``
    contains the build parameters, the raw files' checksums and ``cache_path``.
    """
    data_dir = resolve_data_dir(data_dir, cache_dir=cache_dir)
    checksums = raw_checksums(data_dir)
    parameters = build_parameters(seed, limit, degrade_images, noise_snr)
    path = cache_path(resolve_cache_dir(cache_dir), checksums, parameters)

    if path.is_file():
        try:
            dataset = read_cached(path)
        except DataError as error:
            logger.warning("%s; rebuilding it", error)
        else:
            logger.info("loaded %s from the cache %s", NAME, path)
            if progress is not None:
                progress(1, 1)
            return dataset.to_splits({"cache_path": str(path)})

    logger.info("building %s from %s into %s", NAME, data_dir, path)
    dataset = build_avmnist(
        data_dir,
        seed=seed,
        limit=limit,
        degrade_images=degrade_images,
        noise_snr=noise_snr,
        progress=progress,
        extra_steps=len(SPLIT_NAMES),
        checksums=checksums,
    )
    n_steps = dataset.build["n_progress_steps"]
    written = [n_steps - len(SPLIT_NAMES)]

    def step() -> None:
        written[0] += 1
        if progress is not None:
            progress(written[0], n_steps)

    write_cached(path, dataset, progress_step=step)
    return dataset.to_splits({"cache_path": str(path)})


def cache_path(cache_dir: Path, checksums: dict[str, str], parameters: dict) -> Path:
    """Return the cache file for these raw files and build parameters.

    The name contains the first 16 hex digits of a SHA-256 over the raw files' checksums
    and the parameters, so a changed file or parameter selects another file.
    """
    key_source = {"checksums": checksums, "parameters": parameters}
    key = hashlib.sha256(json.dumps(key_source, sort_keys=True).encode()).hexdigest()[:16]
    return Path(cache_dir) / "datasets" / f"{NAME}-{key}.h5"


def build_parameters(seed: int, limit: int | None, degrade_images: bool, noise_snr: float | None) -> dict:
    """Return every setting that changes the built arrays."""
    return {
        "dataset": NAME,
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "limit": limit,
        "degrade_images": bool(degrade_images),
        "noise_snr": noise_snr,
        "sample_rate": audio_module.SAMPLE_RATE,
        "n_fft": audio_module.N_FFT,
        "n_frames": audio_module.N_FRAMES,
        "top_db": audio_module.TOP_DB,
    }


def raw_checksums(data_dir: Path) -> dict[str, str]:
    """Return the SHA-256 of each MNIST file and one over all FSDD recordings."""
    checksums = {}
    for key, path in mnist_paths(data_dir).items():
        checksums[MNIST_FILES[key][0]] = file_sha256(path)
    checksums["fsdd_recordings"] = recordings_checksum(list_recordings(data_dir))
    return checksums


def file_sha256(path: Path) -> str:
    """Return the SHA-256 hex digest of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_avmnist(
    data_dir: str | os.PathLike,
    *,
    seed: int = 0,
    limit: int | None = None,
    degrade_images: bool = False,
    noise_snr: float | None = None,
    splits: tuple[str, ...] = SPLIT_NAMES,
    progress: ProgressCallback | None = None,
    extra_steps: int = 0,
    checksums: dict[str, str] | None = None,
) -> BuiltDataset:
    """Build AV-MNIST in memory from the raw files, without touching the cache.

    Parameters
    ----------
    data_dir : path
        Folder with ``mnist/*.gz`` and ``fsdd/recordings/*.wav``.
    splits : tuple of str
        The splits to build. ``degrade_images`` needs ``train``, because the PCA basis
        is fit on the training images only.
    progress : callable, optional
        ``progress(done, total)`` after each spectrogram; ``total`` includes
        ``extra_steps`` that the caller reports itself (the cache writes).
    checksums : dict, optional
        The output of :func:`raw_checksums` when the caller has it already.

    Other parameters are those of :func:`assoc.data.load_dataset`.
    """
    unknown = [name for name in splits if name not in SPLIT_NAMES]
    if unknown:
        raise ConfigError(f"Unknown split {unknown[0]!r}; choose from {', '.join(SPLIT_NAMES)}.")
    if degrade_images and "train" not in splits:
        raise ConfigError("degrade_images=True needs the 'train' split, because the PCA basis is fit on it.")
    data_dir = Path(data_dir)

    # Read the raw files.
    mnist = load_mnist(data_dir)
    recordings = list_recordings(data_dir)
    check_recording_sets(recordings)
    recording_digits = np.array([item.digit for item in recordings])
    recording_is_test = np.array([item.is_test for item in recordings])

    # Select each split's images and pair them with recordings of the same digit.
    selected = {}
    for name in splits:
        source, start, stop = _IMAGE_SOURCES[name]
        labels = mnist[f"{source}_labels"]
        stop = len(labels) if stop is None else stop
        if limit is not None:
            stop = min(stop, start + limit)
        image_index = np.arange(start, stop, dtype=np.int64)
        label = labels[start:stop].astype(np.int64)
        pool = recording_is_test if name == "test" else ~recording_is_test
        recording_index = pair_by_label(label, recording_digits, pool, seed=seed, stream=_PAIRING_STREAMS[name])
        image = (mnist[f"{source}_images"][start:stop].astype(np.float32) / np.float32(255.0)).reshape(-1, 1, 28, 28)
        selected[name] = PairedSplit(image=image, label=label, image_index=image_index, recording_index=recording_index)

    # Compute one spectrogram per recording in use, then renumber the pairs into that table.
    used = np.unique(np.concatenate([paired.recording_index for paired in selected.values()]))
    n_steps = len(used) + extra_steps
    spectrograms = compute_spectrograms(
        [recordings[i] for i in used], seed=seed, noise_snr=noise_snr, progress=progress, total=n_steps
    )
    for paired in selected.values():
        paired.recording_index = np.searchsorted(used, paired.recording_index).astype(np.int64)

    # Degrade the images with a PCA basis fit on the training split only.
    build = build_parameters(seed, limit, degrade_images, noise_snr)
    if degrade_images:
        mean, components = fit_pca_basis(selected["train"].image)
        for paired in selected.values():
            paired.image = project_images(paired.image, mean, components)
        build["pca_components"] = int(components.shape[0])

    build["checksums"] = raw_checksums(data_dir) if checksums is None else checksums
    build["n_progress_steps"] = n_steps
    names = np.array([recordings[i].name for i in used], dtype=str)
    return BuiltDataset(spectrograms=spectrograms, recording_names=names, splits=selected, build=build)


def pair_by_label(
    labels: np.ndarray, recording_digits: np.ndarray, pool: np.ndarray, *, seed: int, stream: int
) -> np.ndarray:
    """Pick a recording of the same digit for every image.

    Parameters
    ----------
    labels : ndarray of shape (n_samples,)
        The images' digits, in image order.
    recording_digits : ndarray of shape (n_recordings,)
    pool : ndarray of shape (n_recordings,), bool
        The recordings this split may use.
    seed, stream : int
        The random order of digit d's recordings comes from ``default_rng([seed, stream, d])``.

    Returns
    -------
    ndarray of shape (n_samples,), int64
        Index into the recordings. Digit d's images take its recordings in a random
        order, reshuffled after every pass, so usage counts differ by at most one.
    """
    chosen = np.empty(len(labels), dtype=np.int64)
    for digit in np.unique(labels):
        positions = np.flatnonzero(labels == digit)
        candidates = np.flatnonzero(pool & (recording_digits == digit))
        if candidates.size == 0:
            raise DataError(f"No FSDD recording of digit {digit} is available for this split.")
        rng = np.random.default_rng([seed, stream, int(digit)])
        n_passes = -(-positions.size // candidates.size)
        order = np.concatenate([rng.permutation(candidates.size) for _ in range(n_passes)])
        chosen[positions] = candidates[order[: positions.size]]
    return chosen


def compute_spectrograms(
    recordings: list[Recording],
    *,
    seed: int,
    noise_snr: float | None,
    progress: ProgressCallback | None = None,
    total: int | None = None,
) -> np.ndarray:
    """Read each recording, add noise if requested, and compute its spectrogram.

    The noise of a recording comes from a generator seeded by ``seed`` and the
    recording's name, so a recording gets the same noise in every split and build.

    Returns
    -------
    ndarray of shape (n_recordings, 112, 112), float32 in [0, 1]
    """
    total = len(recordings) if total is None else total
    spectrograms = np.empty((len(recordings), audio_module.N_FREQUENCIES, audio_module.N_FRAMES), dtype=np.float32)
    for row, recording in enumerate(recordings):
        waveform = audio_module.read_wav(recording.path)
        if noise_snr is not None:
            name_key = int.from_bytes(hashlib.sha256(recording.name.encode()).digest()[:8], "big")
            rng = np.random.default_rng([seed, _NOISE_STREAM, name_key])
            waveform = audio_module.add_noise(waveform, noise_snr, rng)
        spectrograms[row] = audio_module.spectrogram(waveform)
        if progress is not None and (row % 50 == 49 or row == len(recordings) - 1):
            progress(row + 1, total)
    return spectrograms
