import numpy as np
import pytest

from assoc.errors import ConfigError
from sims.conditioning import (
    CONDITIONING_TOML,
    conditioning_config_to_toml,
    load_conditioning_config,
    parse_conditioning_config,
    run_conditioning_experiment,
)
from sims.runfile import RunReader

# Small codes and one paradigm keep the run to a few seconds.
TINY = """\
kind = "conditioning"
name = "tiny-conditioning"
dataset = "demo"
limit = 300
paradigms = ["blocking"]
beta_plus = 0.2

[cues]
A = 3
B = 7
C = 5

[unimodal]
epochs = 1
batch_size = 32
lr = 2e-3
k = 32
width = 16
"""


@pytest.fixture(scope="module")
def demo_splits():
    from assoc.data import load_dataset

    return load_dataset("demo", seed=0, limit=300)


@pytest.fixture(scope="module")
def blocking_run(tmp_path_factory, demo_splits):
    path = tmp_path_factory.mktemp("conditioning") / "blocking.h5"
    config = parse_conditioning_config(TINY)
    return run_conditioning_experiment(config, seed=0, out=path, splits=demo_splits)


def test_builtin_config_round_trips():
    config = load_conditioning_config("conditioning", quick=True)
    assert config.limit == 300
    assert config.us_modality == "audio"
    assert parse_conditioning_config(conditioning_config_to_toml(config), quick=True) == config
    assert parse_conditioning_config(CONDITIONING_TOML).paradigms[2] == "blocking"


def test_blocking_with_embedding_stimuli(blocking_run):
    blocked = blocking_run.final_metrics["blocking.Blocking"]["strength_B"]
    control = blocking_run.final_metrics["blocking.Control"]["strength_B"]
    assert control > 0.2
    assert blocked < 0.5 * control


def test_pretrained_cue_recalls_the_us(blocking_run):
    metrics = blocking_run.final_metrics["blocking.Blocking"]
    assert metrics["strength_A"] > 0.2
    assert metrics["overlap_us_A"] > metrics["overlap_other_A"]


def test_run_file_has_trial_axis_and_stages(blocking_run):
    with RunReader(blocking_run.path) as reader:
        assert sorted(reader.learners()) == ["blocking.Blocking", "blocking.Control"]
        trials = reader.pairs_seen("blocking.Blocking")
        assert np.array_equal(trials, np.arange(1, 33))
        assert reader.stage("stimuli")["similarity"].shape == (10, 10)
        assert reader.stage("unimodal")
        assert reader.seed == 0
        assert reader.package_versions["numpy"]
        reinforced = reader.metric("blocking.Blocking", "reinforced")
        assert reinforced[:30].all()
        assert not reinforced[30:].any()


def test_resume_of_complete_run_changes_nothing(blocking_run, demo_splits):
    config = parse_conditioning_config(TINY)
    again = run_conditioning_experiment(config, seed=0, out=blocking_run.path, resume=True, splits=demo_splits)
    assert again.final_metrics == blocking_run.final_metrics


def test_existing_file_without_resume_raises(blocking_run, demo_splits):
    config = parse_conditioning_config(TINY)
    with pytest.raises(ConfigError, match="already exists"):
        run_conditioning_experiment(config, seed=0, out=blocking_run.path, splits=demo_splits)


@pytest.mark.parametrize(
    ("line", "replacement", "message"),
    [
        ('dataset = "demo"', 'stimuli = "items"', "Key 'stimuli' .* is 'items'; did you mean 'item'"),
        ('dataset = "demo"', "us_digit = 12", "Key 'us_digit'"),
        ('paradigms = ["blocking"]', 'paradigms = ["blockin"]', "Key 'paradigms' .* is 'blockin'; did you mean 'blocking'"),
        ("beta_plus = 0.2", "beta_plus = 0", "Key 'beta_plus' .* must be > 0"),
        ('dataset = "demo"', "colour = 3", "Unknown key 'colour'"),
    ],
)
def test_config_errors_name_the_key(line, replacement, message):
    text = TINY.replace(line, replacement)
    with pytest.raises(ConfigError, match=message):
        parse_conditioning_config(text)


