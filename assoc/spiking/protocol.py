"""The conditioning protocol: phases, trials and the stimulus schedule they imply.

The visual stimulus is the conditioned stimulus (CS) and the auditory stimulus is the
unconditioned stimulus (US). Every trial lasts ``trial_period`` and starts with a
stimulus-free baseline of length ``cs_onset``:

- pre-test and post-test: CS-alone and US-alone probe trials, alternating, with
  plasticity off;
- conditioning, paired: the CS starts at ``cs_onset`` and the US ``isi`` later;
- conditioning, unpaired (the control): as many CS-alone and US-alone trials in a
  random order, with the US onset drawn uniformly from the stimulus-free part of its
  trial, so the US never follows the CS within the STDP window;
- extinction: CS-alone trials with plasticity on.

Times and rates are brian2 quantities, checked when the config is built.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

from assoc.errors import ConfigError
from assoc.spiking.units import require_quantity


def _quantity(magnitude: float, unit_name: str):
    """Return a dataclass default factory for ``magnitude * unit`` that imports brian2 only when called."""

    def make():
        import brian2

        return magnitude * getattr(brian2.units, unit_name)

    return make


class Pairing(str, enum.Enum):
    """Presentation mode of CS and US during conditioning: paired or explicitly unpaired."""

    PAIRED = "paired"
    UNPAIRED = "unpaired"


class Phase(str, enum.Enum):
    """Protocol phases, in the order they run."""

    PRETEST = "pretest"
    CONDITIONING = "conditioning"
    POSTTEST = "posttest"
    EXTINCTION = "extinction"


class TrialKind(str, enum.Enum):
    """Stimuli presented in a trial."""

    CS = "cs"
    US = "us"
    CS_US = "cs+us"


# Time fields and whether zero is allowed; checked in ProtocolConfig.__post_init__.
_TIME_FIELDS = {
    "trial_period": "positive",
    "cs_onset": "positive",
    "cs_duration": "positive",
    "us_duration": "positive",
    "isi": "positive",
    "response_window": "positive",
}
_RATE_FIELDS = {"background_rate": "non_negative", "peak_rate": "positive"}


@dataclass
class ProtocolConfig:
    """Timing, trial counts and input rates of the conditioning protocol.

    Attributes
    ----------
    trial_period : Quantity (time)
        Length of every trial, baseline included.
    cs_onset : Quantity (time)
        Start of the CS (and of a probe US) after trial start; the time before it is
        the baseline window of the responsiveness test.
    cs_duration, us_duration : Quantity (time)
    isi : Quantity (time)
        Interstimulus interval from CS onset to US onset in paired trials.
    response_window : Quantity (time)
        Window after stimulus onset in which evoked spikes are counted. It must not be
        longer than ``isi``, so the CS response in paired trials is counted before the US.
    n_pretest_trials, n_posttest_trials : int
        Probe trials per test phase, half CS alone and half US alone (rounded up for CS).
    n_conditioning_trials : int
        Paired trials, or in the unpaired control as many CS-alone and as many
        US-alone trials.
    n_extinction_trials : int
        CS-alone trials with plasticity on.
    pairing : Pairing
    background_rate : Quantity (rate)
        Rate of every Poisson input channel without a stimulus.
    peak_rate : Quantity (rate)
        Extra rate of the channel with the largest code entry during a stimulus.
    reward : float
        Reward delivered at the end of every trial with a US (reward-modulated STDP only).
    omission_reward : float
        Reward at the end of a CS-alone trial outside the test phases (usually negative,
        so that extinction weakens the association under reward-modulated STDP).
    block_trials : int
        CS trials per point of the cross-modal fraction over the protocol.
    """

    trial_period: object = field(default_factory=_quantity(500.0, "ms"))
    cs_onset: object = field(default_factory=_quantity(100.0, "ms"))
    cs_duration: object = field(default_factory=_quantity(200.0, "ms"))
    us_duration: object = field(default_factory=_quantity(100.0, "ms"))
    isi: object = field(default_factory=_quantity(100.0, "ms"))
    response_window: object = field(default_factory=_quantity(100.0, "ms"))
    n_pretest_trials: int = 20
    n_conditioning_trials: int = 30
    n_posttest_trials: int = 20
    n_extinction_trials: int = 20
    pairing: Pairing = Pairing.PAIRED
    background_rate: object = field(default_factory=_quantity(2.0, "Hz"))
    peak_rate: object = field(default_factory=_quantity(100.0, "Hz"))
    reward: float = 1.0
    omission_reward: float = -1.0
    block_trials: int = 10

    def __post_init__(self):
        for name, sign in _TIME_FIELDS.items():
            require_quantity(name, getattr(self, name), "time", **{sign: True})
        for name, sign in _RATE_FIELDS.items():
            require_quantity(name, getattr(self, name), "rate", **{sign: True})
        try:
            self.pairing = Pairing(self.pairing)
        except ValueError:
            raise ConfigError(
                f"pairing must be one of {[p.value for p in Pairing]}; got {self.pairing!r}."
            ) from None
        for name in ("n_pretest_trials", "n_conditioning_trials", "n_posttest_trials", "n_extinction_trials"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ConfigError(f"{name} must be a non-negative integer; got {value!r}.")
        if isinstance(self.block_trials, bool) or not isinstance(self.block_trials, (int, np.integer)) or self.block_trials < 1:
            raise ConfigError(f"block_trials must be a positive integer; got {self.block_trials!r}.")
        if _exceeds(self.response_window, self.isi):
            raise ConfigError(
                f"response_window ({self.response_window}) must not exceed isi ({self.isi}), "
                "so that the CS response in paired trials is counted before the US starts."
            )
        if _exceeds(self.response_window, self.cs_duration) or _exceeds(self.response_window, self.us_duration):
            raise ConfigError(
                f"response_window ({self.response_window}) must not exceed cs_duration ({self.cs_duration}) "
                f"or us_duration ({self.us_duration})."
            )
        paired_end = self.cs_onset + max(self.cs_duration, self.isi + self.us_duration)
        if _exceeds(paired_end, self.trial_period):
            raise ConfigError(
                f"A paired trial needs {paired_end} (cs_onset + max(cs_duration, isi + us_duration)) "
                f"but trial_period is {self.trial_period}; lengthen trial_period."
            )
        if self.pairing is Pairing.UNPAIRED and _exceeds(self.cs_onset + self.us_duration, self.trial_period):
            raise ConfigError(f"us_duration ({self.us_duration}) does not fit after cs_onset in trial_period.")


def _exceeds(duration, limit) -> bool:
    """Compare times in seconds with a relative tolerance, so 100 ms + 200 ms fits into 300 ms."""
    return float(duration) > float(limit) * (1.0 + 1e-9)


@dataclass(frozen=True)
class Schedule:
    """Trials of a protocol run, one entry per trial, and per-step stimulus switches.

    Attributes
    ----------
    phase : ndarray of shape (n_trials,), str
    kind : ndarray of shape (n_trials,), str
        A :class:`TrialKind` value.
    start : ndarray of shape (n_trials,), float64, seconds
    cs_onset, us_onset : ndarray of shape (n_trials,), float64, seconds
        Absolute onset times; NaN where the trial has no such stimulus.
    plastic : ndarray of shape (n_trials,), float64
        1 where synaptic plasticity is on during the trial, else 0.
    reward : ndarray of shape (n_trials,), float64
        Reward delivered at the trial's end (reward-modulated STDP only).
    cs_on, us_on : ndarray of shape (n_steps,), float64
        1 during each step of width ``step`` in which the CS (US) is on.
    step : float
        Width in seconds of the steps of ``cs_on`` and ``us_on``.
    trial_period : float
        Seconds per trial.
    """

    phase: np.ndarray
    kind: np.ndarray
    start: np.ndarray
    cs_onset: np.ndarray
    us_onset: np.ndarray
    plastic: np.ndarray
    reward: np.ndarray
    cs_on: np.ndarray
    us_on: np.ndarray
    step: float
    trial_period: float

    @property
    def n_trials(self) -> int:
        return int(self.phase.shape[0])

    @property
    def duration(self) -> float:
        """Total protocol length in seconds."""
        return self.n_trials * self.trial_period

    def phase_slices(self) -> dict[str, slice]:
        """Return the trial range of every phase that has trials, in protocol order."""
        slices = {}
        for phase in Phase:
            index = np.flatnonzero(self.phase == phase.value)
            if index.size:
                slices[phase.value] = slice(int(index[0]), int(index[-1]) + 1)
        return slices


def build_schedule(config: ProtocolConfig, step, rng: np.random.Generator) -> Schedule:
    """Lay out the trials of ``config`` and the CS and US on/off switches at resolution ``step``.

    Parameters
    ----------
    config : ProtocolConfig
    step : Quantity (time)
        Resolution of the on/off switches; the simulation time step is a good choice.
        Onsets and durations are rounded to whole steps.
    rng : numpy.random.Generator
        Draws the trial order and US onsets of the unpaired control.
    """
    require_quantity("step", step, "time", positive=True)
    seconds = _seconds_of(config)
    step_s = float(step)
    period = seconds["trial_period"]

    # One row per trial: (phase, kind, cs offset in trial, us offset in trial, plastic, reward).
    rows = []
    rows += _probe_trials(Phase.PRETEST, config.n_pretest_trials, seconds)
    rows += _conditioning_trials(config, seconds, rng)
    rows += _probe_trials(Phase.POSTTEST, config.n_posttest_trials, seconds)
    rows += [
        (Phase.EXTINCTION, TrialKind.CS, seconds["cs_onset"], np.nan, 1.0, config.omission_reward)
    ] * config.n_extinction_trials
    if not rows:
        raise ConfigError("The protocol has no trials; set at least one of the n_*_trials counts above zero.")

    n_trials = len(rows)
    start = np.arange(n_trials) * period
    cs_offset = np.array([row[2] for row in rows], dtype=np.float64)
    us_offset = np.array([row[3] for row in rows], dtype=np.float64)

    # Switches: 1 on every step from onset (inclusive) to offset (exclusive).
    n_steps = int(round(n_trials * period / step_s))
    cs_on = _switches(start + cs_offset, seconds["cs_duration"], step_s, n_steps)
    us_on = _switches(start + us_offset, seconds["us_duration"], step_s, n_steps)

    return Schedule(
        phase=np.array([row[0].value for row in rows]),
        kind=np.array([row[1].value for row in rows]),
        start=start,
        cs_onset=start + cs_offset,
        us_onset=start + us_offset,
        plastic=np.array([row[4] for row in rows], dtype=np.float64),
        reward=np.array([row[5] for row in rows], dtype=np.float64),
        cs_on=cs_on,
        us_on=us_on,
        step=step_s,
        trial_period=period,
    )


def _seconds_of(config: ProtocolConfig) -> dict[str, float]:
    return {name: float(getattr(config, name)) for name in _TIME_FIELDS}


def _probe_trials(phase: Phase, n_trials: int, seconds: dict) -> list:
    onset = seconds["cs_onset"]
    rows = []
    for index in range(n_trials):
        if index % 2 == 0:
            rows.append((phase, TrialKind.CS, onset, np.nan, 0.0, 0.0))
        else:
            rows.append((phase, TrialKind.US, np.nan, onset, 0.0, 0.0))
    return rows


def _conditioning_trials(config: ProtocolConfig, seconds: dict, rng: np.random.Generator) -> list:
    onset = seconds["cs_onset"]
    n_trials = config.n_conditioning_trials
    if config.pairing is Pairing.PAIRED:
        return [(Phase.CONDITIONING, TrialKind.CS_US, onset, onset + seconds["isi"], 1.0, config.reward)] * n_trials

    # Unpaired control: US onsets uniform over the stimulus-free span after the baseline,
    # in trials of their own, shuffled with the CS-alone trials.
    latest_us_onset = seconds["trial_period"] - seconds["us_duration"]
    us_onsets = rng.uniform(onset, latest_us_onset, size=n_trials)
    rows = [(Phase.CONDITIONING, TrialKind.CS, onset, np.nan, 1.0, config.omission_reward)] * n_trials
    rows += [(Phase.CONDITIONING, TrialKind.US, np.nan, float(t), 1.0, config.reward) for t in us_onsets]
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def _switches(onsets: np.ndarray, duration: float, step: float, n_steps: int) -> np.ndarray:
    switches = np.zeros(n_steps, dtype=np.float64)
    for onset in onsets[np.isfinite(onsets)]:
        first = int(round(onset / step))
        last = int(round((onset + duration) / step))
        switches[first:min(last, n_steps)] = 1.0
    return switches
