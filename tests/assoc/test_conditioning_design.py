import pytest

from assoc.conditioning.design import (
    Design,
    DesignError,
    Group,
    Phase,
    TrialType,
    load_design,
    parse_design,
)
from assoc.errors import ConfigError, DataNotFoundError

BLOCKING = "Blocking: 10A(US) | 10AB(US) | 1#A/1#B\nControl: 10C(US) | 10AB(US) | 1#A/1#B"


def test_parse_blocking_structure():
    design = parse_design(BLOCKING)
    blocking = design.group("Blocking")
    assert [group.name for group in design.groups] == ["Blocking", "Control"]
    assert len(blocking.phases) == 3
    assert blocking.phases[0].trial_types == (TrialType(10, ("A",), ("US",)),)
    assert blocking.phases[1].trial_types == (TrialType(10, ("A", "B"), ("US",)),)
    assert blocking.phases[2].trial_types == (
        TrialType(1, ("A",), (), probe=True),
        TrialType(1, ("B",), (), probe=True),
    )
    assert design.cues == ("A", "B", "C")
    assert design.us == ("US",)
    assert blocking.n_trials == 22


def test_plus_minus_shorthand_equals_calmr():
    assert parse_design("G: 10A+ | 10AB-") == parse_design("G: 10A(US) | 10AB")


def test_shuffle_and_probe_flags():
    phase = parse_design("G: !10A+/10AX- | 2#X").groups[0].phases
    assert phase[0].shuffle
    assert not phase[1].shuffle
    assert phase[1].trial_types[0].probe
    assert phase[1].trial_types[0].count == 2


def test_multi_letter_stimuli_and_us_names():
    design = parse_design("G: 5(tone)(light)(US2) | 3A(food)", us=["US2", "food"])
    first, second = design.groups[0].phases
    assert first.trial_types[0].cues == ("tone", "light")
    assert first.trial_types[0].us == ("US2",)
    assert second.trial_types[0].us == ("food",)
    # Without us= only names starting with 'US' are USs.
    assert parse_design("G: 3A(food)").cues == ("A", "food")


def test_count_defaults_to_one_and_spaces_allowed():
    design = parse_design("G : A+ / 2 B - |  | C")
    phases = design.groups[0].phases
    assert phases[0].trial_types == (TrialType(1, ("A",), ("US",)), TrialType(2, ("B",), ()))
    assert phases[1].trial_types == ()
    assert phases[2].trial_types == (TrialType(1, ("C",), ()),)


def test_lines_without_names_are_numbered():
    design = parse_design("10A+\n\n5B-")
    assert [group.name for group in design.groups] == ["Group 1", "Group 2"]


@pytest.mark.parametrize(
    "text",
    [
        BLOCKING,
        "G: !20A+/20B+ | 10AB+ | 1#A/1#B",
        "Long name-1.x: 5(tone)A(US) | | 3#(tone)",
        "G: 4AB(US)/3B/2#A(US)",
    ],
)
def test_round_trip_text_design_text(text):
    design = parse_design(text)
    again = parse_design(design.to_text())
    assert again == design
    assert parse_design(again.to_text()).to_text() == design.to_text()


def test_round_trip_with_declared_us():
    design = parse_design("G: 3A(food) | 2A", us=["food"])
    assert design.us_names == ("food",)
    assert parse_design(design.to_text(), us=design.us_names) == design


def test_constructed_design_formats():
    design = Design(groups=(Group("G", (Phase((TrialType(3, ("A", "tone"), ("US",)),), shuffle=True),)),))
    assert design.to_text() == "G: !3A(tone)(US)"


