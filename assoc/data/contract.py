"""The array contract that every dataset meets.

A dataset is a mapping from split name (``train``, ``val``, ``test``) to a
:class:`Split`. Models, learners and metrics rely only on this contract, so the
embedded demo set and AV-MNIST are interchangeable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from assoc.errors import DataError

IMAGE_SHAPE = (1, 28, 28)
AUDIO_SHAPE = (1, 112, 112)
N_CLASSES = 10
SPLIT_NAMES = ("train", "val", "test")


@dataclass(frozen=True)
class Split:
    """One split of a paired image-audio dataset.

    Attributes
    ----------
    image : ndarray of shape (n_samples, 1, 28, 28), float32 in [0, 1]
    audio : ndarray of shape (n_samples, 1, 112, 112), float32 in [0, 1]
        Log-power spectrogram, frequency along axis 2 (low to high), time along axis 3.
    label : ndarray of shape (n_samples,), int64 in 0..9
        The digit, shared by the image and the recording of a pair.
    image_index : ndarray of shape (n_samples,), int64
        Index of the image in its source collection.
    recording : ndarray of shape (n_samples,), str
        Name of the source recording, for example ``3_theo_17``.
    attrs : dict
        Build parameters and provenance (dataset name, seed, checksums).
    """

    image: np.ndarray
    audio: np.ndarray
    label: np.ndarray
    image_index: np.ndarray
    recording: np.ndarray
    attrs: dict = field(default_factory=dict)

    def __post_init__(self):
        validate_split(self)

    def __len__(self) -> int:
        return int(self.label.shape[0])

    def subset(self, index) -> Split:
        """Return the pairs selected by ``index`` (a slice, integer array or boolean mask)."""
        return Split(
            image=self.image[index],
            audio=self.audio[index],
            label=self.label[index],
            image_index=self.image_index[index],
            recording=self.recording[index],
            attrs=dict(self.attrs),
        )


def validate_split(split: Split) -> None:
    """Raise DataError unless the split's arrays meet the contract."""
    n_samples = split.label.shape[0]
    checks = [
        ("image", split.image, (n_samples, *IMAGE_SHAPE), np.float32),
        ("audio", split.audio, (n_samples, *AUDIO_SHAPE), np.float32),
        ("label", split.label, (n_samples,), np.int64),
        ("image_index", split.image_index, (n_samples,), np.int64),
    ]
    for name, array, shape, dtype in checks:
        if array.shape != shape:
            raise DataError(f"Split array '{name}' has shape {array.shape}; expected {shape}.")
        if array.dtype != dtype:
            raise DataError(f"Split array '{name}' has dtype {array.dtype}; expected {np.dtype(dtype)}.")
    if split.recording.shape != (n_samples,):
        raise DataError(f"Split array 'recording' has shape {split.recording.shape}; expected {(n_samples,)}.")
