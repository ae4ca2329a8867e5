"""Network construction: two LIF populations, Poisson inputs and plastic cross-population synapses.

Each modality has a population of ``n_neurons`` leaky integrate-and-fire neurons with
lateral inhibition, driven by ``2 k`` Poisson input channels that encode the
modality's k-dimensional code (see :func:`code_to_rates`). Excitatory synapses run
from each population to the other and learn by pair-based STDP or its
reward-modulated variant. Connectivity and initial weights come from a numpy
Generator, so they do not depend on brian2's random stream or code generation target.
brian2 is imported inside the functions that need it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

from assoc.errors import ConfigError
from assoc.spiking.protocol import _quantity
from assoc.spiking.units import require_quantity

POPULATIONS = ("visual", "auditory")
# Cross-population pathways, named source_to_target.
PATHWAYS = (("visual", "auditory"), ("auditory", "visual"))


class PlasticityRule(str, enum.Enum):
    """Learning rule of the cross-population synapses."""

    STDP = "stdp"
    REWARD_STDP = "reward-stdp"


# Fields checked in NetworkConfig.__post_init__: dimension and sign.
_QUANTITY_FIELDS = {
    "tau_m": ("time", "positive"),
    "refractory": ("time", "non_negative"),
    "v_rest": ("voltage", None),
    "v_reset": ("voltage", None),
    "v_threshold": ("voltage", None),
    "w_input": ("voltage", "non_negative"),
    "w_inhibition": ("voltage", "non_negative"),
    "w_cross_max": ("voltage", "non_negative"),
    "tau_plus": ("time", "positive"),
    "tau_minus": ("time", "positive"),
    "tau_eligibility": ("time", "positive"),
    "dt": ("time", "positive"),
}
_PROBABILITY_FIELDS = ("p_input",)
_COUNT_FIELDS = ("n_neurons", "n_inhibition_inputs", "n_cross_inputs")


@dataclass
class NetworkConfig:
    """Sizes, neuron and synapse parameters of the two-population network.

    Attributes
    ----------
    n_neurons : int
        Neurons per population.
    tau_m : Quantity (time)
        Membrane time constant.
    v_rest, v_reset, v_threshold : Quantity (voltage)
    refractory : Quantity (time)
    w_input : Quantity (voltage)
        Largest jump of the membrane potential per input spike; each input synapse
        draws its weight uniformly from [0, w_input].
    p_input : float
        Probability that an input channel connects to a neuron.
    w_inhibition : Quantity (voltage)
        Drop of the membrane potential per spike of another neuron in the same population.
    n_inhibition_inputs : int
        Inhibitory inputs per neuron from other neurons of its population (fewer when
        the population is smaller).
    w_cross_max : Quantity (voltage)
        Jump per presynaptic spike of a cross-population synapse at weight 1; the
        dimensionless weight ``w`` stays in [0, 1].
    n_cross_inputs : int
        Inputs per neuron from the other population, so the drive at a given weight
        does not grow with ``n_neurons`` (fewer when the population is smaller).
    w_cross_init : float
        Initial dimensionless weight, the same for every cross synapse.
    rule : PlasticityRule
    tau_plus, tau_minus : Quantity (time)
        Decay times of the presynaptic and postsynaptic STDP traces.
    a_plus, a_minus : float
        Weight change (fraction of ``w_cross_max``) of a pre-before-post pair at zero
        lag, and of a post-before-pre pair (applied as a decrease). ``a_minus`` is 5 %
        larger by default, so uncorrelated firing depresses slightly on average.
    tau_eligibility : Quantity (time)
        Decay time of the eligibility trace (reward-modulated STDP).
    eta_reward : float
        Scale of the weight change per unit reward and unit eligibility.
    dt : Quantity (time)
        Simulation time step. The membrane equation is integrated exactly, so 1 ms
        is accurate for the 20 ms time constants here. It also sets the timing
        resolution of STDP.
    """

    n_neurons: int = 100
    tau_m: object = field(default_factory=_quantity(20.0, "ms"))
    v_rest: object = field(default_factory=_quantity(-70.0, "mV"))
    v_reset: object = field(default_factory=_quantity(-70.0, "mV"))
    v_threshold: object = field(default_factory=_quantity(-54.0, "mV"))
    refractory: object = field(default_factory=_quantity(2.0, "ms"))
    w_input: object = field(default_factory=_quantity(5.0, "mV"))
    p_input: float = 0.2
    w_inhibition: object = field(default_factory=_quantity(1.0, "mV"))
    n_inhibition_inputs: int = 10
    w_cross_max: object = field(default_factory=_quantity(4.0, "mV"))
    n_cross_inputs: int = 20
    w_cross_init: float = 0.1
    rule: PlasticityRule = PlasticityRule.STDP
    tau_plus: object = field(default_factory=_quantity(20.0, "ms"))
    tau_minus: object = field(default_factory=_quantity(20.0, "ms"))
    a_plus: float = 0.03
    a_minus: float = 0.0315
    tau_eligibility: object = field(default_factory=_quantity(1000.0, "ms"))
    eta_reward: float = 1.0
    dt: object = field(default_factory=_quantity(1.0, "ms"))

    def __post_init__(self):
        for name in _COUNT_FIELDS:
            value = getattr(self, name)
            minimum = 0 if name == "n_inhibition_inputs" else 1
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
                raise ConfigError(f"{name} must be an integer of at least {minimum}; got {value!r}.")
        for name, (kind, sign) in _QUANTITY_FIELDS.items():
            require_quantity(name, getattr(self, name), kind, **({sign: True} if sign else {}))
        for name in _PROBABILITY_FIELDS:
            value = getattr(self, name)
            if not 0.0 <= float(value) <= 1.0:
                raise ConfigError(f"{name} must be a probability in [0, 1]; got {value!r}.")
        if not 0.0 <= float(self.w_cross_init) <= 1.0:
            raise ConfigError(f"w_cross_init must lie in [0, 1] (a fraction of w_cross_max); got {self.w_cross_init!r}.")
        for name in ("a_plus", "a_minus", "eta_reward"):
            if not float(getattr(self, name)) >= 0.0:
                raise ConfigError(f"{name} must be a non-negative number; got {getattr(self, name)!r}.")
        if not self.v_reset < self.v_threshold or not self.v_rest < self.v_threshold:
            raise ConfigError(
                f"v_rest ({self.v_rest}) and v_reset ({self.v_reset}) must lie below v_threshold ({self.v_threshold})."
            )
        try:
            self.rule = PlasticityRule(self.rule)
        except ValueError:
            raise ConfigError(f"rule must be one of {[r.value for r in PlasticityRule]}; got {self.rule!r}.") from None


def code_to_rates(code: np.ndarray, background_rate: float, peak_rate: float) -> np.ndarray:
    """Map a signed code to the stimulus-on rates of its ``2 k`` Poisson channels, in Hz.

    Channel ``j`` carries the positive part of entry ``j`` and channel ``k + j`` the
    negative part (an on/off pair)::

        rate[j]     = background_rate + peak_rate * max(z[j], 0) / max|z|
        rate[k + j] = background_rate + peak_rate * max(-z[j], 0) / max|z|

    so the rates do not depend on the code's scale and the largest entry reaches
    ``background_rate + peak_rate``.

    Parameters
    ----------
    code : ndarray of shape (k,)
    background_rate, peak_rate : float, Hz

    Returns
    -------
    ndarray of shape (2 k,), float64
    """
    code = np.asarray(code, dtype=np.float64)
    if code.ndim != 1 or code.size == 0:
        raise ConfigError(f"A code must be a non-empty 1-d array of shape (k,); got shape {code.shape}.")
    if not np.all(np.isfinite(code)):
        raise ConfigError("The code contains NaN or infinite values; check the codes passed in.")
    scale = np.max(np.abs(code))
    if scale == 0:
        raise ConfigError("The code is all zeros, so it cannot drive any input channel; pass a non-zero code.")
    normalised = code / scale
    drive = np.concatenate([np.maximum(normalised, 0.0), np.maximum(-normalised, 0.0)])
    return background_rate + peak_rate * drive


@dataclass
class SpikingNetwork:
    """The brian2 objects of one network, held together in a fresh ``brian2.Network``.

    Attributes
    ----------
    network : brian2.Network
    populations : dict of str to brian2.NeuronGroup
        ``visual`` and ``auditory`` LIF populations.
    inputs : dict of str to brian2 group
        Input channels of each population (Poisson or spike generator).
    feedforward : dict of str to brian2.Synapses
        Input synapses of each population, weight ``w_in`` (volt); a population
        whose inputs drew no connection has no entry.
    cross : dict of str to brian2.Synapses
        Plastic pathways ``visual_to_auditory`` and ``auditory_to_visual``.
    spike_monitors : dict of str to brian2.SpikeMonitor
    """

    network: object
    populations: dict
    inputs: dict
    feedforward: dict
    cross: dict
    spike_monitors: dict


def build_network(
    config: NetworkConfig,
    rng: np.random.Generator,
    *,
    channel_rates: dict[str, np.ndarray] | None = None,
    background_rate=None,
    stimulus_on: dict[str, np.ndarray] | None = None,
    schedule_step=None,
    trial_period=None,
    plastic: np.ndarray | None = None,
    reward: np.ndarray | None = None,
    input_spikes: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
    n_channels: int | None = None,
) -> SpikingNetwork:
    """Build the two populations, their inputs, inhibition and cross synapses in a new Network.

    Poisson inputs (the protocol) need ``channel_rates``, ``background_rate``,
    ``stimulus_on`` and ``schedule_step``: channel ``i`` of population ``m`` fires at
    ``background_rate + stimulus_on[m](t) * (channel_rates[m][i] - background_rate)``.
    Deterministic inputs need ``input_spikes`` (per population a pair of channel
    indices and times in seconds) and ``n_channels`` instead.

    ``plastic`` (1 or 0 per trial) gates STDP, and ``reward`` (per trial) drives the
    reward-modulated rule at each trial's end; both need ``trial_period``. Without
    them plasticity is on throughout and no reward arrives.

    Parameters
    ----------
    config : NetworkConfig
    rng : numpy.random.Generator
        Draws connectivity and input weights.
    channel_rates : dict of str to ndarray of shape (n_channels,), Hz
    background_rate : Quantity (rate)
    stimulus_on : dict of str to ndarray of shape (n_steps,)
    schedule_step, trial_period : Quantity (time)
    plastic, reward : ndarray of shape (n_trials,)
    input_spikes : dict of str to (ndarray of int, ndarray of float seconds)
    n_channels : int
    """
    import brian2 as b2

    poisson = input_spikes is None
    if poisson:
        if channel_rates is None or stimulus_on is None or schedule_step is None or background_rate is None:
            raise ConfigError(
                "Poisson inputs need channel_rates, background_rate, stimulus_on and schedule_step; "
                "pass input_spikes instead for deterministic inputs."
            )
        require_quantity("background_rate", background_rate, "rate", non_negative=True)
        require_quantity("schedule_step", schedule_step, "time", positive=True)
        n_channels = int(next(iter(channel_rates.values())).shape[0])
    elif n_channels is None:
        raise ConfigError("Deterministic inputs need n_channels, the number of input channels per population.")
    if (plastic is not None or reward is not None) and trial_period is None:
        raise ConfigError("plastic and reward are given per trial, so they need trial_period.")
    if trial_period is not None:
        require_quantity("trial_period", trial_period, "time", positive=True)

    namespace = _shared_namespace(b2, config, trial_period, plastic, reward)

    # Fixed clock names keep the generated code identical from run to run (brian2 names
    # clock arrays after the clock), so the Cython target reuses its compiled extensions.
    clock = b2.Clock(dt=config.dt, name="spiking_clock")
    reward_clock = None if trial_period is None else b2.Clock(dt=trial_period, name="reward_clock")

    objects = []
    populations, inputs, feedforward_synapses, spike_monitors = {}, {}, {}, {}
    for name in POPULATIONS:
        population = _lif_population(b2, config, name, namespace, clock)
        objects.append(population)
        populations[name] = population

        if poisson:
            rates_on = np.asarray(channel_rates[name], dtype=np.float64)
            source = _poisson_channels(b2, name, rates_on, background_rate, stimulus_on[name], schedule_step, namespace, clock)
        else:
            source = _spike_generator(b2, name, n_channels, *input_spikes[name], clock)
        inputs[name] = source
        objects.append(source)

        # Feedforward input: random connections, weights uniform in [0, w_input].
        pre, post = _random_pairs(rng, n_channels, config.n_neurons, config.p_input, allow_self=True)
        feedforward = b2.Synapses(source, population, "w_in : volt", on_pre="v_post += w_in", clock=clock, name=f"{name}_feedforward")
        weights = rng.uniform(0.0, 1.0, size=pre.size) * config.w_input
        if _connect(feedforward, pre, post):
            feedforward.w_in[:] = weights
            feedforward_synapses[name] = feedforward
            objects.append(feedforward)

        # Lateral inhibition inside the population, no self-connections.
        pre, post = _fixed_in_degree_pairs(rng, config.n_neurons, config.n_neurons, config.n_inhibition_inputs, allow_self=False)
        inhibition = b2.Synapses(population, population, on_pre="v_post -= w_inhibition", namespace=namespace, clock=clock, name=f"{name}_inhibition")
        if _connect(inhibition, pre, post):
            objects.append(inhibition)

        monitor = b2.SpikeMonitor(population, name=f"{name}_spikes")
        spike_monitors[name] = monitor
        objects.append(monitor)

    cross = {}
    for source_name, target_name in PATHWAYS:
        synapses = _cross_synapses(
            b2, config, populations[source_name], populations[target_name], namespace, clock, reward_clock, f"{source_name}_to_{target_name}"
        )
        pre, post = _fixed_in_degree_pairs(rng, config.n_neurons, config.n_neurons, config.n_cross_inputs, allow_self=True)
        _connect(synapses, pre, post)
        synapses.w[:] = float(config.w_cross_init)
        cross[f"{source_name}_to_{target_name}"] = synapses
        objects.append(synapses)

    network = b2.Network(*objects)
    return SpikingNetwork(
        network=network,
        populations=populations,
        inputs=inputs,
        feedforward=feedforward_synapses,
        cross=cross,
        spike_monitors=spike_monitors,
    )


def _shared_namespace(b2, config: NetworkConfig, trial_period, plastic, reward) -> dict:
    """Return the namespace shared by all objects: parameters and the per-trial plasticity and reward switches.

    Every TimedArray gets a fixed name. brian2 names it in generated code, and an
    automatic name (``timedarray_3``) would change from run to run, so the Cython
    target would recompile instead of reusing its cached extensions.
    """
    namespace = {
        "tau_m": config.tau_m,
        "v_rest": config.v_rest,
        "v_reset": config.v_reset,
        "v_threshold": config.v_threshold,
        "w_inhibition": config.w_inhibition,
        "w_cross_max": config.w_cross_max,
        "tau_plus": config.tau_plus,
        "tau_minus": config.tau_minus,
        "tau_eligibility": config.tau_eligibility,
        "a_plus": float(config.a_plus),
        "a_minus": float(config.a_minus),
        "eta_reward": float(config.eta_reward),
    }
    if plastic is None:
        namespace["plastic"] = b2.TimedArray(np.ones(1), dt=1 * b2.second, name="plastic")
    else:
        namespace["plastic"] = b2.TimedArray(np.asarray(plastic, dtype=np.float64), dt=trial_period, name="plastic")
    # The reward of trial n is applied at the end of trial n, so at t = (n + 1) * trial_period.
    reward_at_boundary = np.zeros(1 if reward is None else len(reward) + 1)
    if reward is not None:
        reward_at_boundary[1:] = reward
    namespace["reward_signal"] = b2.TimedArray(
        reward_at_boundary, dt=trial_period if trial_period is not None else 1 * b2.second, name="reward_signal"
    )
    return namespace


def _lif_population(b2, config: NetworkConfig, name: str, namespace: dict, clock):
    # tau_m dv/dt = v_rest - v; inputs arrive as instantaneous jumps of v.
    population = b2.NeuronGroup(
        config.n_neurons,
        "dv/dt = (v_rest - v) / tau_m : volt (unless refractory)",
        threshold="v > v_threshold",
        reset="v = v_reset",
        refractory=config.refractory,
        method="exact",
        namespace=namespace,
        clock=clock,
        name=name,
    )
    population.v = config.v_rest
    return population


def _poisson_channels(b2, name, rates_on, background_rate, stimulus_on, schedule_step, namespace, clock):
    # A channel fires in a step with probability rate * dt (Bernoulli approximation of Poisson).
    switch_name = f"{name}_stimulus_on"
    namespace[switch_name] = b2.TimedArray(np.asarray(stimulus_on, dtype=np.float64), dt=schedule_step, name=switch_name)
    namespace["background_rate"] = background_rate
    channels = b2.NeuronGroup(
        rates_on.size,
        "evoked_rate : Hz (constant)",
        threshold=f"rand() < (background_rate + {switch_name}(t) * evoked_rate) * dt",
        namespace=namespace,
        clock=clock,
        name=f"{name}_input",
    )
    channels.evoked_rate = (rates_on - float(background_rate)) * b2.Hz
    return channels


def _spike_generator(b2, name, n_channels, channel_index, spike_times, clock):
    return b2.SpikeGeneratorGroup(
        n_channels,
        np.asarray(channel_index, dtype=np.int64),
        np.asarray(spike_times, dtype=np.float64) * b2.second,
        clock=clock,
        name=f"{name}_input",
    )


def _cross_synapses(b2, config: NetworkConfig, source, target, namespace, clock, reward_clock, name):
    # Pair-based STDP with all-to-all pairing through traces apre and apost:
    #   pre spike:  apre += 1,  dw = -a_minus * apost
    #   post spike: apost += 1, dw = +a_plus * apre
    # so a pair at lag s = t_post - t_pre changes w by a_plus exp(-s / tau_plus) for s > 0
    # and by -a_minus exp(s / tau_minus) for s < 0.
    traces = """
        w : 1
        dapre/dt = -apre / tau_plus : 1 (event-driven)
        dapost/dt = -apost / tau_minus : 1 (event-driven)
    """
    if config.rule is PlasticityRule.STDP:
        synapses = b2.Synapses(
            source,
            target,
            traces,
            on_pre="""
                v_post += w * w_cross_max
                apre += 1
                w = clip(w - plastic(t) * a_minus * apost, 0, 1)
            """,
            on_post="""
                apost += 1
                w = clip(w + plastic(t) * a_plus * apre, 0, 1)
            """,
            namespace=namespace,
            clock=clock,
            name=name,
        )
        return synapses

    # Reward-modulated STDP: the STDP pair term goes into an eligibility trace c that
    # decays with tau_eligibility; at the end of each trial w += eta_reward * reward * c.
    synapses = b2.Synapses(
        source,
        target,
        traces + "dc/dt = -c / tau_eligibility : 1 (event-driven)\n",
        on_pre="""
            v_post += w * w_cross_max
            apre += 1
            c -= a_minus * apost
        """,
        on_post="""
            apost += 1
            c += a_plus * apre
        """,
        namespace=namespace,
        clock=clock,
        name=name,
    )
    if reward_clock is not None:
        # c is updated lazily at spikes, so decay it from its last update to now.
        synapses.run_regularly(
            "w = clip(w + eta_reward * reward_signal(t) * c * exp(-(t - lastupdate) / tau_eligibility), 0, 1)",
            clock=reward_clock,
            when="start",
            name=f"{name}_reward",
        )
    return synapses


def _connect(synapses, pre: np.ndarray, post: np.ndarray) -> bool:
    """Connect the pairs and return True, or return False when there are none.

    brian2 2.9 rejects empty index arrays and refuses to run a Synapses object without
    connections, so the caller leaves such an object out of the network.
    """
    if pre.size == 0:
        return False
    synapses.connect(i=pre, j=post)
    return True


def _random_pairs(rng: np.random.Generator, n_pre: int, n_post: int, probability: float, *, allow_self: bool):
    """Draw a Bernoulli(probability) connection for every (pre, post) pair and return the index arrays."""
    mask = rng.random((n_pre, n_post)) < probability
    if not allow_self:
        np.fill_diagonal(mask, False)
    pre, post = np.nonzero(mask)
    return pre.astype(np.int32), post.astype(np.int32)


def _fixed_in_degree_pairs(rng: np.random.Generator, n_pre: int, n_post: int, in_degree: int, *, allow_self: bool):
    """Give every postsynaptic neuron ``in_degree`` distinct presynaptic partners drawn uniformly."""
    available = n_pre - (0 if allow_self else 1)
    in_degree = min(in_degree, available)
    pre = np.empty((n_post, in_degree), dtype=np.int32)
    for post in range(n_post):
        candidates = np.arange(n_pre) if allow_self else np.delete(np.arange(n_pre), post)
        pre[post] = rng.choice(candidates, size=in_degree, replace=False)
    post = np.repeat(np.arange(n_post, dtype=np.int32), in_degree)
    return pre.ravel(), post
