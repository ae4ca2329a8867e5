"""AV-MNIST built from the raw files: pairing, splits, degradation, noise and the cache."""

import logging

import numpy as np
import pytest

from assoc.data import SPLIT_NAMES, load_dataset
from assoc.data.avmnist import build_avmnist, pair_by_label
from assoc.data.fsdd import RECORDING_PATTERN
from assoc.data.mnist import load_mnist
from assoc.data.transforms import fit_pca_basis, project_images
from assoc.errors import DataError

pytestmark = pytest.mark.data

LIMIT = 200


def _recording_fields(names):
    matches = [RECORDING_PATTERN.match(f"{name}.wav") for name in names]
    return np.array([int(m["digit"]) for m in matches]), np.array([int(m["index"]) for m in matches])


@pytest.fixture(scope="module")
def small(raw_data_dir, tmp_path_factory):
    return load_dataset("avmnist", data_dir=raw_data_dir, cache_dir=tmp_path_factory.mktemp("cache"), limit=LIMIT)


@pytest.fixture(scope="module")
def mnist(raw_data_dir):
    return load_mnist(raw_data_dir)


def _link_raw_dir(raw_data_dir, target, replace=None):
    """Mirror the raw layout under ``target`` with symlinks, writing ``replace`` files instead."""
    replace = replace or {}
    (target / "mnist").mkdir(parents=True)
    (target / "fsdd" / "recordings").mkdir(parents=True)
    for source in (raw_data_dir / "mnist").iterdir():
        (target / "mnist" / source.name).symlink_to(source)
    for source in (raw_data_dir / "fsdd" / "recordings").iterdir():
        (target / "fsdd" / "recordings" / source.name).symlink_to(source)
    for relative, content in replace.items():
        (target / relative).unlink()
        (target / relative).write_bytes(content)
    return target


def _cache_files(cache_dir):
    directory = cache_dir / "datasets"
    return sorted(path.name for path in directory.iterdir()) if directory.is_dir() else []


def test_avmnist_meets_contract(small):
    for name in SPLIT_NAMES:
        split = small[name]
        assert len(split) == LIMIT
        assert split.image.shape == (LIMIT, 1, 28, 28)
        assert split.audio.shape == (LIMIT, 1, 112, 112)
        assert split.audio.min() >= 0.0
        assert split.audio.max() <= 1.0
        assert split.image.max() <= 1.0
        assert split.attrs["split"] == name
        assert split.attrs["limit"] == LIMIT


def test_avmnist_pairs_share_label(small, mnist):
    for name in SPLIT_NAMES:
        split = small[name]
        recording_digit, _ = _recording_fields(split.recording)
        source = "test" if name == "test" else "train"
        assert np.array_equal(recording_digit, split.label)
        assert np.array_equal(mnist[f"{source}_labels"][split.image_index], split.label)


def test_avmnist_no_test_recording_in_train(small):
    for name in ("train", "val"):
        _, recording_index = _recording_fields(small[name].recording)
        assert recording_index.min() >= 5
    _, test_index = _recording_fields(small["test"].recording)
    assert test_index.max() <= 4


def test_avmnist_image_sources(small, mnist):
    assert small["train"].image_index.tolist() == list(range(LIMIT))
    assert small["val"].image_index.tolist() == list(range(55000, 55000 + LIMIT))
    assert small["test"].image_index.tolist() == list(range(LIMIT))
    np.testing.assert_array_equal(small["val"].image[:, 0] * 255.0, mnist["train_images"][55000 : 55000 + LIMIT])
    np.testing.assert_array_equal(small["test"].image[:, 0] * 255.0, mnist["test_images"][:LIMIT])


def test_pairing_balanced_and_prefix_stable():
    labels = np.repeat(np.arange(3), [10, 7, 1])
    recording_digits = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    pool = np.ones(9, dtype=bool)
    chosen = pair_by_label(labels, recording_digits, pool, seed=4, stream=0)
    assert np.array_equal(recording_digits[chosen], labels)
    usage = np.bincount(chosen[labels == 0], minlength=3)[:3]
    assert usage.max() - usage.min() <= 1
    prefix = pair_by_label(labels[:12], recording_digits, pool, seed=4, stream=0)
    assert np.array_equal(prefix, chosen[:12])


