import h5py
import numpy as np
import pytest

from assoc.conditioning import ConditioningResult, RWParameters, parse_design, run_sessions
from assoc.conditioning.results import format_summary
from assoc.errors import ConfigError, DataError, DataNotFoundError

TEXT = "Blocking: 4A+ | !2AB+/1B- | 1#B\nControl: 4C+ | !2AB+/1B- | 1#B"


@pytest.fixture(scope="module")
def result():
    return run_sessions(TEXT, RWParameters(alpha={"A": 0.5, "B": 0.3, "C": 0.5}), n_subjects=3, seed=9)


def test_shapes(result):
    group = result.group("Blocking")
    assert group.strength.shape == (3, 8, 3, 1)
    assert group.final.shape == (3, 3, 1)
    assert group.trial_type.shape == (3, 8)
    np.testing.assert_array_equal(group.phase, [0, 0, 0, 0, 1, 1, 1, 2])
    np.testing.assert_array_equal(result.phase_boundaries("Blocking"), [4, 7])
    assert result.learning_curve("Blocking").shape == (3, 9, 3)


def test_tidy_table_rows(result):
    table = result.tidy()
    assert table.shape == (2 * 3 * 8 * 3,)
    row = table[(table["group"] == "Control") & (table["subject"] == 2) & (table["trial"] == 5) & (table["cue"] == "B")]
    assert row.shape == (1,)
    np.testing.assert_allclose(row["strength"][0], result.strength("Control")[2, 5, 1])
    kind = result.group("Control").trial_type[2, 5]
    assert row["trial_type"][0] == result.group("Control").trial_labels[kind]
    assert row["present"][0] == ("B" in result.group("Control").trial_cues[kind])
    probes = table[table["probe"]]
    assert set(probes["trial"]) == {7}


def test_tidy_present_only(result):
    table = result.tidy(present_only=True)
    assert np.all(table["present"])
    # Blocking: 4 A trials, 2 AB trials, 1 B trial and 1 B probe give 4 + 4 + 1 + 1 cue rows per subject.
    assert np.count_nonzero(table["group"] == "Blocking") == 3 * 10


def test_response_is_sum_over_present_cues(result):
    response = result.response("Blocking")
    group = result.group("Blocking")
    for subject in range(3):
        for trial in range(8):
            cues = group.trial_cues[group.trial_type[subject, trial]]
            expected = sum(group.strength[subject, trial, result.cues.index(name), 0] for name in cues)
            assert response[subject, trial] == pytest.approx(expected)


def test_summary_table(result):
    rows = result.summary()
    # Blocking never presents C, so only Control has a C row.
    assert [(r["group"], r["cue"]) for r in rows] == [
        ("Blocking", "A"), ("Blocking", "B"), ("Control", "A"), ("Control", "B"), ("Control", "C"),
    ]  # fmt: skip
    row = next(r for r in rows if r["group"] == "Control" and r["cue"] == "C")
    np.testing.assert_allclose(row["mean"], result.final_strength("Control")[:, 2].mean())
    text = format_summary(rows)
    assert text.splitlines()[0].split() == ["group", "cue", "US", "mean", "V", "SD", "subjects"]
    assert len(text.splitlines()) == 7


def test_hdf5_round_trip(result, tmp_path):
    path = result.to_hdf5(tmp_path / "run.h5")
    with h5py.File(path, "r") as file:
        assert file.attrs["recorded"] == "before each trial's update"
        assert file["groups/Control/strength"].shape == (3, 8, 3, 1)
        assert [name.decode() for name in file["cues"][...]] == ["A", "B", "C"]
    loaded = ConditioningResult.from_hdf5(path)
    assert loaded.design == result.design
    assert loaded.parameters.to_dict() == result.parameters.to_dict()
    assert loaded.seed == result.seed
    assert list(loaded.groups) == ["Blocking", "Control"]
    for name in result.groups:
        np.testing.assert_array_equal(loaded.group(name).strength, result.group(name).strength)
        np.testing.assert_array_equal(loaded.group(name).trial_type, result.group(name).trial_type)
        assert loaded.group(name).trial_labels == result.group(name).trial_labels
    np.testing.assert_allclose(loaded.response("Blocking"), result.response("Blocking"))


def test_hdf5_final_only_and_embedding(tmp_path):
    embedding = {"A": np.array([1.0, 0.0]), "B": np.array([0.6, 0.8])}
    result = run_sessions("G 1: 3A+ | 1#B", embedding=embedding, record="final", seed=0)
    loaded = ConditioningResult.from_hdf5(result.to_hdf5(tmp_path / "final.h5"))
    assert loaded.group("G 1").strength is None
    np.testing.assert_array_equal(loaded.embedding["B"], embedding["B"])
    np.testing.assert_array_equal(loaded.group("G 1").final, result.group("G 1").final)


def test_hdf5_custom_us_round_trip(tmp_path):
    design = parse_design("G: 3A(food) | 2A", us=["food"])
    result = run_sessions(design, seed=0)
    loaded = ConditioningResult.from_hdf5(result.to_hdf5(tmp_path / "food.h5"))
    assert loaded.us == ("food",)
    assert loaded.design == design


def test_hdf5_read_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="not found"):
        ConditioningResult.from_hdf5(tmp_path / "absent.h5")
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as file:
        file.create_dataset("x", data=[1])
    with pytest.raises(DataError, match="not a conditioning result file"):
        ConditioningResult.from_hdf5(path)


def test_tidy_needs_trials():
    result = run_sessions("G: 2A+", record="final", seed=0)
    with pytest.raises(ConfigError, match="record='trials'"):
        result.tidy()
