"""Cross-modal retrieval scores: Recall@K and mean average precision.

A query retrieves items from a gallery, ranked by similarity; a retrieved item is a
hit when it has the query's label (class-level retrieval: any image of a 3 is a
correct answer to a spoken "three").
"""

from __future__ import annotations

import numpy as np

from assoc.errors import ConfigError

METRICS = ("cosine", "euclidean", "dot")


def similarity(queries: np.ndarray, gallery: np.ndarray, metric: str = "cosine") -> np.ndarray:
    """Return the (n_queries, n_gallery) similarity matrix; larger means more similar.

    ``cosine`` is the dot product of L2-normalised rows (a zero row has similarity 0),
    ``euclidean`` the negated Euclidean distance, ``dot`` the plain dot product.
    """
    queries = np.asarray(queries, dtype=np.float64)
    gallery = np.asarray(gallery, dtype=np.float64)
    if metric == "cosine":
        queries = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-300)
        gallery = gallery / np.maximum(np.linalg.norm(gallery, axis=1, keepdims=True), 1e-300)
        return queries @ gallery.T
    if metric == "dot":
        return queries @ gallery.T
    if metric == "euclidean":
        squared = (
            np.sum(queries**2, axis=1)[:, None] - 2.0 * queries @ gallery.T + np.sum(gallery**2, axis=1)[None, :]
        )
        return -np.sqrt(np.maximum(squared, 0.0))
    raise ConfigError(f"Unknown similarity metric {metric!r}; choose one of {', '.join(METRICS)}.")


def retrieval_scores(
    queries: np.ndarray,
    gallery: np.ndarray,
    query_labels: np.ndarray,
    gallery_labels: np.ndarray,
    *,
    ks: tuple[int, ...] = (1, 5, 10),
    metric: str = "cosine",
    block_size: int | None = None,
) -> dict[str, float]:
    """Score class-level retrieval of ``gallery`` items by ``queries``.

    Parameters
    ----------
    queries : ndarray of shape (n_queries, n_features)
    gallery : ndarray of shape (n_gallery, n_features)
    query_labels : ndarray of shape (n_queries,)
    gallery_labels : ndarray of shape (n_gallery,)
    ks : tuple of int
        Cut-offs for Recall@K.
    metric : {'cosine', 'euclidean', 'dot'}
    block_size : int, optional
        Queries scored at once; memory is O(block_size × n_gallery). By default
        blocks hold about 2**22 similarities (32 MiB of float64).

    Returns
    -------
    dict
        ``R@K`` for each K: the fraction of queries with at least one hit among the
        K most similar gallery items. ``mAP``: the mean over queries of the average
        precision AP = (1/|H|) Σ_{r ∈ H} hits(≤ r) / r over the hit ranks H of the
        full ranking (queries without any hit in the gallery count as AP 0).
        Ties in similarity are broken by gallery order.
    """
    queries = np.asarray(queries)
    gallery = np.asarray(gallery)
    query_labels = np.asarray(query_labels)
    gallery_labels = np.asarray(gallery_labels)
    _validate(queries, gallery, query_labels, gallery_labels, ks)
    n_queries, n_gallery = queries.shape[0], gallery.shape[0]
    if block_size is None:
        block_size = max(1, (1 << 22) // max(n_gallery, 1))

    hits_at_k = {k: 0 for k in ks}
    ap_sum = 0.0
    ranks = np.arange(1, n_gallery + 1, dtype=np.float64)
    for start in range(0, n_queries, block_size):
        stop = min(start + block_size, n_queries)
        scores = similarity(queries[start:stop], gallery, metric)

        # Rank the gallery for each query, most similar first (stable, so ties keep gallery order).
        order = np.argsort(-scores, axis=1, kind="stable")
        relevant = gallery_labels[order] == query_labels[start:stop, None]

        for k in ks:
            hits_at_k[k] += int(np.count_nonzero(relevant[:, : min(k, n_gallery)].any(axis=1)))

        # AP = mean over hit ranks r of (hits up to r) / r.
        cumulative_hits = np.cumsum(relevant, axis=1)
        precision_at_hits = np.where(relevant, cumulative_hits / ranks, 0.0)
        n_relevant = relevant.sum(axis=1)
        ap = np.divide(
            precision_at_hits.sum(axis=1), n_relevant, out=np.zeros(stop - start), where=n_relevant > 0
        )
        ap_sum += float(ap.sum())

    result = {f"R@{k}": hits_at_k[k] / n_queries for k in ks}
    result["mAP"] = ap_sum / n_queries
    return result


def _validate(queries, gallery, query_labels, gallery_labels, ks) -> None:
    if queries.ndim != 2 or gallery.ndim != 2:
        raise ConfigError(
            f"queries and gallery must be 2-d (n_samples, n_features); got shapes {queries.shape} and {gallery.shape}."
        )
    if queries.shape[1] != gallery.shape[1]:
        raise ConfigError(
            f"queries have {queries.shape[1]} features but gallery items have {gallery.shape[1]}; "
            "map both into the same space first."
        )
    if queries.shape[0] == 0 or gallery.shape[0] == 0:
        raise ConfigError("queries and gallery must each contain at least one item.")
    if query_labels.shape != (queries.shape[0],):
        raise ConfigError(f"query_labels has shape {query_labels.shape}; expected ({queries.shape[0]},).")
    if gallery_labels.shape != (gallery.shape[0],):
        raise ConfigError(f"gallery_labels has shape {gallery_labels.shape}; expected ({gallery.shape[0]},).")
    for name, array in (("queries", queries), ("gallery", gallery)):
        if not np.all(np.isfinite(array)):
            raise ConfigError(f"{name} contains NaN or infinite values; check the codes passed in.")
    if not ks or any(int(k) < 1 for k in ks):
        raise ConfigError(f"ks must be positive integers; got {ks!r}.")
