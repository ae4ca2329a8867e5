import numpy as np
import pytest

from analysis.reconstruction import reconstruction_mse, reconstruction_report
from assoc.errors import ConfigError


def test_mse_closed_form():
    target = np.zeros((2, 1, 2, 2))
    reconstruction = np.zeros((2, 1, 2, 2))
    reconstruction[0] = 1.0
    # Sample 0 is off by 1 everywhere, sample 1 is exact.
    assert reconstruction_mse(target, reconstruction) == 0.5
    np.testing.assert_array_equal(reconstruction_mse(target, reconstruction, per_sample=True), [1.0, 0.0])


def test_report_keys_and_values():
    images = np.zeros((3, 1, 2, 2))
    audio = np.ones((3, 1, 4, 4))
    report = reconstruction_report(
        images,
        audio,
        visual_from_visual=images,
        audio_from_audio=audio,
        visual_from_audio=images + 0.5,
        audio_from_visual=audio - 0.1,
    )
    assert report["mse_visual_within"] == 0.0
    assert report["mse_audio_within"] == 0.0
    assert report["mse_visual_from_audio"] == pytest.approx(0.25)
    assert report["mse_audio_from_visual"] == pytest.approx(0.01)


def test_shape_mismatch():
    with pytest.raises(ConfigError, match="must match"):
        reconstruction_mse(np.zeros((2, 3)), np.zeros((2, 4)))
