import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from assoc.errors import ConfigError, DataError, DataNotFoundError
from sims.runfile import RunReader, RunWriter, array_checksum, file_checksum, package_versions

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_TEXT = 'name = "binding"\n[binding]\nbudget = 100\n'


def _snapshot(index, n_items=8, k=3):
    base = np.arange(n_items * k, dtype=np.float32).reshape(n_items, k) + 100 * index
    return {"z_visual": base, "z_audio": -base, "label": np.arange(n_items, dtype=np.int64) % 10}


def _state(index):
    return {"M": np.full((3, 3), float(index)), "encoder/weight": np.arange(4.0) + index, "count": np.int64(index)}


def _write_checkpoints(writer, learner, indices, pairs_per_checkpoint=10):
    for index in indices:
        writer.append_checkpoint(
            learner,
            pairs_seen=(index + 1) * pairs_per_checkpoint,
            metrics={"R@1": index / 10, "wall_time": float(index)},
            snapshot=_snapshot(index),
            state=_state(index),
        )


# Round trip


def test_round_trip_attrs(tmp_path):
    path = tmp_path / "run.h5"
    with RunWriter.create(path, config_text=CONFIG_TEXT, seed=7, data_checksums={"train": "abc"}):
        pass
    with RunReader(path) as reader:
        assert reader.config_text == CONFIG_TEXT
        assert reader.seed == 7
        assert reader.data_checksums == {"train": "abc"}
        assert reader.package_versions["numpy"] == np.__version__
        assert "hdf5" in reader.package_versions
        assert reader.learners() == []


def test_round_trip_checkpoints(tmp_path):
    path = tmp_path / "run.h5"
    with RunWriter.create(path, config_text=CONFIG_TEXT, seed=0) as writer:
        _write_checkpoints(writer, "hebbian", range(3))
        _write_checkpoints(writer, "hopfield", range(2), pairs_per_checkpoint=5)
    with RunReader(path) as reader:
        assert reader.learners() == ["hebbian", "hopfield"]
        assert reader.n_checkpoints("hebbian") == 3
        np.testing.assert_array_equal(reader.pairs_seen("hebbian"), [10, 20, 30])
        np.testing.assert_array_equal(reader.pairs_seen("hopfield"), [5, 10])
        np.testing.assert_allclose(reader.metric("hebbian", "R@1"), [0.0, 0.1, 0.2])
        assert reader.metric_names("hebbian") == ["R@1", "wall_time"]
        snapshot = reader.snapshot("hebbian", 1)
        for name, array in _snapshot(1).items():
            np.testing.assert_array_equal(snapshot[name], array)
            assert snapshot[name].dtype == array.dtype
        np.testing.assert_array_equal(reader.snapshot("hebbian", -1)["z_visual"], _snapshot(2)["z_visual"])


def test_state_keeps_only_newest(tmp_path):
    path = tmp_path / "run.h5"
    with RunWriter.create(path, config_text=CONFIG_TEXT, seed=0) as writer:
        _write_checkpoints(writer, "hebbian", range(3))
        # A checkpoint without state keeps the previous state.
        writer.append_checkpoint("hebbian", 40, {"R@1": 0.5})
    with RunReader(path) as reader:
        index, state = reader.state("hebbian")
        assert index == 2
        assert sorted(state) == ["M", "count", "encoder/weight"]
        np.testing.assert_array_equal(state["encoder/weight"], np.arange(4.0) + 2)
        assert state["count"] == 2


def test_stage_checkpoints_keep_newest(tmp_path):
    path = tmp_path / "run.h5"
    with RunWriter.create(path, config_text=CONFIG_TEXT, seed=0) as writer:
        assert writer.read_stage_checkpoint("unimodal") == (-1, {})
        writer.write_stage_checkpoint("unimodal", 1, _state(1))
        writer.write_stage_checkpoint("unimodal", 2, _state(2))
        writer.write_stage_checkpoint("other", 5, _state(5))

    with RunWriter.resume(path) as writer:
        index, state = writer.read_stage_checkpoint("unimodal")
        assert index == 2
        np.testing.assert_array_equal(state["encoder/weight"], np.arange(4.0) + 2)
        assert state["count"] == 2
        assert writer.read_stage("unimodal") is None

        writer.write_stage("unimodal", {"weight": np.ones(3)})
        assert writer.read_stage_checkpoint("unimodal") == (-1, {})
        assert writer.read_stage_checkpoint("other")[0] == 5