def test_pairing_missing_digit_in_pool():
    with pytest.raises(DataError, match=r"No FSDD recording of digit 1 is available"):
        pair_by_label(np.array([0, 1]), np.array([0, 1]), np.array([True, False]), seed=0, stream=0)


def test_avmnist_limit_is_prefix(small, raw_data_dir):
    smaller = build_avmnist(raw_data_dir, limit=50, splits=("test",)).to_splits()["test"]
    assert np.array_equal(smaller.recording, small["test"].recording[:50])
    np.testing.assert_array_equal(smaller.audio, small["test"].audio[:50])


def test_avmnist_cache_reused(raw_data_dir, cache_dir, caplog):
    first = load_dataset("avmnist", data_dir=raw_data_dir, limit=20)
    path = first["train"].attrs["cache_path"]
    modified = (cache_dir / "datasets" / path.rsplit("/", 1)[-1]).stat().st_mtime_ns
    with caplog.at_level(logging.INFO, logger="assoc"):
        second = load_dataset("avmnist", data_dir=raw_data_dir, limit=20)
    assert "loaded avmnist from the cache" in caplog.text
    assert second["train"].attrs["cache_path"] == path
    assert (cache_dir / "datasets" / path.rsplit("/", 1)[-1]).stat().st_mtime_ns == modified
    for name in SPLIT_NAMES:
        np.testing.assert_array_equal(second[name].audio, first[name].audio)
        np.testing.assert_array_equal(second[name].image, first[name].image)
        assert np.array_equal(second[name].recording, first[name].recording)


def test_avmnist_cache_invalidated_by_parameter(raw_data_dir, cache_dir):
    base = load_dataset("avmnist", data_dir=raw_data_dir, limit=20)
    reseeded = load_dataset("avmnist", data_dir=raw_data_dir, limit=20, seed=1)
    assert reseeded["train"].attrs["cache_path"] != base["train"].attrs["cache_path"]
    assert len(_cache_files(cache_dir)) == 2
    assert not np.array_equal(reseeded["train"].recording, base["train"].recording)


def test_avmnist_cache_invalidated_by_raw_file(raw_data_dir, cache_dir, tmp_path):
    base = load_dataset("avmnist", data_dir=raw_data_dir, limit=20)
    wav = (raw_data_dir / "fsdd" / "recordings" / "9_theo_49.wav").read_bytes()
    changed_dir = _link_raw_dir(raw_data_dir, tmp_path / "raw", {"fsdd/recordings/9_theo_49.wav": wav[:-2]})
    changed = load_dataset("avmnist", data_dir=changed_dir, limit=20)
    assert changed["train"].attrs["cache_path"] != base["train"].attrs["cache_path"]


