import os
from pathlib import Path

import numpy as np
import pytest

from assoc.conditioning import RWParameters, cosine_similarity, hetero_delta_update, hetero_recall, run_sessions
from assoc.errors import ConfigError


@pytest.fixture(scope="session")
def pyndl_dir() -> Path:
    """pyndl's reference files, in peers/pyndl beside mnist/ (ASSOC_DATA_DIR or ../shared/data)."""
    configured = os.environ.get("ASSOC_DATA_DIR")
    data_dir = Path(configured) if configured else Path(__file__).resolve().parents[2].parent / "shared" / "data"
    path = data_dir / "peers" / "pyndl"
    if not (path / "real_to_binary_weights.nc").is_file():
        pytest.skip(f"pyndl reference files not found in {path}")
    return path


def _naive_hetero(weights, inputs, targets, rate):
    weights = weights.copy()
    for x, u in zip(inputs, targets):
        weights += rate * np.outer(u - weights @ x, x)
    return weights


def test_one_hot_embedding_equals_discrete():
    text = "G: !8A+/8AB-/4C+ | 3#B/2AC-"
    parameters = RWParameters(alpha=0.3, beta_plus=0.6, beta_minus=0.2)
    embedding = {name: np.eye(3)[i] for i, name in enumerate("ABC")}
    discrete = run_sessions(text, parameters, n_subjects=3, seed=4)
    vector = run_sessions(text, parameters, n_subjects=3, seed=4, embedding=embedding)
    np.testing.assert_array_equal(vector.group("G").trial_type, discrete.group("G").trial_type)
    np.testing.assert_allclose(vector.group("G").strength, discrete.group("G").strength, atol=1e-14)
    np.testing.assert_allclose(vector.group("G").final, discrete.group("G").final, atol=1e-14)


def test_generalization_follows_cosine():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(3, 16))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    embedding = dict(zip("ABC", vectors))
    result = run_sessions("G: 25A+ | 1#B/1#C", RWParameters(alpha=0.5), embedding=embedding, seed=0)
    final = result.final_strength("G")[0]
    similarity = cosine_similarity(embedding)
    np.testing.assert_allclose(final[1:], final[0] * similarity[0, 1:], rtol=1e-12)
    # Acquisition of a unit vector follows the discrete closed form.
    np.testing.assert_allclose(final[0], 1 - (1 - 0.5 * 0.4) ** 25, rtol=1e-12)


def test_vector_options_invalid():
    embedding = {"A": np.ones(3), "B": np.ones(3)}
    with pytest.raises(ConfigError, match="alpha must be one number"):
        run_sessions("G: 2AB+", RWParameters(alpha={"A": 0.1, "B": 0.2}), embedding=embedding)
    with pytest.raises(ConfigError, match="no vector for cue"):
        run_sessions("G: 2AC+", embedding=embedding)
    with pytest.raises(ConfigError, match=r"shape \(n_features,\)"):
        run_sessions("G: 2AB+", embedding={"A": np.ones(3), "B": np.ones(4)})
    with pytest.raises(ConfigError, match="norm 0"):
        cosine_similarity({"A": np.zeros(2)})


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_pairs", [5, 300])  # the second exceeds the serial-kernel limit
def test_hetero_matches_naive(dtype, n_pairs):
    rng = np.random.default_rng(1)
    inputs = rng.normal(size=(n_pairs, 32)) / 6
    targets = rng.normal(size=(n_pairs, 30))
    weights = rng.normal(size=(30, 32)).astype(dtype)
    expected = _naive_hetero(weights.astype(np.float64), inputs, targets, 0.05)
    returned = hetero_delta_update(weights, inputs, targets, 0.05)
    assert returned is weights
    tolerance = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(weights, expected, atol=tolerance)


def test_hetero_blocks_equal_one_stream():
    rng = np.random.default_rng(2)
    inputs, targets = rng.normal(size=(40, 8)) / 3, rng.normal(size=(40, 5))
    whole = hetero_delta_update(np.zeros((5, 8)), inputs, targets, 0.1)
    streamed = np.zeros((5, 8))
    for start in range(0, 40, 7):
        hetero_delta_update(streamed, inputs[start : start + 7], targets[start : start + 7], 0.1)
    np.testing.assert_allclose(streamed, whole, atol=1e-14)


def test_hetero_learns_linear_map():
    rng = np.random.default_rng(3)
    true_map = rng.normal(size=(6, 10))
    inputs = rng.normal(size=(2000, 10)) / np.sqrt(10)
    weights = hetero_delta_update(np.zeros((6, 10)), inputs, inputs @ true_map.T, 0.5)
    np.testing.assert_allclose(weights, true_map, atol=1e-6)
    np.testing.assert_allclose(hetero_recall(weights, inputs[:3]), inputs[:3] @ true_map.T, atol=1e-5)


def test_hetero_matches_pyndl_widrow_hoff(pyndl_dir):
    # pyndl 0.8.1's reference: cue vectors to one-hot outcomes, learning rate 0.01, events in file order.
    import gzip

    import h5py

    cue_vectors = {
        "a": [0.2, 0.11, 0.5, 0.0, 0.0],
        "b": [0.0, 0.0, 0.5, 0.11, 0.2],
        "c": [0.2, 0.0, 0.0, 0.0, 0.2],
    }
    with h5py.File(pyndl_dir / "real_to_binary_weights.nc", "r") as file:
        expected = file["__xarray_dataarray_variable__"][...]
        outcomes = [name.decode() for name in file["outcomes"][...]]
    with gzip.open(pyndl_dir / "event_file_wh.tab.gz", "rt") as file:
        events = [line.split("\t") for line in file.read().splitlines()[1:]]
    inputs = np.array([np.sum([cue_vectors[c] for c in cues.split("_")], axis=0) for cues, _ in events])
    targets = np.array([[float(name in found.split("_")) for name in outcomes] for _, found in events])
    weights = hetero_delta_update(np.zeros((len(outcomes), 5)), inputs, targets, 0.01)
    np.testing.assert_allclose(weights, expected, atol=1e-15)


@pytest.mark.parametrize(
    ("weights", "inputs", "targets", "rate", "match"),
    [
        (np.zeros((2, 3), dtype=np.int64), np.zeros((1, 3)), np.zeros((1, 2)), 0.1, "float32 or float64"),
        (np.zeros((3, 2)).T, np.zeros((1, 3)), np.zeros((1, 2)), 0.1, "C-contiguous"),
        (np.zeros((2, 3)), np.zeros((1, 4)), np.zeros((1, 2)), 0.1, r"inputs must have shape \(n_pairs, 3\)"),
        (np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((1, 2)), 0.1, r"targets must have shape \(2, 2\)"),
        (np.zeros((2, 3)), np.zeros((1, 3)), np.zeros((1, 2)), 0.0, "rate must be a positive"),
    ],
)
def test_hetero_invalid(weights, inputs, targets, rate, match):
    with pytest.raises(ConfigError, match=match):
        hetero_delta_update(weights, inputs, targets, rate)
