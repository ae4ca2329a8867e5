"""The spiking conditioning protocol as an experiment: a TOML config with seeds, run into one file.

A config contains ``kind = "spiking-conditioning"``, ``name``, ``description``,
``seeds`` and an optional ``[quick]`` table. Every other key goes to
``SpikingConfig.from_mapping`` as it is: ``[network]``, ``[protocol]``, ``target``,
``code_dim``, ``alpha`` and ``rate_bin``, with times and rates as strings such as
``"20 ms"``. :func:`run_spiking_experiment` calls
``assoc.spiking.experiment.run_spiking_conditioning`` and writes its run file under a
temporary name, renamed when complete, so a file at the final path is always a finished
run. The layout is the spiking model's own (see ``write_run_file``), not the binding
runner's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assoc.errors import ConfigError, DataNotFoundError
from sims.config import deep_merge, format_toml_key, format_toml_value, warn_without_quick_table

KIND = "spiking-conditioning"

SPIKING_TOML = """\
kind = "spiking-conditioning"
name = "spiking-conditioning"
description = "Two LIF populations with STDP cross synapses: CS-alone, CS-US pairings, CS-alone, extinction"
seeds = [0]
target = "numpy"
code_dim = 64

[network]
n_neurons = 100

[protocol]
n_pretest_trials = 20
n_conditioning_trials = 30
n_posttest_trials = 20
n_extinction_trials = 20

[quick.network]
n_neurons = 30

[quick.protocol]
n_pretest_trials = 4
n_conditioning_trials = 6
n_posttest_trials = 4
n_extinction_trials = 4
block_trials = 2
"""

_OWN_KEYS = ("kind", "name", "description", "seeds")


@dataclass(frozen=True)
class SpikingExperimentConfig:
    """A spiking conditioning experiment: seeds plus the settings of ``SpikingConfig``.

    Attributes
    ----------
    name, description : str
    seeds : tuple of int
    settings : dict
        Plain values for ``SpikingConfig.from_mapping``; validated when the config is built.
    quick : bool
    """

    name: str
    description: str = ""
    seeds: tuple[int, ...] = (0,)
    settings: dict = dataclasses.field(default_factory=dict)
    quick: bool = False

    kind = KIND

    def spiking_config(self):
        """Return the validated ``SpikingConfig`` of these settings."""
        from assoc.spiking.experiment import SpikingConfig

        return SpikingConfig.from_mapping(_copy(self.settings))


def _copy(value):
    if isinstance(value, Mapping):
        return {key: _copy(item) for key, item in value.items()}
    return value


def load_spiking_config(name_or_path: str | Path = KIND, *, quick: bool = False, dataset: str | None = None):
    """Load the built-in ``spiking-conditioning`` config or a TOML file of the same form.

    ``dataset`` is accepted for a uniform signature and must be None, because the
    protocol draws its own codes.
    """
    if dataset is not None:
        raise ConfigError(f"The spiking experiment reads no dataset; got dataset={dataset!r}. Leave --dataset out.")
    text = str(name_or_path)
    if text == KIND and not Path(text).is_file():
        return parse_spiking_config(SPIKING_TOML, quick=quick, source=f"built-in experiment {KIND!r}")
    path = Path(name_or_path)
    if not path.is_file():
        raise DataNotFoundError(f"Config file {path} not found; check the path.")
    text = path.read_text(encoding="utf-8")
    if quick:
        warn_without_quick_table(text, path)
    return parse_spiking_config(text, quick=quick, source=str(path))


def parse_spiking_config(text: str, *, quick: bool = False, source: str = "config") -> SpikingExperimentConfig:
    """Parse and validate a spiking experiment config; ``[quick]`` replaces keys when ``quick`` is set."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"Invalid TOML in {source}: {error}.") from None
    quick_table = data.pop("quick", {})
    if not isinstance(quick_table, dict):
        raise ConfigError(f"Key 'quick' in {source} must be a table; got {quick_table!r}.")
    full = spiking_config_from_dict(data, source=source)
    shrunk = spiking_config_from_dict(deep_merge(data, quick_table), source=f"{source} with [quick]", quick=True)
    return shrunk if quick else full


def spiking_config_from_dict(data: Mapping[str, Any], *, source: str = "config", quick: bool = False):
    """Build and validate a :class:`SpikingExperimentConfig` from parsed TOML."""
    data = dict(data)
    kind = data.pop("kind", KIND)
    if kind != KIND:
        raise ConfigError(f"Key 'kind' in {source} is {kind!r}; a spiking config needs kind = {KIND!r}.")
    if "name" not in data:
        raise ConfigError(f"Missing key 'name' in {source}.")
    name, description = data.pop("name"), data.pop("description", "")
    seeds = data.pop("seeds", [0])
    if not isinstance(seeds, list) or not seeds:
        raise ConfigError(f"Key 'seeds' in {source} must be a non-empty list; got {seeds!r}.")
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"Key 'seeds' in {source} must list non-negative integers; got {seed!r}.")
    config = SpikingExperimentConfig(name=str(name), description=str(description), seeds=tuple(seeds), settings=data, quick=quick)
    try:
        config.spiking_config()
    except ConfigError as error:
        raise ConfigError(f"Invalid spiking settings in {source}: {error}") from None
    except TypeError as error:
        raise ConfigError(f"Invalid spiking settings in {source}: {error}.") from None
    return config


