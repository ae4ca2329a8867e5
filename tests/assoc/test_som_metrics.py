"""SOM mapping and metrics on hand-set weights, checked against values computed by hand."""

import math

import numpy as np
import pytest

from assoc.som import SOM
from assoc.som import som as som_module

# A 1 x 3 map whose weights are out of grid order: units 0 and 2 are not neighbours but
# their weights are close, so samples near them have non-adjacent best and second units.
WEIGHTS = np.array([[0.0, 0.0], [10.0, 0.0], [1.0, 0.0]])
SAMPLES = np.array([[0.2, 0.0], [0.9, 0.0], [10.0, 1.0], [4.0, 0.0]])


def hand_set_map(distance="euclidean", dtype=np.float64):
    return SOM(1, 3, distance=distance, dtype=dtype).set_weights(WEIGHTS)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bmu_of_hand_set_weights(dtype):
    som = hand_set_map(dtype=dtype)
    assert som.bmu(SAMPLES).tolist() == [0, 2, 1, 2]
    assert som.bmu_coordinates(SAMPLES).tolist() == [[0, 0], [0, 2], [0, 1], [0, 2]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_quantization_error_of_hand_set_weights(dtype):
    som = hand_set_map(dtype=dtype)
    assert som.quantization_error(SAMPLES) == pytest.approx((0.2 + 0.1 + 1.0 + 3.0) / 4, rel=1e-6)


def test_topographic_error_of_hand_set_weights():
    # Best and second units: (0, 2), (2, 0), (1, 2), (2, 0); only (1, 2) are neighbours.
    assert hand_set_map().topographic_error(SAMPLES) == pytest.approx(0.75)


def test_topographic_error_hexagonal():
    som = SOM(2, 2, topology="hexagonal").set_weights([[0.0], [1.0], [2.0], [3.0]])
    # Hex units 0 (0, 0) and 3 (1.5, 0.87) are 1.73 apart; every other pair is adjacent.
    assert som.topographic_error([[0.1], [1.6], [2.9]]) == pytest.approx(0.0)
    som.set_weights([[0.0], [5.0], [6.0], [1.0]])
    assert som.topographic_error([[0.2], [5.4]]) == pytest.approx(0.5)


def test_topographic_error_rectangular_diagonal_is_adjacent():
    som = SOM(2, 2).set_weights([[0.0], [5.0], [6.0], [1.0]])
    assert som.topographic_error([[0.2]]) == 0.0


def test_topographic_error_single_unit_is_nan():
    som = SOM(1, 1).set_weights([[0.0, 0.0]])
    assert math.isnan(som.topographic_error([[1.0, 1.0]]))


def test_chebyshev_uses_absolute_differences():
    som = SOM(1, 2, distance="chebyshev").set_weights([[-1.0, 5.0], [2.5, 2.5]])
    x = np.array([[0.0, 0.0]])
    # x - w0 = (1, -5): max |.| = 5, whereas max(x - w0) without the absolute value is 1.
    np.testing.assert_allclose(som.transform(x), [[5.0, 2.5]])
    assert som.bmu(x).tolist() == [1]
    assert som.quantization_error(x) == pytest.approx(2.5)


def test_manhattan_and_cosine_distances():
    x = np.array([[1.0, -2.0]])
    weights = [[0.0, 0.0], [-1.0, 2.0], [2.0, 0.0]]
    manhattan = SOM(1, 3, distance="manhattan").set_weights(weights)
    np.testing.assert_allclose(manhattan.transform(x), [[3.0, 6.0, 3.0]])
    cosine = SOM(1, 3, distance="cosine").set_weights(weights)
    np.testing.assert_allclose(cosine.transform(x), [[1.0, 2.0, 1.0 - 1.0 / math.sqrt(5.0)]])
    assert cosine.bmu(x).tolist() == [2]


@pytest.mark.parametrize("distance", ["euclidean", "cosine", "manhattan", "chebyshev"])
def test_bmu_matches_brute_force(distance):
    rng = np.random.default_rng(3)
    som = SOM(3, 4, distance=distance, dtype=np.float64).set_weights(rng.normal(size=(12, 5)))
    X = rng.normal(size=(40, 5))
    distances = som.transform(X)
    np.testing.assert_array_equal(som.bmu(X), np.argmin(distances, axis=1))
    assert som.quantization_error(X) == pytest.approx(distances.min(axis=1).mean(), rel=1e-10)


def test_metrics_same_in_small_chunks(monkeypatch):
    rng = np.random.default_rng(4)
    som = SOM(3, 3, dtype=np.float64).set_weights(rng.normal(size=(9, 3)))
    X = rng.normal(size=(101, 3))
    expected = (som.bmu(X), som.quantization_error(X), som.topographic_error(X), som.hit_map(X))
    monkeypatch.setattr(som_module, "CHUNK_VALUES", 20)
    assert som._chunk_rows() == 2
    np.testing.assert_array_equal(som.bmu(X), expected[0])
    assert som.quantization_error(X) == pytest.approx(expected[1], rel=1e-12)
    assert som.topographic_error(X) == expected[2]
    np.testing.assert_array_equal(som.hit_map(X), expected[3])


def test_hit_and_label_maps():
    som = hand_set_map()
    np.testing.assert_array_equal(som.hit_map(SAMPLES), [[1, 1, 2]])
    counts, classes = som.label_map(SAMPLES, [7, 3, 3, 7])
    assert classes.tolist() == [3, 7]
    np.testing.assert_array_equal(counts[0], [[0, 1], [1, 0], [1, 1]])
    # Unit 2 has one sample of each class: the tie goes to the smaller label.
    assert som.unit_labels(SAMPLES, [7, 3, 3, 7]).tolist() == [7, 3, 3]
    assert som.unit_labels(SAMPLES[:1], [5]).tolist() == [5, -1, -1]


def test_u_matrix_of_hand_set_weights():
    np.testing.assert_allclose(hand_set_map().u_matrix(), [[10.0, 9.5, 9.0]])


def test_u_matrix_hexagonal_shape_and_values():
    som = SOM(2, 3, topology="hexagonal").set_weights(np.arange(6, dtype=float)[:, None])
    # Unit 0 neighbours units 1 and 3 (weights 1 and 3): mean distance 2.
    u_matrix = som.u_matrix()
    assert u_matrix.shape == (2, 3)
    assert u_matrix[0, 0] == pytest.approx(2.0)
