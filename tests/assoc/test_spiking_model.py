"""Closed-form checks of the spiking network: membrane decay, STDP pair rule, reward-modulated STDP.

Each test builds a fresh brian2 Network on the numpy target; one slow test compares
the numpy and Cython targets.
"""

import numpy as np
import pytest

from assoc.errors import ConfigError
from assoc.spiking.experiment import Target, codegen_target, cython_available
from assoc.spiking.model import NetworkConfig, PlasticityRule, build_network, code_to_rates

b2 = pytest.importorskip("brian2")


def _pair_network(rule, visual_time, auditory_time, **build_kwargs):
    """One neuron per population; each fires one step after its single input spike.

    Cross synapses have no effect on the membrane (w_cross_max = 0), so the only
    spikes are the two driven ones and the weight change is the STDP rule alone.
    """
    config = NetworkConfig(
        n_neurons=1,
        n_cross_inputs=1,
        n_inhibition_inputs=0,
        p_input=1.0,
        w_cross_max=0 * b2.mV,
        w_cross_init=0.5,
        rule=rule,
        dt=0.1 * b2.ms,
    )
    network = build_network(
        config,
        np.random.default_rng(0),
        input_spikes={"visual": ([0], [visual_time]), "auditory": ([0], [auditory_time])},
        n_channels=1,
        **build_kwargs,
    )
    for synapses in network.feedforward.values():
        synapses.w_in[:] = 30 * b2.mV
    return config, network


def test_membrane_decays_exponentially():
    config = NetworkConfig(
        n_neurons=3, n_inhibition_inputs=0, n_cross_inputs=1, w_cross_max=0 * b2.mV, w_input=0 * b2.mV, dt=0.1 * b2.ms
    )
    with codegen_target(Target.NUMPY):
        network = build_network(
            config,
            np.random.default_rng(0),
            # brian2 rejects an empty spike generator, so the only input spike comes after the run.
            input_spikes={"visual": ([0], [10.0]), "auditory": ([0], [10.0])},
            n_channels=1,
        )
        population = network.populations["visual"]
        start = np.array([-60.0, -65.0, -56.0]) * b2.mV
        population.v = start
        monitor = b2.StateMonitor(population, "v", record=True)
        network.network.add(monitor)
        network.network.run(60 * b2.ms)

    t = np.asarray(monitor.t / b2.second)
    v = np.asarray(monitor.v / b2.volt)
    v_rest = float(config.v_rest)
    expected = v_rest + (np.asarray(start / b2.volt)[:, None] - v_rest) * np.exp(-t / float(config.tau_m))
    np.testing.assert_allclose(v, expected, rtol=0, atol=1e-9)
    assert network.spike_monitors["visual"].num_spikes == 0


@pytest.mark.parametrize("lag_ms", [5.0, -5.0])
def test_stdp_sign_follows_spike_order(lag_ms):
    # The visual neuron fires lag_ms before the auditory one (after it when negative).
    visual_time, auditory_time = 0.010, 0.010 + lag_ms / 1000
    with codegen_target(Target.NUMPY):
        config, network = _pair_network(PlasticityRule.STDP, visual_time, auditory_time)
        network.network.run(40 * b2.ms)

    assert network.spike_monitors["visual"].num_spikes == 1
    assert network.spike_monitors["auditory"].num_spikes == 1
    lag = abs(lag_ms) / 1000
    potentiation = config.a_plus * np.exp(-lag / float(config.tau_plus))
    depression = config.a_minus * np.exp(-lag / float(config.tau_minus))
    forward = float(network.cross["visual_to_auditory"].w[0])
    backward = float(network.cross["auditory_to_visual"].w[0])
    if lag_ms > 0:
        # visual -> auditory is pre-before-post; auditory -> visual is post-before-pre.
        assert forward == pytest.approx(0.5 + potentiation, abs=1e-12)
        assert backward == pytest.approx(0.5 - depression, abs=1e-12)
    else:
        assert forward == pytest.approx(0.5 - depression, abs=1e-12)
        assert backward == pytest.approx(0.5 + potentiation, abs=1e-12)


def test_stdp_is_off_when_plasticity_gated():
    with codegen_target(Target.NUMPY):
        _, network = _pair_network(
            PlasticityRule.STDP, 0.010, 0.015, trial_period=50 * b2.ms, plastic=np.array([0.0])
        )
        network.network.run(40 * b2.ms)
    assert float(network.cross["visual_to_auditory"].w[0]) == 0.5
    assert float(network.cross["auditory_to_visual"].w[0]) == 0.5