def test_stage_checkpoint_without_commit_is_ignored(tmp_path):
    path = tmp_path / "run.h5"
    with RunWriter.create(path, config_text=CONFIG_TEXT, seed=0) as writer:
        writer.write_stage_checkpoint("unimodal", 1, _state(1))
        # What a kill while checkpoint 2's arrays are written leaves behind: no commit.
        writer._file["stage_checkpoints/unimodal"].create_group("2").create_dataset("M", data=np.zeros(2))

        index, state = writer.read_stage_checkpoint("unimodal")
        assert index == 1
        assert state["count"] == 1

        writer.write_stage_checkpoint("unimodal", 2, _state(2))
        index, state = writer.read_stage_checkpoint("unimodal")
        assert index == 2
        assert state["M"].shape == (3, 3)
        with pytest.raises(ConfigError, match="must be non-negative; got -1"):
            writer.write_stage_checkpoint("unimodal", -1, _state(0))


def test_metric_added_later_is_nan_before(tmp_path):
    path = tmp_path / "run.h5"
    with RunWriter.create(path, config_text=CONFIG_TEXT, seed=0) as writer:
        writer.append_checkpoint("delta", 1, {"a": 1.0})
        writer.append_checkpoint("delta", 2, {"a": 2.0, "b": 5.0})
        writer.append_checkpoint("delta", 3, {"b": 6.0})
    with RunReader(path) as reader:
        np.testing.assert_array_equal(reader.metric("delta", "a"), [1.0, 2.0, np.nan])
        np.testing.assert_array_equal(reader.metric("delta", "b"), [np.nan, 5.0, 6.0])


def test_log_rows(tmp_path):
    path = tmp_path / "run.h5"
    with RunWriter.create(path, config_text=CONFIG_TEXT, seed=0) as writer:
        writer.log("unimodal", "epoch 1 done")
        writer.log("binding", "hebbian: 100 pairs, ünïcode")
    with RunReader(path) as reader:
        rows = reader.log()
    assert rows.shape == (2,)
    assert list(rows["stage"]) == ["unimodal", "binding"]
    assert rows["message"][1] == "hebbian: 100 pairs, ünïcode"
    assert np.all(np.diff(rows["time"]) >= 0.0)


# Provenance helpers


def test_checksums(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"abc")
    # SHA-256 of "abc" from FIPS 180-2, appendix B.1.
    assert file_checksum(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    array = np.arange(6, dtype=np.int64)
    assert array_checksum(array) == array_checksum(array.copy())
    assert array_checksum(array) != array_checksum(array.reshape(2, 3))
    assert array_checksum(array) != array_checksum(array.astype(np.int32))


def test_package_versions_lists_core_packages():
    versions = package_versions()
    for name in ("numpy", "scipy", "h5py"):
        assert name in versions


# Bad input


def test_pairs_seen_must_increase(tmp_path):
    with RunWriter.create(tmp_path / "run.h5", config_text=CONFIG_TEXT, seed=0) as writer:
        writer.append_checkpoint("hebbian", 10, {"R@1": 0.1})
        with pytest.raises(ConfigError, match="learner 'hebbian' had 10 at checkpoint 0 and got 10 now"):
            writer.append_checkpoint("hebbian", 10, {"R@1": 0.2})


def test_rejects_existing_file(tmp_path):
    path = tmp_path / "run.h5"
    RunWriter.create(path, config_text=CONFIG_TEXT, seed=0).close()
    with pytest.raises(ConfigError, match="already exists"):
        RunWriter.create(path, config_text=CONFIG_TEXT, seed=0)
    RunWriter.create(path, config_text=CONFIG_TEXT, seed=1, overwrite=True).close()
    with RunReader(path) as reader:
        assert reader.seed == 1


def test_rejects_bad_names_and_values(tmp_path):
    with RunWriter.create(tmp_path / "run.h5", config_text=CONFIG_TEXT, seed=0) as writer:
        with pytest.raises(ConfigError, match="Invalid learner name 'a/b'"):
            writer.append_checkpoint("a/b", 1, {})
        with pytest.raises(ConfigError, match="Metric 'R@1' must be a real number; got 'high'"):
            writer.append_checkpoint("hebbian", 1, {"R@1": "high"})
        with pytest.raises(ConfigError, match="Array 'names' has dtype <U1"):
            writer.append_checkpoint("hebbian", 1, {}, snapshot={"names": np.array(["a"])})


def test_reader_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="not found"):
        RunReader(tmp_path / "missing.h5")
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"not hdf5 at all")
    with pytest.raises(DataError, match="cannot be opened as HDF5"):
        RunReader(garbage)
    path = tmp_path / "run.h5"
    with RunWriter.create(path, config_text=CONFIG_TEXT, seed=0) as writer:
        _write_checkpoints(writer, "hebbian", range(2))
    with RunReader(path) as reader:
        with pytest.raises(DataNotFoundError, match="no learner 'som'; learners: hebbian"):
            reader.pairs_seen("som")
        with pytest.raises(DataNotFoundError, match="has 2 committed checkpoints; checkpoint 2 does not exist"):
            reader.snapshot("hebbian", 2)
        with pytest.raises(DataNotFoundError, match="no metric 'mAP'; available: R@1, wall_time"):
            reader.metric("hebbian", "mAP")


