"""Rescorla-Wagner conditioning sessions: many subjects per group, run in Numba.

On each learning trial, for every US u and every cue i present,

    ΔV_i = α_i β (λ − Σ_{j present} V_j)

with β = β⁺ (``beta_plus``) and λ = ``lambda_`` when u occurs on the trial, and
β = β⁻ (``beta_minus``) and λ = 0 when it does not. Recorded strengths are taken
**before** each trial's update, so entry n contains V after n trials; the values after
the last trial are stored separately as ``final``. Probe trials (``#``) record a
response and leave every V unchanged.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from assoc.conditioning import _kernels
from assoc.conditioning.design import DEFAULT_US, Design, Group, parse_design
from assoc.conditioning.results import ConditioningResult, GroupResult
from assoc.errors import ConfigError
from assoc.progress import ProgressCallback

logger = logging.getLogger(__name__)

#: Recording modes: V before every trial, or only the values after the last trial.
RECORD_MODES = ("trials", "final")

# Subjects per kernel call: progress is reported between calls.
_SUBJECTS_PER_CALL = 4096

# float64 values per staging buffer when recording float32 (128 MiB).
_STAGING_VALUES = 1 << 24

#: Default limit, in bytes, on the arrays that :func:`run_sessions` allocates (4 GiB).
DEFAULT_MAX_BYTES = 4 << 30

# Runs whose arrays reach this size (256 MiB) log their estimated memory first.
_LOG_BYTES = 256 << 20


@dataclass(frozen=True)
class RWParameters:
    """Rescorla-Wagner parameters, each a number for all or a mapping by name.

    Attributes
    ----------
    alpha : float or mapping of cue name to float
        Cue salience α, in [0, 1].
    beta_plus : float or mapping of US name to float
        US learning rate β⁺ on trials where the US occurs, in [0, 1].
    beta_minus : float or mapping of US name to float
        US learning rate β⁻ on trials where the US is absent, in [0, 1].
    lambda_ : float or mapping of US name to float
        Asymptote λ that the US supports.
    """

    alpha: float | Mapping[str, float] = 0.4
    beta_plus: float | Mapping[str, float] = 0.4
    beta_minus: float | Mapping[str, float] = 0.4
    lambda_: float | Mapping[str, float] = 1.0

    @classmethod
    def from_mapping(cls, values: Mapping) -> RWParameters:
        """Build parameters from a mapping such as a TOML ``[parameters]`` table."""
        values = dict(values)
        if "lambda" in values:
            values["lambda_"] = values.pop("lambda")
        unknown = sorted(set(values) - {"alpha", "beta_plus", "beta_minus", "lambda_"})
        if unknown:
            raise ConfigError(
                f"Unknown Rescorla-Wagner parameter(s) {', '.join(unknown)}; "
                "use alpha, beta_plus, beta_minus and lambda_."
            )
        return cls(**values)

    def resolve(self, cues: Sequence[str], us: Sequence[str]) -> dict[str, np.ndarray]:
        """Return float64 arrays ``alpha`` (n_cues,) and ``beta_plus``, ``beta_minus``, ``lambda_`` (n_us,)."""
        return {
            "alpha": _resolve("alpha", self.alpha, cues, "cue", low=0.0, high=1.0),
            "beta_plus": _resolve("beta_plus", self.beta_plus, us, "US", low=0.0, high=1.0),
            "beta_minus": _resolve("beta_minus", self.beta_minus, us, "US", low=0.0, high=1.0),
            "lambda_": _resolve("lambda_", self.lambda_, us, "US"),
        }

    def to_dict(self) -> dict:
        """Return the parameters as plain numbers and dicts (for JSON and TOML)."""

        def plain(value):
            return {str(k): float(v) for k, v in value.items()} if isinstance(value, Mapping) else float(value)

        return {
            "alpha": plain(self.alpha),
            "beta_plus": plain(self.beta_plus),
            "beta_minus": plain(self.beta_minus),
            "lambda_": plain(self.lambda_),
        }


def _resolve(name, value, names, kind, *, low=None, high=None) -> np.ndarray:
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ConfigError(
                f"{name} names {', '.join(map(repr, unknown))}, which is no {kind} of the design; "
                f"its {kind}s are {', '.join(names)}."
            )
        missing = [key for key in names if key not in value]
        if missing:
            raise ConfigError(f"{name} has no value for {kind}(s) {', '.join(missing)}; give one for each.")
        raw = [value[key] for key in names]
    else:
        raw = [value] * len(names)
    try:
        array = np.array(raw, dtype=np.float64).reshape(len(names))
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{name} must be a number or a mapping of names to numbers; got {value!r}.") from error
    for key, number in zip(names, array):
        if not math.isfinite(number):
            raise ConfigError(f"{name} for {kind} {key!r} is {number}; give a finite number.")
        if (low is not None and number < low) or (high is not None and number > high):
            raise ConfigError(f"{name} for {kind} {key!r} is {number}; it must lie in [{low}, {high}].")
    return array


# ----------------------------------------------------------------------------- trial plans


@dataclass(frozen=True)
class _GroupPlan:
    """A group's trials as arrays for the kernels."""

    trial_labels: tuple[str, ...]  # (n_types,) design syntax of each trial type
    trial_cues: tuple[tuple[str, ...], ...]
    base_order: np.ndarray  # (n_trials,) int32 trial types in unshuffled order
    phase: np.ndarray  # (n_trials,) int32 phase of each trial position
    phase_start: np.ndarray  # (n_phases,) int64
    phase_stop: np.ndarray  # (n_phases,) int64
    phase_shuffle: np.ndarray  # (n_phases,) bool
    type_cues: np.ndarray  # (n_types, max_cues) int64 cue indices, padded with 0
    type_cue_counts: np.ndarray  # (n_types, max_cues) float64 multiplicities, padded with 0
    type_n_cues: np.ndarray  # (n_types,) int64
    type_us: np.ndarray  # (n_types, n_us) bool
    type_learn: np.ndarray  # (n_types,) bool, False on probe trials