@pytest.mark.parametrize("interrupt_at", ["spectrograms", "writing"])
def test_avmnist_interrupted_build_leaves_nothing(raw_data_dir, cache_dir, interrupt_at):
    def interrupt(done, total):
        # The last len(SPLIT_NAMES) steps are the cache writes, one per split.
        writing = done > total - len(SPLIT_NAMES)
        if writing == (interrupt_at == "writing"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        load_dataset("avmnist", data_dir=raw_data_dir, limit=20, progress=interrupt)
    assert _cache_files(cache_dir) == []

    rebuilt = load_dataset("avmnist", data_dir=raw_data_dir, limit=20)
    assert len(rebuilt["test"]) == 20
    assert len(_cache_files(cache_dir)) == 1


def test_avmnist_damaged_cache_rebuilt(raw_data_dir, cache_dir, caplog):
    first = load_dataset("avmnist", data_dir=raw_data_dir, limit=20)
    path = cache_dir / "datasets" / first["train"].attrs["cache_path"].rsplit("/", 1)[-1]
    path.write_bytes(path.read_bytes()[:4096])
    with caplog.at_level(logging.WARNING, logger="assoc"):
        second = load_dataset("avmnist", data_dir=raw_data_dir, limit=20)
    assert "is unreadable" in caplog.text
    np.testing.assert_array_equal(second["test"].audio, first["test"].audio)


def test_avmnist_bad_wav_leaves_no_cache(raw_data_dir, cache_dir, tmp_path):
    import io

    import scipy.io.wavfile

    buffer = io.BytesIO()
    scipy.io.wavfile.write(buffer, 44100, np.zeros(441, dtype=np.int16))
    bad_dir = _link_raw_dir(raw_data_dir, tmp_path / "raw", {"fsdd/recordings/0_george_0.wav": buffer.getvalue()})
    with pytest.raises(DataError, match=r"0_george_0\.wav has sample rate 44100 Hz; expected 8000 Hz"):
        load_dataset("avmnist", data_dir=bad_dir, limit=LIMIT)
    assert _cache_files(cache_dir) == []


def test_avmnist_truncated_gz_leaves_no_cache(raw_data_dir, cache_dir, tmp_path):
    labels = (raw_data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes()
    bad_dir = _link_raw_dir(raw_data_dir, tmp_path / "raw", {"mnist/t10k-labels-idx1-ubyte.gz": labels[:2000]})
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz is truncated"):
        load_dataset("avmnist", data_dir=bad_dir, limit=20)
    assert _cache_files(cache_dir) == []


def test_avmnist_missing_recordings_dir(raw_data_dir, cache_dir, tmp_path):
    (tmp_path / "raw" / "mnist").mkdir(parents=True)
    for source in (raw_data_dir / "mnist").iterdir():
        (tmp_path / "raw" / "mnist" / source.name).symlink_to(source)
    with pytest.raises(FileNotFoundError, match=r"FSDD recordings directory not found: .*fsdd/recordings"):
        load_dataset("avmnist", data_dir=tmp_path / "raw", limit=20)


def test_avmnist_degrade_fits_on_train(small, raw_data_dir, tmp_path):
    degraded = load_dataset("avmnist", data_dir=raw_data_dir, cache_dir=tmp_path, limit=LIMIT, degrade_images=True)
    mean, components = fit_pca_basis(small["train"].image)
    assert degraded["train"].attrs["pca_components"] == components.shape[0]
    for name in SPLIT_NAMES:
        expected = project_images(small[name].image, mean, components)
        np.testing.assert_allclose(degraded[name].image, expected, atol=1e-6)
        np.testing.assert_array_equal(degraded[name].audio, small[name].audio)


def test_avmnist_noise_deterministic(small, raw_data_dir):
    first = build_avmnist(raw_data_dir, limit=30, noise_snr=5.0, splits=("test",)).to_splits()["test"]
    second = build_avmnist(raw_data_dir, limit=30, noise_snr=5.0, splits=("test",)).to_splits()["test"]
    np.testing.assert_array_equal(first.audio, second.audio)
    assert not np.array_equal(first.audio, small["test"].audio[:30])
    assert first.audio.mean() > small["test"].audio[:30].mean()


@pytest.mark.slow
def test_avmnist_full_test_split(raw_data_dir, mnist):
    test = build_avmnist(raw_data_dir, splits=("test",)).to_splits()["test"]
    assert len(test) == 10000
    assert test.audio.shape == (10000, 1, 112, 112)
    assert np.bincount(test.label).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    np.testing.assert_array_equal(test.image[:, 0] * 255.0, mnist["test_images"])

    recording_digit, recording_index = _recording_fields(test.recording)
    assert np.array_equal(recording_digit, test.label)
    assert recording_index.max() <= 4
    assert len(np.unique(test.recording)) == 300
    for digit in range(10):
        _, usage = np.unique(test.recording[test.label == digit], return_counts=True)
        assert usage.max() - usage.min() <= 1
