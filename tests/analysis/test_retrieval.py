import numpy as np
import pytest

from analysis.retrieval import retrieval_scores, similarity


def _naive_scores(queries, gallery, query_labels, gallery_labels, ks):
    scores = similarity(queries, gallery, "cosine")
    recalls = {k: 0.0 for k in ks}
    aps = []
    for i in range(len(queries)):
        order = sorted(range(len(gallery)), key=lambda j: (-scores[i, j], j))
        relevant = [gallery_labels[j] == query_labels[i] for j in order]
        for k in ks:
            recalls[k] += any(relevant[:k])
        hits, precisions = 0, []
        for rank, is_hit in enumerate(relevant, start=1):
            if is_hit:
                hits += 1
                precisions.append(hits / rank)
        aps.append(np.mean(precisions) if precisions else 0.0)
    result = {f"R@{k}": recalls[k] / len(queries) for k in ks}
    result["mAP"] = float(np.mean(aps))
    return result


def test_hand_computed_ranking():
    # One query along x; gallery ranked: same-class item second, so AP = 1/2, R@1 = 0.
    queries = np.array([[1.0, 0.0]])
    gallery = np.array([[1.0, 0.1], [1.0, 0.5], [0.0, 1.0]])
    scores = retrieval_scores(queries, gallery, np.array([1]), np.array([0, 1, 1]), ks=(1, 2))
    assert scores["R@1"] == 0.0
    assert scores["R@2"] == 1.0
    # Hits at ranks 2 and 3: AP = (1/2 + 2/3) / 2.
    assert scores["mAP"] == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_blocks_equal_naive():
    rng = np.random.default_rng(0)
    queries = rng.normal(size=(23, 5))
    gallery = rng.normal(size=(31, 5))
    query_labels = rng.integers(0, 3, size=23)
    gallery_labels = rng.integers(0, 3, size=31)
    expected = _naive_scores(queries, gallery, query_labels, gallery_labels, (1, 5, 10))
    for block_size in (1, 4, 100):
        got = retrieval_scores(queries, gallery, query_labels, gallery_labels, block_size=block_size)
        for key, value in expected.items():
            assert got[key] == pytest.approx(value)


def test_perfect_codes_score_one():
    labels = np.repeat(np.arange(10), 5)
    codes = np.eye(10)[labels]
    scores = retrieval_scores(codes, codes, labels, labels)
    assert scores == {"R@1": 1.0, "R@5": 1.0, "R@10": 1.0, "mAP": 1.0}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"gallery": np.zeros((4, 3))}, "same space"),
        ({"query_labels": np.zeros(5)}, "query_labels has shape"),
        ({"metric": "hamming"}, "Unknown similarity metric 'hamming'"),
        ({"queries": np.full((2, 2), np.nan)}, "NaN"),
    ],
)
def test_bad_input_rejected(kwargs, message):
    arguments = {
        "queries": np.ones((2, 2)),
        "gallery": np.ones((4, 2)),
        "query_labels": np.zeros(2),
        "gallery_labels": np.zeros(4),
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        retrieval_scores(**arguments)