def _plan_group(group: Group, cues: Sequence[str], us: Sequence[str]) -> _GroupPlan:
    cue_index = {name: i for i, name in enumerate(cues)}
    us_index = {name: u for u, name in enumerate(us)}
    kinds = []  # (label, cue counts, us set, learn)
    type_counts, type_phase, starts, stops, shuffles = [], [], [], [], []
    n_trials = 0
    for phase_number, phase in enumerate(group.phases):
        starts.append(n_trials)
        for trial_type in phase.trial_types:
            counts = {cue_index[name]: 1.0 for name in trial_type.cues}
            us_present = np.zeros(len(us), dtype=np.bool_)
            for name in trial_type.us:
                us_present[us_index[name]] = True
            kinds.append((trial_type.label, trial_type.cues, counts, us_present, not trial_type.probe))
            type_counts.append(trial_type.count)
            type_phase.append(phase_number)
            n_trials += trial_type.count
        stops.append(n_trials)
        shuffles.append(phase.shuffle)
    # np.repeat builds the per-trial arrays without a Python list of one entry per trial.
    base_order = np.repeat(np.arange(len(kinds), dtype=np.int32), type_counts)
    phase_of_trial = np.repeat(np.asarray(type_phase, dtype=np.int32), type_counts)
    return _plan_from_kinds(kinds, base_order, phase_of_trial, starts, stops, shuffles, len(us))


def _plan_from_kinds(kinds, base_order, phase_of_trial, starts, stops, shuffles, n_us) -> _GroupPlan:
    max_cues = max([len(counts) for _, _, counts, _, _ in kinds] + [1])
    type_cues = np.zeros((len(kinds), max_cues), dtype=np.int64)
    type_cue_counts = np.zeros((len(kinds), max_cues), dtype=np.float64)
    type_n_cues = np.zeros(len(kinds), dtype=np.int64)
    type_us = np.zeros((len(kinds), n_us), dtype=np.bool_)
    type_learn = np.zeros(len(kinds), dtype=np.bool_)
    for k, (_, _, counts, us_present, learn) in enumerate(kinds):
        type_n_cues[k] = len(counts)
        for c, (index, count) in enumerate(counts.items()):
            type_cues[k, c] = index
            type_cue_counts[k, c] = count
        type_us[k] = us_present
        type_learn[k] = learn
    return _GroupPlan(
        trial_labels=tuple(label for label, *_ in kinds),
        trial_cues=tuple(names for _, names, *_ in kinds),
        base_order=np.asarray(base_order, dtype=np.int32),
        phase=np.asarray(phase_of_trial, dtype=np.int32),
        phase_start=np.asarray(starts, dtype=np.int64),
        phase_stop=np.asarray(stops, dtype=np.int64),
        phase_shuffle=np.asarray(shuffles, dtype=np.bool_),
        type_cues=type_cues,
        type_cue_counts=type_cue_counts,
        type_n_cues=type_n_cues,
        type_us=type_us,
        type_learn=type_learn,
    )


