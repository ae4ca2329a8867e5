"""Locations of the raw files and the dataset cache on disk."""

from __future__ import annotations

import os
import sys
from pathlib import Path

CACHE_ENV = "ASSOC_CACHE_DIR"
DATA_ENV = "ASSOC_DATA_DIR"


def default_cache_dir() -> Path:
    """Return the cache directory: ``ASSOC_CACHE_DIR``, else the platform's user cache.

    The platform default is ``$XDG_CACHE_HOME/assoc`` or ``~/.cache/assoc`` on Linux,
    ``~/Library/Caches/assoc`` on macOS and ``%LOCALAPPDATA%\\assoc\\Cache`` on Windows.
    The directory is not created here.
    """
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        root = Path(base) if base else Path.home() / "AppData" / "Local"
        return root / "assoc" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "assoc"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "assoc"


def resolve_data_dir(data_dir: str | os.PathLike | None = None, *, cache_dir: str | os.PathLike | None = None) -> Path:
    """Return the raw data directory: ``data_dir``, else ``ASSOC_DATA_DIR``, else the cache.

    The raw layout is ``mnist/*.gz`` and ``fsdd/recordings/*.wav``; ``assoc data fetch``
    writes it into the cache directory (``cache_dir`` when given, else
    :func:`default_cache_dir`).
    """
    if data_dir is not None:
        return Path(data_dir).expanduser()
    configured = os.environ.get(DATA_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()


def resolve_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """Return ``cache_dir`` when given, else :func:`default_cache_dir`."""
    return Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()


def raw_file_fix(path: str | os.PathLike, *, noun: str = "file") -> str:
    """Return what to do about a damaged raw file or folder, which depends on where it is.

    ``assoc data fetch`` (without ``--cache-dir``) only writes into
    :func:`default_cache_dir`, so deleting and fetching again restores a file only there.
    ``noun`` ('file' or 'folder') names what is damaged.
    """
    path = Path(path).expanduser().resolve()
    cache = default_cache_dir().expanduser().resolve()
    if path.is_relative_to(cache):
        return "Delete it and run 'assoc data fetch' to download it again."
    # NOTE: a file under a cache chosen with --cache-dir also gets this advice, although
    # 'assoc data fetch --cache-dir DIR' would restore it there.
    return (
        f"'assoc data fetch' does not manage this folder (it downloads into {cache}), so replace the {noun} "
        "with an intact copy, or run 'assoc data fetch' and build without --data-dir and ASSOC_DATA_DIR "
        "to use the downloaded files."
    )
