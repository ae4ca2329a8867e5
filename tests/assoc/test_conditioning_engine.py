import gzip
import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from assoc.conditioning import PARADIGMS, RWParameters, get_paradigm, parse_design, run_events, run_sessions
from assoc.conditioning.engine import estimate_bytes
from assoc.errors import ConfigError


def _load_reference():
    path = Path(__file__).with_name("rw_reference.py")
    spec = importlib.util.spec_from_file_location("rw_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


reference = _load_reference()


@pytest.fixture(scope="session")
def pyndl_dir() -> Path:
    """pyndl's reference files, in peers/pyndl beside mnist/ (ASSOC_DATA_DIR or ../shared/data)."""
    configured = os.environ.get("ASSOC_DATA_DIR")
    data_dir = Path(configured) if configured else Path(__file__).resolve().parents[2].parent / "shared" / "data"
    path = data_dir / "peers" / "pyndl"
    if not (path / "event_file_simple.tab.gz").is_file():
        pytest.skip(f"pyndl reference files not found in {path}")
    return path


# ----------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize(("alpha", "beta_plus", "lambda_"), [(0.3, 0.5, 1.0), (0.8, 0.9, 2.5), (1.0, 0.2, -1.0)])
def test_acquisition_closed_form(alpha, beta_plus, lambda_):
    parameters = RWParameters(alpha=alpha, beta_plus=beta_plus, lambda_=lambda_)
    result = run_sessions("G: 30A+", parameters, n_subjects=2, seed=0)
    n = np.arange(31)
    expected = lambda_ * (1.0 - (1.0 - alpha * beta_plus) ** n)
    curve = result.learning_curve("G")[:, :, 0]
    np.testing.assert_allclose(curve, np.broadcast_to(expected, curve.shape), rtol=1e-12, atol=1e-12)


def test_recorded_values_precede_update():
    result = run_sessions("G: 3A+", RWParameters(alpha=0.5, beta_plus=1.0), seed=0)
    np.testing.assert_allclose(result.strength("G")[0, :, 0], [0.0, 0.5, 0.75])
    np.testing.assert_allclose(result.final_strength("G")[0, 0], 0.875)


@pytest.mark.parametrize("beta_minus", [0.1, 0.4, 1.0])
def test_extinction_closed_form(beta_minus):
    alpha, beta_plus = 0.5, 0.6
    parameters = RWParameters(alpha=alpha, beta_plus=beta_plus, beta_minus=beta_minus)
    result = run_sessions("G: 15A+ | 25A-", parameters, seed=0)
    curve = result.learning_curve("G")[0, :, 0]
    v0 = 1.0 - (1.0 - alpha * beta_plus) ** 15
    expected = v0 * (1.0 - alpha * beta_minus) ** np.arange(26)
    np.testing.assert_allclose(curve[15:], expected, rtol=1e-12, atol=1e-15)


def test_blocking_against_control():
    paradigm = get_paradigm("blocking")
    result = run_sessions(paradigm.design, paradigm.parameters, n_subjects=3, seed=1)
    blocked = result.final_strength("Blocking")[:, 1]
    control = result.final_strength("Control")[:, 1]
    assert np.all(blocked < 0.05)
    assert np.all(control > 0.4)
    assert np.all(blocked < control / 10)
    # The probe trials record V_B without changing it.
    np.testing.assert_allclose(result.response("Blocking")[:, -1], blocked)


def test_overshadowing_ratio_every_trial():
    alpha = {"A": 0.5, "B": 0.2}
    result = run_sessions("G: 40AB+", RWParameters(alpha=alpha, beta_plus=0.3), seed=0)
    curve = result.learning_curve("G")[0, 1:]
    np.testing.assert_allclose(curve[:, 0] / curve[:, 1], 0.5 / 0.2, rtol=1e-12)
    np.testing.assert_allclose(curve[-1].sum(), 1.0, atol=1e-3)


def test_overshadowing_paradigm_below_single_cue():
    paradigm = get_paradigm("overshadowing")
    result = run_sessions(paradigm.design, paradigm.parameters, seed=0)
    assert result.final_strength("Overshadowing")[0, 0] < result.final_strength("Control")[0, 0]


def test_conditioned_inhibition_converges():
    result = run_sessions("G: !300A+/300AX-", RWParameters(lambda_=2.0), n_subjects=4, seed=3)
    final = result.final_strength("G")
    np.testing.assert_allclose(final[:, 0], 2.0, atol=1e-3)
    np.testing.assert_allclose(final[:, 1], -2.0, atol=1e-3)


def test_overexpectation_lowers_both_cues():
    paradigm = get_paradigm("overexpectation")
    result = run_sessions(paradigm.design, paradigm.parameters, n_subjects=3, seed=0)
    group = result.group("Overexpectation")
    start = result.phase_boundaries("Overexpectation")[0]
    before_compound = result.strength("Overexpectation")[:, start, :2]
    after = result.final_strength("Overexpectation")[:, :2]
    assert np.all(after < before_compound - 0.2)
    np.testing.assert_allclose(after[:, 0], after[:, 1], rtol=1e-6)
    assert np.all(result.final_strength("Control")[:, :2] > 0.9)
    assert group.phase[start] == 1


def test_partial_reinforcement_equilibrium():
    parameters = RWParameters(alpha=0.1, beta_plus=0.6, beta_minus=0.2)
    result = run_sessions("G: !2000A+/2000A-", parameters, n_subjects=8, seed=0)
    equilibrium = 0.6 / (0.6 + 0.2)
    mean_late = result.strength("G")[:, 2000:, 0].mean()
    assert abs(mean_late - equilibrium) < 0.03


def test_latent_inhibition_not_produced():
    paradigm = get_paradigm("latent_inhibition")
    assert not paradigm.rw_predicts_effect
    result = run_sessions(paradigm.design, paradigm.parameters, seed=0)
    np.testing.assert_allclose(result.final_strength("Preexposed"), result.final_strength("Control"))


@pytest.mark.parametrize("name", sorted(PARADIGMS))
def test_paradigm_runs(name):
    paradigm = PARADIGMS[name]
    result = run_sessions(paradigm.design, paradigm.parameters, n_subjects=2, seed=0)
    assert paradigm.prediction
    for group in result.groups.values():
        assert np.all(np.isfinite(group.final))


def test_several_us_learn_independently():
    design = parse_design("G: 10A(US1) | 10A(US2)")
    result = run_sessions(design, RWParameters(alpha=0.5, beta_plus=0.5, beta_minus=0.25, lambda_={"US1": 1, "US2": 2}))
    assert result.us == ("US1", "US2")
    v_us1 = 1 - 0.75**10
    np.testing.assert_allclose(result.final_strength("G", "US1")[0, 0], v_us1 * (1 - 0.125) ** 10)
    np.testing.assert_allclose(result.final_strength("G", "US2")[0, 0], 2 * (1 - 0.75**10))


# ----------------------------------------------------------------------------- engine against the reference


def _reference_subject(result, group_name, subject, parameters):
    group = result.group(group_name)
    values = parameters.resolve(result.cues, result.us)
    trials = []
    for kind in group.trial_type[subject]:
        cues = [result.cues.index(name) for name in group.trial_cues[kind]]
        us = {result.us.index(name) for name in group.trial_us[kind]}
        trials.append((cues, us, not group.probe[kind]))
    return reference.rw_session(
        trials, values["alpha"], values["beta_plus"], values["beta_minus"], values["lambda_"],
        len(result.cues), len(result.us),
    )  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_engine_matches_reference_trial_by_trial(dtype):
    text = "G: !6A(US)/4AB(US2)/5B | !4AX/3X(US)/2#A | 2#X/1C(US2)\nH: 3C(US) | !5AC/2(US2)"
    parameters = RWParameters(
        alpha={"A": 0.3, "B": 0.6, "X": 0.2, "C": 0.9},
        beta_plus={"US": 0.5, "US2": 0.7},
        beta_minus={"US": 0.3, "US2": 0.1},
        lambda_={"US": 1.0, "US2": -0.5},
    )
    result = run_sessions(text, parameters, n_subjects=3, seed=11, dtype=dtype)
    tolerance = 1e-12 if dtype == np.float64 else 1e-6
    for name in ("G", "H"):
        assert result.group(name).strength.dtype == dtype
        for subject in range(3):
            before, final = _reference_subject(result, name, subject, parameters)
            np.testing.assert_allclose(result.group(name).strength[subject], before, atol=tolerance)
            np.testing.assert_allclose(result.group(name).final[subject], final, atol=1e-12)


def test_shuffle_per_subject_and_seeded():
    text = "G: 5B- | !10A+/10A-/10C+ | 5B-"
    first = run_sessions(text, n_subjects=6, seed=5).group("G").trial_type
    second = run_sessions(text, n_subjects=6, seed=5).group("G").trial_type
    other = run_sessions(text, n_subjects=6, seed=6).group("G").trial_type
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)
    assert len({tuple(row) for row in first}) == 6
    # Shuffling permutes trials inside the middle phase only.
    unshuffled = np.sort(first[0, 5:35])
    for row in first:
        np.testing.assert_array_equal(row[:5], first[0, :5])
        np.testing.assert_array_equal(row[35:], first[0, 35:])
        np.testing.assert_array_equal(np.sort(row[5:35]), unshuffled)


