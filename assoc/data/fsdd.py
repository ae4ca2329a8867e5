"""The Free Spoken Digit Dataset (FSDD): recordings named ``{digit}_{speaker}_{index}.wav``.

FSDD's own split puts recording indices 0-4 in the test set and 5-49 in the training
set, so every speaker appears in both but no test recording is used for training.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from assoc.data.mnist import FETCH_HINT
from assoc.data.paths import raw_file_fix
from assoc.errors import DataError, DataNotFoundError

logger = logging.getLogger(__name__)

RECORDING_PATTERN = re.compile(r"^(?P<digit>[0-9])_(?P<speaker>[a-z]+)_(?P<index>[0-9]+)\.wav$")
N_RECORDINGS = 3000
TEST_INDICES = range(0, 5)

# SHA-256 of the `sha256sum recordings/*.wav` listing (C-locale name order) for the
# 3,000 recordings of FSDD release v1.0.10; see recordings_checksum.
RECORDINGS_SHA256 = "04e1baae96c6a26e39c623f2b01d0182ddae627ba0ac02a3cdc17ba2af99fd9b"


@dataclass(frozen=True)
class Recording:
    """One FSDD recording, parsed from its file name."""

    path: Path
    digit: int
    speaker: str
    index: int

    @property
    def name(self) -> str:
        """The file name without ``.wav``, for example ``3_theo_17``."""
        return self.path.stem

    @property
    def is_test(self) -> bool:
        """Whether FSDD's split assigns this recording to the test set (index 0-4)."""
        return self.index in TEST_INDICES


def recordings_dir(data_dir: str | os.PathLike) -> Path:
    """Return ``data_dir/fsdd/recordings``, or raise DataNotFoundError when it is missing."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataNotFoundError(f"Data directory not found: {data_dir}. {FETCH_HINT}")
    directory = data_dir / "fsdd" / "recordings"
    if not directory.is_dir():
        raise DataNotFoundError(f"FSDD recordings directory not found: {directory}. {FETCH_HINT}")
    return directory


def list_recordings(data_dir: str | os.PathLike) -> list[Recording]:
    """List the FSDD recordings in ``data_dir/fsdd/recordings``, sorted by file name.

    Files whose names do not follow ``{digit}_{speaker}_{index}.wav`` are skipped with
    a warning.
    """
    directory = recordings_dir(data_dir)
    recordings = []
    skipped = []
    for path in sorted(directory.iterdir()):
        match = RECORDING_PATTERN.match(path.name)
        if match is None or not path.is_file():
            skipped.append(path.name)
            continue
        recordings.append(Recording(path, int(match["digit"]), match["speaker"], int(match["index"])))
    if skipped:
        logger.warning(
            "skipped %d files in %s that are not named {digit}_{speaker}_{index}.wav, for example %s",
            len(skipped),
            directory,
            skipped[0],
        )
    if not recordings:
        raise DataNotFoundError(
            f"No FSDD recordings ({{digit}}_{{speaker}}_{{index}}.wav) in {directory}. {FETCH_HINT}"
        )
    if len(recordings) != N_RECORDINGS:
        logger.warning(
            "found %d FSDD recordings in %s; the full dataset has %d", len(recordings), directory, N_RECORDINGS
        )
    return recordings


def recordings_checksum(recordings: list[Recording]) -> str:
    """Return one SHA-256 over all recordings, equal to ``sha256sum recordings/*.wav | sha256sum``.

    The listing has one line ``<sha256>  recordings/<file name>`` per file, in byte
    order of the file names (the C locale's order).
    """
    import hashlib

    listing = hashlib.sha256()
    for recording in sorted(recordings, key=lambda item: item.path.name):
        digest = hashlib.sha256(recording.path.read_bytes()).hexdigest()
        listing.update(f"{digest}  recordings/{recording.path.name}\n".encode())
    return listing.hexdigest()


def check_recording_sets(recordings: list[Recording]) -> None:
    """Raise DataError unless every digit has recordings in both FSDD splits."""
    for digit in range(10):
        for is_test in (False, True):
            if not any(item.digit == digit and item.is_test == is_test for item in recordings):
                part = "test (index 0-4)" if is_test else "training (index 5-49)"
                raise DataError(
                    f"No FSDD {part} recording of digit {digit} in {recordings[0].path.parent}. "
                    f"The recordings are incomplete. {raw_file_fix(recordings[0].path.parent, noun='folder')}"
                )
