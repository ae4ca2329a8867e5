"""Protocol configs, unit checks at the boundary and the trial schedule."""

import numpy as np
import pytest

from assoc.errors import ConfigError
from assoc.spiking.experiment import SpikingConfig
from assoc.spiking.model import NetworkConfig
from assoc.spiking.protocol import Pairing, ProtocolConfig, TrialKind, build_schedule
from assoc.spiking.units import format_quantity, parse_quantity, require_quantity

b2 = pytest.importorskip("brian2")
ms, Hz, mV = b2.ms, b2.Hz, b2.mV


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("trial_period", 500, r"trial_period must be a time with brian2 units, for example trial_period=500\*ms"),
        ("isi", 0.1, r"isi must be a time .* got the bare number 0.1"),
        ("background_rate", 5, r"background_rate must be a rate with brian2 units, for example background_rate=5\*Hz"),
        ("peak_rate", 100 * ms, r"peak_rate must be a rate in units of Hz"),
        ("cs_duration", -5 * ms, "cs_duration must be positive"),
    ],
)
def test_protocol_rejects_bad_units(field, value, message):
    with pytest.raises(ConfigError, match=message):
        ProtocolConfig(**{field: value})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tau_m", 20, r"tau_m must be a time with brian2 units, for example tau_m=20\*ms"),
        ("v_threshold", -50, r"v_threshold must be a voltage with brian2 units, for example v_threshold=-50\*mV"),
        ("w_input", 5 * Hz, "w_input must be a voltage in units of mV"),
        ("dt", "1 ms", r"dt must be a time with brian2 units \(e.g. 10\*ms\)"),
    ],
)
def test_network_rejects_bad_units(field, value, message):
    with pytest.raises(ConfigError, match=message):
        NetworkConfig(**{field: value})


def test_configs_reject_inconsistent_values():
    with pytest.raises(ConfigError, match="response_window .* must not exceed isi"):
        ProtocolConfig(isi=50 * ms, response_window=80 * ms)
    with pytest.raises(ConfigError, match="lengthen trial_period"):
        ProtocolConfig(trial_period=250 * ms)
    with pytest.raises(ConfigError, match="pairing must be one of"):
        ProtocolConfig(pairing="backward")
    with pytest.raises(ConfigError, match="must lie below v_threshold"):
        NetworkConfig(v_reset=-40 * mV)
    with pytest.raises(ConfigError, match="n_neurons must be an integer of at least 1"):
        NetworkConfig(n_neurons=0)
    with pytest.raises(ConfigError, match="target must be one of"):
        SpikingConfig(target="cuda")
    with pytest.raises(ConfigError, match="rate_bin must be a time"):
        SpikingConfig(rate_bin=10)


def test_quantity_text_round_trip():
    assert parse_quantity("20 ms", "time") == 20 * ms
    assert parse_quantity(format_quantity(2.5 * Hz), "rate") == 2.5 * Hz
    with pytest.raises(ConfigError, match="write a number and a unit"):
        parse_quantity("20ms", "time")
    with pytest.raises(ConfigError, match="Unknown unit 'parsec'"):
        parse_quantity("3 parsec", "time")
    with pytest.raises(ConfigError, match="must be a time in units of ms"):
        parse_quantity("3 mV", "time")


def test_require_quantity_returns_value():
    value = 3 * ms
    assert require_quantity("delay", value, "time", positive=True) is value


