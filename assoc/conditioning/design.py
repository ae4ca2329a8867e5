"""Experiment designs for conditioning sessions: groups of phases of trial types.

A design in text has one line per group, ``NAME: PHASE | PHASE | ...``. A phase is
written in the trial notation of the R package calmr (counts, ``(name)`` stimuli,
``#`` probes, ``/`` between trial types), extended with a ``!`` prefix that shuffles
a phase and the ``+``/``-`` shorthand of the conditioning literature::

    design     = line { newline line }
    line       = [ group_name ":" ] [ phase ] { "|" [ phase ] }
    phase      = [ "!" ] trial_type { "/" trial_type }
    trial_type = [ count ] [ "#" ] stimulus { stimulus } [ "+" | "-" ]
    stimulus   = letter | "(" name ")"

``10AB(US)`` is ten trials of the compound AB followed by the US, and ``10AB+`` is
the same. ``10AB-`` and ``10AB`` are ten non-reinforced trials. ``!`` shuffles the
trials of a phase for each subject. ``#`` marks probe trials, on which the subject
responds but nothing is learned. Unlike calmr, a count may be left out (it is then
1), and calmr's ``>`` between trial periods is rejected. A bare letter is a cue. A parenthesised
name is a US when it starts with ``US`` (``(US)``, ``(US2)``) or is listed in
``us=``. Any other parenthesised name is a multi-letter cue (``(tone)``). Blank lines are skipped,
an empty phase has no trials, and a line without ``NAME:`` gets the name
``Group N`` (N counts lines with trials from 1).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from assoc.errors import ConfigError, DataNotFoundError

#: The US that the ``+`` shorthand stands for.
DEFAULT_US = "US"

#: Parenthesised names with this prefix are USs unless ``us=`` lists the USs.
US_PREFIX = "US"

_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_GROUP_NAME_CHARACTERS = _NAME_CHARACTERS | frozenset(" -.")
# Characters that end a phase or trial type: met inside "(name", they mean the ')' is missing.
_NAME_TERMINATORS = frozenset(" \t|/")


class DesignError(ConfigError):
    """A design text that does not follow the grammar, with its line and column.

    Attributes
    ----------
    line, column : int
        1-based position of the first character that could not be parsed.
    source_line : str
        The text of that line, shown in the message with a caret under the column.
    """

    def __init__(self, reason: str, *, line: int, column: int, source_line: str, origin: str = "design"):
        self.reason = reason
        self.line = line
        self.column = column
        self.source_line = source_line
        caret = " " * (column - 1) + "^"
        super().__init__(
            f"Invalid {origin} at line {line}, column {column}: {reason}\n    {source_line}\n    {caret}"
        )


@dataclass(frozen=True)
class TrialType:
    """Trials of one kind inside a phase.

    Attributes
    ----------
    count : int
        Number of trials, at least 1.
    cues : tuple of str
        Cues presented together on each trial, in written order.
    us : tuple of str
        USs that follow the cues; empty on non-reinforced trials.
    probe : bool
        True for probe trials: the response is recorded but nothing is learned.
    """

    count: int
    cues: tuple[str, ...]
    us: tuple[str, ...] = ()
    probe: bool = False

    @property
    def label(self) -> str:
        """The trial type in design syntax without its count, for example ``#AB(US)``."""
        text = "#" if self.probe else ""
        text += "".join(_format_stimulus(cue) for cue in self.cues)
        text += "".join(f"({name})" for name in self.us)
        return text

    def to_text(self) -> str:
        """Format the trial type in design syntax, for example ``10AB(US)``."""
        return f"{self.count}{self.label}"


@dataclass(frozen=True)
class Phase:
    """Trial types presented in one phase.

    Without shuffling the trial types run in blocks in written order; with
    ``shuffle`` each subject gets its own random order of all the phase's trials.
    """

    trial_types: tuple[TrialType, ...]
    shuffle: bool = False

    @property
    def n_trials(self) -> int:
        return sum(trial_type.count for trial_type in self.trial_types)

    def to_text(self) -> str:
        """Format the phase in design syntax, for example ``!10A(US)/10AX``."""
        prefix = "!" if self.shuffle else ""
        return prefix + "/".join(trial_type.to_text() for trial_type in self.trial_types)


