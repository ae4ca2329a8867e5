import numpy as np
import pytest

from analysis.transfer import cross_modal_transfer, missing_modality_accuracy, probe_accuracy
from assoc.errors import ConfigError


def _clusters(n_per_class, n_classes, offset_dims, width, *, rng):
    """Codes of class c near the unit vector e_{offset_dims + c}, with small noise."""
    labels = np.repeat(np.arange(n_classes), n_per_class)
    codes = 0.05 * rng.normal(size=(labels.size, width))
    codes[np.arange(labels.size), offset_dims + labels] += 3.0
    return codes, labels


def test_same_space_transfers_perfectly():
    rng = np.random.default_rng(0)
    visual, labels = _clusters(20, 3, 0, 8, rng=rng)
    audio, _ = _clusters(20, 3, 0, 8, rng=rng)
    scores = cross_modal_transfer(visual, audio, labels, visual, audio, labels)
    assert scores == {"visual_to_audio": 1.0, "audio_to_visual": 1.0, "visual_within": 1.0, "audio_within": 1.0}


def test_orthogonal_subspaces_transfer_at_chance():
    # Visual codes use dims 0-2 and audio codes dims 3-5 only, exactly zero elsewhere.
    # A probe fitted on visual codes has zero weight on dims 3-5 (the L2 penalty's
    # gradient there is zero), so on audio codes it sees only its intercepts and
    # predicts one class for every item: accuracy 1/3 on balanced classes.
    labels = np.repeat(np.arange(3), 10)
    visual = np.zeros((30, 6))
    audio = np.zeros((30, 6))
    visual[np.arange(30), labels] = 1.0
    audio[np.arange(30), 3 + labels] = 1.0
    scores = cross_modal_transfer(visual, audio, labels, visual, audio, labels)
    assert scores["visual_to_audio"] == pytest.approx(1 / 3)
    assert scores["audio_to_visual"] == pytest.approx(1 / 3)
    assert scores["visual_within"] == 1.0
    assert scores["audio_within"] == 1.0


def test_probe_accuracy_counts_correct_predictions():
    train = np.array([[-1.0], [-2.0], [1.0], [2.0]])
    labels = np.array([0, 0, 1, 1])
    # Test items at -3 and +3 are classified correctly, the item at -1.5 labelled 1 is not.
    accuracy = probe_accuracy(train, labels, np.array([[-3.0], [3.0], [-1.5]]), np.array([0, 1, 1]))
    assert accuracy == pytest.approx(2 / 3)


def test_missing_modality_mean_imputation():
    # Only the visual half carries the label; the audio half is noise.
    rng = np.random.default_rng(1)
    visual, labels = _clusters(15, 3, 0, 4, rng=rng)
    audio = rng.normal(size=visual.shape)
    scores = missing_modality_accuracy(visual, audio, labels, visual, audio, labels, impute="mean")
    assert scores["both"] == 1.0
    assert scores["visual_only"] == 1.0
    assert scores["audio_only"] < 0.8


def test_missing_modality_copy_imputation_in_shared_space():
    rng = np.random.default_rng(2)
    visual, labels = _clusters(15, 3, 0, 4, rng=rng)
    audio, _ = _clusters(15, 3, 0, 4, rng=rng)
    scores = missing_modality_accuracy(visual, audio, labels, visual, audio, labels, impute="copy")
    assert scores == {"both": 1.0, "visual_only": 1.0, "audio_only": 1.0}


def test_missing_modality_copy_needs_equal_width():
    labels = np.array([0, 1, 0, 1])
    with pytest.raises(ConfigError, match="impute='copy' needs codes of equal width"):
        missing_modality_accuracy(np.eye(4), np.eye(4)[:, :3], labels, np.eye(4), np.eye(4)[:, :3], labels, impute="copy")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"train_codes": np.zeros(4)}, "non-empty \\(n_samples, n_features\\)"),
        ({"train_labels": np.array([0, 1])}, "expected \\(4,\\)"),
        ({"train_labels": np.zeros(4, dtype=int)}, "at least two classes"),
        ({"test_codes": np.full((2, 2), np.nan)}, "NaN or infinite"),
        ({"test_codes": np.zeros((2, 3))}, "test codes have 3 features"),
    ],
)
def test_probe_input_errors(kwargs, message):
    arguments = {
        "train_codes": np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 2.0], [2.0, 0.0]]),
        "train_labels": np.array([0, 1, 0, 1]),
        "test_codes": np.array([[0.0, 1.0], [1.0, 0.0]]),
        "test_labels": np.array([0, 1]),
    }
    arguments.update(kwargs)
    with pytest.raises(ConfigError, match=message):
        probe_accuracy(**arguments)


def test_unknown_imputation():
    labels = np.array([0, 1])
    with pytest.raises(ConfigError, match="Unknown impute 'zeros'"):
        missing_modality_accuracy(np.eye(2), np.eye(2), labels, np.eye(2), np.eye(2), labels, impute="zeros")