def test_paired_schedule_layout():
    config = ProtocolConfig(n_pretest_trials=4, n_conditioning_trials=3, n_posttest_trials=2, n_extinction_trials=2)
    schedule = build_schedule(config, 1 * ms, np.random.default_rng(0))

    assert schedule.n_trials == 11
    assert schedule.duration == pytest.approx(5.5)
    assert list(schedule.phase_slices()) == ["pretest", "conditioning", "posttest", "extinction"]
    assert list(schedule.kind[:4]) == ["cs", "us", "cs", "us"]
    assert list(schedule.kind[4:7]) == [TrialKind.CS_US.value] * 3
    assert list(schedule.kind[9:]) == ["cs", "cs"]

    # Paired US starts isi after the CS; probes start at cs_onset.
    np.testing.assert_allclose(schedule.us_onset[4:7] - schedule.cs_onset[4:7], 0.1)
    np.testing.assert_allclose(schedule.cs_onset[0] - schedule.start[0], 0.1)
    np.testing.assert_allclose(schedule.us_onset[1] - schedule.start[1], 0.1)
    assert np.isnan(schedule.us_onset[0])
    assert np.isnan(schedule.cs_onset[1])

    # Plasticity only outside the tests; reward on US trials, omission reward on CS-alone extinction.
    np.testing.assert_array_equal(schedule.plastic, [0] * 4 + [1] * 3 + [0] * 2 + [1] * 2)
    np.testing.assert_array_equal(schedule.reward, [0] * 4 + [1] * 3 + [0] * 2 + [-1] * 2)

    # Switches: 200 ms of CS per CS trial, 100 ms of US per US trial, at 1 ms steps.
    assert schedule.cs_on.shape == (5500,)
    n_cs_trials = np.count_nonzero(schedule.kind != "us")
    n_us_trials = np.count_nonzero(schedule.kind != "cs")
    assert schedule.cs_on.sum() == 200 * n_cs_trials
    assert schedule.us_on.sum() == 100 * n_us_trials
    assert schedule.cs_on[100:300].all()
    assert not schedule.cs_on[300:1100].any()


def test_unpaired_schedule_separates_cs_and_us():
    config = ProtocolConfig(
        n_pretest_trials=0, n_conditioning_trials=20, n_posttest_trials=0, n_extinction_trials=0, pairing=Pairing.UNPAIRED
    )
    schedule = build_schedule(config, 1 * ms, np.random.default_rng(1))

    assert np.count_nonzero(schedule.kind == "cs") == 20
    assert np.count_nonzero(schedule.kind == "us") == 20
    assert not np.any((schedule.cs_on > 0) & (schedule.us_on > 0))
    # The order is shuffled and the US onsets are spread over the trial.
    assert list(schedule.kind[:20]) != ["cs"] * 20
    us_offset = (schedule.us_onset - schedule.start)[schedule.kind == "us"]
    assert us_offset.min() >= 0.1
    assert us_offset.max() <= 0.4
    assert np.ptp(us_offset) > 0.1


def test_schedule_is_seeded():
    config = ProtocolConfig(pairing="unpaired", n_conditioning_trials=10)
    first = build_schedule(config, 1 * ms, np.random.default_rng(5))
    second = build_schedule(config, 1 * ms, np.random.default_rng(5))
    np.testing.assert_array_equal(first.kind, second.kind)
    np.testing.assert_array_equal(first.us_onset, second.us_onset)


def test_empty_protocol_is_rejected():
    config = ProtocolConfig(n_pretest_trials=0, n_conditioning_trials=0, n_posttest_trials=0, n_extinction_trials=0)
    with pytest.raises(ConfigError, match="no trials"):
        build_schedule(config, 1 * ms, np.random.default_rng(0))


def test_config_from_mapping_parses_quantities():
    config = SpikingConfig.from_mapping(
        {
            "network": {"n_neurons": 30, "tau_m": "15 ms", "v_threshold": "-50 mV"},
            "protocol": {"isi": "80 ms", "response_window": "80 ms", "peak_rate": "90 Hz", "pairing": "unpaired"},
            "target": "numpy",
            "rate_bin": "5 ms",
        }
    )
    assert config.network.n_neurons == 30
    assert config.network.tau_m == 15 * ms
    assert config.network.v_threshold == -50 * mV
    assert config.protocol.isi == 80 * ms
    assert config.protocol.peak_rate == 90 * Hz
    assert config.protocol.pairing is Pairing.UNPAIRED
    assert config.rate_bin == 5 * ms


def test_config_from_mapping_rejects_unknown_and_bare_values():
    with pytest.raises(ConfigError, match="Unknown network setting\\(s\\) tau"):
        SpikingConfig.from_mapping({"network": {"tau": "15 ms"}})
    with pytest.raises(ConfigError, match="Unknown run setting\\(s\\) neurons"):
        SpikingConfig.from_mapping({"neurons": 10})
    with pytest.raises(ConfigError, match=r"isi must be a time with brian2 units, for example isi=80\*ms"):
        SpikingConfig.from_mapping({"protocol": {"isi": 80}})