@dataclass(frozen=True)
class Group:
    """A group of subjects that all run the same sequence of phases."""

    name: str
    phases: tuple[Phase, ...]

    @property
    def n_trials(self) -> int:
        return sum(phase.n_trials for phase in self.phases)

    def to_text(self) -> str:
        """Format the group as one design line, ``NAME: PHASE | PHASE``."""
        return f"{self.name}: " + " | ".join(phase.to_text() for phase in self.phases)


@dataclass(frozen=True)
class Design:
    """An experiment: groups of subjects, each with its own sequence of phases.

    Attributes
    ----------
    groups : tuple of Group
    us_names : tuple of str
        Names treated as USs when the text was parsed (the parser's ``us=``), kept
        so that :meth:`to_text` output parses back to the same design.
    """

    groups: tuple[Group, ...]
    us_names: tuple[str, ...] = field(default=())

    @property
    def cues(self) -> tuple[str, ...]:
        """Every cue of the design, in order of first appearance."""
        return _unique(cue for trial_type in self._trial_types() for cue in trial_type.cues)

    @property
    def us(self) -> tuple[str, ...]:
        """Every US of the design, in order of first appearance (``US`` if there is none)."""
        names = _unique(name for trial_type in self._trial_types() for name in trial_type.us)
        return names or (DEFAULT_US,)

    def group(self, name: str) -> Group:
        """Return the group called ``name``."""
        for group in self.groups:
            if group.name == name:
                return group
        known = ", ".join(group.name for group in self.groups)
        raise ConfigError(f"Design has no group {name!r}; its groups are {known}.")

    def to_text(self) -> str:
        """Format the design as text that :func:`parse_design` reads back unchanged."""
        return "\n".join(group.to_text() for group in self.groups)

    def _trial_types(self):
        for group in self.groups:
            for phase in group.phases:
                yield from phase.trial_types


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def _format_stimulus(name: str) -> str:
    return name if len(name) == 1 and name.isalpha() else f"({name})"


# ----------------------------------------------------------------------------- parser


