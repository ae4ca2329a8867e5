"""Inventory of raw files and built datasets, for ``assoc data info``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from assoc.data.avmnist import file_sha256
from assoc.data.fsdd import N_RECORDINGS, RECORDINGS_SHA256, RECORDING_PATTERN, recordings_checksum, Recording
from assoc.data.mnist import MNIST_FILES


@dataclass(frozen=True)
class FileStatus:
    """One expected raw file or folder and whether it is present and intact."""

    path: Path
    state: str  # 'ok', 'missing', 'checksum mismatch', 'incomplete' or 'differs from v1.0.10'
    detail: str = ""


def mnist_status(data_dir: str | os.PathLike) -> list[FileStatus]:
    """Check each MNIST file's presence and SHA-256."""
    statuses = []
    for file_name, expected in MNIST_FILES.values():
        path = Path(data_dir) / "mnist" / file_name
        if not path.is_file():
            statuses.append(FileStatus(path, "missing"))
            continue
        size = f"{path.stat().st_size:,} bytes"
        if file_sha256(path) == expected:
            statuses.append(FileStatus(path, "ok", f"{size}, SHA-256 matches"))
        else:
            statuses.append(FileStatus(path, "checksum mismatch", f"{size}, SHA-256 differs from the published value"))
    return statuses


def fsdd_status(data_dir: str | os.PathLike) -> FileStatus:
    """Count the FSDD recordings and compare their listing checksum with release v1.0.10."""
    directory = Path(data_dir) / "fsdd" / "recordings"
    if not directory.is_dir():
        return FileStatus(directory, "missing")
    recordings = []
    for path in sorted(directory.glob("*.wav")):
        match = RECORDING_PATTERN.match(path.name)
        if match is not None:
            recordings.append(Recording(path, int(match["digit"]), match["speaker"], int(match["index"])))
    count = f"{len(recordings):,} of {N_RECORDINGS:,} recordings"
    if len(recordings) != N_RECORDINGS:
        return FileStatus(directory, "incomplete", count)
    if recordings_checksum(recordings) != RECORDINGS_SHA256:
        return FileStatus(directory, "differs from v1.0.10", f"{count}, listing SHA-256 differs")
    return FileStatus(directory, "ok", f"{count}, SHA-256 matches release v1.0.10")


def cached_datasets(cache_dir: str | os.PathLike) -> list[tuple[Path, dict | None]]:
    """List built dataset files in ``cache_dir/datasets`` with their build parameters.

    The parameters are None for a file that is unreadable or was never finished.
    Temporary files of builds in progress or interrupted builds are not listed.
    """
    import h5py

    directory = Path(cache_dir) / "datasets"
    if not directory.is_dir():
        return []
    entries = []
    for path in sorted(directory.glob("*.h5")):
        try:
            with h5py.File(path, "r") as file:
                build = json.loads(file.attrs["build"]) if bool(file.attrs.get("complete", False)) else None
        except (OSError, KeyError, ValueError):
            build = None
        entries.append((path, build))
    return entries
