"""HDF5 files of built datasets, written atomically.

A file stores every distinct spectrogram once and, per split, the index of each pair's
spectrogram, because the full training split's paired audio would be 55,000 x 112 x
112 float32 (2.8 GB) while FSDD has only 3,000 recordings. :func:`read_cached` expands
the index into the ``audio`` array again.

Layout::

    /                      attrs: format_version, build (JSON), complete
    /spectrograms          (n_recordings, 112, 112) float32
    /recording_names       (n_recordings,) ASCII strings
    /<split>/image         (n_samples, 1, 28, 28) float32
    /<split>/label         (n_samples,) int64
    /<split>/image_index   (n_samples,) int64
    /<split>/recording_index  (n_samples,) int64, rows of /spectrograms

A build writes to a temporary name in the same directory, sets ``complete`` last and
then renames the file, so a reader never takes an interrupted build for a finished one.
A temporary file is named ``<name>.tmp-<pid>-<8 hex digits>``. Each write first removes
the ones in its directory whose process has ended (see :func:`remove_stale_temporaries`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assoc.data.contract import SPLIT_NAMES, Split
from assoc.errors import DataError

logger = logging.getLogger(__name__)

# Bump when the stored layout or the way any stored array is computed changes, so that
# old cache files get a different key and are rebuilt.
FORMAT_VERSION = 1

# ``<name>.tmp-<pid>-<hex>``, the temporary name that write_cached gives a file.
_TEMPORARY_NAME = re.compile(r"^(?P<name>.+)\.tmp-(?P<pid>[0-9]+)-[0-9a-f]+$")


@dataclass
class PairedSplit:
    """One split before the audio is expanded: each pair points at a shared spectrogram."""

    image: np.ndarray  # (n_samples, 1, 28, 28) float32
    label: np.ndarray  # (n_samples,) int64
    image_index: np.ndarray  # (n_samples,) int64
    recording_index: np.ndarray  # (n_samples,) int64, rows of BuiltDataset.spectrograms


@dataclass
class BuiltDataset:
    """A built dataset in its compact form, as stored in the cache."""

    spectrograms: np.ndarray  # (n_recordings, 112, 112) float32
    recording_names: np.ndarray  # (n_recordings,) str
    splits: dict[str, PairedSplit]
    build: dict = field(default_factory=dict)  # build parameters and raw-file checksums

    def to_splits(self, extra_attrs: dict | None = None) -> dict[str, Split]:
        """Expand the shared spectrograms into one ``audio`` row per pair."""
        result = {}
        for name, paired in self.splits.items():
            audio = expand_rows(self.spectrograms, paired.recording_index).reshape(-1, 1, *self.spectrograms.shape[1:])
            attrs = dict(self.build, split=name)
            attrs.update(extra_attrs or {})
            result[name] = Split(
                image=paired.image,
                audio=audio,
                label=paired.label,
                image_index=paired.image_index,
                recording=self.recording_names[paired.recording_index],
                attrs=attrs,
            )
        return result


def expand_rows(table: np.ndarray, index: np.ndarray, block_size: int = 1024) -> np.ndarray:
    """Return ``table[index]``, gathered in blocks of rows.

    Gathering block by block was about 1.5x faster than one fancy-indexing call for
    55,000 rows of 112 x 112 float32 on a 2-core machine (numpy 2.3), and much faster
    than ``np.take`` with ``out``.
    """
    result = np.empty((len(index), *table.shape[1:]), dtype=table.dtype)
    for start in range(0, len(index), block_size):
        result[start : start + block_size] = table[index[start : start + block_size]]
    return result


def write_cached(path: Path, dataset: BuiltDataset, progress_step=None) -> None:
    """Write ``dataset`` to ``path`` atomically (temporary file, then rename).

    ``progress_step()`` is called after each split is written. If anything fails or the
    build is interrupted, the temporary file is removed and ``path`` is left untouched.
    """
    import h5py

    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    temporary = path.with_name(f"{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        with h5py.File(temporary, "w") as file:
            file.attrs["format_version"] = FORMAT_VERSION
            file.attrs["build"] = json.dumps(dataset.build, sort_keys=True)
            file.attrs["complete"] = False
            _write_array(file, "spectrograms", dataset.spectrograms)
            file.create_dataset("recording_names", data=dataset.recording_names.astype("S"))
            for name, paired in dataset.splits.items():
                group = file.create_group(name)
                _write_array(group, "image", paired.image)
                group.create_dataset("label", data=paired.label)
                group.create_dataset("image_index", data=paired.image_index)
                group.create_dataset("recording_index", data=paired.recording_index)
                if progress_step is not None:
                    progress_step()
            file.attrs["complete"] = True
        os.replace(temporary, path)
    except BaseException:
        # A process killed by SIGKILL never reaches this line, so the next write into
        # this directory removes the file it left behind.
        temporary.unlink(missing_ok=True)
        raise
    logger.info("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)


def remove_stale_temporaries(directory: Path) -> list[Path]:
    """Remove temporary files of writes whose process no longer runs.

    Only files named like :func:`write_cached`'s temporaries (``<name>.tmp-<pid>-<hex>``)
    are considered. A file whose pid belongs to a running process is kept, because that
    process may still be writing it. Each removal is logged at INFO.

    Returns
    -------
    list of Path
        The files removed, sorted by name.
    """
    removed = []
    directory = Path(directory)
    if not directory.is_dir():
        return removed
    for candidate in sorted(directory.iterdir()):
        match = _TEMPORARY_NAME.match(candidate.name)
        if match is None or not candidate.is_file():
            continue
        pid = int(match["pid"])
        if _process_running(pid):
            continue
        try:
            candidate.unlink()
        except FileNotFoundError:
            continue  # another process removed it first
        except OSError as error:
            logger.warning("failed to remove the stale temporary file %s (%s); delete it by hand", candidate, error)
            continue
        logger.info("removed %s, left by process %d, which no longer runs", candidate, pid)
        removed.append(candidate)
    return removed


def _process_running(pid: int) -> bool:
    """Return whether a process with this id exists on this machine.

    Returns True when liveness cannot be checked, so that a caller deletes nothing.
    """
    # NOTE: the check covers only this machine's processes. A cache directory on a network
    # file system shared with another host could lose a temporary file that a process
    # on that host is still writing.
    if pid <= 0 or os.name != "posix":
        # os.kill(0, 0) signals the whole process group, and os.kill on Windows
        # terminates the process, so neither can serve as a liveness test.
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # the process exists but belongs to another user
    except OverflowError:
        return False  # larger than any pid the kernel hands out
    return True


def _write_array(group, name: str, array: np.ndarray) -> None:
    # Chunks of about 3 MB: lzf compresses them fast, and per-chunk overhead stays small.
    if len(array) == 0:
        group.create_dataset(name, data=array)
        return
    rows_per_chunk = max(1, min(len(array), (3 << 20) // max(1, array[0].nbytes)))
    group.create_dataset(name, data=array, chunks=(rows_per_chunk, *array.shape[1:]), compression="lzf")


def read_cached(path: Path) -> BuiltDataset:
    """Read a dataset that :func:`write_cached` finished.

    Raises
    ------
    DataError
        The file cannot be read, was not finished, or has another format version.
    """
    import h5py

    try:
        with h5py.File(path, "r") as file:
            if not bool(file.attrs.get("complete", False)):
                raise DataError(f"Cache file {path} is incomplete. Delete it; the next build writes it again.")
            version = int(file.attrs.get("format_version", -1))
            if version != FORMAT_VERSION:
                raise DataError(
                    f"Cache file {path} has format version {version}; expected {FORMAT_VERSION}. "
                    "Delete it; the next build writes it again."
                )
            spectrograms = file["spectrograms"][...]
            names = file["recording_names"][...].astype(str)
            splits = {}
            for name in SPLIT_NAMES:
                if name not in file:
                    continue
                group = file[name]
                splits[name] = PairedSplit(
                    image=group["image"][...],
                    label=group["label"][...].astype(np.int64),
                    image_index=group["image_index"][...].astype(np.int64),
                    recording_index=group["recording_index"][...].astype(np.int64),
                )
            build = json.loads(file.attrs["build"])
    except (OSError, KeyError, ValueError) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(
            f"Cache file {path} is unreadable ({error}). Delete it; the next build writes it again."
        ) from error
    return BuiltDataset(spectrograms=spectrograms, recording_names=names, splits=splits, build=build)
