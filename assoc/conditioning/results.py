"""Results of conditioning sessions: arrays, a tidy table and HDF5 files.

Every strength array contains V **before** the trial's update: ``strength[s, n]`` is
subject s's V after n trials. ``final`` contains V after the last trial, so
``learning_curve`` (strength followed by final) has n_trials + 1 points.

HDF5 layout written by :meth:`ConditioningResult.to_hdf5`::

    /                      attrs: design (text), us_names, parameters (JSON), seed,
                           n_subjects, recorded ("before each trial's update"), assoc_version
    /cues, /us             names, in array order
    /embedding             (n_cues, n_features), only for vector stimuli
    /groups/<name>/        attrs: name
        strength           (n_subjects, n_trials, n_cues, n_us), absent when only final values were kept
        final              (n_subjects, n_cues, n_us)
        trial_type         (n_subjects, n_trials) int32, index into trial_labels
        trial_labels       (n_types,) design syntax of each trial type, e.g. "#AB(US)"
        probe              (n_types,) bool
        phase              (n_trials,) int32, phase of each trial position
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assoc.errors import ConfigError, DataError, DataNotFoundError

if TYPE_CHECKING:
    from assoc.conditioning.design import Design
    from assoc.conditioning.engine import RWParameters

RECORDED = "before each trial's update"


@dataclass
class GroupResult:
    """The subjects of one group.

    Attributes
    ----------
    name : str
    strength : ndarray of shape (n_subjects, n_trials, n_cues, n_us) or None
        V before each trial's update; None when only final values were kept.
    final : ndarray of shape (n_subjects, n_cues, n_us)
        V after the last trial.
    trial_type : ndarray of shape (n_subjects, n_trials), int32
        Index into ``trial_labels`` of the trial each subject had at each position.
    trial_labels : tuple of str
        Design syntax of each trial type, for example ``#AB(US)``.
    trial_cues, trial_us : tuple of tuple of str
        Cues and USs of each trial type.
    probe : ndarray of shape (n_types,), bool
    phase : ndarray of shape (n_trials,), int32
        Phase of each trial position (shuffling stays inside a phase).
    """

    name: str
    strength: np.ndarray | None
    final: np.ndarray
    trial_type: np.ndarray
    trial_labels: tuple[str, ...]
    trial_cues: tuple[tuple[str, ...], ...]
    trial_us: tuple[tuple[str, ...], ...]
    probe: np.ndarray
    phase: np.ndarray

    @property
    def n_subjects(self) -> int:
        return int(self.final.shape[0])

    @property
    def n_trials(self) -> int:
        return int(self.trial_type.shape[1])


@dataclass
class ConditioningResult:
    """Everything a conditioning experiment produced, group by group.

    Attributes
    ----------
    design : Design
    parameters : RWParameters
    cues, us : tuple of str
        Names along the cue and US axes of every array.
    groups : dict of str to GroupResult
    seed : int
        Root entropy of the subjects' seeds; ``run_sessions(..., seed=seed)`` repeats the run.
    embedding : dict of str to ndarray, or None
        Cue vectors of a vector-stimulus run.
    """

    design: Design
    parameters: RWParameters
    cues: tuple[str, ...]
    us: tuple[str, ...]
    groups: dict[str, GroupResult]
    seed: int
    embedding: dict[str, np.ndarray] | None = None

    # ------------------------------------------------------------------ arrays

    def group(self, name: str) -> GroupResult:
        """Return the result of group ``name``."""
        if name not in self.groups:
            raise ConfigError(f"No group {name!r} in the result; its groups are {', '.join(self.groups)}.")
        return self.groups[name]

    def _us_index(self, us: str | None) -> int:
        if us is None:
            return 0
        if us not in self.us:
            raise ConfigError(f"No US {us!r} in the result; its USs are {', '.join(self.us)}.")
        return self.us.index(us)

    def strength(self, group: str, us: str | None = None) -> np.ndarray:
        """Return V before each trial, (n_subjects, n_trials, n_cues), for one US (default: the first)."""
        result = self.group(group)
        if result.strength is None:
            raise ConfigError("Only final values were recorded; run with record='trials' to keep every trial.")
        return result.strength[:, :, :, self._us_index(us)]

    def final_strength(self, group: str, us: str | None = None) -> np.ndarray:
        """Return V after the last trial, (n_subjects, n_cues), for one US (default: the first)."""
        return self.group(group).final[:, :, self._us_index(us)]

    def learning_curve(self, group: str, us: str | None = None) -> np.ndarray:
        """Return V after 0, 1, …, n_trials trials, (n_subjects, n_trials + 1, n_cues)."""
        before = self.strength(group, us)
        after = self.final_strength(group, us)[:, None, :].astype(before.dtype)
        return np.concatenate([before, after], axis=1)

    def response(self, group: str, us: str | None = None) -> np.ndarray:
        """Return each trial's prediction Σ_{present} V before its update, (n_subjects, n_trials).

        This is the conditioned response of the trial, including on probe trials.
        """
        result = self.group(group)
        present = self._presence(result)[result.trial_type]  # (n_subjects, n_trials, n_cues)
        return np.einsum("stc,stc->st", present, self.strength(group, us), dtype=np.float64)

    def _presence(self, result: GroupResult) -> np.ndarray:
        present = np.zeros((len(result.trial_labels), len(self.cues)))
        for k, names in enumerate(result.trial_cues):
            for name in names:
                present[k, self.cues.index(name)] += 1.0
        return present

    def phase_boundaries(self, group: str) -> np.ndarray:
        """Return the number of trials completed at the start of each phase after the first."""
        phase = self.group(group).phase
        return np.flatnonzero(np.diff(phase) != 0) + 1

    # ------------------------------------------------------------------ tables

    def summary(self) -> list[dict]:
        """Return one row per group, cue and US: mean and SD across subjects of the final V.

        A group's rows cover only the cues that occur in its own trials, because a
        cue the group never meets keeps V = 0.
        """
        rows = []
        for name, result in self.groups.items():
            used = {cue for names in result.trial_cues for cue in names}
            for i, cue in enumerate(self.cues):
                if cue not in used:
                    continue
                for u, us in enumerate(self.us):
                    values = result.final[:, i, u]
                    rows.append(
                        {
                            "group": name,
                            "cue": cue,
                            "us": us,
                            "mean": float(values.mean()),
                            "sd": float(values.std(ddof=1)) if values.size > 1 else 0.0,
                            "n_subjects": int(values.size),
                        }
                    )
        return rows

    def tidy(self, *, present_only: bool = False) -> np.ndarray:
        """Return a structured array with one row per group, subject, trial, cue and US.

        Fields: ``group``, ``subject``, ``trial`` (0-based position), ``phase``,
        ``trial_type`` (design syntax), ``probe``, ``cue``, ``us``, ``present`` (the
        cue occurs on the trial) and ``strength`` (V before the trial's update).
        With ``present_only`` the table keeps only cues present on their trial.
        The table has n_subjects × n_trials × n_cues × n_us rows per group, so keep
        it for small runs and use the arrays for large ones.
        """
        group_width = max(len(name) for name in self.groups)
        label_width = max(len(label) for r in self.groups.values() for label in r.trial_labels)
        cue_width = max([len(name) for name in self.cues] + [1])
        us_width = max(len(name) for name in self.us)
        dtype = np.dtype(
            [
                ("group", f"U{group_width}"),
                ("subject", np.int32),
                ("trial", np.int32),
                ("phase", np.int32),
                ("trial_type", f"U{label_width}"),
                ("probe", np.bool_),
                ("cue", f"U{cue_width}"),
                ("us", f"U{us_width}"),
                ("present", np.bool_),
                ("strength", np.float64),
            ]
        )
        tables = []
        for name, result in self.groups.items():
            if result.strength is None:
                raise ConfigError("Only final values were recorded; run with record='trials' for a tidy table.")
            n_subjects, n_trials, n_cues, n_us = result.strength.shape
            subject, trial, cue, us = np.meshgrid(
                np.arange(n_subjects), np.arange(n_trials), np.arange(n_cues), np.arange(n_us), indexing="ij"
            )
            kind = result.trial_type[subject, trial]
            present = self._presence(result)[kind, cue] > 0
            table = np.empty(subject.size, dtype=dtype)
            table["group"] = name
            table["subject"] = subject.ravel()
            table["trial"] = trial.ravel()
            table["phase"] = result.phase[trial].ravel()
            table["trial_type"] = np.asarray(result.trial_labels)[kind].ravel()
            table["probe"] = result.probe[kind].ravel()
            table["cue"] = np.asarray(self.cues)[cue].ravel()
            table["us"] = np.asarray(self.us)[us].ravel()
            table["present"] = present.ravel()
            table["strength"] = result.strength.ravel()
            tables.append(table[table["present"]] if present_only else table)
        return np.concatenate(tables)

    def design_table(self) -> tuple[dict[str, list[str]], dict[str, list[int]]]:
        """Return each group's phases in design syntax and their trial counts."""
        phases = {group.name: [phase.to_text() for phase in group.phases] for group in self.design.groups}
        counts = {group.name: [phase.n_trials for phase in group.phases] for group in self.design.groups}
        return phases, counts

    # ------------------------------------------------------------------ files

    def to_hdf5(self, path: str | Path) -> Path:
        """Write the result to an HDF5 file (layout in this module's docstring)."""
        import h5py

        from assoc import __version__

        path = Path(path)
        with h5py.File(path, "w") as file:
            file.attrs["design"] = self.design.to_text()
            file.attrs["us_names"] = json.dumps(list(self.design.us_names))
            file.attrs["parameters"] = json.dumps(self.parameters.to_dict())
            file.attrs["seed"] = str(self.seed)
            file.attrs["n_subjects"] = next(iter(self.groups.values())).n_subjects
            file.attrs["recorded"] = RECORDED
            file.attrs["assoc_version"] = __version__
            file.create_dataset("cues", data=np.asarray(self.cues, dtype=object), dtype=h5py.string_dtype())
            file.create_dataset("us", data=np.asarray(self.us, dtype=object), dtype=h5py.string_dtype())
            if self.embedding is not None:
                file.create_dataset("embedding", data=np.stack([self.embedding[name] for name in self.cues]))
            for name, result in self.groups.items():
                node = file.create_group(f"groups/{name}")
                node.attrs["name"] = name
                if result.strength is not None:
                    node.create_dataset("strength", data=result.strength, compression="gzip", shuffle=True)
                node.create_dataset("final", data=result.final)
                node.create_dataset("trial_type", data=result.trial_type, compression="gzip")
                node.create_dataset(
                    "trial_labels", data=np.asarray(result.trial_labels, dtype=object), dtype=h5py.string_dtype()
                )
                node.create_dataset("probe", data=result.probe)
                node.create_dataset("phase", data=result.phase)
        return path

    @classmethod
    def from_hdf5(cls, path: str | Path) -> ConditioningResult:
        """Read a result written by :meth:`to_hdf5`."""
        import h5py

        from assoc.conditioning.design import parse_design
        from assoc.conditioning.engine import RWParameters

        path = Path(path)
        if not path.is_file():
            raise DataNotFoundError(f"Result file {str(path)!r} not found; check the path.")
        try:
            with h5py.File(path, "r") as file:
                us_names = json.loads(file.attrs["us_names"])
                design = parse_design(str(file.attrs["design"]), us=us_names or None)
                parameters = RWParameters.from_mapping(json.loads(file.attrs["parameters"]))
                cues = tuple(name.decode() if isinstance(name, bytes) else name for name in file["cues"][...])
                us = tuple(name.decode() if isinstance(name, bytes) else name for name in file["us"][...])
                embedding = None
                if "embedding" in file:
                    embedding = dict(zip(cues, file["embedding"][...]))
                groups = {}
                for node in file["groups"].values():
                    labels = tuple(label.decode() for label in node["trial_labels"][...])
                    group = design.group(str(node.attrs["name"]))
                    types = [t for phase in group.phases for t in phase.trial_types]
                    groups[group.name] = GroupResult(
                        name=group.name,
                        strength=node["strength"][...] if "strength" in node else None,
                        final=node["final"][...],
                        trial_type=node["trial_type"][...],
                        trial_labels=labels,
                        trial_cues=tuple(t.cues for t in types),
                        trial_us=tuple(t.us for t in types),
                        probe=node["probe"][...],
                        phase=node["phase"][...],
                    )
                seed = int(file.attrs["seed"])
        except (KeyError, OSError) as error:
            raise DataError(f"{path} is not a conditioning result file: {error}.") from error
        # Keep the design's group order, which the file's alphabetical group listing loses.
        ordered = {group.name: groups[group.name] for group in design.groups}
        return cls(design=design, parameters=parameters, cues=cues, us=us, groups=ordered, seed=seed,
                   embedding=embedding)  # fmt: skip


def format_summary(rows: list[dict]) -> str:
    """Format :meth:`ConditioningResult.summary` rows as an aligned text table."""
    header = ("group", "cue", "US", "mean V", "SD", "subjects")
    body = [(r["group"], r["cue"], r["us"], f"{r['mean']:.4f}", f"{r['sd']:.4f}", str(r["n_subjects"])) for r in rows]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = []
    for row in [header, *body]:
        cells = [cell.ljust(width) if i < 3 else cell.rjust(width) for i, (cell, width) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