def subject_seeds(seed, n_groups: int, n_subjects: int) -> tuple[list[np.ndarray], int]:
    """Derive one 64-bit seed per subject and group from ``seed``.

    Returns a list of (n_subjects,) uint64 arrays, one per group, and the root
    entropy, which reproduces the run when passed back as ``seed``. Each group's
    seeds come from its own child of ``np.random.SeedSequence(seed)``.
    """
    sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    seeds = [child.generate_state(n_subjects, dtype=np.uint64) for child in sequence.spawn(n_groups)]
    return seeds, int(sequence.entropy)


# ----------------------------------------------------------------------------- public runner


def run_sessions(
    design: Design | str,
    parameters: RWParameters | Mapping | None = None,
    *,
    n_subjects: int = 1,
    seed: int | np.random.SeedSequence | None = None,
    embedding: Mapping[str, np.ndarray] | None = None,
    record: str = "trials",
    dtype=np.float64,
    progress: ProgressCallback | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ConditioningResult:
    """Run a conditioning experiment: ``n_subjects`` Rescorla-Wagner subjects per group.

    Parameters
    ----------
    design : Design or str
        The experiment, or design text for :func:`~assoc.conditioning.design.parse_design`.
    parameters : RWParameters or mapping, optional
        Defaults to ``RWParameters()`` (α = β⁺ = β⁻ = 0.4, λ = 1).
    n_subjects : int
        Subjects per group. Each gets its own trial order in shuffled (``!``) phases.
    seed : int, SeedSequence or None
        Root of ``np.random.SeedSequence``, from which every subject's seed derives.
        None draws fresh entropy, stored in the result as ``seed``.
    embedding : mapping of cue name to ndarray of shape (n_features,), optional
        Vector stimuli: V(x) = wᵀx with x the sum of the present cues' vectors,
        learned by the delta rule (see :mod:`assoc.conditioning.vector`). Then
        ``alpha`` must be one number, applied to every feature.
    record : {'trials', 'final'}
        Keep V of every cue before every trial, or only the values after the last trial.
    dtype : {np.float64, np.float32}
        Dtype of the recorded strengths; the kernels compute in float64 either way.
    progress : callable, optional
        ``progress(done, total)`` in subjects, summed over groups.
    max_bytes : int
        Limit on the memory of the arrays the run allocates, estimated from the
        design before anything is allocated (default 4 GiB). A larger run raises
        ConfigError; pass a higher limit, fewer subjects or ``record='final'``.

    Returns
    -------
    ConditioningResult
        Per group: ``strength`` of shape (n_subjects, n_trials, n_cues, n_us),
        ``final`` (n_subjects, n_cues, n_us) and ``trial_type`` (n_subjects, n_trials).

    Examples
    --------
    >>> result = run_sessions("Blocking: 10A+ | 10AB+ | 1#B", n_subjects=2, seed=0)
    >>> result.final_strength("Blocking").shape  # (subjects, cues)
    (2, 2)
    """
    if isinstance(design, str):
        design = parse_design(design)
    if parameters is None:
        parameters = RWParameters()
    elif isinstance(parameters, Mapping):
        parameters = RWParameters.from_mapping(parameters)
    _check_run_options(n_subjects, record, dtype, seed)
    cues, us = design.cues, design.us
    _check_memory(design, n_subjects, record, dtype, embedding, max_bytes)
    values = parameters.resolve(cues, us) if embedding is None else _resolve_vector_parameters(parameters, us)

    seeds, entropy = subject_seeds(seed, len(design.groups), n_subjects)
    total = n_subjects * len(design.groups)
    groups = {}
    for index, group in enumerate(design.groups):
        plan = _plan_group(group, cues, us)
        logger.debug("group %s: %d trials, %d trial types", group.name, plan.base_order.size, len(plan.trial_labels))
        if embedding is None:
            arrays = _run_discrete(plan, seeds[index], values, len(cues), len(us), record, dtype,
                                   progress, index * n_subjects, total)
        else:
            from assoc.conditioning.vector import run_vector_plan

            arrays = run_vector_plan(plan, seeds[index], values, embedding, cues, len(us), record, dtype)
            if progress is not None:
                progress((index + 1) * n_subjects, total)
        groups[group.name] = GroupResult(
            name=group.name,
            trial_labels=plan.trial_labels,
            trial_cues=plan.trial_cues,
            trial_us=tuple(tuple(name for u, name in enumerate(us) if plan.type_us[k, u])
                           for k in range(len(plan.trial_labels))),
            probe=~plan.type_learn,
            phase=plan.phase,
            **arrays,
        )
    return ConditioningResult(
        design=design,
        parameters=parameters,
        cues=cues,
        us=us,
        groups=groups,
        seed=entropy,
        embedding=None if embedding is None else {name: np.asarray(embedding[name], dtype=np.float64) for name in cues},
    )


def _check_run_options(n_subjects, record, dtype, seed) -> None:
    if isinstance(n_subjects, bool) or not isinstance(n_subjects, (int, np.integer)) or n_subjects < 1:
        raise ConfigError(f"n_subjects must be a positive integer; got {n_subjects!r}.")
    if isinstance(seed, (int, np.integer)) and seed < 0:
        raise ConfigError(f"seed must be a non-negative integer or None; got {seed}.")
    if record not in RECORD_MODES:
        raise ConfigError(f"record must be one of {', '.join(RECORD_MODES)}; got {record!r}.")
    if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ConfigError(f"dtype must be float32 or float64; got {np.dtype(dtype)}.")


def estimate_bytes(design: Design, n_subjects: int, *, record: str = "trials", dtype=np.float64,
                   n_features: int = 0) -> int:
    """Estimate the bytes of the arrays that :func:`run_sessions` allocates for ``design``.

    Counts, per group, the recorded strengths (n_subjects × n_trials × n_cues × n_us
    of ``dtype``), the int32 trial orders, the float64 final values, the per-trial
    plan arrays, and for vector stimuli (``n_features`` > 0) the float64 weights.
    A float32 recording adds its float64 buffer: the staging buffer for discrete
    cues, or one group's whole float64 recording for vector stimuli. The estimate
    leaves out copies made later, such as learning curves for plots.
    """
    n_cues, n_us = len(design.cues), len(design.us)
    itemsize = np.dtype(dtype).itemsize
    total = 0
    largest_recording = 0
    for group in design.groups:
        n_trials = group.n_trials
        recorded_trials = n_trials if record == "trials" else 0
        recorded_values = n_subjects * recorded_trials * n_cues * n_us
        largest_recording = max(largest_recording, recorded_values)
        total += recorded_values * itemsize  # strength
        total += n_subjects * n_trials * 4  # trial order, int32
        total += n_subjects * n_cues * n_us * 8  # final values
        total += n_trials * 2 * 4  # base order and phase of each trial, int32
        total += n_subjects * n_features * n_us * 8  # vector weights
    if itemsize != 8 and record == "trials":
        total += largest_recording * 8 if n_features else min(largest_recording, _STAGING_VALUES) * 8
    return total


def _check_memory(design, n_subjects, record, dtype, embedding, max_bytes) -> None:
    n_features = 0
    if embedding:
        n_features = max(int(np.asarray(vector).size) for vector in embedding.values())
    needed = estimate_bytes(design, n_subjects, record=record, dtype=dtype, n_features=n_features)
    if needed >= _LOG_BYTES:
        logger.info("allocating about %s of arrays for %d subject(s) per group", _format_bytes(needed), n_subjects)
    if needed > max_bytes:
        n_trials = max(group.n_trials for group in design.groups)
        raise ConfigError(
            f"The run needs about {_format_bytes(needed)} for {n_subjects} subject(s) x up to {n_trials} trials "
            f"x {len(design.cues)} cue(s) x {len(design.us)} US(s) in {len(design.groups)} group(s), "
            f"over the limit of {_format_bytes(max_bytes)}; use fewer trials or subjects, or pass "
            "record='final' or a higher max_bytes to run_sessions."
        )


def _format_bytes(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _resolve_vector_parameters(parameters: RWParameters, us) -> dict[str, np.ndarray]:
    if isinstance(parameters.alpha, Mapping):
        raise ConfigError(
            "With vector stimuli alpha must be one number for every feature; "
            "scale a cue's vector to change its salience."
        )
    return parameters.resolve((), us) | {"alpha": _resolve("alpha", parameters.alpha, ("all",), "cue", low=0, high=1)}


def _run_discrete(plan, seeds, values, n_cues, n_us, record, dtype, progress, done_before, total) -> dict:
    n_subjects, n_trials = seeds.shape[0], plan.base_order.shape[0]
    recorded_trials = n_trials if record == "trials" else 0
    strength = np.zeros((n_subjects, recorded_trials, n_cues, n_us), dtype=dtype)
    order = np.empty((n_subjects, n_trials), dtype=np.int32)
    final = np.empty((n_subjects, n_cues, n_us), dtype=np.float64)
    initial = np.zeros((n_cues, n_us), dtype=np.float64)

    # The kernel always records float64, so it is compiled once. A float32 result is
    # recorded through a float64 staging buffer of at most _STAGING_VALUES values.
    subjects_per_call = _SUBJECTS_PER_CALL
    staged = strength.dtype != np.float64 and recorded_trials > 0
    if staged:
        subjects_per_call = max(1, min(subjects_per_call, _STAGING_VALUES // (recorded_trials * n_cues * n_us or 1)))
        buffer = np.empty((subjects_per_call, recorded_trials, n_cues, n_us))

    for start in range(0, n_subjects, subjects_per_call):
        stop = min(start + subjects_per_call, n_subjects)
        if recorded_trials == 0:
            target = np.zeros((stop - start, 0, n_cues, n_us))
        elif staged:
            target = buffer[: stop - start]
        else:
            target = strength[start:stop]
        _kernels.run_discrete_sessions(
            plan.base_order, plan.phase_start, plan.phase_stop, plan.phase_shuffle, seeds[start:stop],
            plan.type_cues, plan.type_cue_counts, plan.type_n_cues, plan.type_us, plan.type_learn,
            values["alpha"], values["beta_plus"], values["beta_minus"], values["lambda_"], initial,
            target, order[start:stop], final[start:stop],
        )  # fmt: skip
        if staged:
            strength[start:stop] = target
        if progress is not None:
            progress(done_before + stop, total)
    return {"strength": strength if record == "trials" else None, "final": final, "trial_type": order}


# ----------------------------------------------------------------------------- event streams


def run_events(
    events: Sequence[tuple[Sequence[str], Sequence[str]]],
    parameters: RWParameters | Mapping | None = None,
    *,
    cues: Sequence[str] | None = None,
    outcomes: Sequence[str] | None = None,
) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """Learn one subject's stream of cue-outcome events in the given order.

    This is the event-file form of the rule that pyndl and the R package ndl2 use.
    Every outcome is updated on every event, towards λ when present and towards 0
    when absent. A cue listed twice in an event counts twice, in the prediction and
    in the update.

    Parameters
    ----------
    events : sequence of (cues, outcomes) pairs
        Each a sequence of names, for example ``(["a", "b"], ["A"])``.
    parameters : RWParameters or mapping, optional
        ``alpha`` by cue, ``beta_plus``/``beta_minus``/``lambda_`` by outcome.
    cues, outcomes : sequence of str, optional
        Row and column order of the result; by default the order of first appearance.

    Returns
    -------
    weights : ndarray of shape (n_cues, n_outcomes)
    cues, outcomes : tuple of str
    """
    if parameters is None:
        parameters = RWParameters()
    elif isinstance(parameters, Mapping):
        parameters = RWParameters.from_mapping(parameters)
    if not events:
        raise ConfigError("events is empty; pass at least one (cues, outcomes) pair.")
    seen_cues = dict.fromkeys(name for event_cues, _ in events for name in event_cues)
    seen_outcomes = dict.fromkeys(name for _, event_outcomes in events for name in event_outcomes)
    cues = tuple(seen_cues) if cues is None else tuple(cues)
    outcomes = tuple(seen_outcomes) if outcomes is None else tuple(outcomes)
    for kind, seen, given in (("cue", seen_cues, cues), ("outcome", seen_outcomes, outcomes)):
        missing = [name for name in seen if name not in set(given)]
        if missing:
            raise ConfigError(f"events contain {kind}(s) {', '.join(missing[:5])} missing from {kind}s=.")
    values = parameters.resolve(cues, outcomes)

    # Identical events share one trial type, which keeps the kernel's type table short.
    cue_index = {name: i for i, name in enumerate(cues)}
    outcome_index = {name: u for u, name in enumerate(outcomes)}
    kind_of_event: dict[tuple, int] = {}
    kinds, base_order = [], []
    for event_cues, event_outcomes in events:
        key = (tuple(event_cues), tuple(event_outcomes))
        if key not in kind_of_event:
            counts: dict[int, float] = {}
            for name in event_cues:
                counts[cue_index[name]] = counts.get(cue_index[name], 0.0) + 1.0
            present = np.zeros(len(outcomes), dtype=np.bool_)
            for name in event_outcomes:
                present[outcome_index[name]] = True
            kind_of_event[key] = len(kinds)
            kinds.append(("", tuple(event_cues), counts, present, True))
        base_order.append(kind_of_event[key])
    plan = _plan_from_kinds(kinds, base_order, [0] * len(base_order), [0], [len(base_order)], [False], len(outcomes))
    arrays = _run_discrete(plan, np.zeros(1, dtype=np.uint64), values, len(cues), len(outcomes), "final",
                           np.float64, None, 0, 1)  # fmt: skip
    return arrays["final"][0], cues, outcomes


__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_US",
    "RECORD_MODES",
    "RWParameters",
    "estimate_bytes",
    "run_events",
    "run_sessions",
    "subject_seeds",
]
