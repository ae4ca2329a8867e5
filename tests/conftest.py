"""Shared fixtures: the raw data directory, a scratch cache, and figure clean-up."""

import os
from pathlib import Path

import pytest

# brian2 imports pyplot on import; keep matplotlib headless and its cache out of $HOME.
os.environ.setdefault("MPLBACKEND", "Agg")

REPO_ROOT = Path(__file__).resolve().parents[1]


def _raw_data_dir() -> Path:
    configured = os.environ.get("ASSOC_DATA_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def raw_data_dir() -> Path:
    """The raw MNIST + FSDD directory; tests that use it skip when it is absent."""
    path = _raw_data_dir()
    if not (path / "mnist").is_dir() or not (path / "fsdd" / "recordings").is_dir():
        pytest.skip(f"raw data not found at {path}: set ASSOC_DATA_DIR to a folder with mnist/ and fsdd/recordings/")
    return path


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    """A private dataset cache, also exported as ASSOC_CACHE_DIR for code under test."""
    path = tmp_path / "cache"
    monkeypatch.setenv("ASSOC_CACHE_DIR", str(path))
    return path


@pytest.fixture
def close_figures():
    """Close every matplotlib figure a test opened."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
