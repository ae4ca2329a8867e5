"""Download MNIST and the FSDD recordings into the cache directory.

The raw layout written here is the one every loader reads: ``mnist/*.gz`` and
``fsdd/recordings/*.wav`` (plus FSDD's README with its licence). Each MNIST file must
match its published SHA-256; the FSDD archive must contain 3,000 recordings. Every
file is downloaded or extracted under a temporary name and renamed only once it has
been checked, so a failed fetch never leaves a file that looks complete.
"""

from __future__ import annotations

import logging
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import uuid
import zipfile
from pathlib import Path, PurePosixPath

from assoc.data.avmnist import file_sha256
from assoc.data.fsdd import N_RECORDINGS, RECORDING_PATTERN, RECORDINGS_SHA256, list_recordings, recordings_checksum
from assoc.data.mnist import MNIST_FILES
from assoc.data.paths import resolve_cache_dir
from assoc.errors import DataError
from assoc.progress import ProgressCallback

logger = logging.getLogger(__name__)

MNIST_URL_ENV = "ASSOC_MNIST_URL"
FSDD_URL_ENV = "ASSOC_FSDD_URL"

# Base URLs tried in order: Yann LeCun's original page, then the mirrors that
# torchvision and TensorFlow download from. The SHA-256 check makes any of them safe.
MNIST_URLS = (
    "https://yann.lecun.com/exdb/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
# FSDD release v1.0.10 on GitHub, as a source archive.
FSDD_URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz"

_TIMEOUT_SECONDS = 60
_BLOCK_SIZE = 1 << 16


def fetch_raw_data(
    cache_dir: str | os.PathLike | None = None,
    *,
    mnist_urls: tuple[str, ...] | None = None,
    fsdd_url: str | None = None,
    progress: ProgressCallback | None = None,
) -> Path:
    """Download the MNIST files and the FSDD recordings that are missing or damaged.

    Parameters
    ----------
    cache_dir : path, optional
        Target folder; default :func:`assoc.data.default_cache_dir`.
    mnist_urls : tuple of str, optional
        Base URLs tried in order for each MNIST file; default ``ASSOC_MNIST_URL`` if
        set, else :data:`MNIST_URLS`.
    fsdd_url : str, optional
        URL of a ``.tar.gz``, ``.tar`` or ``.zip`` archive of the FSDD repository;
        default ``ASSOC_FSDD_URL`` if set, else :data:`FSDD_URL`.
    progress : callable, optional
        ``progress(done, total)`` in bytes, restarted for every download.

    Returns
    -------
    Path
        The folder that now contains ``mnist/`` and ``fsdd/recordings/``.

    Raises
    ------
    DataError
        A download failed, a checksum did not match, or the archive is unsafe or
        incomplete. Files completed before the error are kept.
    """
    target = resolve_cache_dir(cache_dir)
    if mnist_urls is None:
        configured = os.environ.get(MNIST_URL_ENV)
        mnist_urls = (configured,) if configured else MNIST_URLS
    if fsdd_url is None:
        fsdd_url = os.environ.get(FSDD_URL_ENV) or FSDD_URL

    fetch_mnist(target / "mnist", mnist_urls, progress=progress)
    fetch_fsdd(target / "fsdd", fsdd_url, progress=progress)
    return target


def fetch_mnist(directory: Path, base_urls: tuple[str, ...], *, progress: ProgressCallback | None = None) -> None:
    """Download each MNIST file that is missing or fails its SHA-256 check."""
    directory.mkdir(parents=True, exist_ok=True)
    for file_name, expected in MNIST_FILES.values():
        path = directory / file_name
        if path.is_file() and file_sha256(path) == expected:
            logger.info("%s is present and its SHA-256 matches", path)
            continue

        errors = []
        for base_url in base_urls:
            url = base_url.rstrip("/") + "/" + file_name
            try:
                _download_verified(url, path, expected, progress)
            except DataError as error:
                logger.warning("%s", error)
                errors.append(error)
                continue
            break
        else:
            raise DataError(
                f"Could not fetch {file_name} from {len(base_urls)} source(s); the last error was: {errors[-1]} "
                f"Set {MNIST_URL_ENV} to a base URL that serves the MNIST .gz files, or copy them into {directory}."
            )


def _download_verified(url: str, path: Path, expected_sha256: str, progress: ProgressCallback | None) -> None:
    temporary = _download(url, path.parent, progress)
    try:
        actual = file_sha256(temporary)
        if actual != expected_sha256:
            raise DataError(f"SHA-256 mismatch for {path.name} from {url}: expected {expected_sha256}, got {actual}.")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    logger.info("downloaded %s", path)


def _download(url: str, directory: Path, progress: ProgressCallback | None) -> Path:
    """Stream ``url`` into a temporary file in ``directory`` and return its path."""
    temporary = directory / f".download-{uuid.uuid4().hex[:8]}.tmp"
    logger.info("downloading %s", url)
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as response, open(temporary, "wb") as output:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while block := response.read(_BLOCK_SIZE):
                output.write(block)
                done += len(block)
                if progress is not None:
                    progress(done, max(total, done))
    except (urllib.error.URLError, OSError, ValueError) as error:
        temporary.unlink(missing_ok=True)
        raise DataError(f"Download of {url} failed: {error}.") from error
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def fetch_fsdd(directory: Path, url: str, *, progress: ProgressCallback | None = None) -> None:
    """Download the FSDD archive and extract its recordings into ``directory/recordings``.

    Skipped when that folder already contains 3,000 recordings.
    """
    recordings = directory / "recordings"
    if recordings.is_dir() and len(list(recordings.glob("*.wav"))) == N_RECORDINGS:
        logger.info("%s already contains %d recordings; skipping the download", recordings, N_RECORDINGS)
        return

    directory.mkdir(parents=True, exist_ok=True)
    archive = _download(url, directory, progress)
    staging = directory / f".recordings-{uuid.uuid4().hex[:8]}.tmp"
    try:
        try:
            readme = extract_recordings(archive, staging)
        except DataError as error:
            raise DataError(f"{error} Source: {url}") from error
        count = len(list(staging.glob("*.wav")))
        if count != N_RECORDINGS:
            raise DataError(
                f"The FSDD archive from {url} contains {count} recordings; expected {N_RECORDINGS}. "
                f"Check {FSDD_URL_ENV} points at a complete copy of the dataset."
            )
        if recordings.exists():
            shutil.rmtree(recordings)
        os.replace(staging, recordings)
        if readme is not None:
            (directory / "README.md").write_bytes(readme)
    finally:
        archive.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)

    checksum = recordings_checksum(list_recordings(directory.parent))
    if checksum != RECORDINGS_SHA256:
        logger.warning(
            "the recordings in %s differ from FSDD release v1.0.10 (listing SHA-256 %s); "
            "built datasets will still work but their cache keys differ from those of v1.0.10",
            recordings,
            checksum,
        )
    logger.info("extracted %d recordings into %s", N_RECORDINGS, recordings)


