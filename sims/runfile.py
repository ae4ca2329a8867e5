"""The HDF5 run file: one file per run, written checkpoint by checkpoint.

Layout::

    /                                    attrs: format_version, config (TOML text), seed,
                                         package_versions (JSON), data_checksums (JSON),
                                         created (Unix time, s)
    /learners/<name>                     attrs: n_checkpoints
    /learners/<name>/pairs_seen          (n,) int64, strictly increasing
    /learners/<name>/metrics/<metric>    (n,) float64, NaN where a checkpoint lacks it
    /learners/<name>/snapshots/<i>/...   arrays of checkpoint i (z_visual, z_audio, label)
    /learners/<name>/state/<i>/...       learner state saved at checkpoint i
    /log                                 rows (time, stage, message); attrs: n_rows
    /stages/<name>/...                   arrays that a finished stage hands on (for example
                                         the model after the unimodal stage); attrs: complete
    /stage_checkpoints/<name>/<i>/...    state of an unfinished stage after its step i (for
                                         example an epoch of the unimodal stage), newest
                                         committed one only; attrs: complete

Crash consistency. A checkpoint is committed by the learner's ``n_checkpoints``
attribute, which the writer raises only after every array of the checkpoint is written
and flushed, and flushes again. Readers use only the first ``n_checkpoints`` entries,
snapshots ``0 … n_checkpoints − 1`` and the newest state group with an index below
``n_checkpoints``. A process killed in the middle of a checkpoint therefore leaves a
file whose committed part reads the same as before the kill. :meth:`RunWriter.resume` deletes the
uncommitted surplus before writing continues. Log rows follow the same rule with the
``n_rows`` attribute.

Only the newest committed state is kept. HDF5 reuses the space of deleted state groups
within one writing session: 50 checkpoints of a 1 MB state gave a 2.1 MB file with
h5py 3.16 and HDF5 2.0. It does not reuse it after a resume, so each resume can leave
one stale state's worth of unused space, which ``h5repack`` reclaims.

NOTE: HDF5 has no journal. A kill during the few milliseconds of a flush can leave the
file's metadata inconsistent; the layout above protects against kills at any other
moment. The file uses the default (version 0) superblock, which carries no
"open for writing" flag, so a killed writer does not lock readers out.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from assoc.errors import ConfigError, DataError, DataNotFoundError

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
PACKAGES = ("numpy", "numba", "torch", "scipy", "brian2", "h5py", "assoc")
COUNT_ATTR = "n_checkpoints"
STAGE_CHECKPOINTS = "stage_checkpoints"
LOG_COUNT_ATTR = "n_rows"

_STRING = h5py.string_dtype("utf-8")
_LOG_DTYPE = np.dtype([("time", np.float64), ("stage", _STRING), ("message", _STRING)])


# ---------------------------------------------------------------------------
# Provenance helpers
# ---------------------------------------------------------------------------


def package_versions() -> dict[str, str]:
    """Return the installed versions of the packages a run depends on.

    Versions come from the installed package metadata, so torch is not imported;
    a package that is not installed is left out. ``hdf5`` is the HDF5 library that
    h5py links.
    """
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    versions["hdf5"] = h5py.version.hdf5_version
    return versions


def file_checksum(path: str | os.PathLike) -> str:
    """Return the SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def array_checksum(array: np.ndarray) -> str:
    """Return the SHA-256 hex digest of an array's dtype, shape and C-order bytes."""
    array = np.ascontiguousarray(array)
    digest = hashlib.sha256()
    digest.update(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# Writer
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ResumePoint:
    """The last committed checkpoint of one learner, as a resumed run needs it.

    Attributes
    ----------
    n_checkpoints : int
        Committed checkpoints; the next one written gets this index.
    pairs_seen : int
        Pairs seen at the last committed checkpoint (0 when there is none).
    state : dict of str to ndarray
        State saved at or before the last committed checkpoint; empty when none was saved.
    state_checkpoint : int
        Index of the checkpoint that saved ``state``, −1 when none did.
    """

    n_checkpoints: int
    pairs_seen: int
    state: dict
    state_checkpoint: int


class RunWriter:
    """Append checkpoints of several learners and log rows to one run file.

    Create a new file with :meth:`create` or continue an interrupted one with
    :meth:`resume`. Use it as a context manager so that the file is closed.
    Only one process may write a run file at a time.
    """

    def __init__(self, handle: h5py.File):
        self._file = handle

    # Opening ---------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike,
        *,
        config_text: str,
        seed: int,
        data_checksums: Mapping[str, str] | None = None,
        overwrite: bool = False,
        kind: str | None = None,
    ) -> RunWriter:
        """Create a run file and write its provenance attributes.

        Parameters
        ----------
        path : path-like
        config_text : str
            The experiment config as TOML text.
        seed : int
        data_checksums : mapping of str to str, optional
            Checksums of the data the run read, for example from :func:`file_checksum`.
        overwrite : bool, default False
            Replace an existing file; otherwise an existing file raises ConfigError.
        kind : str, optional
            Experiment kind stored as the root attribute ``kind`` (see :func:`run_file_kind`).
        """
        path = Path(path)
        if path.exists() and not overwrite:
            raise ConfigError(
                f"Run file {path} already exists; pass overwrite=True (--out elsewhere) or resume it."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = h5py.File(path, "w")
        handle.attrs["format_version"] = FORMAT_VERSION
        handle.attrs["config"] = str(config_text)
        handle.attrs["seed"] = int(seed)
        handle.attrs["package_versions"] = json.dumps(package_versions(), sort_keys=True)
        handle.attrs["data_checksums"] = json.dumps(dict(data_checksums or {}), sort_keys=True)
        handle.attrs["created"] = time.time()
        if kind is not None:
            handle.attrs["kind"] = str(kind)
        handle.create_group("learners")
        log = handle.create_dataset("log", shape=(0,), maxshape=(None,), dtype=_LOG_DTYPE, chunks=(256,))
        log.attrs[LOG_COUNT_ATTR] = 0
        handle.flush()
        logger.info("created run file %s", path)
        return cls(handle)

    @classmethod
    def resume(cls, path: str | os.PathLike) -> RunWriter:
        """Open an existing run file for appending, discarding uncommitted writes.

        Every learner's datasets, snapshots and state groups beyond its committed
        ``n_checkpoints``, and log rows beyond ``n_rows``, are deleted before writing
        continues.
        """
        path = Path(path)
        if not path.exists():
            raise DataNotFoundError(f"Run file {path} not found; start a new run without --resume.")
        handle = h5py.File(path, "r+")
        _check_format(handle, path)
        writer = cls(handle)
        writer._truncate_uncommitted()
        handle.flush()
        logger.info("resuming run file %s", path)
        return writer

    def close(self) -> None:
        """Flush and close the file."""
        if self._file.id.valid:
            self._file.flush()
            self._file.close()

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def path(self) -> Path:
        """Path of the open file."""
        return Path(self._file.filename)

    # Reading back what a resumed run needs -------------------------------------

    def n_checkpoints(self, learner: str) -> int:
        """Return the committed checkpoints of ``learner``, 0 for a learner not yet written."""
        group = self._file["learners"].get(learner)
        return 0 if group is None else int(group.attrs[COUNT_ATTR])

    def resume_point(self, learner: str) -> ResumePoint:
        """Return the count, pairs seen and state of ``learner``'s last committed checkpoint."""
        group = self._file["learners"].get(learner)
        if group is None:
            return ResumePoint(n_checkpoints=0, pairs_seen=0, state={}, state_checkpoint=-1)
        count = int(group.attrs[COUNT_ATTR])
        pairs_seen = int(group["pairs_seen"][count - 1]) if count else 0
        state_checkpoint, state = _read_state(group, count)
        return ResumePoint(
            n_checkpoints=count, pairs_seen=pairs_seen, state=state, state_checkpoint=state_checkpoint
        )

    # Writing -------------------------------------------------------------------

    def append_checkpoint(
        self,
        learner: str,
        pairs_seen: int,
        metrics: Mapping[str, float],
        *,
        snapshot: Mapping[str, np.ndarray] | None = None,
        state: Mapping[str, np.ndarray] | None = None,
    ) -> int:
        """Write one checkpoint of ``learner`` and commit it; return its index.

        Parameters
        ----------
        learner : str
            Learner name; must not contain '/'.
        pairs_seen : int
            Pairs seen so far; must exceed the previous checkpoint's value.
        metrics : mapping of str to float
            Scalar metrics. A metric first seen now is NaN at earlier checkpoints, and
            a metric missing now is NaN at this one.
        snapshot : mapping of str to ndarray, optional
            Arrays stored under ``snapshots/<index>``, for example ``z_visual`` and
            ``z_audio`` of shape (n_subsample, k) and ``label`` of shape (n_subsample,).
        state : mapping of str to ndarray, optional
            Learner state for resuming. Keys may contain '/' to form nested groups.
            Earlier state groups are deleted once this checkpoint is committed.
        """
        _check_name(learner, "learner")
        metrics = {str(name): _as_scalar(name, value) for name, value in metrics.items()}
        for name in metrics:
            _check_name(name, "metric")
        group = self._learner_group(learner)
        index = int(group.attrs[COUNT_ATTR])
        if index:
            previous = int(group["pairs_seen"][index - 1])
            if int(pairs_seen) <= previous:
                raise ConfigError(
                    f"pairs_seen must increase from checkpoint to checkpoint; learner {learner!r} had "
                    f"{previous} at checkpoint {index - 1} and got {int(pairs_seen)} now."
                )

        # Step 1: the checkpoint's arrays, none of which a reader trusts yet.
        if snapshot is not None:
            _write_arrays(group["snapshots"], str(index), snapshot)
        if state is not None:
            _write_arrays(group["state"], str(index), state)
        _write_row(group["pairs_seen"], index, int(pairs_seen))
        for name in sorted(set(group["metrics"]) | set(metrics)):
            if name not in group["metrics"]:
                _create_series(group["metrics"], name, np.float64, fill=np.nan)
            _write_row(group["metrics"][name], index, metrics.get(name, np.nan))
        self._file.flush()

        # Step 2: commit by raising the count, then flush again.
        group.attrs[COUNT_ATTR] = index + 1
        self._file.flush()

        # Step 3: drop state that the new checkpoint superseded.
        if state is not None:
            for key in list(group["state"]):
                if int(key) < index:
                    del group["state"][key]
        logger.debug("learner %s: checkpoint %d committed at %d pairs", learner, index, int(pairs_seen))
        return index

    def write_stage(self, name: str, arrays: Mapping[str, np.ndarray]) -> None:
        """Store the arrays of a finished stage under ``/stages/<name>`` and commit them.

        The group's ``complete`` attribute is set only after the arrays are flushed, so a
        kill while writing leaves a stage that :meth:`read_stage` reports as missing.
        """
        _check_name(name, "stage")
        stages = self._file.require_group("stages")
        _write_arrays(stages, name, arrays)
        self._file.flush()
        stages[name].attrs["complete"] = True
        self._file.flush()

        # The finished stage supersedes its checkpoints.
        checkpoints = self._file.get(STAGE_CHECKPOINTS)
        if checkpoints is not None and name in checkpoints:
            del checkpoints[name]
            self._file.flush()

    def write_stage_checkpoint(self, name: str, index: int, arrays: Mapping[str, np.ndarray]) -> None:
        """Store the state of unfinished stage ``name`` after its step ``index`` and commit it.

        The arrays go to ``/stage_checkpoints/<name>/<index>``, whose ``complete``
        attribute is set only after they are flushed. Older checkpoints of the stage are
        deleted after that, so a kill at any moment leaves the previous or the new
        checkpoint readable. :meth:`write_stage` deletes them all once the stage finishes.
        """
        _check_name(name, "stage")
        index = int(index)
        if index < 0:
            raise ConfigError(f"A stage checkpoint index must be non-negative; got {index}.")
        group = self._file.require_group(STAGE_CHECKPOINTS).require_group(name)
        _write_arrays(group, str(index), arrays)
        self._file.flush()
        group[str(index)].attrs["complete"] = True
        self._file.flush()

        for key in list(group):
            if key != str(index):
                del group[key]
        self._file.flush()

    def read_stage_checkpoint(self, name: str) -> tuple[int, dict[str, np.ndarray]]:
        """Return (index, arrays) of the newest committed checkpoint of stage ``name``; (−1, {}) if none."""
        group = self._file.get(STAGE_CHECKPOINTS, {}).get(name)
        if group is None:
            return -1, {}
        committed = [int(key) for key, child in group.items() if child.attrs.get("complete", False)]
        if not committed:
            return -1, {}
        newest = max(committed)
        return newest, _read_arrays(group[str(newest)])

    def read_stage(self, name: str) -> dict[str, np.ndarray] | None:
        """Return the arrays of a completed stage, or None when it was not completed."""
        return _read_stage(self._file, name)

    def log(self, stage: str, message: str) -> None:
        """Append a row (time, stage, message) to ``/log`` and flush."""
        rows = self._file["log"]
        count = int(rows.attrs[LOG_COUNT_ATTR])
        if rows.shape[0] < count + 1:
            rows.resize((count + 1,))
        rows[count] = (time.time(), str(stage), str(message))
        self._file.flush()
        rows.attrs[LOG_COUNT_ATTR] = count + 1
        self._file.flush()

    # Internals ---------------------------------------------------------------

    def _learner_group(self, learner: str) -> h5py.Group:
        learners = self._file["learners"]
        if learner in learners:
            return learners[learner]
        group = learners.create_group(learner)
        _create_series(group, "pairs_seen", np.int64, fill=0)
        group.create_group("metrics")
        group.create_group("snapshots")
        group.create_group("state")
        group.attrs[COUNT_ATTR] = 0
        return group

    def _truncate_uncommitted(self) -> None:
        for name, group in self._file["learners"].items():
            count = int(group.attrs[COUNT_ATTR])
            surplus = group["pairs_seen"].shape[0] - count
            group["pairs_seen"].resize((count,))
            for series in group["metrics"].values():
                series.resize((count,))
            for container in (group["snapshots"], group["state"]):
                for key in list(container):
                    if int(key) >= count:
                        del container[key]
            if surplus:
                logger.warning("learner %s: discarded %d uncommitted checkpoint row(s)", name, surplus)
        rows = self._file["log"]
        rows.resize((int(rows.attrs[LOG_COUNT_ATTR]),))


# ---------------------------------------------------------------------------
# Reader
# ---------------------------------------------------------------------------


class RunReader:
    """Read the committed contents of a run file as numpy arrays.

    Open it after the run has finished or its process has ended: HDF5 gives no
    consistent view of a file that another process is writing.
    """

    def __init__(self, path: str | os.PathLike):
        path = Path(path)
        if not path.exists():
            raise DataNotFoundError(f"Run file {path} not found; check the path.")
        try:
            self._file = h5py.File(path, "r")
        except OSError as error:
            raise DataError(f"Run file {path} cannot be opened as HDF5 ({error}); it may be truncated.") from error
        _check_format(self._file, path)

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> RunReader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def config_text(self) -> str:
        """The experiment config as TOML text."""
        return str(self._file.attrs["config"])

    @property
    def seed(self) -> int:
        """The run's seed."""
        return int(self._file.attrs["seed"])

    @property
    def package_versions(self) -> dict[str, str]:
        """Package versions recorded when the file was created."""
        return json.loads(self._file.attrs["package_versions"])

    @property
    def data_checksums(self) -> dict[str, str]:
        """Data checksums recorded when the file was created."""
        return json.loads(self._file.attrs["data_checksums"])

    def learners(self) -> list[str]:
        """Return the learner names in the file, sorted."""
        return sorted(self._file["learners"])

    def n_checkpoints(self, learner: str) -> int:
        """Return the committed checkpoints of ``learner``."""
        return int(self._group(learner).attrs[COUNT_ATTR])

    def pairs_seen(self, learner: str) -> np.ndarray:
        """Return pairs seen at each committed checkpoint, shape (n_checkpoints,)."""
        group = self._group(learner)
        return group["pairs_seen"][: int(group.attrs[COUNT_ATTR])]

    def metric_names(self, learner: str) -> list[str]:
        """Return the names of ``learner``'s metrics, sorted."""
        return sorted(self._group(learner)["metrics"])

    def metric(self, learner: str, name: str) -> np.ndarray:
        """Return one metric at each committed checkpoint, shape (n_checkpoints,)."""
        group = self._group(learner)
        if name not in group["metrics"]:
            raise DataNotFoundError(
                f"Learner {learner!r} has no metric {name!r}; available: {', '.join(sorted(group['metrics']))}."
            )
        return group["metrics"][name][: int(group.attrs[COUNT_ATTR])]

    def metrics(self, learner: str) -> dict[str, np.ndarray]:
        """Return every metric of ``learner``, each of shape (n_checkpoints,)."""
        return {name: self.metric(learner, name) for name in self.metric_names(learner)}

    def snapshot(self, learner: str, index: int) -> dict[str, np.ndarray]:
        """Return the snapshot arrays of committed checkpoint ``index`` (negative counts from the end)."""
        group = self._group(learner)
        count = int(group.attrs[COUNT_ATTR])
        position = index + count if index < 0 else index
        if not 0 <= position < count:
            raise DataNotFoundError(
                f"Learner {learner!r} has {count} committed checkpoints; checkpoint {index} does not exist."
            )
        if str(position) not in group["snapshots"]:
            raise DataNotFoundError(f"Learner {learner!r} stored no snapshot at checkpoint {position}.")
        return _read_arrays(group["snapshots"][str(position)])

    def state(self, learner: str) -> tuple[int, dict[str, np.ndarray]]:
        """Return (checkpoint index, arrays) of ``learner``'s newest committed state; (−1, {}) if none."""
        group = self._group(learner)
        return _read_state(group, int(group.attrs[COUNT_ATTR]))

    def stage(self, name: str) -> dict[str, np.ndarray]:
        """Return the arrays of the completed stage ``name``."""
        arrays = _read_stage(self._file, name)
        if arrays is None:
            raise DataNotFoundError(f"Run file has no completed stage {name!r}; the run stopped before it ended.")
        return arrays

    def log(self) -> np.ndarray:
        """Return the committed log rows as a structured array with fields time, stage, message."""
        rows = self._file["log"]
        count = int(rows.attrs[LOG_COUNT_ATTR])
        data = rows[:count]
        result = np.empty(count, dtype=[("time", np.float64), ("stage", object), ("message", object)])
        result["time"] = data["time"]
        result["stage"] = [value.decode() if isinstance(value, bytes) else value for value in data["stage"]]
        result["message"] = [value.decode() if isinstance(value, bytes) else value for value in data["message"]]
        return result

    def _group(self, learner: str) -> h5py.Group:
        learners = self._file["learners"]
        if learner not in learners:
            raise DataNotFoundError(
                f"Run file has no learner {learner!r}; learners: {', '.join(sorted(learners)) or 'none'}."
            )
        return learners[learner]


# ---------------------------------------------------------------------------
# HDF5 helpers
# ---------------------------------------------------------------------------


def run_file_kind(path: str | os.PathLike) -> str:
    """Return the experiment kind of a run file: ``binding``, ``conditioning`` or ``spiking-conditioning``.

    The conditioning and spiking runners store the kind as the root attribute ``kind``.
    Files without it are recognised by the ``kind`` key of their stored config (binding
    configs have none) or, for a spiking file, by its ``/readouts`` group.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"Run file {path} not found; check the path.")
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise DataError(f"Run file {path} cannot be opened as HDF5 ({error}); it may be truncated.") from error
    with handle:
        if "kind" in handle.attrs:
            return str(handle.attrs["kind"])
        if "config" in handle.attrs:
            try:
                return str(tomllib.loads(str(handle.attrs["config"])).get("kind", "binding"))
            except tomllib.TOMLDecodeError:
                pass
        if "readouts" in handle:
            return "spiking-conditioning"
    raise DataError(f"{path} is not an assoc run file: it stores no kind, config or /readouts group.")


def check_run_file_kind(path: str | os.PathLike, expected: str) -> None:
    """Raise ConfigError when the run file at ``path`` contains a run of another kind than ``expected``."""
    kind = run_file_kind(path)
    if kind != expected:
        raise ConfigError(
            f"Run file {path} contains a {kind} run, but the experiment requested is {expected}; "
            f"resume it with its own experiment ({kind}) or pass --out to write a new file."
        )


def _check_format(handle: h5py.File, path: Path) -> None:
    version = handle.attrs.get("format_version")
    if version is None or "learners" not in handle or "log" not in handle:
        raise DataError(f"{path} is not an assoc run file (no format_version, /learners or /log).")
    if int(version) > FORMAT_VERSION:
        raise DataError(
            f"{path} has run-file format {int(version)}, newer than this reader's {FORMAT_VERSION}; upgrade assoc."
        )


def _check_name(name: str, kind: str) -> None:
    if not name or "/" in name or name in (".", ".."):
        raise ConfigError(f"Invalid {kind} name {name!r}: use a non-empty name without '/'.")


def _as_scalar(name: str, value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"Metric {name!r} must be a real number; got {value!r}.") from error


def _create_series(group: h5py.Group, name: str, dtype, fill) -> h5py.Dataset:
    return group.create_dataset(name, shape=(0,), maxshape=(None,), dtype=dtype, chunks=(64,), fillvalue=fill)


def _write_row(series: h5py.Dataset, index: int, value) -> None:
    if series.shape[0] < index + 1:
        series.resize((index + 1,))
    series[index] = value


def _write_arrays(parent: h5py.Group, key: str, arrays: Mapping[str, np.ndarray]) -> None:
    # A group left by an uncommitted write of the same checkpoint is replaced.
    if key in parent:
        del parent[key]
    group = parent.create_group(key)
    for name, value in arrays.items():
        if not name or name.startswith("/") or name.endswith("/"):
            raise ConfigError(f"Invalid array name {name!r}: use a non-empty name; '/' only between parts.")
        array = np.asarray(value)
        if array.dtype.kind in "USO":
            raise ConfigError(
                f"Array {name!r} has dtype {array.dtype}; run files store numeric or boolean arrays only."
            )
        group.create_dataset(name, data=array)


def _read_arrays(group: h5py.Group) -> dict[str, np.ndarray]:
    arrays = {}

    def collect(name, node):
        if isinstance(node, h5py.Dataset):
            arrays[name] = node[()]

    group.visititems(collect)
    return arrays


def _read_stage(handle: h5py.File, name: str) -> dict[str, np.ndarray] | None:
    group = handle.get("stages", {}).get(name)
    if group is None or not group.attrs.get("complete", False):
        return None
    return _read_arrays(group)


def _read_state(group: h5py.Group, count: int) -> tuple[int, dict[str, np.ndarray]]:
    committed = [int(key) for key in group["state"] if int(key) < count]
    if not committed:
        return -1, {}
    newest = max(committed)
    return newest, _read_arrays(group["state"][str(newest)])