def test_unshuffled_phase_runs_in_written_order():
    order = run_sessions("G: 2A+/3B-", n_subjects=2, seed=0).group("G").trial_type
    np.testing.assert_array_equal(order, [[0, 0, 1, 1, 1]] * 2)


def test_seed_none_is_reproducible_from_result():
    first = run_sessions("G: !10A+/10B-", n_subjects=2, seed=None)
    again = run_sessions("G: !10A+/10B-", n_subjects=2, seed=first.seed)
    np.testing.assert_array_equal(first.group("G").trial_type, again.group("G").trial_type)


def test_record_final_only():
    full = run_sessions("G: !10A+/10B-", n_subjects=3, seed=2)
    final = run_sessions("G: !10A+/10B-", n_subjects=3, seed=2, record="final")
    assert final.group("G").strength is None
    np.testing.assert_array_equal(final.group("G").final, full.group("G").final)
    with pytest.raises(ConfigError, match="record='trials'"):
        final.strength("G")


def test_progress_reports_subjects():
    calls = []
    run_sessions("A: 2A+\nB: 2B+", n_subjects=3, seed=0, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(3, 6), (6, 6)]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_subjects": 0}, "n_subjects must be a positive integer"),
        ({"n_subjects": 2.5}, "n_subjects must be a positive integer"),
        ({"record": "all"}, "record must be one of trials, final"),
        ({"dtype": np.int32}, "dtype must be float32 or float64"),
        ({"parameters": RWParameters(alpha=1.5)}, r"alpha for cue 'A' is 1.5; it must lie in \[0.0, 1.0\]"),
        ({"parameters": RWParameters(beta_plus=-0.1)}, "beta_plus for US 'US' is -0.1"),
        ({"parameters": RWParameters(lambda_=float("nan"))}, "give a finite number"),
        ({"parameters": RWParameters(alpha={"A": 0.2, "Q": 0.1})}, "'Q', which is no cue of the design"),
        ({"parameters": RWParameters(alpha={"B": 0.2})}, "no value for cue"),
        ({"parameters": RWParameters(alpha="high")}, "must be a number or a mapping"),
        ({"parameters": {"gamma": 1.0}}, "Unknown Rescorla-Wagner parameter"),
        ({"seed": -1}, "seed must be a non-negative integer or None; got -1"),
    ],
)
def test_invalid_run_options(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        run_sessions("G: 2AB+", **kwargs)


def test_unknown_paradigm_suggests_name():
    with pytest.raises(ConfigError, match="Unknown paradigm 'blockng'; did you mean 'blocking'\\? Choose one of"):
        get_paradigm("blockng")
    with pytest.raises(ConfigError, match="Unknown paradigm 'zzz'; choose one of acquisition"):
        get_paradigm("zzz")


def test_estimate_bytes_counts_arrays():
    design = parse_design("G: 10AB+ | 5A-\nH: 3C+")
    # 3 cues, 1 US: strength 8 bytes, order 4 bytes, plan 8 bytes per trial; final 24 bytes per subject.
    expected = (2 * 15 * 3 * 8 + 2 * 15 * 4 + 2 * 3 * 8 + 15 * 8) + (2 * 3 * 3 * 8 + 2 * 3 * 4 + 2 * 3 * 8 + 3 * 8)
    assert estimate_bytes(design, 2) == expected
    assert estimate_bytes(design, 2, record="final") < expected
    # float32 halves the recording and adds a float64 buffer as large as the largest group's recording.
    float32 = estimate_bytes(design, 2, dtype=np.float32)
    assert float32 == expected - (2 * 15 * 3 + 2 * 3 * 3) * 4 + 2 * 15 * 3 * 8
    # Vector stimuli add float64 weights, 2 subjects x 5 features x 1 US per group.
    assert estimate_bytes(design, 2, n_features=5) == expected + 2 * (2 * 5 * 8)


def test_memory_limit_rejects_large_run():
    # A billion trials would need about 19 GiB; the check runs before any allocation.
    with pytest.raises(ConfigError, match=r"needs about 18\.6 GiB .* over the limit of 4\.0 GiB"):
        run_sessions("G: 1000000000A+", n_subjects=1)
    with pytest.raises(ConfigError, match="over the limit of 1000 bytes"):
        run_sessions("G: 100A+", n_subjects=2, max_bytes=1000)
    assert run_sessions("G: 100A+", n_subjects=2, max_bytes=10_000).group("G").strength.shape == (2, 100, 1, 1)


def test_unknown_group_and_us():
    result = run_sessions("G: 2A+", seed=0)
    with pytest.raises(ConfigError, match="No group 'H'"):
        result.group("H")
    with pytest.raises(ConfigError, match="No US 'food'"):
        result.strength("G", "food")


# ----------------------------------------------------------------------------- event streams and ndl2


def _read_events(path):
    with gzip.open(path, "rt") as file:
        lines = file.read().splitlines()[1:]
    return [(cues.split("_"), outcomes.split("_")) for cues, outcomes in (line.split("\t") for line in lines)]


def _read_weights(path):
    lines = Path(path).read_text().splitlines()
    outcomes = [name.strip('"') for name in lines[0].split(",")[1:]]
    rows = {}
    for line in lines[1:]:
        cells = line.split(",")
        rows[cells[0].strip('"')] = [float(cell) for cell in cells[1:]]
    return rows, outcomes


def test_run_events_matches_reference():
    events = [(["a", "b"], ["A"]), (["b"], ["B"]), (["a", "a", "c"], ["A", "B"]), (["c"], [])] * 5
    weights, cues, outcomes = run_events(events, RWParameters(alpha=0.2, beta_plus=0.3, beta_minus=0.1))
    expected = reference.ndl_events(events, 0.2, 0.3, 0.1, 1.0)
    for (cue, outcome), value in expected.items():
        assert weights[cues.index(cue), outcomes.index(outcome)] == pytest.approx(value, abs=1e-15)


@pytest.mark.parametrize(
    ("events_file", "weights_file"),
    [
        ("event_file_simple.tab.gz", "weights_event_file_simple_ndl2.csv"),
        ("event_file_multiple_cues.tab.gz", "weights_event_file_multiple_cues_ndl2.csv"),
    ],
)
def test_run_events_matches_ndl2_weights(pyndl_dir, events_file, weights_file):
    events = _read_events(pyndl_dir / events_file)
    expected, outcome_names = _read_weights(pyndl_dir / weights_file)
    weights, cues, outcomes = run_events(events, RWParameters(alpha=0.1, beta_plus=0.1, beta_minus=0.1))
    for cue, row in expected.items():
        for outcome, value in zip(outcome_names, row):
            assert weights[cues.index(cue), outcomes.index(outcome)] == pytest.approx(value, abs=1e-12)


def test_run_events_invalid():
    with pytest.raises(ConfigError, match="events is empty"):
        run_events([])
    with pytest.raises(ConfigError, match="missing from cues="):
        run_events([(["a"], ["A"])], cues=["b"])


def test_chunked_calls_match_one_call(monkeypatch):
    from assoc.conditioning import engine

    text = "G: !6A+/6AB-/3B+"
    whole = run_sessions(text, n_subjects=5, seed=8)
    monkeypatch.setattr(engine, "_SUBJECTS_PER_CALL", 2)
    monkeypatch.setattr(engine, "_STAGING_VALUES", 15 * 2 * 1 * 2)  # two subjects per float32 staging buffer
    calls = []
    chunked = run_sessions(text, n_subjects=5, seed=8, dtype=np.float32, progress=lambda d, t: calls.append(d))
    assert calls == [2, 4, 5]
    np.testing.assert_array_equal(chunked.group("G").trial_type, whole.group("G").trial_type)
    np.testing.assert_allclose(chunked.group("G").strength, whole.group("G").strength, atol=1e-7)
    np.testing.assert_array_equal(chunked.group("G").final, whole.group("G").final)