def test_missing_cue_digit_raises():
    text = TINY.replace("C = 5\n", "")
    with pytest.raises(ConfigError, match="no digit for cue\\(s\\) C"):
        parse_conditioning_config(text)


def test_run_command_prints_final_metrics(blocking_run, tmp_path, capsys):
    import argparse

    from assoc.cli.cmd_sweep import run_other_experiment

    config_path = tmp_path / "tiny.toml"
    config_path.write_text(TINY, encoding="utf-8")
    args = argparse.Namespace(
        experiment=str(config_path), dataset=None, data_dir=None, out=str(blocking_run.path),
        seed=0, quick=False, resume=True, threads=1, no_report=False,
    )  # fmt: skip
    assert run_other_experiment(args) == 0
    output = capsys.readouterr().out
    assert "| blocking.Blocking |" in output
    assert f"run file: {blocking_run.path}" in output
    report = blocking_run.path.with_name(blocking_run.path.stem + "_report")
    assert f"plots and summary: {report}/ (summary.md, " in output
    assert (report / "curve_strength_B.png").is_file()


def test_builtin_descriptions_cover_every_kind():
    from sims.experiments import builtin_descriptions

    descriptions = builtin_descriptions()
    assert set(descriptions) == {"binding", "conditioning", "spiking-conditioning"}
    assert all(descriptions.values())


@pytest.mark.slow
def test_item_stimuli_also_block(tmp_path, demo_splits):
    config = parse_conditioning_config(TINY.replace('dataset = "demo"', 'dataset = "demo"\nstimuli = "item"'))
    result = run_conditioning_experiment(config, seed=0, out=tmp_path / "items.h5", splits=demo_splits)
    blocked = result.final_metrics["blocking.Blocking"]["strength_B"]
    control = result.final_metrics["blocking.Control"]["strength_B"]
    assert blocked < 0.5 * control


def test_replace_keeps_config_valid():
    config = load_conditioning_config("conditioning", quick=True)
    assert config.replace(data_dir="raw").data_dir == "raw"
    assert config.replace(limit=100).quick
    with pytest.raises(ConfigError, match="Unknown config key 'limits'"):
        config.replace(limits=100)


def test_whiten_off_round_trips():
    config = parse_conditioning_config(TINY.replace('dataset = "demo"', 'dataset = "demo"\nwhiten = false'))
    assert config.whiten_ridge is None
    assert parse_conditioning_config(conditioning_config_to_toml(config)) == config


def test_generalization_follows_similarity(blocking_run):
    # Digits similar to the pretrained cue A call up more of the US (r was 0.55 to 0.88 over seeds 0-2).
    metrics = blocking_run.final_metrics["blocking.Blocking"]
    assert metrics["generalization_r"] > 0.0
    assert -1.0 <= metrics["generalization_r_raw"] <= 1.0
    with RunReader(blocking_run.path) as reader:
        stimuli = reader.stage("stimuli")
    assert np.allclose(np.diag(stimuli["similarity_raw"]), 1.0)


def test_resume_completes_a_cut_group(blocking_run, tmp_path, demo_splits):
    import shutil

    import h5py

    # Roll one group back to 10 committed trials, as a kill after trial 10 would leave it.
    path = tmp_path / "cut.h5"
    shutil.copy(blocking_run.path, path)
    with h5py.File(path, "r+") as handle:
        handle["learners/blocking.Control"].attrs["n_checkpoints"] = 10
    config = parse_conditioning_config(TINY)
    resumed = run_conditioning_experiment(config, seed=0, out=path, resume=True, splits=demo_splits)
    for group, metrics in blocking_run.final_metrics.items():
        assert resumed.final_metrics[group] == pytest.approx(metrics)
    with RunReader(path) as reader:
        assert np.array_equal(reader.pairs_seen("blocking.Control"), np.arange(1, 33))