@pytest.mark.parametrize(
    ("text", "line", "column", "match"),
    [
        ("G: 10A+ | 10@B", 1, 13, "expected a stimulus"),
        ("G: 10A+\nH: 5A(US", 2, 6, r"'\(' is never closed"),
        ("G: 10A+ | 5A(to ne)", 1, 16, "only letters, digits and '_'"),
        ("G: 10A(US | 10AB(US)", 1, 7, r"'\(' is never closed before ' '"),
        ("G: 10A(US/5B+", 1, 7, r"'\(' is never closed before '/'"),
        ("G: 10A(US|5B+", 1, 7, r"'\(' is never closed before '\|'"),
        ("G: 10A(US)+", 1, 11, r"'\+' cannot follow an explicit US"),
        ("G: 10AA+", 1, 7, "appears twice"),
        ("G: 0A+", 1, 4, "at least 1"),
        ("G: #1A", 1, 4, "count before '#'"),
        ("G: 10A+ 5B", 1, 9, "expected '/' or '\\|'"),
        ("G: A()", 1, 5, r"empty stimulus name"),
        (": 10A+", 1, 1, "missing group name"),
        ("G*: 10A+", 1, 2, "a group name contains only"),
        ("G: 10A+\nG: 5B+", 2, 1, "defined twice"),
    ],
)
def test_syntax_error_position(text, line, column, match):
    with pytest.raises(DesignError, match=match) as caught:
        parse_design(text)
    error = caught.value
    assert error.line == line
    assert error.column == column
    # The message repeats the line and puts a caret under the column.
    message_lines = str(error).splitlines()
    assert message_lines[-2] == "    " + text.splitlines()[line - 1]
    assert message_lines[-1] == "    " + " " * (column - 1) + "^"
    assert f"line {line}, column {column}" in message_lines[0]


def test_syntax_error_is_config_error():
    with pytest.raises(ConfigError):
        parse_design("G: 10@")
    with pytest.raises(ValueError):
        parse_design("G: 10@")


def test_empty_design_rejected():
    with pytest.raises(ConfigError, match="contains no groups"):
        parse_design("\n  \n")
    with pytest.raises(ConfigError, match="has no trials"):
        parse_design("G: |")


def test_load_toml(tmp_path):
    path = tmp_path / "blocking.toml"
    path.write_text(
        'us = ["US", "shock"]\n'
        "[groups]\n"
        'Blocking = "10A(US) | 10AB(US) | 1#A/1#B"\n'
        'Control = ["10C(US)", "10AB(US)", "1#A/1#B(shock)"]\n'
        "[parameters]\n"
        "alpha = { A = 0.3, B = 0.2, C = 0.3 }\n"
        "beta_plus = 0.5\n"
        "lambda = 1.0\n"
    )
    design, parameters = load_design(path)
    assert design.group("Blocking") == parse_design(BLOCKING).group("Blocking")
    assert design.group("Control").phases[2].trial_types[1].us == ("shock",)
    assert parameters == {"alpha": {"A": 0.3, "B": 0.2, "C": 0.3}, "beta_plus": 0.5, "lambda": 1.0}


def test_load_text_file(tmp_path):
    path = tmp_path / "blocking.txt"
    path.write_text(BLOCKING + "\n")
    design, parameters = load_design(path)
    assert design == parse_design(BLOCKING)
    assert parameters == {}


def test_toml_errors_name_group_and_column(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[groups]\nA = "10A+"\nB = "10B+ | 5@"\n')
    with pytest.raises(DesignError, match=r"bad\.toml.*line 2, column 12") as caught:
        load_design(path)
    assert "B: 10B+ | 5@" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("[groups\n", "Invalid TOML"),
        ("[groups]\nA = 3\n", "must be a string of phases"),
        ("us = 'US'\n[groups]\nA = '1A+'\n", "must be a list of names"),
        ("[other]\n", "Unknown key"),
        ("x = 1\n", "Unknown key"),
        ("[parameters]\nalpha = 1\n", "no \\[groups\\] table"),
    ],
)
def test_toml_invalid_content(tmp_path, content, match):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=match):
        load_design(path)


def test_load_missing_and_wrong_suffix(tmp_path):
    with pytest.raises(DataNotFoundError, match="not found"):
        load_design(tmp_path / "absent.toml")
    path = tmp_path / "design.yaml"
    path.write_text("G: 1A+")
    with pytest.raises(ConfigError, match="must end in .toml or .txt"):
        load_design(path)


def test_calmr_periods_rejected():
    with pytest.raises(DesignError, match="'>' .* is not supported") as caught:
        parse_design("G: 10A>(US)")
    assert caught.value.column == 7
