"""End-to-end protocol runs on the numpy target: conditioning effect, run file, seeding."""

import json

import numpy as np
import pytest

from assoc.errors import ConfigError
from assoc.spiking import NetworkConfig, ProtocolConfig, SpikingConfig, run_spiking_conditioning

b2 = pytest.importorskip("brian2")
h5py = pytest.importorskip("h5py")


def _small_config(pairing, **protocol):
    """60 neurons per population and 300 ms trials: about 10 s of simulated time."""
    settings = dict(
        trial_period=300 * b2.ms,
        n_pretest_trials=10,
        n_conditioning_trials=15,
        n_posttest_trials=10,
        n_extinction_trials=0,
        pairing=pairing,
        block_trials=5,
    )
    settings.update(protocol)
    return SpikingConfig(network=NetworkConfig(n_neurons=60), protocol=ProtocolConfig(**settings))


@pytest.fixture(scope="module")
def paired_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("spiking") / "paired.h5"
    calls = []
    results = run_spiking_conditioning(
        _small_config("paired"), path, seed=11, progress=lambda done, total: calls.append((done, total))
    )
    return results, path, calls


@pytest.fixture(scope="module")
def unpaired_run():
    return run_spiking_conditioning(_small_config("unpaired"), seed=11)


@pytest.mark.slow
def test_paired_raises_cross_modal_fraction(paired_run):
    results, _, _ = paired_run
    before = results.phases["pretest"].cross_modal_fraction["auditory"]
    after = results.phases["posttest"].cross_modal_fraction["auditory"]
    assert before <= 0.05
    assert after >= before + 0.2
    assert results.phases["posttest"].overlap > results.phases["pretest"].overlap + 0.2
    # Pre-before-post pairing potentiates visual -> auditory synapses.
    assert results.weights["conditioning"]["visual_to_auditory"].mean() > 1.5 * results.weights["initial"][
        "visual_to_auditory"
    ].mean()


@pytest.mark.slow
def test_unpaired_leaves_cross_modal_fraction(unpaired_run):
    before = unpaired_run.phases["pretest"].cross_modal_fraction["auditory"]
    after = unpaired_run.phases["posttest"].cross_modal_fraction["auditory"]
    assert before <= 0.05
    assert after <= 0.05
    initial = unpaired_run.weights["initial"]["visual_to_auditory"].mean()
    assert unpaired_run.weights["conditioning"]["visual_to_auditory"].mean() == pytest.approx(initial, abs=0.02)


@pytest.mark.slow
def test_stimuli_drive_their_own_population(unpaired_run):
    pretest = unpaired_run.phases["pretest"]
    assert pretest.cs["visual"].fraction > 0.3
    assert pretest.us["auditory"].fraction > 0.3


@pytest.mark.slow
def test_run_file_contents(paired_run):
    results, path, calls = paired_run
    assert calls == [(10, 35), (25, 35), (35, 35)]
    with h5py.File(path, "r") as handle:
        assert handle.attrs["seed"] == 11
        assert handle.attrs["network.n_neurons"] == 60
        assert handle.attrs["protocol.trial_period"] == "300.0 ms"
        assert handle.attrs["protocol.pairing"] == "paired"
        assert handle.attrs["run.target"] == "numpy"
        assert json.loads(handle.attrs["versions"])["brian2"] == b2.__version__

        assert handle["codes/cs"].shape == (64,)
        assert handle["trials/kind"].shape == (35,)
        assert handle["trials/phase"][0].decode() == "pretest"
        for name in ("visual", "auditory"):
            times, indices = results.spikes[name]
            np.testing.assert_array_equal(handle[f"spikes/{name}/times"][()], times)
            np.testing.assert_array_equal(handle[f"spikes/{name}/indices"][()], indices)
            assert handle[f"rates/{name}"].shape == handle["rates/time"].shape
        n_synapses = 60 * 20
        for pathway in ("visual_to_auditory", "auditory_to_visual"):
            for snapshot in ("pre", "post", "initial", "pretest", "conditioning", "posttest"):
                assert handle[f"weights/{pathway}/{snapshot}"].shape == (n_synapses,)
        assert handle["readouts/posttest"].attrs["cross_modal_fraction_auditory"] == pytest.approx(
            results.phases["posttest"].cross_modal_fraction["auditory"]
        )
        assert handle["readouts/posttest/cs/auditory/responsive"].dtype == bool
        assert handle["readouts/protocol/cs_fraction_auditory"].shape == results.block_time.shape
        log = handle["log"][()]
        assert log.dtype.names == ("time", "stage", "message")
        assert [row.decode() for row in log["stage"][:2]] == ["setup", "run"]
        assert np.all(np.diff(log["time"]) >= 0)


