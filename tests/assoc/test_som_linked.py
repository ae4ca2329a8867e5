"""Hebbian-linked SOM pairs: link learning, cross-modal recall and link statistics."""

import numpy as np
import pytest

from analysis.retrieval import retrieval_scores
from assoc.som import SOM, LinkedSOMs

# Map a: 2 x 2 units at the corners of a square; map b: 1 x 4 units on a line.
WEIGHTS_A = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
WEIGHTS_B = np.array([[0.0], [10.0], [20.0], [30.0]])
# Pair class c joins unit c of map a with unit PAIRING[c] of map b.
PAIRING = np.array([2, 0, 3, 1])


def hand_set_pair(**options):
    som_a = SOM(2, 2, dtype=np.float64).set_weights(WEIGHTS_A)
    som_b = SOM(1, 4, dtype=np.float64).set_weights(WEIGHTS_B)
    return LinkedSOMs(som_a, som_b, names=("visual", "audio"), **options)


def toy_pairs(n_pairs=200, seed=0):
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, 4, n_pairs)
    x_a = WEIGHTS_A[classes] + rng.normal(scale=1.0, size=(n_pairs, 2))
    x_b = WEIGHTS_B[PAIRING[classes]] + rng.normal(scale=1.0, size=(n_pairs, 1))
    return x_a, x_b, classes


@pytest.mark.parametrize(
    "options",
    [
        {"activation": "bmu"},
        {"activation": "neighborhood", "link_sigma": 0.5},
        {"activation": "softmax", "temperature": 1.0},
        {"activation": "bmu", "normalization": "oja"},
        {"activation": "neighborhood", "link_sigma": 0.5, "normalization": "oja", "decay": 1e-3},
    ],
    ids=["bmu", "neighborhood", "softmax", "oja", "oja-decay"],
)
def test_links_recover_one_to_one_pairing(options):
    linked = hand_set_pair(**options)
    x_a, x_b, classes = toy_pairs()
    linked.partial_fit(x_a, x_b)
    assert linked.pairs_seen_ == len(x_a)
    np.testing.assert_array_equal(np.argmax(linked.links_, axis=1), PAIRING)
    np.testing.assert_array_equal(np.argmax(linked.links_, axis=0), np.argsort(PAIRING))
    np.testing.assert_array_equal(linked.recall_units(WEIGHTS_A, "visual"), PAIRING)
    np.testing.assert_array_equal(linked.recall(WEIGHTS_A, "visual"), WEIGHTS_B[PAIRING])
    np.testing.assert_array_equal(linked.recall(WEIGHTS_B[PAIRING], "audio"), WEIGHTS_A)


def test_bmu_rule_counts_pairs():
    linked = hand_set_pair(activation="bmu", eta=0.5)
    x_a, x_b, classes = toy_pairs(seed=1)
    linked.partial_fit(x_a, x_b)
    expected = np.zeros((4, 4))
    np.add.at(expected, (linked.som_a.bmu(x_a), linked.som_b.bmu(x_b)), 0.5)
    np.testing.assert_allclose(linked.links_, expected)


def test_neighborhood_rule_equals_outer_products():
    linked = hand_set_pair(activation="neighborhood", link_sigma=1.0, eta=0.2, decay=0.01)
    x_a, x_b, _ = toy_pairs(30, seed=2)
    linked.partial_fit(x_a, x_b)
    expected = np.zeros((4, 4))
    for a_row, b_row in zip(linked.activation_of(x_a, "visual"), linked.activation_of(x_b, "audio")):
        expected = 0.99 * expected + 0.2 * np.outer(a_row, b_row)
    np.testing.assert_allclose(linked.links_, expected, rtol=1e-10)


@pytest.mark.parametrize("normalization", ["none", "oja"])
def test_blocks_give_same_links(normalization):
    x_a, x_b, _ = toy_pairs(90, seed=3)
    whole = hand_set_pair(activation="softmax", temperature=3.0, decay=0.02, normalization=normalization)
    whole.partial_fit(x_a, x_b)
    parts = hand_set_pair(activation="softmax", temperature=3.0, decay=0.02, normalization=normalization)
    for rows in np.array_split(np.arange(90), 4):
        parts.partial_fit(x_a[rows], x_b[rows])
    np.testing.assert_allclose(parts.links_, whole.links_, rtol=1e-10, atol=1e-12)


def test_oja_bounds_links_where_plain_rule_grows():
    x_a, x_b, _ = toy_pairs(400, seed=4)
    plain = hand_set_pair(activation="bmu", eta=0.5)
    oja = hand_set_pair(activation="bmu", eta=0.5, normalization="oja")
    for _ in range(5):
        plain.partial_fit(x_a, x_b)
        oja.partial_fit(x_a, x_b)
    assert plain.links_.sum() == pytest.approx(0.5 * 2000)
    assert oja.links_.max() <= 1.0 + 1e-12
    np.testing.assert_allclose(np.linalg.norm(oja.links_, axis=0), 1.0, atol=1e-6)


def test_decay_forgets_old_pairing():
    linked = hand_set_pair(activation="bmu", decay=0.02)
    x_a, x_b, classes = toy_pairs(100, seed=5)
    linked.partial_fit(x_a, x_b)
    new_pairing = np.array([1, 2, 3, 0])
    x_b_new = WEIGHTS_B[new_pairing[classes]]
    for _ in range(3):
        linked.partial_fit(x_a, x_b_new)
    np.testing.assert_array_equal(np.argmax(linked.links_, axis=1), new_pairing)