class _LineParser:
    """Recursive-descent parser over one line of design text."""

    def __init__(self, text: str, line_number: int, us_names: frozenset[str] | None, origin: str):
        self.text = text
        self.line_number = line_number
        self.us_names = us_names
        self.origin = origin
        self.position = 0

    def error(self, reason: str, position: int | None = None) -> DesignError:
        column = (self.position if position is None else position) + 1
        return DesignError(
            reason, line=self.line_number, column=column, source_line=self.text, origin=self.origin
        )

    def peek(self) -> str:
        return self.text[self.position] if self.position < len(self.text) else ""

    def skip_spaces(self) -> None:
        while self.peek() in (" ", "\t"):
            self.position += 1

    def describe_next(self) -> str:
        character = self.peek()
        return "the end of the line" if character == "" else repr(character)

    def parse_phases(self) -> tuple[Phase, ...]:
        phases = [self.parse_phase()]
        while self.peek() == "|":
            self.position += 1
            phases.append(self.parse_phase())
        if self.peek() != "":
            raise self.error(f"expected '/' or '|' between trial types; got {self.describe_next()}")
        return tuple(phases)

    def parse_phase(self) -> Phase:
        self.skip_spaces()
        if self.peek() in ("|", ""):
            return Phase(trial_types=())
        shuffle = self.peek() == "!"
        if shuffle:
            self.position += 1
            self.skip_spaces()
        trial_types = [self.parse_trial_type()]
        self.skip_spaces()
        while self.peek() == "/":
            self.position += 1
            self.skip_spaces()
            trial_types.append(self.parse_trial_type())
            self.skip_spaces()
        return Phase(trial_types=tuple(trial_types), shuffle=shuffle)

    def parse_trial_type(self) -> TrialType:
        count = self.parse_count()
        self.skip_spaces()
        probe = self.peek() == "#"
        if probe:
            self.position += 1
            if self.peek().isdigit():
                raise self.error("write the trial count before '#', as in '1#A'", self.position - 1)
            self.skip_spaces()
        cues: list[str] = []
        us: list[str] = []
        stimulus_start = self.position
        while self.peek().isalpha() or self.peek() == "(":
            name_position = self.position
            name, parenthesised = self.parse_stimulus()
            target = us if parenthesised and self.is_us(name) else cues
            if name in cues or name in us:
                raise self.error(f"stimulus {name!r} appears twice in one trial type", name_position)
            target.append(name)
            self.skip_spaces()
        if not cues and not us:
            if self.peek() == "#":
                raise self.error("'#' appears twice; write one '#' after the count, as in '1#A'")
            raise self.error(
                f"expected a stimulus (a letter or '(name)'); got {self.describe_next()}", stimulus_start
            )
        if self.peek() == ">":
            raise self.error("'>' (calmr's trial periods) is not supported; write the stimuli together, as in 'AB'")
        if self.peek() in ("+", "-"):
            sign = self.peek()
            if us:
                raise self.error(f"'{sign}' cannot follow an explicit US such as ({us[0]})")
            if sign == "+":
                us.append(DEFAULT_US)
            self.position += 1
        return TrialType(count=count, cues=tuple(cues), us=tuple(us), probe=probe)

    def parse_count(self) -> int:
        start = self.position
        while self.peek().isdigit():
            self.position += 1
        if start == self.position:
            return 1
        count = int(self.text[start : self.position])
        if count < 1:
            raise self.error("a trial count must be at least 1", start)
        return count

    def parse_stimulus(self) -> tuple[str, bool]:
        if self.peek() != "(":
            name = self.peek()
            self.position += 1
            return name, False
        open_position = self.position
        self.position += 1
        start = self.position
        while self.peek() in _NAME_CHARACTERS and self.peek() != "":
            self.position += 1
        if self.peek() != ")":
            if self.peek() == "":
                raise self.error("'(' is never closed; write a name such as (US) or (tone)", open_position)
            if self.peek() in _NAME_TERMINATORS and not self.closes_later():
                # A separator met before any ')' of this name means the ')' is missing, so point at the '('.
                raise self.error(
                    f"'(' is never closed before {self.describe_next()}; close the name with ')', as in (US)",
                    open_position,
                )
            raise self.error(
                f"a stimulus name contains only letters, digits and '_'; got {self.describe_next()}"
            )
        name = self.text[start : self.position]
        if not name:
            raise self.error("empty stimulus name '()'", open_position)
        self.position += 1
        return name, True

    def closes_later(self) -> bool:
        """Return True if a ')' comes before the next '(', '|', '/' or the end of the line."""
        for character in self.text[self.position :]:
            if character == ")":
                return True
            if character in "(|/":
                return False
        return False

    def is_us(self, name: str) -> bool:
        if self.us_names is not None:
            return name in self.us_names
        return name.startswith(US_PREFIX)


def parse_design(text: str, *, us: Iterable[str] | None = None, origin: str = "design") -> Design:
    """Parse design text, one group per line, into a :class:`Design`.

    Parameters
    ----------
    text : str
        Lines ``NAME: PHASE | PHASE | ...`` in the grammar of this module.
    us : iterable of str, optional
        Parenthesised names that are USs. By default every parenthesised name that
        starts with ``US`` is a US.
    origin : str
        What the text is, for error messages (``design``, a file name).

    Raises
    ------
    DesignError
        On text that does not follow the grammar; the message shows the line with a
        caret under the offending column.
    """
    us_names = None if us is None else frozenset(us)
    groups: list[Group] = []
    for line_number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.rstrip()
        if not line.strip():
            continue
        name, offset = _split_group_name(line, line_number, len(groups) + 1, origin)
        if any(group.name == name for group in groups):
            raise DesignError(
                f"group {name!r} is defined twice; give each group its own name",
                line=line_number,
                column=line.index(name) + 1 if name in line else 1,
                source_line=line,
                origin=origin,
            )
        parser = _LineParser(line, line_number, us_names, origin)
        parser.position = offset
        phases = parser.parse_phases()
        groups.append(Group(name=name, phases=phases))
    if not groups:
        raise ConfigError(f"The {origin} contains no groups; write at least one line such as 'Acquisition: 10A+'.")
    for group in groups:
        if group.n_trials == 0:
            raise ConfigError(f"Group {group.name!r} has no trials; give it at least one phase with trials.")
    return Design(groups=tuple(groups), us_names=tuple(sorted(us_names)) if us_names is not None else ())


