"""The binding runner end to end on the demo dataset, with a real process kill and resume.

One tiny experiment (a few hundred demo pairs, k = 16) runs through the command line
in a subprocess; the tests read its run file. Subprocesses use one torch thread, as
``assoc run`` does by default, so that the killed-and-resumed run repeats the same
floating-point operations as the uninterrupted one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sims.runfile import RunReader, RunWriter

REPO_ROOT = Path(__file__).resolve().parents[2]

TINY_TOML = """\
name = "tiny"
description = "A tiny binding run for tests"
dataset = "demo"
limit = 160
seeds = [3]
snapshot_size = 20

[unimodal]
epochs = 1
batch_size = 32
k = 16
width = 8

[binding]
budget_pairs = 120
checkpoint_every = 40
block_size = 20
eval_size = 60
probe_size = 100
reconstruction_size = 10

[learners.gradient]
kind = "gradient"
batch_size = 20

[learners.hebbian_normalised]
kind = "hebbian_normalised"

[learners.delta]
kind = "delta"
beta_plus = 0.01

[learners.hopfield]
kind = "hopfield"
beta = 1.0

[learners.som]
kind = "som"
rows = 4
columns = 4
som_epochs = 1
"""

LEARNERS = ["delta", "gradient", "hebbian_normalised", "hopfield", "som"]
# Metrics that measure the machine, not the learner; they differ between runs.
TIMING_METRICS = {"train_seconds", "eval_seconds"}


def _environment() -> dict:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _command(config_path: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "assoc", "run", str(config_path), "--out", str(out), "--no-report", *extra]


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("config") / "tiny.toml"
    path.write_text(TINY_TOML, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def complete_run(tiny_config, tmp_path_factory) -> tuple[Path, str]:
    """Run the tiny experiment without interruption; return the run file and stdout."""
    out = tmp_path_factory.mktemp("complete") / "run.h5"
    result = subprocess.run(
        _command(tiny_config, out), env=_environment(), capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def _final_metrics(path: Path) -> dict[str, dict[str, float]]:
    with RunReader(path) as reader:
        return {
            learner: {name: float(values[-1]) for name, values in reader.metrics(learner).items()}
            for learner in reader.learners()
        }


@pytest.mark.slow
def test_run_file_groups_and_shapes(complete_run):
    path, _ = complete_run
    with RunReader(path) as reader:
        assert reader.learners() == LEARNERS
        assert "name = \"tiny\"" in reader.config_text
        assert reader.seed == 3
        assert "torch" in reader.package_versions
        assert "train/label" in reader.data_checksums
        assert set(reader.stage("unimodal")) >= {"embeddings.0.weight"}
        for learner in LEARNERS:
            pairs_seen = reader.pairs_seen(learner)
            np.testing.assert_array_equal(pairs_seen, [40, 80, 120])
            assert np.all(np.diff(pairs_seen) > 0)
            metrics = reader.metrics(learner)
            for name in ("retrieval_visual_to_audio_R@1", "retrieval_audio_to_visual_mAP", "transfer_visual_to_audio",
                         "missing_visual_only", "mse_audio_from_visual", "overlap_cka", "overlap_modality_gap",
                         "procrustes_rotation_distance", "train_seconds", "epochs"):
                assert metrics[name].shape == (3,), (learner, name)
            assert np.all(np.isfinite(metrics["retrieval_visual_to_audio_R@1"]))
            snapshot = reader.snapshot(learner, -1)
            assert snapshot["z_visual"].shape == (20, 16)
            assert snapshot["z_audio"].shape == (20, 16)
            assert snapshot["label"].shape == (20,)
            checkpoint, state = reader.state(learner)
            assert checkpoint == 2
            assert state
        assert np.all(np.isfinite(reader.metric("delta", "map_rotation_distance")))
        assert "map_rotation_distance" not in reader.metric_names("hopfield")
        stages = set(reader.log()["stage"])
        assert {"run", "unimodal", "gradient", "som"} <= stages


@pytest.mark.slow
def test_associative_overlap_moves(complete_run):
    # Associative codes are frozen; the overlap measures compare recall(z_v) with z_a,
    # which changes as the binder learns, so the series must not be constant.
    path, _ = complete_run
    with RunReader(path) as reader:
        for learner in ("delta", "hebbian_normalised", "hopfield"):
            gap = reader.metric(learner, "overlap_modality_gap")
            assert np.ptp(gap) > 0.0, learner


@pytest.mark.slow
def test_run_prints_table_and_path(complete_run):
    path, stdout = complete_run
    assert "| learner | pairs_seen |" in stdout
    assert f"run file: {path}" in stdout
    for learner in LEARNERS:
        assert f"| {learner} | 120 |" in stdout


@pytest.mark.slow
def test_killed_run_resumes_to_same_metrics(complete_run, tiny_config, tmp_path):
    out = tmp_path / "killed.h5"
    process = subprocess.Popen(
        _command(tiny_config, out), env=_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    # The runner logs "checkpoint N committed" after a checkpoint is flushed; kill at the
    # first one, while the gradient learner (the first learner) is still training.
    deadline = time.monotonic() + 240
    try:
        for line in process.stderr:
            if "checkpoint 0 committed" in line:
                break
            assert time.monotonic() < deadline, "no checkpoint within 240 s"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    with RunReader(out) as reader:
        assert reader.n_checkpoints("gradient") >= 1
        assert reader.n_checkpoints("gradient") < 3

    resumed = subprocess.run(
        _command(tiny_config, out, "--resume"), env=_environment(), capture_output=True, text=True, timeout=300, check=False
    )
    assert resumed.returncode == 0, resumed.stderr

    expected = _final_metrics(complete_run[0])
    got = _final_metrics(out)
    assert sorted(got) == sorted(expected)
    for learner, metrics in expected.items():
        for name, value in metrics.items():
            if name in TIMING_METRICS:
                continue
            np.testing.assert_allclose(got[learner][name], value, rtol=1e-9, atol=1e-12, err_msg=f"{learner} {name}")
    with RunReader(out) as reader:
        np.testing.assert_array_equal(reader.pairs_seen("gradient"), [40, 80, 120])
        assert "resumed" in list(reader.log()["message"])


# Three unimodal epochs and one cheap learner: the run is mostly the unimodal stage.
UNIMODAL_KILL_TOML = TINY_TOML.split("[learners.gradient]")[0].replace("epochs = 1", "epochs = 3") + """\
[learners.hebbian_normalised]
kind = "hebbian_normalised"
"""


def _kill_at_line(command, marker: str) -> int:
    """Start ``command``, SIGKILL it once a stderr line contains ``marker`` and return its exit code."""
    process = subprocess.Popen(command, env=_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    try:
        for line in process.stderr:
            if marker in line:
                break
            assert time.monotonic() < deadline, f"no line with {marker!r} within 240 s"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
    return process.returncode


@pytest.mark.slow
def test_run_killed_in_unimodal_stage_resumes(tmp_path):
    config_path = tmp_path / "unimodal.toml"
    config_path.write_text(UNIMODAL_KILL_TOML, encoding="utf-8")
    complete = tmp_path / "complete.h5"
    killed = tmp_path / "killed.h5"
    result = subprocess.run(
        _command(config_path, complete), env=_environment(), capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr

    # The runner logs "epoch N of 3 committed" after the epoch's checkpoint is flushed.
    returncode = _kill_at_line(_command(config_path, killed), "unimodal stage: epoch 1 of 3 committed")
    assert returncode == -signal.SIGKILL
    with RunWriter.resume(killed) as writer:
        assert writer.read_stage("unimodal") is None
        assert writer.read_stage_checkpoint("unimodal")[0] in (1, 2)

    resumed = subprocess.run(
        _command(config_path, killed, "--resume"), env=_environment(), capture_output=True, text=True, timeout=300, check=False
    )
    assert resumed.returncode == 0, resumed.stderr

    with RunReader(complete) as expected, RunReader(killed) as got:
        expected_model = expected.stage("unimodal")
        got_model = got.stage("unimodal")
        assert sorted(got_model) == sorted(expected_model)
        for name, value in expected_model.items():
            np.testing.assert_array_equal(got_model[name], value, err_msg=name)
        messages = list(got.log()["message"])
        assert any(message.startswith("resumed after epoch") for message in messages)
        assert "epoch 1 of 3 committed" in messages
    expected_metrics = _final_metrics(complete)["hebbian_normalised"]
    got_metrics = _final_metrics(killed)["hebbian_normalised"]
    for name, value in expected_metrics.items():
        if name in TIMING_METRICS:
            continue
        assert got_metrics[name] == value, name


def test_existing_run_file_without_resume(tiny_config, tmp_path):
    from assoc.errors import ConfigError
    from sims.config import load_config
    from sims.runner import run_experiment

    out = tmp_path / "taken.h5"
    out.write_bytes(b"")
    with pytest.raises(ConfigError, match=r"already exists; pass --resume"):
        run_experiment(load_config(tiny_config), out=out)


def test_pair_stream_is_shared_and_resumable():
    from sims.learners import pair_indices

    whole = pair_indices(0, 250, 100, seed=5)
    pieces = np.concatenate([pair_indices(0, 90, 100, seed=5), pair_indices(90, 250, 100, seed=5)])
    np.testing.assert_array_equal(whole, pieces)
    for epoch in range(2):
        assert sorted(whole[epoch * 100 : (epoch + 1) * 100]) == list(range(100))
    assert not np.array_equal(whole[:100], whole[100:200])


def test_checkpoint_positions_end_at_budget():
    from sims.runner import checkpoint_positions

    assert checkpoint_positions(120, 40) == [40, 80, 120]
    assert checkpoint_positions(130, 40) == [40, 80, 120, 130]


@pytest.mark.parametrize("kind", ["hebbian", "hebbian_normalised", "delta", "hopfield", "som"])
def test_binder_state_resumes_stream(kind):
    # A learner restored from a checkpoint's state, without fit_unimodal, and fed the
    # rest of the pair stream must recall exactly what an uninterrupted learner recalls.
    from sims.config import LEARNER_PARAMETERS, LearnerConfig, parse_config
    from sims.learners import make_learner, pair_indices

    rng = np.random.default_rng(0)
    config = parse_config(TINY_TOML)
    train_codes = (rng.normal(size=(80, 16)) + 1.0, rng.normal(size=(80, 16)) - 1.0)
    context = {"config": config, "seed": 3, "unimodal_model": None, "train_codes": train_codes, "codes": {}}
    params = {name: spec[1] for name, spec in LEARNER_PARAMETERS[kind].items()}
    if kind == "som":
        params.update(rows=3, columns=3, som_epochs=1)
    learner_config = LearnerConfig(name=kind, kind=kind, params=params)
    first, second = pair_indices(0, 60, 80, seed=3), pair_indices(60, 120, 80, seed=3)

    whole = make_learner(learner_config, context)
    whole.train(np.concatenate([first, second]), block_size=20)

    interrupted = make_learner(learner_config, context)
    interrupted.train(first, block_size=20)
    resumed = make_learner(learner_config, context, fit_unimodal=False)
    resumed.load_state_dict(interrupted.state_dict())
    resumed.train(second, block_size=20)

    queries = rng.normal(size=(5, 16))
    for source in ("visual", "audio"):
        np.testing.assert_allclose(resumed.recall(queries, source), whole.recall(queries, source), rtol=1e-12, atol=1e-12)
