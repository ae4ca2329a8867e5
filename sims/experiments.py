"""The registry of experiment kinds: binding, conditioning and spiking-conditioning.

Each kind is an :class:`ExperimentKind`, a record of the functions that load,
validate, write, run and read back that kind's configs and run files. The command
line and ``sims.sweep`` go through it, so they treat every kind alike. A config
file's ``kind`` key selects the kind (binding when absent). The modules of each
kind are imported when the kind is first requested, so importing this module is
cheap.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assoc.errors import ConfigError, DataError, DataNotFoundError


# ---------------------------------------------------------------------------
# Experiment kinds
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExperimentKind:
    """How to load, override, run and read one kind of experiment.

    Attributes
    ----------
    name : str
        The kind, also the value of a config file's ``kind`` key.
    builtin : str
        The built-in experiment name of this kind.
    load : callable
        ``load(name_or_path, quick=, dataset=)`` returns a validated config.
    from_dict : callable
        ``from_dict(data, source=, quick=)`` validates parsed TOML.
    to_toml : callable
        ``to_toml(config)`` returns TOML text that ``parse`` reads back.
    parse : callable
        ``parse(text, quick=)`` returns a config.
    run : callable
        ``run(config, seed=, out=, resume=, overwrite=, progress_factory=, splits=)``.
    is_complete : callable
        ``is_complete(path)``: whether the run file contains a finished run.
    final_metrics : callable
        ``final_metrics(path)`` returns ``{learner: {metric: value}}``.
    curves : callable
        ``curves(path)`` returns ``{learner: {metric: (x, y)}}``.
    x_label : str
        What the curves' x axis counts.
    """

    name: str
    builtin: str
    load: Callable
    from_dict: Callable
    to_toml: Callable
    parse: Callable
    run: Callable
    is_complete: Callable
    final_metrics: Callable
    curves: Callable
    x_label: str


def _binding_kind() -> ExperimentKind:
    from sims.config import config_from_dict, config_to_toml, load_config, parse_config

    def run(config, **kwargs):
        from sims.runner import run_experiment

        return run_experiment(config, **kwargs)

    return ExperimentKind(
        name="binding",
        builtin="binding",
        load=load_config,
        from_dict=config_from_dict,
        to_toml=config_to_toml,
        parse=lambda text, quick=False: parse_config(text, quick=quick),
        run=run,
        is_complete=run_file_finished,
        final_metrics=run_file_final_metrics,
        curves=run_file_curves,
        x_label="pairs seen",
    )


def _conditioning_kind() -> ExperimentKind:
    from sims import conditioning

    return ExperimentKind(
        name=conditioning.KIND,
        builtin="conditioning",
        load=conditioning.load_conditioning_config,
        from_dict=conditioning.conditioning_config_from_dict,
        to_toml=conditioning.conditioning_config_to_toml,
        parse=lambda text, quick=False: conditioning.parse_conditioning_config(text, quick=quick),
        run=conditioning.run_conditioning_experiment,
        is_complete=run_file_finished,
        final_metrics=run_file_final_metrics,
        curves=run_file_curves,
        x_label="trial",
    )


def _spiking_kind() -> ExperimentKind:
    from sims import spiking

    return ExperimentKind(
        name=spiking.KIND,
        builtin=spiking.KIND,
        load=spiking.load_spiking_config,
        from_dict=spiking.spiking_config_from_dict,
        to_toml=spiking.spiking_config_to_toml,
        parse=lambda text, quick=False: spiking.parse_spiking_config(text, quick=quick),
        run=spiking.run_spiking_experiment,
        is_complete=spiking.run_is_complete,
        final_metrics=spiking.final_metrics,
        curves=spiking.curves,
        x_label="time (s)",
    )


_KIND_FACTORIES = {"binding": _binding_kind, "conditioning": _conditioning_kind, "spiking-conditioning": _spiking_kind}


def experiment_kind(name: str) -> ExperimentKind:
    """Return the :class:`ExperimentKind` called ``name``."""
    if name not in _KIND_FACTORIES:
        raise ConfigError(f"Unknown experiment kind {name!r}; choose one of {', '.join(_KIND_FACTORIES)}.")
    return _KIND_FACTORIES[name]()


def resolve_experiment(name_or_path: str | Path) -> ExperimentKind:
    """Return the kind of a built-in name or a TOML file (its ``kind`` key; binding when absent)."""
    text = str(name_or_path)
    looks_like_path = isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text or "\\" in text
    if not looks_like_path and text in _KIND_FACTORIES:
        return experiment_kind(text)
    path = Path(name_or_path)
    if not path.is_file():
        if looks_like_path:
            raise DataNotFoundError(f"Config file {path} not found; check the path.")
        from sims.config import suggest_choice

        raise ConfigError(
            f"Unknown experiment {text!r}{suggest_choice(text, _KIND_FACTORIES)} "
            f"Pass one of {', '.join(_KIND_FACTORIES)} or the path of a TOML file (assoc list shows them)."
        )
    try:
        kind = tomllib.loads(path.read_text(encoding="utf-8")).get("kind", "binding")
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"Invalid TOML in {path}: {error}.") from None
    return experiment_kind(str(kind))


def builtin_descriptions() -> dict[str, str]:
    """Return the name and description of every built-in experiment of every kind, for ``assoc list``."""
    return {name: experiment_kind(name).load(name).description for name in _KIND_FACTORIES}


def load_experiment(name_or_path: str | Path, *, quick: bool = False, dataset: str | None = None):
    """Return (kind, validated config) for a built-in name or a TOML file of any kind."""
    kind = resolve_experiment(name_or_path)
    return kind, kind.load(name_or_path, quick=quick, dataset=dataset)


# ---------------------------------------------------------------------------
# Reading run files written by sims.runfile
# ---------------------------------------------------------------------------


def run_file_finished(path: str | Path) -> bool:
    """Return whether a run file written with ``sims.runfile`` has its ``run`` stage's ``finished`` log row."""
    from sims.runfile import RunReader

    path = Path(path)
    if not path.is_file():
        return False
    try:
        with RunReader(path) as reader:
            rows = reader.log()
    except (OSError, KeyError, DataError):
        return False
    for row in rows:
        stage, message = (_text(row[field]) for field in ("stage", "message"))
        if stage == "run" and message.startswith("finished"):
            return True
    return False


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def run_file_final_metrics(path: str | Path) -> dict[str, dict[str, float]]:
    """Return each learner's metrics at its last checkpoint."""
    from sims.runfile import RunReader

    with RunReader(path) as reader:
        return {name: {key: float(values[-1]) for key, values in reader.metrics(name).items()} for name in reader.learners()}


def run_file_curves(path: str | Path) -> dict[str, dict[str, tuple]]:
    """Return ``{learner: {metric: (pairs_seen, values)}}``."""
    from sims.runfile import RunReader

    with RunReader(path) as reader:
        curves = {}
        for name in reader.learners():
            pairs = reader.pairs_seen(name).astype(np.float64)
            curves[name] = {key: (pairs, values) for key, values in reader.metrics(name).items()}
        return curves
