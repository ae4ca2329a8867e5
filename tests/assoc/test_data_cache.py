"""The HDF5 dataset cache: atomic writes and removal of stale temporary files."""

import logging
import os
import subprocess
import sys

import numpy as np
import pytest

from assoc.data.cache import BuiltDataset, PairedSplit, read_cached, remove_stale_temporaries, write_cached


def _tiny_dataset() -> BuiltDataset:
    rng = np.random.default_rng(0)
    split = PairedSplit(
        image=rng.random((3, 1, 28, 28), dtype=np.float32),
        label=np.array([0, 1, 1], dtype=np.int64),
        image_index=np.arange(3, dtype=np.int64),
        recording_index=np.array([0, 1, 1], dtype=np.int64),
    )
    return BuiltDataset(
        spectrograms=rng.random((2, 112, 112), dtype=np.float32),
        recording_names=np.array(["0_a_5", "1_a_5"]),
        splits={"train": split},
        build={"dataset": "tiny"},
    )


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The pid of a child process that has exited and been reaped."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return int(child.stdout)


def test_write_cached_round_trip(tmp_path):
    path = tmp_path / "tiny.h5"
    write_cached(path, _tiny_dataset())
    restored = read_cached(path)
    np.testing.assert_array_equal(restored.splits["train"].label, [0, 1, 1])
    assert restored.build == {"dataset": "tiny"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.h5"]


def test_write_cached_removes_dead_temporary(tmp_path, dead_pid, caplog):
    dead = tmp_path / f"tiny.h5.tmp-{dead_pid}-0123abcd"
    dead_other_name = tmp_path / f"other.h5.tmp-{dead_pid}-89abcdef"
    alive = tmp_path / f"tiny.h5.tmp-{os.getpid()}-fedcba98"
    for leftover in (dead, dead_other_name, alive):
        leftover.write_bytes(b"partial")

    with caplog.at_level(logging.INFO, logger="assoc.data.cache"):
        write_cached(tmp_path / "tiny.h5", _tiny_dataset())

    assert not dead.exists()
    assert not dead_other_name.exists()
    assert alive.exists()
    assert f"removed {dead}" in caplog.text
    assert f"left by process {dead_pid}" in caplog.text
    assert str(alive) not in caplog.text


def test_stale_temporaries_keep_unrelated_files(tmp_path, dead_pid):
    unrelated_files = [
        tmp_path / "tiny.h5",
        tmp_path / f"tiny.h5.tmp-{dead_pid}",  # no random suffix
        tmp_path / f"tiny.h5.tmp-x{dead_pid}-0123abcd",  # not a pid
        tmp_path / "tiny.h5.tmp-0-0123abcd",  # pid 0 is never a writer's pid
    ]
    for path in unrelated_files:
        path.write_bytes(b"x")
    (tmp_path / f"folder.tmp-{dead_pid}-0123abcd").mkdir()

    assert remove_stale_temporaries(tmp_path) == []
    for path in unrelated_files:
        assert path.exists()
    assert (tmp_path / f"folder.tmp-{dead_pid}-0123abcd").is_dir()


def test_stale_temporaries_missing_directory(tmp_path):
    assert remove_stale_temporaries(tmp_path / "absent") == []