def test_resume_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError, match="without --resume"):
        RunWriter.resume(tmp_path / "missing.h5")


# Killed writers


_WRITER_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    import sims.runfile as runfile

    path, mode, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])

    if mode == "before-commit":
        # Kill this process after checkpoint kill_at's arrays reach the disk but
        # before its count is raised.
        write_row = runfile._write_row

        def write_row_then_kill(series, index, value):
            write_row(series, index, value)
            if index == kill_at and series.name.endswith("/metrics/wall_time"):
                series.file.flush()
                os.kill(os.getpid(), signal.SIGKILL)

        runfile._write_row = write_row_then_kill

    rng = np.random.default_rng(0)
    writer = runfile.RunWriter.create(path, config_text="x = 1", seed=0)
    index = 0
    while True:
        base = np.full((200, 64), float(index), dtype=np.float32)
        writer.append_checkpoint(
            "learner",
            (index + 1) * 10,
            {"R@1": index / 100, "wall_time": float(index)},
            snapshot={"z_visual": base, "z_audio": base + 0.5, "label": np.arange(200) % 10},
            state={"M": np.full((64, 64), float(index)), "extra": rng.normal(size=20_000)},
        )
        writer.log("binding", f"checkpoint {index}")
        print(index, flush=True)
        index += 1
    """
)


def _start_writer(path, mode, kill_at=-1):
    environment = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    environment["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), environment.get("PYTHONPATH", "")])
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER_SCRIPT, str(path), mode, str(kill_at)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def _check_committed(path):
    """Check that every committed checkpoint reads back complete; return the count."""
    with RunReader(path) as reader:
        count = reader.n_checkpoints("learner")
        pairs_seen = reader.pairs_seen("learner")
        assert pairs_seen.shape == (count,)
        np.testing.assert_array_equal(pairs_seen, (np.arange(count) + 1) * 10)
        np.testing.assert_array_equal(reader.metric("learner", "wall_time"), np.arange(count, dtype=float))
        for index in range(count):
            snapshot = reader.snapshot("learner", index)
            assert snapshot["z_visual"].shape == (200, 64)
            assert np.all(snapshot["z_visual"] == index)
            assert np.all(snapshot["z_audio"] == index + 0.5)
        state_index, state = reader.state("learner")
        assert state_index == count - 1
        assert np.all(state["M"] == count - 1)
        assert state["extra"].shape == (20_000,)
        assert len(reader.log()) in (count - 1, count)
    return count


def test_kill_before_commit_hides_checkpoint(tmp_path):
    path = tmp_path / "run.h5"
    process = _start_writer(path, "before-commit", kill_at=3)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, stderr

    assert _check_committed(path) == 3

    # Resume drops the half-written checkpoint 3 and continues from checkpoint 2's state.
    with RunWriter.resume(path) as writer:
        point = writer.resume_point("learner")
        assert point.n_checkpoints == 3
        assert point.pairs_seen == 30
        assert point.state_checkpoint == 2
        assert np.all(point.state["M"] == 2.0)
        writer.append_checkpoint("learner", 40, {"R@1": 0.03, "wall_time": 3.0}, snapshot=_snapshot(3))
    with RunReader(path) as reader:
        np.testing.assert_array_equal(reader.pairs_seen("learner"), [10, 20, 30, 40])
        np.testing.assert_array_equal(reader.snapshot("learner", 3)["z_visual"], _snapshot(3)["z_visual"])
        assert reader.state("learner")[0] == 2


def test_kill_at_any_moment_keeps_file_readable(tmp_path):
    path = tmp_path / "run.h5"
    process = _start_writer(path, "loop")
    try:
        # Let a few checkpoints commit, then kill while later ones are being written.
        for line in process.stdout:
            if int(line) >= 4:
                break
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.communicate(timeout=60)

    count = _check_committed(path)
    assert count >= 5

    with RunWriter.resume(path) as writer:
        assert writer.n_checkpoints("learner") == count
        writer.append_checkpoint("learner", (count + 1) * 10, {"wall_time": float(count)})
    with RunReader(path) as reader:
        assert reader.n_checkpoints("learner") == count + 1
        assert np.all(np.diff(reader.pairs_seen("learner")) > 0)