def extract_recordings(archive: Path, target: Path) -> bytes | None:
    """Copy the ``recordings/*.wav`` members of a tar or zip archive into ``target``.

    Only regular files named ``{digit}_{speaker}_{index}.wav`` inside a folder called
    ``recordings`` are written, under their base name, so no member can be written
    outside ``target``. Links and other members are skipped.

    Returns
    -------
    bytes or None
        The archive's top-level ``README.md``, which states FSDD's licence.

    Raises
    ------
    DataError
        The file is not a tar or zip archive, or a member path is absolute or
        contains ``..``.
    """
    target.mkdir(parents=True)
    readme = None
    for member_path, read in _archive_members(archive):
        parts = PurePosixPath(member_path).parts
        if PurePosixPath(member_path).is_absolute() or ".." in parts or "\\" in member_path:
            raise DataError(
                f"Unsafe path {member_path!r} in the FSDD archive: absolute or containing '..'. "
                "The archive is not a genuine FSDD download; delete it and use the official source."
            )
        if read is None:
            continue
        if len(parts) >= 2 and parts[-2] == "recordings" and RECORDING_PATTERN.match(parts[-1]):
            (target / parts[-1]).write_bytes(read())
        elif len(parts) == 2 and parts[-1] == "README.md":
            readme = read()
    return readme


def _archive_members(archive: Path):
    """Yield (path, read) for every member of a tar or zip archive.

    ``read()`` returns the member's bytes; it is None for folders, links and devices.
    """
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as bundle:
            for info in bundle.infolist():
                read = None if info.is_dir() else (lambda info=info: bundle.read(info))
                yield info.filename, read
        return
    try:
        bundle = tarfile.open(archive, "r:*")
    except tarfile.TarError as error:
        raise DataError(f"The downloaded file is not a tar or zip archive ({error}).") from error
    with bundle:
        for member in bundle:
            read = (lambda member=member: bundle.extractfile(member).read()) if member.isfile() else None
            yield member.name, read
