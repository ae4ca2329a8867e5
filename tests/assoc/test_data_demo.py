"""The embedded demo set: contract, determinism, limits and degradations."""

import numpy as np
import pytest

from assoc.data import AUDIO_SHAPE, IMAGE_SHAPE, SPLIT_NAMES, load_dataset
from assoc.errors import ConfigError


@pytest.fixture(scope="module")
def demo():
    return load_dataset("demo")


def test_demo_split_sizes(demo):
    assert set(demo) == set(SPLIT_NAMES)
    assert [len(demo[name]) for name in SPLIT_NAMES] == [1257, 180, 360]


def test_demo_meets_contract(demo):
    for split in demo.values():
        n_samples = len(split)
        assert split.image.shape == (n_samples, *IMAGE_SHAPE)
        assert split.audio.shape == (n_samples, *AUDIO_SHAPE)
        assert split.image.dtype == np.float32
        assert split.audio.dtype == np.float32
        assert split.label.dtype == np.int64
        assert split.image.min() >= 0.0
        assert split.image.max() <= 1.0
        assert split.audio.min() >= 0.0
        assert split.audio.max() <= 1.0
        assert set(np.unique(split.label)) == set(range(10))


def test_demo_pairs_share_label(demo):
    for split in demo.values():
        recording_digit = np.array([int(name.split("_")[0]) for name in split.recording])
        assert np.array_equal(recording_digit, split.label)


def test_demo_splits_disjoint(demo):
    train, val, test = (set(demo[name].image_index.tolist()) for name in SPLIT_NAMES)
    assert not train & val
    assert not train & test
    assert not val & test


def test_demo_says_audio_is_synthetic(demo):
    for split in demo.values():
        assert split.attrs["synthetic_audio"] is True
        assert "SYNTHETIC" in split.attrs["description"]
        assert all("synthetic" in name for name in split.recording)


def test_demo_audio_separates_digits(demo):
    # A nearest-centroid classifier on the raw spectrograms: well above chance (0.1),
    # but speaker-like variation keeps it from being perfect.
    train, test = demo["train"], demo["test"]
    centroids = np.stack([train.audio[train.label == digit].reshape(-1, 112 * 112).mean(axis=0) for digit in range(10)])
    flat = test.audio.reshape(len(test), -1)
    distances = ((flat[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    accuracy = float(np.mean(distances.argmin(axis=1) == test.label))
    assert accuracy > 0.6
    assert accuracy < 1.0


def test_demo_deterministic_from_seed(demo):
    again = load_dataset("demo", limit=20)
    other_seed = load_dataset("demo", limit=20, seed=1)
    assert np.array_equal(again["test"].audio, demo["test"].audio[:20])
    assert np.array_equal(again["train"].image, demo["train"].image[:20])
    assert not np.array_equal(other_seed["test"].audio, again["test"].audio)


def test_demo_limit_caps_each_split():
    splits = load_dataset("demo", limit=7)
    assert [len(splits[name]) for name in SPLIT_NAMES] == [7, 7, 7]


def test_demo_degrade_images_fits_on_train():
    plain = load_dataset("demo", limit=200)
    degraded = load_dataset("demo", limit=200, degrade_images=True)
    attrs = degraded["train"].attrs
    assert attrs["degrade_images"] is True
    assert 1 <= attrs["pca_components"] < 28 * 28
    for name in SPLIT_NAMES:
        assert not np.array_equal(degraded[name].image, plain[name].image)
        assert np.array_equal(degraded[name].audio, plain[name].audio)
        assert degraded[name].image.min() >= 0.0
        assert degraded[name].image.max() <= 1.0


def test_demo_noise_raises_background():
    clean = load_dataset("demo", limit=10)
    noisy = load_dataset("demo", limit=10, noise_snr=0.0)
    assert noisy["test"].audio.mean() > clean["test"].audio.mean()
    assert noisy["test"].attrs["noise_snr"] == 0.0


def test_unknown_dataset_name_lists_known():
    with pytest.raises(ConfigError, match=r"Unknown dataset 'mnist'; choose one of: demo, avmnist"):
        load_dataset("mnist")


@pytest.mark.parametrize(
    ("keyword", "value", "message"),
    [
        ("limit", 0, r"limit must be a positive integer or None; got 0"),
        ("seed", -1, r"seed must be a non-negative integer; got -1"),
        ("noise_snr", float("nan"), r"noise_snr must be a finite number of decibels; got nan"),
    ],
)
def test_demo_rejects_bad_parameters(keyword, value, message):
    with pytest.raises(ConfigError, match=message):
        load_dataset("demo", **{keyword: value})