@pytest.mark.parametrize("reward", [1.0, -1.0])
def test_reward_stdp_applies_eligibility_at_trial_end(reward):
    trial_period = 0.1
    with codegen_target(Target.NUMPY):
        config, network = _pair_network(
            PlasticityRule.REWARD_STDP, 0.010, 0.015, trial_period=trial_period * b2.second, reward=np.array([reward])
        )
        network.network.run(trial_period * b2.second + config.dt)

    # Both spikes land one step after their input; the pair sets c at the later spike.
    last_spike = 0.015 + float(config.dt)
    decay = np.exp(-(trial_period - last_spike) / float(config.tau_eligibility))
    pair = np.exp(-0.005 / float(config.tau_plus))
    forward = float(network.cross["visual_to_auditory"].w[0])
    backward = float(network.cross["auditory_to_visual"].w[0])
    assert forward == pytest.approx(0.5 + config.eta_reward * reward * config.a_plus * pair * decay, abs=1e-9)
    assert backward == pytest.approx(0.5 - config.eta_reward * reward * config.a_minus * pair * decay, abs=1e-9)


def test_code_to_rates_on_off_channels():
    rates = code_to_rates(np.array([0.5, -1.0, 0.0]), background_rate=2.0, peak_rate=100.0)
    np.testing.assert_allclose(rates, [52.0, 2.0, 2.0, 2.0, 102.0, 2.0])


def test_code_to_rates_rejects_zero_code():
    with pytest.raises(ConfigError, match="all zeros"):
        code_to_rates(np.zeros(4), 2.0, 100.0)


def test_build_network_requires_poisson_arguments():
    with pytest.raises(ConfigError, match="Poisson inputs need channel_rates"):
        build_network(NetworkConfig(n_neurons=2), np.random.default_rng(0))


def _deterministic_run(target, cache_dir=None):
    rng = np.random.default_rng(7)
    n_channels = 16
    spikes = {}
    for name in ("visual", "auditory"):
        times = np.sort(rng.uniform(0.0, 0.3, size=300))
        # Round to whole 0.5 ms steps so both targets see the same spike steps.
        times = np.round(times / 0.0005) * 0.0005
        channels = rng.integers(0, n_channels, size=times.size)
        # A spike generator rejects two spikes of one channel in the same step.
        pairs = sorted(set(zip(channels.tolist(), times.tolist())), key=lambda pair: pair[1])
        spikes[name] = (np.array([c for c, _ in pairs]), np.array([t for _, t in pairs]))
    config = NetworkConfig(n_neurons=20, n_cross_inputs=5, n_inhibition_inputs=3, p_input=0.5, dt=0.5 * b2.ms)
    with codegen_target(target, cache_dir):
        network = build_network(config, np.random.default_rng(3), input_spikes=spikes, n_channels=n_channels)
        network.network.run(0.35 * b2.second)
        spike_trains = {
            name: (np.asarray(m.i[:]), np.asarray(m.t / b2.second)) for name, m in network.spike_monitors.items()
        }
        weights = {name: np.asarray(s.w[:]) for name, s in network.cross.items()}
    return spike_trains, weights


@pytest.mark.slow
def test_numpy_and_cython_targets_agree(tmp_path):
    available, reason = cython_available()
    if not available:
        pytest.skip(f"Cython target unavailable: {reason}")
    numpy_spikes, numpy_weights = _deterministic_run(Target.NUMPY)

    # Compiling without optimisation halves the cold compile (about 55 s instead of
    # 110 s of CPU time on this 2-core machine) and checks the same generated code.
    flags_key = "codegen.cpp.extra_compile_args_gcc"
    default_flags = b2.prefs[flags_key]
    b2.prefs[flags_key] = ["-w", "-O0"]
    try:
        cython_spikes, cython_weights = _deterministic_run(Target.CYTHON, tmp_path / "cython-cache")
    finally:
        b2.prefs[flags_key] = default_flags

    for name in numpy_spikes:
        assert numpy_spikes[name][0].size > 10, f"{name} population barely fired; the comparison would be empty"
        np.testing.assert_array_equal(cython_spikes[name][0], numpy_spikes[name][0])
        np.testing.assert_allclose(cython_spikes[name][1], numpy_spikes[name][1], rtol=0, atol=1e-12)
    for name in numpy_weights:
        assert not np.allclose(numpy_weights[name], 0.1), f"{name} weights never changed"
        np.testing.assert_allclose(cython_weights[name], numpy_weights[name], rtol=1e-9, atol=1e-12)