@pytest.mark.slow
def test_run_file_feeds_summary_plot(paired_run, close_figures):
    from analysis.spiking_plots import plot_spiking_summary, read_spiking_run

    results, path, _ = paired_run
    run = read_spiking_run(path)
    assert [phase for phase, _, _ in run["bounds"]] == ["pretest", "conditioning", "posttest"]
    artists = plot_spiking_summary(run, max_neurons=30)
    np.testing.assert_allclose(artists["fraction"]["auditory"].get_ydata(), results.cs_fraction["auditory"])
    assert artists["raster"]["auditory"].get_offsets()[:, 1].max() < 60


@pytest.mark.slow
def test_fraction_over_protocol_blocks(paired_run):
    results, _, _ = paired_run
    # 5 CS probes per test phase and 15 paired trials, in blocks of 5.
    assert list(results.block_phase) == ["pretest"] + ["conditioning"] * 3 + ["posttest"]
    assert results.cs_fraction["auditory"][0] <= 0.05
    assert results.cs_fraction["auditory"][-1] >= 0.2
    assert np.all(np.diff(results.block_time) > 0)


@pytest.mark.slow
def test_same_seed_gives_same_spikes():
    config = SpikingConfig(
        network=NetworkConfig(n_neurons=10),
        protocol=ProtocolConfig(
            n_pretest_trials=2, n_conditioning_trials=2, n_posttest_trials=0, n_extinction_trials=0, block_trials=1
        ),
    )
    first = run_spiking_conditioning(config, seed=4)
    second = run_spiking_conditioning(config, seed=4)
    other = run_spiking_conditioning(config, seed=5)
    for name in ("visual", "auditory"):
        np.testing.assert_array_equal(first.spikes[name][0], second.spikes[name][0])
        np.testing.assert_array_equal(first.spikes[name][1], second.spikes[name][1])
    assert not np.array_equal(first.spikes["visual"][0], other.spikes["visual"][0])


def test_given_codes_are_used():
    code = np.zeros(8)
    code[0] = 1.0
    config = SpikingConfig(
        network=NetworkConfig(n_neurons=5),
        protocol=ProtocolConfig(n_pretest_trials=1, n_conditioning_trials=0, n_posttest_trials=0, n_extinction_trials=0),
        cs_code=code,
    )
    results = run_spiking_conditioning(config, seed=0)
    np.testing.assert_array_equal(results.cs_code, code)
    assert results.us_code.shape == (8,)
    assert np.linalg.norm(results.us_code) == pytest.approx(1.0)


def test_run_rejects_bad_arguments():
    with pytest.raises(ConfigError, match="config must be a SpikingConfig"):
        run_spiking_conditioning({"n_neurons": 10})
    with pytest.raises(ConfigError, match="seed must be a non-negative integer"):
        run_spiking_conditioning(SpikingConfig(), seed=-1)
    with pytest.raises(ConfigError, match="cs_code and us_code must have the same length"):
        SpikingConfig(cs_code=np.ones(4), us_code=np.ones(5))


def _extinction_run(rule):
    """Run 15 paired trials, a 10-probe post-test and 2 blocks of 10 extinction trials on 40 neurons."""
    config = SpikingConfig(
        network=NetworkConfig(n_neurons=40, rule=rule),
        protocol=ProtocolConfig(
            trial_period=300 * b2.ms,
            n_pretest_trials=0,
            n_conditioning_trials=15,
            n_posttest_trials=10,
            n_extinction_trials=20,
            block_trials=10,
        ),
    )
    results = run_spiking_conditioning(config, seed=2)
    extinction_blocks = results.cs_fraction["auditory"][results.block_phase == "extinction"]
    return {
        "posttest_fraction": results.phases["posttest"].cross_modal_fraction["auditory"],
        "last_extinction_fraction": extinction_blocks[-1],
        "posttest_weight": results.weights["posttest"]["visual_to_auditory"].mean(),
        "extinction_weight": results.weights["extinction"]["visual_to_auditory"].mean(),
    }


@pytest.mark.slow
def test_extinction_depends_on_rule():
    # Plain STDP keeps potentiating during CS-alone trials, because visual spikes still
    # precede the auditory spikes they cause. The omission reward of reward-modulated
    # STDP turns the same pairs into depression.
    stdp = _extinction_run("stdp")
    reward = _extinction_run("reward-stdp")

    assert stdp["posttest_fraction"] >= 0.2
    assert reward["posttest_fraction"] >= 0.2

    assert stdp["extinction_weight"] > stdp["posttest_weight"] + 0.05
    assert stdp["last_extinction_fraction"] >= stdp["posttest_fraction"]

    assert reward["extinction_weight"] < reward["posttest_weight"] - 0.1
    assert reward["last_extinction_fraction"] <= reward["posttest_fraction"] - 0.3