def spiking_config_to_toml(config: SpikingExperimentConfig) -> str:
    """Return TOML text of the settings ``config`` runs with (no ``[quick]`` table)."""
    lines = [f"kind = {format_toml_value(KIND)}", f"name = {format_toml_value(config.name)}"]
    lines.append(f"description = {format_toml_value(config.description)}")
    lines.append(f"seeds = {format_toml_value(list(config.seeds))}")
    tables = {}
    for key, value in config.settings.items():
        if isinstance(value, Mapping):
            tables[key] = value
        else:
            lines.append(f"{format_toml_key(key)} = {format_toml_value(value)}")
    for key, table in tables.items():
        lines += ["", f"[{format_toml_key(key)}]"]
        lines += [f"{format_toml_key(name)} = {format_toml_value(value)}" for name, value in table.items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SpikingRunResult:
    """Outcome of :func:`run_spiking_experiment`: the run file and its final readouts."""

    path: Path
    final_metrics: dict


def run_spiking_experiment(
    config: SpikingExperimentConfig,
    *,
    seed: int | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress_factory=None,
    splits=None,
) -> SpikingRunResult:
    """Run one seed of the spiking protocol into ``out`` (default ``runs/<name>[-quick]-seed<seed>.h5``).

    ``resume`` returns a finished file unchanged and otherwise runs from the start, since
    the protocol runs in one piece. Without ``resume`` an existing file raises
    ConfigError, unless ``overwrite`` is set: then the file is deleted before the run
    starts. ``splits`` must be None.
    """
    from assoc.spiking.experiment import run_spiking_conditioning

    if splits is not None:
        raise ConfigError("The spiking experiment reads no dataset; pass splits=None.")
    seed = config.seeds[0] if seed is None else seed
    suffix = "-quick" if config.quick else ""
    path = Path(out) if out is not None else Path("runs") / f"{config.name}{suffix}-seed{seed}.h5"
    if path.exists() and resume:
        from sims.runfile import check_run_file_kind

        check_run_file_kind(path, KIND)
        return SpikingRunResult(path=path, final_metrics=final_metrics(path))
    if path.exists():
        if not overwrite:
            raise ConfigError(
                f"Run file {path} already exists; pass --resume to keep it, --overwrite to replace it "
                "or --out to write elsewhere."
            )
        path.unlink()

    progress_factory = progress_factory or _no_progress
    partial = path.with_name(path.name + ".partial")
    partial.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with progress_factory("spiking protocol", "trial") as progress:
        run_spiking_conditioning(config.spiking_config(), partial, seed=seed, progress=progress)
    _record_config(partial, spiking_config_to_toml(config), time.perf_counter() - started)
    os.replace(partial, path)
    return SpikingRunResult(path=path, final_metrics=final_metrics(path))


@contextlib.contextmanager
def _no_progress(description: str, unit: str = "it"):
    yield None


def _record_config(path: Path, config_text: str, seconds: float) -> None:
    import h5py

    with h5py.File(path, "r+") as handle:
        handle.attrs["kind"] = KIND
        handle.attrs["config"] = config_text
        handle.attrs["wall_seconds"] = float(seconds)


def run_is_complete(path: str | Path) -> bool:
    """Return whether ``path`` exists; files are renamed into place only when finished."""
    return Path(path).is_file()


def final_metrics(path: str | Path) -> dict[str, dict[str, float]]:
    """Return ``{'spiking': {'<phase>_<readout>': value}}`` from a spiking run file's phase readouts."""
    import h5py

    metrics = {}
    with h5py.File(path, "r") as handle:
        for phase, group in handle["readouts"].items():
            if phase == "protocol":
                continue
            for key, value in group.attrs.items():
                metrics[f"{phase}_{key}"] = float(value)
        if "wall_seconds" in handle.attrs:
            metrics["wall_seconds"] = float(handle.attrs["wall_seconds"])
    return {"spiking": metrics}


def curves(path: str | Path) -> dict[str, dict[str, tuple]]:
    """Return ``{'spiking': {'cs_fraction_<population>': (block_time_s, values)}}``."""
    import h5py
    import numpy as np

    series = {}
    with h5py.File(path, "r") as handle:
        protocol = handle["readouts/protocol"]
        time_axis = np.asarray(protocol["block_time"])
        for key in protocol:
            if key.startswith("cs_fraction_"):
                series[key] = (time_axis, np.asarray(protocol[key], dtype=np.float64))
    return {"spiking": series}
