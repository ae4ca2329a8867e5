"""Run the spiking conditioning protocol and write its run file.

:func:`run_spiking_conditioning` takes a validated :class:`SpikingConfig`, builds a
fresh brian2 network, runs the protocol phase by phase, computes the readouts and
writes everything to an HDF5 run file. brian2 is imported inside the functions.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import json
import logging
import os
import shutil
import signal
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assoc.errors import ConfigError
from assoc.progress import ProgressCallback
from assoc.spiking import readouts
from assoc.spiking.model import _QUANTITY_FIELDS as _NETWORK_QUANTITIES
from assoc.spiking.model import POPULATIONS, NetworkConfig, SpikingNetwork, build_network, code_to_rates
from assoc.spiking.protocol import _RATE_FIELDS as _PROTOCOL_RATES
from assoc.spiking.protocol import _TIME_FIELDS as _PROTOCOL_TIMES
from assoc.spiking.protocol import ProtocolConfig, Schedule, TrialKind, _quantity, build_schedule
from assoc.spiking.units import format_quantity, parse_quantity, require_quantity

logger = logging.getLogger(__name__)


class Target(str, enum.Enum):
    """brian2 code generation target of the runtime device."""

    NUMPY = "numpy"
    CYTHON = "cython"


@dataclass
class SpikingConfig:
    """Everything a spiking conditioning run needs, apart from its seed.

    Attributes
    ----------
    network : NetworkConfig
    protocol : ProtocolConfig
    target : Target
        ``numpy`` runs everywhere; ``cython`` needs Cython and a C compiler, and its
        first run in a process compiles for about 45 s on 2 cores.
    code_dim : int
        k, the length of the synthetic codes drawn when ``cs_code`` or ``us_code`` is None.
    cs_code, us_code : ndarray of shape (k,), optional
        Codes of the visual (CS) and auditory (US) stimulus. When None, a random unit
        vector is drawn from the run's seed.
    alpha : float
        False discovery rate of the responsiveness test.
    rate_bin : Quantity (time)
        Bin width of the stored population rates.
    cython_cache_dir : str, optional
        Where the Cython target keeps compiled code. By default a directory private
        to the process (see :func:`default_cython_cache_dir`), so parallel runs never
        share half-written extensions.
    """

    network: NetworkConfig = field(default_factory=NetworkConfig)
    protocol: ProtocolConfig = field(default_factory=ProtocolConfig)
    target: Target = Target.NUMPY
    code_dim: int = 64
    cs_code: np.ndarray | None = None
    us_code: np.ndarray | None = None
    alpha: float = 0.01
    rate_bin: object = field(default_factory=_quantity(10.0, "ms"))
    cython_cache_dir: str | None = None

    def __post_init__(self):
        if not isinstance(self.network, NetworkConfig):
            raise ConfigError(f"network must be a NetworkConfig; got {type(self.network).__name__}.")
        if not isinstance(self.protocol, ProtocolConfig):
            raise ConfigError(f"protocol must be a ProtocolConfig; got {type(self.protocol).__name__}.")
        try:
            self.target = Target(self.target)
        except ValueError:
            raise ConfigError(f"target must be one of {[t.value for t in Target]}; got {self.target!r}.") from None
        if isinstance(self.code_dim, bool) or not isinstance(self.code_dim, (int, np.integer)) or self.code_dim < 1:
            raise ConfigError(f"code_dim must be a positive integer; got {self.code_dim!r}.")
        for name in ("cs_code", "us_code"):
            code = getattr(self, name)
            if code is not None:
                code = np.asarray(code, dtype=np.float64)
                if code.ndim != 1:
                    raise ConfigError(f"{name} must be a 1-d array of shape (k,); got shape {code.shape}.")
                setattr(self, name, code)
        if self.cs_code is not None and self.us_code is not None and self.cs_code.shape != self.us_code.shape:
            raise ConfigError(
                f"cs_code and us_code must have the same length k; got {self.cs_code.size} and {self.us_code.size}."
            )
        if not 0.0 < float(self.alpha) < 1.0:
            raise ConfigError(f"alpha must lie in (0, 1); got {self.alpha!r}.")
        require_quantity("rate_bin", self.rate_bin, "time", positive=True)

    @classmethod
    def from_mapping(cls, mapping: dict) -> SpikingConfig:
        """Build a config from plain values, as read from a TOML or JSON file.

        ``mapping`` may contain the sections ``network`` and ``protocol`` (mappings of
        field to value) and the run fields of this class. Times, rates and voltages
        are strings such as ``"20 ms"``, ``"5 Hz"`` or ``"-70 mV"``. Unknown keys raise
        ConfigError with the key's name.
        """
        mapping = dict(mapping)
        sections = {}
        for section_name, section_class, kinds in (
            ("network", NetworkConfig, _NETWORK_KINDS),
            ("protocol", ProtocolConfig, _PROTOCOL_KINDS),
        ):
            values = dict(mapping.pop(section_name, {}) or {})
            sections[section_name] = section_class(**_parse_fields(section_name, section_class, values, kinds))
        run_values = _parse_fields("run", cls, mapping, {"rate_bin": "time"}, exclude=("network", "protocol"))
        return cls(**sections, **run_values)

    def to_attrs(self) -> dict[str, str | float | int]:
        """Flatten the config to HDF5-friendly attributes: ``section.field`` to a number or string.

        Quantities become strings such as ``'20.0 ms'``; codes are stored as datasets, not here.
        """
        import brian2

        attrs = {}
        for section_name, section in (("network", self.network), ("protocol", self.protocol), ("run", self)):
            for item in dataclasses.fields(section):
                value = getattr(section, item.name)
                if item.name in ("network", "protocol", "cs_code", "us_code"):
                    continue
                if isinstance(value, brian2.Quantity):
                    value = format_quantity(value)
                elif isinstance(value, enum.Enum):
                    value = value.value
                elif value is None:
                    value = ""
                attrs[f"{section_name}.{item.name}"] = value
        return attrs


_NETWORK_KINDS = {name: kind for name, (kind, _) in _NETWORK_QUANTITIES.items()}
_PROTOCOL_KINDS = {**{name: "time" for name in _PROTOCOL_TIMES}, **{name: "rate" for name in _PROTOCOL_RATES}}


def _parse_fields(section: str, dataclass_type, values: dict, kinds: dict, exclude=()) -> dict:
    """Check the keys of ``values`` against the fields of ``dataclass_type`` and parse quantity strings."""
    known = {item.name for item in dataclasses.fields(dataclass_type)} - set(exclude)
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"Unknown {section} setting(s) {', '.join(unknown)}; known settings: {', '.join(sorted(known))}.")
    parsed = {}
    for name, value in values.items():
        if name in kinds and isinstance(value, str):
            value = parse_quantity(value, kinds[name])
        parsed[name] = value
    return parsed


@dataclass
class PhaseReadout:
    """Readouts of one protocol phase.

    Attributes
    ----------
    cs, us : dict of str to readouts.Responsiveness
        Per population, the test of responses to the CS (trials with a CS) and to the
        US (US-alone trials). ``us`` is empty in phases without US-alone trials.
    cross_modal_fraction : dict of str to float
        ``auditory``: fraction of auditory neurons responsive to the visual CS;
        ``visual``: fraction of visual neurons responsive to the auditory US (NaN
        without US-alone trials).
    overlap : float
        Cosine similarity of the CS-evoked and US-evoked population vectors over both
        populations (NaN without US-alone trials or when nothing was evoked).
    auditory_overlap : float
        The same over the auditory population alone.
    """

    cs: dict
    us: dict
    cross_modal_fraction: dict
    overlap: float
    auditory_overlap: float


@dataclass
class SpikingResults:
    """Everything a run produced.

    Attributes
    ----------
    spikes : dict of str to (ndarray of float seconds, ndarray of int)
        Spike times and neuron indices of each population.
    schedule : Schedule
        Trials of the run.
    rate_time : ndarray of shape (n_bins,), seconds
    rates : dict of str to ndarray of shape (n_bins,), Hz
        Population rates.
    synapses : dict of str to (ndarray of int, ndarray of int)
        Presynaptic and postsynaptic indices of each cross pathway.
    weights : dict of str to dict of str to ndarray of shape (n_synapses,)
        Weights of each pathway at the start (``initial``) and after each phase.
    phases : dict of str to PhaseReadout
    block_time : ndarray of shape (n_blocks,), seconds
        Middle of each block of CS trials.
    block_phase : ndarray of shape (n_blocks,), str
    cs_fraction : dict of str to ndarray of shape (n_blocks,)
        Fraction of each population responsive to the CS per block. For ``auditory``
        this is the cross-modal fraction over the protocol.
    cs_code, us_code : ndarray of shape (k,)
    log : list of (float, str, str)
        Rows of (seconds since start, stage, message).
    wall_time : dict of str to float
        Seconds spent building (including any Cython compile) and running each phase.
    path : Path or None
        The run file, when one was written.
    """

    spikes: dict
    schedule: Schedule
    rate_time: np.ndarray
    rates: dict
    synapses: dict
    weights: dict
    phases: dict
    block_time: np.ndarray
    block_phase: np.ndarray
    cs_fraction: dict
    cs_code: np.ndarray
    us_code: np.ndarray
    log: list
    wall_time: dict
    path: Path | None = None


def default_cython_cache_dir() -> Path:
    """Return the process's own Cython cache directory, ``<tmp>/assoc-brian2/cython-<pid>``.

    NOTE: the directory is not removed when the process ends, and a later process that
    reuses the pid reuses its compiled code. That is safe because brian2 2.9 names each
    extension by a hash of its source, the Python, Cython and numpy versions and the
    compiler (but not the compiler flags).
    """
    return Path(tempfile.gettempdir()) / "assoc-brian2" / f"cython-{os.getpid()}"


def cython_available() -> tuple[bool, str]:
    """Report whether the Cython target can build here: (available, reason when not)."""
    try:
        import Cython  # noqa: F401
    except ImportError:
        return False, "Cython is not installed"
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return False, f"no C compiler: {compiler!r} was not found on PATH"
    return True, ""


@contextlib.contextmanager
def codegen_target(target: Target, cython_cache_dir: str | os.PathLike | None = None):
    """Set brian2's code generation target (and Cython cache) for the duration of the block.

    brian2 keeps these preferences globally, so they are restored afterwards.
    """
    import brian2

    target = Target(target)
    keys = ("codegen.target", "codegen.runtime.cython.cache_dir")
    saved = {key: brian2.prefs[key] for key in keys}
    if target is Target.CYTHON:
        available, reason = cython_available()
        if not available:
            raise ConfigError(f"The cython target cannot build here ({reason}); use target='numpy'.")
        cache_dir = Path(cython_cache_dir) if cython_cache_dir else default_cython_cache_dir()
        cache_dir.mkdir(parents=True, exist_ok=True)
        brian2.prefs["codegen.runtime.cython.cache_dir"] = str(cache_dir)
    brian2.prefs["codegen.target"] = target.value
    try:
        yield
    finally:
        for key, value in saved.items():
            brian2.prefs[key] = value


class _InterruptWatch:
    """SIGINT handler for a protocol run that records Ctrl-C so it cannot be lost.

    brian2 2.9 installs its own SIGINT handler, which during ``Network.run`` only ends the
    run early and returns normally, and outside it raises KeyboardInterrupt wherever
    Python is, including brian2's weakref callbacks, which swallow it as "Exception
    ignored". This handler records the request, ends a running simulation through the
    same stop flag, and raises KeyboardInterrupt at once outside one; :meth:`check`,
    called after each ``Network.run``, raises it again in case it was swallowed. A
    second Ctrl-C raises at once.
    """

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signalnum, frame) -> None:
        import brian2

        first = not self.requested
        self.requested = True
        if first and brian2.Network._globally_running:
            logger.warning("interrupt requested; stopping after the current time step")
            brian2.Network._globally_stopped = True
            return
        raise KeyboardInterrupt

    def check(self, network) -> None:
        """Raise KeyboardInterrupt when Ctrl-C came or brian2 ended ``network.run`` early."""
        import brian2

        # A run that ended early contains only part of a phase. Storing it as a whole
        # phase would give readouts of a different protocol.
        if self.requested or network._stopped or brian2.Network._globally_stopped:
            raise KeyboardInterrupt("the simulation was stopped before the phase ended")


@contextlib.contextmanager
def _interrupt_watch():
    """Install an :class:`_InterruptWatch` as the SIGINT handler for the block.

    Python accepts signal handlers in the main thread only, so in other threads (a dask
    worker's, for example) the block installs nothing and only brian2's stop flag is
    checked.
    """
    watch = _InterruptWatch()
    if threading.current_thread() is not threading.main_thread():
        yield watch
        return
    previous = signal.signal(signal.SIGINT, watch)
    try:
        yield watch
    finally:
        signal.signal(signal.SIGINT, previous)


def synthetic_codes(code_dim: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw two independent random unit vectors of length ``code_dim`` (CS code, US code)."""
    codes = rng.standard_normal((2, code_dim))
    codes /= np.linalg.norm(codes, axis=1, keepdims=True)
    return codes[0], codes[1]


def run_spiking_conditioning(
    config: SpikingConfig,
    out: str | os.PathLike | None = None,
    *,
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> SpikingResults:
    """Run the conditioning protocol on a new two-population network and return the results.

    Parameters
    ----------
    config : SpikingConfig
    out : path, optional
        HDF5 run file to write (see :func:`write_run_file`); nothing is written when None.
    seed : int
        Seeds connectivity, input weights, synthetic codes and the unpaired trial
        order (numpy Generator), and brian2's random stream (Poisson inputs). The same
        seed and target give the same spikes.
    progress : callable, optional
        Called as ``progress(trials_done, n_trials)`` after each phase.
    """
    import brian2

    if not isinstance(config, SpikingConfig):
        raise ConfigError(f"config must be a SpikingConfig; got {type(config).__name__}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer; got {seed!r}.")
    started = time.perf_counter()
    log = []

    def record(stage: str, message: str) -> None:
        log.append((time.perf_counter() - started, stage, message))
        logger.info("%s: %s", stage, message)

    # Inputs: codes, rates and the schedule, all from one seeded Generator.
    rng = np.random.default_rng(seed)
    cs_code, us_code = _codes(config, rng)
    protocol = config.protocol
    background = float(protocol.background_rate)
    channel_rates = {
        "visual": code_to_rates(cs_code, background, float(protocol.peak_rate)),
        "auditory": code_to_rates(us_code, background, float(protocol.peak_rate)),
    }
    schedule = build_schedule(protocol, config.network.dt, rng)
    record("setup", f"{schedule.n_trials} trials, {schedule.duration:g} s simulated, target {config.target.value}")

    wall_time = {}
    with codegen_target(config.target, config.cython_cache_dir), _interrupt_watch() as interrupt:
        brian2.seed(int(seed))
        network = build_network(
            config.network,
            rng,
            channel_rates=channel_rates,
            background_rate=protocol.background_rate,
            stimulus_on={"visual": schedule.cs_on, "auditory": schedule.us_on},
            schedule_step=config.network.dt,
            trial_period=protocol.trial_period,
            plastic=schedule.plastic,
            reward=schedule.reward,
        )
        weights = {"initial": _weights(network)}

        # Run phase by phase to snapshot weights. The first segment is one step longer,
        # so each snapshot includes the reward delivered at the trial boundary.
        dt = float(config.network.dt)
        phase_slices = schedule.phase_slices()
        for position, (phase, trials) in enumerate(phase_slices.items()):
            n_phase_trials = trials.stop - trials.start
            duration = n_phase_trials * schedule.trial_period + (dt if position == 0 else 0.0)
            tick = time.perf_counter()
            network.network.run(duration * brian2.second, namespace={})
            interrupt.check(network.network)
            wall_time[phase] = time.perf_counter() - tick
            weights[phase] = _weights(network)
            record("run", f"{phase}: {n_phase_trials} trials in {wall_time[phase]:.2f} s wall time")
            if progress is not None:
                progress(trials.stop, schedule.n_trials)
        spikes = {
            name: (np.asarray(monitor.t / brian2.second), np.asarray(monitor.i, dtype=np.int64))
            for name, monitor in network.spike_monitors.items()
        }
        synapses = {
            name: (np.asarray(s.i[:], dtype=np.int64), np.asarray(s.j[:], dtype=np.int64))
            for name, s in network.cross.items()
        }
        # A Ctrl-C after the last phase that a brian2 callback swallowed still stops the run here.
        interrupt.check(network.network)

    # Readouts.
    n_neurons = config.network.n_neurons
    phases = {
        phase: _phase_readout(spikes, schedule, trials, n_neurons, protocol, config.alpha)
        for phase, trials in phase_slices.items()
    }
    block_time, block_phase, cs_fraction = _cs_fraction_over_protocol(spikes, schedule, n_neurons, protocol, config.alpha)
    rate_time, rates = None, {}
    for name, (times, _) in spikes.items():
        rate_time, rates[name] = readouts.population_rate(times, n_neurons, schedule.duration, float(config.rate_bin))
    for phase, readout in phases.items():
        record(
            "readout",
            f"{phase}: cross-modal fraction auditory {readout.cross_modal_fraction['auditory']:.3f}, "
            f"visual {readout.cross_modal_fraction['visual']:.3f}, overlap {readout.overlap:.3f}",
        )

    results = SpikingResults(
        spikes=spikes,
        schedule=schedule,
        rate_time=rate_time,
        rates=rates,
        synapses=synapses,
        weights=weights,
        phases=phases,
        block_time=block_time,
        block_phase=block_phase,
        cs_fraction=cs_fraction,
        cs_code=cs_code,
        us_code=us_code,
        log=log,
        wall_time=wall_time,
    )
    if out is not None:
        record("write", f"run file {out}")
        results.path = write_run_file(out, config, seed, results)
    return results


def _codes(config: SpikingConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    # A given code fixes k. Both synthetic codes are drawn even when codes are given,
    # so the draws that follow (connectivity, trial order) do not depend on it.
    code_dim = config.code_dim
    if config.cs_code is not None:
        code_dim = config.cs_code.size
    elif config.us_code is not None:
        code_dim = config.us_code.size
    cs_code, us_code = synthetic_codes(code_dim, rng)
    if config.cs_code is not None:
        cs_code = config.cs_code
    if config.us_code is not None:
        us_code = config.us_code
    return cs_code, us_code


def _weights(network: SpikingNetwork) -> dict[str, np.ndarray]:
    return {name: np.array(synapses.w[:], dtype=np.float64) for name, synapses in network.cross.items()}


def _responses(spikes, onsets, starts, n_neurons, protocol) -> dict[str, tuple]:
    """Return per population (evoked counts, baseline counts), each (n_trials, n_neurons)."""
    window = float(protocol.response_window)
    baseline = float(protocol.cs_onset)
    counts = {}
    for name, (times, indices) in spikes.items():
        evoked = readouts.window_counts(times, indices, n_neurons, onsets, window)
        base = readouts.window_counts(times, indices, n_neurons, starts, baseline)
        counts[name] = (evoked, base)
    return counts


def _test(counts, protocol, alpha) -> dict:
    window = float(protocol.response_window)
    baseline = float(protocol.cs_onset)
    return {
        name: readouts.responsiveness(evoked, base, window, baseline, alpha=alpha)
        for name, (evoked, base) in counts.items()
    }


def _phase_readout(spikes, schedule: Schedule, trials: slice, n_neurons, protocol, alpha) -> PhaseReadout:
    kind = schedule.kind[trials]
    start = schedule.start[trials]
    with_cs = kind != TrialKind.US.value
    us_alone = kind == TrialKind.US.value
    cs_counts = _responses(spikes, schedule.cs_onset[trials][with_cs], start[with_cs], n_neurons, protocol)
    cs = _test(cs_counts, protocol, alpha)
    us, overlap, auditory_overlap = {}, float("nan"), float("nan")
    if us_alone.any():
        us_counts = _responses(spikes, schedule.us_onset[trials][us_alone], start[us_alone], n_neurons, protocol)
        us = _test(us_counts, protocol, alpha)
        cs_vector = {name: r.evoked_rate - r.baseline_rate for name, r in cs.items()}
        us_vector = {name: r.evoked_rate - r.baseline_rate for name, r in us.items()}
        overlap = readouts.population_vector_overlap(
            np.concatenate([cs_vector[name] for name in POPULATIONS]),
            np.concatenate([us_vector[name] for name in POPULATIONS]),
        )
        auditory_overlap = readouts.population_vector_overlap(cs_vector["auditory"], us_vector["auditory"])
    cross_modal_fraction = {
        "auditory": cs["auditory"].fraction if with_cs.any() else float("nan"),
        "visual": us["visual"].fraction if us else float("nan"),
    }
    return PhaseReadout(cs=cs, us=us, cross_modal_fraction=cross_modal_fraction, overlap=overlap, auditory_overlap=auditory_overlap)


def _cs_fraction_over_protocol(spikes, schedule: Schedule, n_neurons, protocol, alpha):
    """Fraction of each population responsive to the CS in consecutive blocks of CS trials within each phase."""
    block_time, block_phase = [], []
    fractions = {name: [] for name in POPULATIONS}
    for phase, trials in schedule.phase_slices().items():
        index = np.arange(trials.start, trials.stop)
        index = index[schedule.kind[index] != TrialKind.US.value]
        for first in range(0, index.size, protocol.block_trials):
            block = index[first:first + protocol.block_trials]
            counts = _responses(spikes, schedule.cs_onset[block], schedule.start[block], n_neurons, protocol)
            tests = _test(counts, protocol, alpha)
            for name in POPULATIONS:
                fractions[name].append(tests[name].fraction)
            block_time.append(0.5 * (schedule.start[block[0]] + schedule.start[block[-1]] + schedule.trial_period))
            block_phase.append(phase)
    return (
        np.array(block_time, dtype=np.float64),
        np.array(block_phase, dtype=str),
        {name: np.array(values, dtype=np.float64) for name, values in fractions.items()},
    )


def write_run_file(path, config: SpikingConfig, seed: int, results: SpikingResults) -> Path:
    """Write a run file and return its path.

    Layout::

        /                           attrs: config fields as 'section.field', seed,
                                    package versions, config_json
        /codes/cs, /codes/us        (k,)
        /trials/<column>            (n_trials,) phase, kind, start, cs_onset, us_onset, plastic, reward
        /spikes/<population>/times  (n_spikes,) seconds; /indices (n_spikes,)
        /rates/time                 (n_bins,) seconds; /rates/<population> (n_bins,) Hz
        /weights/<pathway>/pre, post            (n_synapses,) neuron indices
        /weights/<pathway>/<snapshot>           (n_synapses,) initial and after each phase
        /readouts/<phase>/cross_modal_fraction  attrs auditory, visual, overlap, auditory_overlap
        /readouts/<phase>/<cs|us>/<population>/<p_value|responsive|evoked_rate|baseline_rate>
        /readouts/protocol/block_time, block_phase, cs_fraction_<population>
        /log                        rows of (time, stage, message)
    """
    import brian2
    import h5py

    import assoc

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    string = h5py.string_dtype()
    with h5py.File(path, "w") as handle:
        for key, value in config.to_attrs().items():
            handle.attrs[key] = value
        handle.attrs["config_json"] = json.dumps(config.to_attrs(), sort_keys=True)
        handle.attrs["seed"] = int(seed)
        handle.attrs["versions"] = json.dumps(
            {"assoc": assoc.__version__, "brian2": brian2.__version__, "numpy": np.__version__, "python": sys.version.split()[0]}
        )

        handle["codes/cs"] = results.cs_code
        handle["codes/us"] = results.us_code

        schedule = results.schedule
        trials = handle.create_group("trials")
        trials.create_dataset("phase", data=schedule.phase.astype(object), dtype=string)
        trials.create_dataset("kind", data=schedule.kind.astype(object), dtype=string)
        for column in ("start", "cs_onset", "us_onset", "plastic", "reward"):
            trials[column] = getattr(schedule, column)
        trials.attrs["trial_period_s"] = schedule.trial_period

        for name, (times, indices) in results.spikes.items():
            handle[f"spikes/{name}/times"] = times
            handle[f"spikes/{name}/indices"] = indices
            handle[f"rates/{name}"] = results.rates[name]
        handle["rates/time"] = results.rate_time

        for pathway, (pre, post) in results.synapses.items():
            handle[f"weights/{pathway}/pre"] = pre
            handle[f"weights/{pathway}/post"] = post
            for snapshot, values in results.weights.items():
                handle[f"weights/{pathway}/{snapshot}"] = values[pathway]
        handle["weights"].attrs["snapshots"] = json.dumps(list(results.weights))

        for phase, readout in results.phases.items():
            group = handle.create_group(f"readouts/{phase}")
            group.attrs["cross_modal_fraction_auditory"] = readout.cross_modal_fraction["auditory"]
            group.attrs["cross_modal_fraction_visual"] = readout.cross_modal_fraction["visual"]
            group.attrs["overlap"] = readout.overlap
            group.attrs["auditory_overlap"] = readout.auditory_overlap
            for stimulus in ("cs", "us"):
                for name, test in getattr(readout, stimulus).items():
                    for column in ("p_value", "responsive", "evoked_rate", "baseline_rate"):
                        group[f"{stimulus}/{name}/{column}"] = getattr(test, column)
        protocol_group = handle.create_group("readouts/protocol")
        protocol_group["block_time"] = results.block_time
        protocol_group.create_dataset("block_phase", data=results.block_phase.astype(object), dtype=string)
        for name, values in results.cs_fraction.items():
            protocol_group[f"cs_fraction_{name}"] = values

        log_dtype = np.dtype([("time", np.float64), ("stage", string), ("message", string)])
        rows = np.array([(t, stage, message) for t, stage, message in results.log], dtype=log_dtype)
        handle.create_dataset("log", data=rows)
        handle.flush()
    return path