def test_link_statistics_of_perfect_pairing():
    linked = hand_set_pair(activation="bmu", eta=0.5)
    empty = linked.link_statistics()
    assert empty["pairs_seen"] == 0
    assert empty["linked_fraction_a"] == 0
    x_a, x_b, _ = toy_pairs(seed=6)
    linked.partial_fit(x_a, x_b)
    stats = linked.link_statistics()
    assert stats["pairs_seen"] == 200
    assert stats["total"] == pytest.approx(100.0)
    assert stats["row_entropy"] == pytest.approx(0.0)
    assert stats["mutual_best_fraction"] == 1.0
    assert stats["linked_fraction_a"] == 1.0
    assert stats["linked_fraction_b"] == 1.0


def test_weighted_recall_is_score_weighted_mean():
    linked = hand_set_pair(activation="neighborhood", link_sigma=1.0)
    x_a, x_b, _ = toy_pairs(seed=7)
    linked.partial_fit(x_a, x_b)
    queries = x_a[:10]
    scores = linked.link_scores(queries, "visual")
    expected = (scores @ WEIGHTS_B) / scores.sum(axis=1, keepdims=True)
    recalled = linked.recall(queries, "visual", mode="weighted")
    assert recalled.shape == (10, 1)
    assert recalled.dtype == np.float64
    np.testing.assert_allclose(recalled, expected, rtol=1e-10)


def test_labels_and_nearest_items():
    linked = hand_set_pair(activation="bmu")
    x_a, x_b, classes = toy_pairs(seed=8)
    linked.partial_fit(x_a, x_b)
    linked.label_units(x_b, classes, "audio")
    linked.label_units(x_a, classes, "visual")
    assert linked.score(x_a, classes, "visual") == 1.0
    assert linked.score(x_b, classes, "audio", mode="weighted") == 1.0
    nearest = linked.nearest_items(x_a[:20], "visual", x_b, n_neighbors=3)
    assert nearest.shape == (20, 3)
    assert np.all(classes[nearest] == classes[:20, None])


def test_trained_maps_retrieve_across_modalities():
    rng = np.random.default_rng(9)
    centers_a = rng.normal(scale=4.0, size=(4, 3))
    centers_b = rng.normal(scale=4.0, size=(4, 5))
    classes = rng.integers(0, 4, 400)
    x_a = centers_a[classes] + 0.3 * rng.normal(size=(400, 3))
    x_b = centers_b[classes] + 0.3 * rng.normal(size=(400, 5))
    linked = LinkedSOMs(
        SOM(4, 4, n_iter=4000, random_state=0), SOM(4, 4, n_iter=4000, random_state=1), activation="neighborhood"
    )
    linked.fit_maps(x_a[:300], x_b[:300])
    for rows in np.array_split(np.arange(300), 3):
        linked.partial_fit(x_a[rows], x_b[rows])
    test = slice(300, 400)
    recalled = linked.recall(x_a[test], "a")
    scores = retrieval_scores(recalled, x_b[test], classes[test], classes[test], ks=(1, 5), metric="euclidean")
    assert scores["R@1"] >= 0.95
    linked.label_units(x_b[:300], classes[:300], "b")
    assert linked.score(x_a[test], classes[test], "a") >= 0.95


def test_update_maps_trains_maps_with_links():
    x_a, x_b, _ = toy_pairs(100, seed=10)
    linked = LinkedSOMs(SOM(2, 2, n_iter=200, init="sample", random_state=0), SOM(1, 4, n_iter=200, random_state=0),
                        update_maps=True)
    linked.partial_fit(x_a, x_b)
    linked.partial_fit(x_a, x_b)
    assert linked.som_a.n_steps_ == 200
    assert linked.pairs_seen_ == 200
    assert linked.link_statistics()["total"] > 0
    linked.partial_fit(np.zeros((0, 2)), np.zeros((0, 1)))
    assert linked.pairs_seen_ == 200


def test_state_dict_round_trip():
    linked = hand_set_pair(activation="bmu")
    x_a, x_b, _ = toy_pairs(seed=11)
    linked.partial_fit(x_a, x_b)
    restored = hand_set_pair(activation="bmu")
    restored.load_state_dict(linked.state_dict())
    np.testing.assert_array_equal(restored.links_, linked.links_)
    assert restored.pairs_seen_ == linked.pairs_seen_
    np.testing.assert_array_equal(restored.recall(x_a, "visual"), linked.recall(x_a, "visual"))


def test_progress_of_fit_maps():
    x_a, x_b, _ = toy_pairs(50, seed=12)
    linked = LinkedSOMs(SOM(2, 2, n_iter=100), SOM(2, 2, algorithm="batch", n_iter=4))
    calls = []
    linked.fit_maps(x_a, x_b, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (104, 104)
    assert all(total == 104 for _, total in calls)


def test_recall_cache_follows_map_changes():
    linked = hand_set_pair(activation="neighborhood", link_sigma=0.5)
    x_a, x_b, _ = toy_pairs(seed=13)
    linked.partial_fit(x_a, x_b)
    before = linked.recall(WEIGHTS_A, "visual", mode="weighted")
    linked.som_b.set_weights(WEIGHTS_B + 100.0)
    after = linked.recall(WEIGHTS_A, "visual", mode="weighted")
    np.testing.assert_allclose(after, before + 100.0)