def _split_group_name(line: str, line_number: int, index: int, origin: str) -> tuple[str, int]:
    """Return the group's name and the offset where its phases start."""
    colon = line.find(":")
    if colon < 0:
        return f"Group {index}", 0
    name = line[:colon].strip()
    if not name:
        raise DesignError(
            "missing group name before ':'", line=line_number, column=colon + 1, source_line=line, origin=origin
        )
    for position, character in enumerate(line[:colon]):
        if character not in _GROUP_NAME_CHARACTERS:
            raise DesignError(
                f"a group name contains only letters, digits, spaces and '_-.'; got {character!r}",
                line=line_number,
                column=position + 1,
                source_line=line,
                origin=origin,
            )
    return name, colon + 1


# ----------------------------------------------------------------------------- files


def load_design(path: str | Path) -> tuple[Design, dict]:
    """Read a design from a ``.toml`` or a ``.txt`` file.

    A text file contains design lines. A TOML file has a ``[groups]`` table that maps
    each group name to its phases, given as one string ``"10A+ | 10AB+"`` or as a list
    of phase strings. It may also have a ``us`` list of US names and a
    ``[parameters]`` table with ``alpha``, ``beta_plus``, ``beta_minus`` and
    ``lambda_`` (each a number or a table keyed by cue or US name)::

        us = ["US"]

        [groups]
        Blocking = "10A(US) | 10AB(US) | 1#A/1#B"
        Control = ["10C(US)", "10AB(US)", "1#A/1#B"]

        [parameters]
        alpha = { A = 0.4, B = 0.4, C = 0.4 }
        beta_plus = 0.4

    Returns
    -------
    design : Design
    parameters : dict
        The ``[parameters]`` table, empty when the file has none; pass it to
        :class:`~assoc.conditioning.engine.RWParameters`.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"Design file {str(path)!r} not found; check the path.")
    if path.suffix == ".toml":
        return _load_toml(path)
    if path.suffix == ".txt":
        return parse_design(path.read_text(encoding="utf-8"), origin=f"design in {path.name}"), {}
    raise ConfigError(f"Design file {str(path)!r} must end in .toml or .txt; got {path.suffix!r}.")


def _load_toml(path: Path) -> tuple[Design, dict]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"Invalid TOML in {path.name}: {error}.") from error

    unknown = sorted(set(document) - {"groups", "us", "parameters"})
    if unknown:
        raise ConfigError(
            f"Unknown key(s) {', '.join(unknown)} in {path.name}; a design file has 'groups', 'us' and 'parameters'."
        )
    groups = document.get("groups")
    if not isinstance(groups, Mapping) or not groups:
        raise ConfigError(f"{path.name} has no [groups] table; add one that maps each group name to its phases.")
    us = document.get("us")
    if us is not None and (not isinstance(us, list) or not all(isinstance(name, str) for name in us)):
        raise ConfigError(f"'us' in {path.name} must be a list of names, such as us = [\"US\"]; got {us!r}.")

    lines = []
    for name, phases in groups.items():
        if isinstance(phases, list) and all(isinstance(phase, str) for phase in phases):
            phases = " | ".join(phases)
        if not isinstance(phases, str):
            raise ConfigError(
                f"Group {name!r} in {path.name} must be a string of phases or a list of phase strings; got {phases!r}."
            )
        lines.append(f"{name}: {phases}")
    # Each group becomes one line, so a DesignError's line number counts groups in file order.
    design = parse_design("\n".join(lines), us=us, origin=f"[groups] in {path.name} (line = group)")

    parameters = document.get("parameters", {})
    if not isinstance(parameters, Mapping):
        raise ConfigError(f"'parameters' in {path.name} must be a table; got {parameters!r}.")
    return design, dict(parameters)
