"""Representation overlap between two modalities: CKA, RSA, modality gap and more.

Each function compares what a visual stimulus evokes with what the auditory stimulus
of the same digit evokes. Inputs are numpy arrays of shape (n_samples, n_features),
one row per test item; outputs are numbers or small arrays. Linear CKA and RSA are
invariant to rotations of either representation. The modality gap, the principal
angles and the orthogonal Procrustes fit are not, and so they detect a rotation
between otherwise identical representations.

Nothing here imports ``models`` or ``sims``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.spatial.distance
import scipy.stats

from assoc.errors import ConfigError

RDM_METRICS = ("euclidean", "cosine", "correlation")
TUNING_TESTS = ("welch", "zscore")

# Default rank r of the principal subspaces compared by principal_angles. Ten classes
# of centred class means span at most 9 dimensions, so r = 9 covers the class structure
# of a digit data set without reaching into noise directions.
DEFAULT_SUBSPACE_RANK = 9


# ---------------------------------------------------------------------------
# Similarity of representational geometry (rotation-invariant)
# ---------------------------------------------------------------------------


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Return the linear centred kernel alignment (CKA) of two representations.

    Parameters
    ----------
    x : ndarray of shape (n_samples, n_features_x)
    y : ndarray of shape (n_samples, n_features_y)
        Row i of ``x`` and row i of ``y`` are the same item in the two modalities.

    Returns
    -------
    float in [0, 1]
        With X and Y the column-centred matrices,

            CKA(X, Y) = ‖Yᵀ X‖_F² / (‖Xᵀ X‖_F · ‖Yᵀ Y‖_F),

        which is the HSIC of linear kernels normalised by the HSIC of each with
        itself (Kornblith et al. 2019, "Similarity of neural network representations
        revisited", ICML 2019, with linear kernels). It is 1 for identical
        representations and for representations that differ by an orthogonal
        transform and an isotropic scale.

    Notes
    -----
    For independent representations the expected value is not 0 but of order
    min(n_features_x, n_features_y) / n_samples, so compare values at equal sizes.
    A representation whose columns are all constant has no variance; CKA is then
    undefined and the function raises ConfigError.
    """
    x, y = _paired_arrays(x, y, "x", "y")
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    cross = np.linalg.norm(y.T @ x, "fro") ** 2
    norm_x = np.linalg.norm(x.T @ x, "fro")
    norm_y = np.linalg.norm(y.T @ y, "fro")
    if norm_x == 0.0 or norm_y == 0.0:
        raise ConfigError(
            "linear CKA is undefined for a representation without variance "
            f"(‖XᵀX‖_F = {norm_x:g}, ‖YᵀY‖_F = {norm_y:g}); check that the codes are not all equal."
        )
    return float(cross / (norm_x * norm_y))


def representational_dissimilarity(x: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """Return the condensed representational dissimilarity matrix (RDM) of the rows of ``x``.

    Parameters
    ----------
    x : ndarray of shape (n_items, n_features)
    metric : {'euclidean', 'cosine', 'correlation'}
        Distance between two rows. 'euclidean' and 'cosine' are invariant to rotations
        of the feature space. 'correlation' (1 − Pearson r across features) is not,
        because it centres each row over its features.

    Returns
    -------
    ndarray of shape (n_items * (n_items - 1) / 2,)
        The upper triangle of the RDM in the order of ``scipy.spatial.distance.pdist``.
    """
    if metric not in RDM_METRICS:
        raise ConfigError(f"Unknown RDM metric {metric!r}; choose one of {', '.join(RDM_METRICS)}.")
    x = _as_matrix(x, "x")
    return scipy.spatial.distance.pdist(x, metric=metric)


def rsa(
    x: np.ndarray,
    y: np.ndarray,
    labels: np.ndarray | None = None,
    labels_y: np.ndarray | None = None,
    *,
    metric: str = "euclidean",
) -> float:
    """Return the representational similarity (RSA) of two representations.

    Parameters
    ----------
    x : ndarray of shape (n_samples_x, n_features_x)
    y : ndarray of shape (n_samples_y, n_features_y)
    labels : ndarray of shape (n_samples_x,), optional
        Without labels, the RDMs are built over items: row i of ``x`` and row i of
        ``y`` must be the same item, so n_samples_x = n_samples_y. With labels, each
        representation is first reduced to its class means, and the RDMs are built
        over the classes (sorted by label), so the two modalities may hold different
        items.
    labels_y : ndarray of shape (n_samples_y,), optional
        Labels of the rows of ``y``; defaults to ``labels``. Both must contain the
        same set of classes.
    metric : {'euclidean', 'cosine', 'correlation'}
        Dissimilarity between items, see :func:`representational_dissimilarity`.

    Returns
    -------
    float in [-1, 1]
        RSA(X, Y) = ρ_Spearman(RDM(X), RDM(Y)), the Spearman rank correlation between
        the upper triangles of the two RDMs (Kriegeskorte et al. 2008,
        "Representational similarity analysis", Front. Syst. Neurosci.). With the
        default Euclidean metric it is 1 for rotated or scaled copies. It is NaN when
        either RDM is constant (for example, all items coincide).
    """
    x = _as_matrix(x, "x")
    y = _as_matrix(y, "y")
    if labels is None:
        if labels_y is not None:
            raise ConfigError("labels_y was given without labels; pass labels for x as well, or neither.")
        x, y = _paired_arrays(x, y, "x", "y")
    else:
        labels_y = labels if labels_y is None else labels_y
        x, y = _class_means_pair(x, y, labels, labels_y)
    if x.shape[0] < 3:
        raise ConfigError(
            f"RSA needs at least 3 items or classes to rank dissimilarities; got {x.shape[0]}."
        )
    rdm_x = representational_dissimilarity(x, metric)
    rdm_y = representational_dissimilarity(y, metric)
    if np.ptp(rdm_x) == 0.0 or np.ptp(rdm_y) == 0.0:
        return float("nan")
    return float(scipy.stats.spearmanr(rdm_x, rdm_y).statistic)


# ---------------------------------------------------------------------------
# Rotation-sensitive measures
# ---------------------------------------------------------------------------


def modality_gap(x: np.ndarray, y: np.ndarray) -> float:
    """Return the distance between the centroids of the L2-normalised codes of two modalities.

    Parameters
    ----------
    x : ndarray of shape (n_samples_x, n_features)
    y : ndarray of shape (n_samples_y, n_features)
        The two modalities' codes, in the same feature space; the items need not be
        paired.

    Returns
    -------
    float in [0, 2]
        gap = ‖ (1/n_x) Σ_i x_i / ‖x_i‖ − (1/n_y) Σ_j y_j / ‖y_j‖ ‖₂
        (Liang et al. 2022, "Mind the gap", NeurIPS). It is 0 when both modalities
        have the same mean direction, and changes when one modality is rotated
        unless its normalised centroid is 0.
    """
    x = _as_matrix(x, "x")
    y = _as_matrix(y, "y")
    _check_same_features(x, y, "x", "y")
    centroids = []
    for name, codes in (("x", x), ("y", y)):
        norms = np.linalg.norm(codes, axis=1, keepdims=True)
        if np.any(norms == 0.0):
            row = int(np.flatnonzero(norms[:, 0] == 0.0)[0])
            raise ConfigError(
                f"{name} row {row} is a zero vector and cannot be L2-normalised; drop it before computing the gap."
            )
        centroids.append((codes / norms).mean(axis=0))
    return float(np.linalg.norm(centroids[0] - centroids[1]))


def principal_angles(x: np.ndarray, y: np.ndarray, rank: int = DEFAULT_SUBSPACE_RANK) -> np.ndarray:
    """Return the principal angles between the top-``rank`` principal subspaces of two modalities.

    Parameters
    ----------
    x : ndarray of shape (n_samples_x, n_features)
    y : ndarray of shape (n_samples_y, n_features)
        The two modalities' codes in the same feature space; the items need not be paired.
    rank : int, default 9
        Dimension r of each subspace, clipped to min(n_features, n_samples_x − 1,
        n_samples_y − 1). Nine covers the span of ten centred class means. At
        r = n_features both subspaces are the whole space and every angle is 0.

    Returns
    -------
    ndarray of shape (r,), radians in [0, π/2], ascending
        With U_x (n_features × r) the top r right singular vectors of the
        column-centred x, and U_y likewise, the angles are θ_i = arccos σ_i(U_xᵀ U_y)
        (Björck & Golub 1973), computed by ``scipy.linalg.subspace_angles``. All 0
        means the two modalities vary along the same directions.
    """
    x = _as_matrix(x, "x")
    y = _as_matrix(y, "y")
    _check_same_features(x, y, "x", "y")
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or rank < 1:
        raise ConfigError(f"rank must be a positive integer; got {rank!r}.")
    if min(x.shape[0], y.shape[0]) < 2:
        raise ConfigError(
            f"principal angles need at least 2 samples per modality; got {x.shape[0]} and {y.shape[0]}."
        )
    rank = int(min(rank, x.shape[1], x.shape[0] - 1, y.shape[0] - 1))
    basis_x = _principal_basis(x, rank)
    basis_y = _principal_basis(y, rank)
    # subspace_angles returns the largest angle first.
    return np.sort(scipy.linalg.subspace_angles(basis_x, basis_y))


def _principal_basis(x: np.ndarray, rank: int) -> np.ndarray:
    centred = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return vt[:rank].T


# ---------------------------------------------------------------------------
# Cross-modally responsive units
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Tuning:
    """Tuning masks of the units in each modality and across both.

    Attributes
    ----------
    classes : ndarray of shape (n_classes,)
        The class labels, sorted; the columns of the masks below.
    tuned_visual, tuned_audio : ndarray of shape (n_units, n_classes), bool
        Unit u is tuned to class c in that modality.
    cross_modal : ndarray of shape (n_units, n_classes), bool
        Tuned to class c in both modalities.
    fraction : float
        Fraction of units tuned to at least one class in both modalities.
    """

    classes: np.ndarray
    tuned_visual: np.ndarray
    tuned_audio: np.ndarray
    cross_modal: np.ndarray
    fraction: float


def tuned_units(
    responses: np.ndarray,
    labels: np.ndarray,
    *,
    classes: np.ndarray | None = None,
    test: str = "welch",
    alpha: float = 0.01,
    z_threshold: float = 2.0,
) -> np.ndarray:
    """Mark the units whose mean response to a class is significantly above their mean over other classes.

    Parameters
    ----------
    responses : ndarray of shape (n_samples, n_units)
    labels : ndarray of shape (n_samples,)
    classes : ndarray of shape (n_classes,), optional
        Columns of the result; defaults to the sorted unique labels. A class without
        samples gets no tuned unit.
    test : {'welch', 'zscore'}
        'welch': a one-sided Welch t-test of the responses to class c against the
        responses to every other class, H1: mean_c > mean_rest. The unit is tuned when
        p < alpha / n_classes (Bonferroni over the classes tested for one unit).
        'zscore': tuned when (mean_c − mean_rest) / sd_rest > z_threshold, with sd_rest
        the sample standard deviation of the responses to the other classes.
    alpha : float in (0, 1), default 0.01
        Family-wise significance level per unit for the Welch test.
    z_threshold : float, default 2.0
        Threshold of the 'zscore' test.

    Returns
    -------
    ndarray of shape (n_units, n_classes), bool
        A unit with constant responses, or a class with fewer than 2 samples (Welch)
        or 1 sample (zscore), is never tuned.
    """
    responses = _as_matrix(responses, "responses")
    labels = _as_labels(labels, responses.shape[0], "labels")
    if test not in TUNING_TESTS:
        raise ConfigError(f"Unknown tuning test {test!r}; choose one of {', '.join(TUNING_TESTS)}.")
    if not 0.0 < alpha < 1.0:
        raise ConfigError(f"alpha must be in (0, 1); got {alpha!r}.")
    classes = np.unique(labels) if classes is None else np.asarray(classes)
    tuned = np.zeros((responses.shape[1], classes.shape[0]), dtype=bool)

    for column, label in enumerate(classes):
        inside = responses[labels == label]
        outside = responses[labels != label]
        if inside.shape[0] < 1 or outside.shape[0] < 2:
            continue
        difference = inside.mean(axis=0) - outside.mean(axis=0)
        if test == "zscore":
            spread = outside.std(axis=0, ddof=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                score = np.where(spread > 0.0, difference / np.where(spread > 0.0, spread, 1.0), 0.0)
            tuned[:, column] = score > z_threshold
            continue
        if inside.shape[0] < 2:
            continue
        # Units whose responses are constant to float32 precision (relative spread below
        # 1e-7) have no meaningful t statistic: they count as untuned.
        scale = np.maximum(np.abs(inside.mean(axis=0)), np.abs(outside.mean(axis=0)))
        spread = inside.var(axis=0) + outside.var(axis=0)
        varying = (spread > 0.0) & (spread > (1e-7 * scale) ** 2)
        if not varying.any():
            continue
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Precision loss occurred", category=RuntimeWarning)
            result = scipy.stats.ttest_ind(
                inside[:, varying], outside[:, varying], axis=0, equal_var=False, alternative="greater"
            )
        p_values = np.ones(responses.shape[1])
        p_values[varying] = np.nan_to_num(result.pvalue, nan=1.0)
        tuned[:, column] = (p_values < alpha / classes.shape[0]) & (difference > 0.0)
    return tuned


def cross_modal_tuning(
    responses_visual: np.ndarray,
    labels_visual: np.ndarray,
    responses_audio: np.ndarray,
    labels_audio: np.ndarray,
    **tuning_options,
) -> Tuning:
    """Find the units tuned to the same class in both modalities.

    Parameters
    ----------
    responses_visual : ndarray of shape (n_samples_visual, n_units)
        Unit responses to visual stimuli.
    labels_visual : ndarray of shape (n_samples_visual,)
    responses_audio : ndarray of shape (n_samples_audio, n_units)
        Responses of the same units to auditory stimuli.
    labels_audio : ndarray of shape (n_samples_audio,)
    **tuning_options
        ``test``, ``alpha`` and ``z_threshold``, passed to :func:`tuned_units`.

    Returns
    -------
    Tuning
        cross_modal[u, c] = tuned_visual[u, c] ∧ tuned_audio[u, c], and
        fraction = (1/n_units) Σ_u 1[∃ c : cross_modal[u, c]]: the share of units
        that respond to a digit whether it is seen or heard, the measure used in
        studies of conditioning-induced multisensory responses in sensory cortex.
    """
    responses_visual = _as_matrix(responses_visual, "responses_visual")
    responses_audio = _as_matrix(responses_audio, "responses_audio")
    if responses_visual.shape[1] != responses_audio.shape[1]:
        raise ConfigError(
            f"responses_visual has {responses_visual.shape[1]} units but responses_audio has "
            f"{responses_audio.shape[1]}; pass the responses of the same units."
        )
    labels_visual = _as_labels(labels_visual, responses_visual.shape[0], "labels_visual")
    labels_audio = _as_labels(labels_audio, responses_audio.shape[0], "labels_audio")
    classes = np.union1d(labels_visual, labels_audio)
    tuned_visual = tuned_units(responses_visual, labels_visual, classes=classes, **tuning_options)
    tuned_audio = tuned_units(responses_audio, labels_audio, classes=classes, **tuning_options)
    cross_modal = tuned_visual & tuned_audio
    return Tuning(
        classes=classes,
        tuned_visual=tuned_visual,
        tuned_audio=tuned_audio,
        cross_modal=cross_modal,
        fraction=float(cross_modal.any(axis=1).mean()),
    )


# ---------------------------------------------------------------------------
# Linear maps against a reference rotation
# ---------------------------------------------------------------------------


def procrustes_rotation(source: np.ndarray, target: np.ndarray, *, proper: bool = True) -> np.ndarray:
    """Fit the orthogonal map Q that carries ``source`` codes onto ``target`` codes.

    Parameters
    ----------
    source : ndarray of shape (n_samples, n_features)
    target : ndarray of shape (n_samples, n_features)
        Row i of each is the same item, for example z_v and z_a of one pair.
    proper : bool, default True
        Restrict Q to rotations (det Q = +1); otherwise reflections are allowed.

    Returns
    -------
    ndarray of shape (n_features, n_features)
        Q = argmin over orthogonal Q of Σ_i ‖Q s_i − t_i‖², in column-vector form
        (t ≈ Q s). With U Σ Vᵀ the SVD of C = Σ_i t_i s_iᵀ = Tᵀ S, Q = U D Vᵀ, where
        D = I, or D = diag(1, …, 1, det(U Vᵀ)) when ``proper`` (Schönemann 1966;
        Umeyama 1991 for the rotation constraint).
    """
    source, target = _paired_arrays(source, target, "source", "target")
    _check_same_features(source, target, "source", "target")
    return nearest_rotation(target.T @ source, proper=proper)


def nearest_rotation(matrix: np.ndarray, *, proper: bool = True) -> np.ndarray:
    """Return the orthogonal matrix nearest to ``matrix`` in Frobenius norm.

    Parameters
    ----------
    matrix : ndarray of shape (k, k)
    proper : bool, default True
        Restrict the result to rotations (det = +1).

    Returns
    -------
    ndarray of shape (k, k)
        The orthogonal polar factor U Vᵀ of M = U Σ Vᵀ, or U diag(1, …, 1, det(U Vᵀ)) Vᵀ
        when ``proper``. For M = 0 every orthogonal matrix is equally near; the SVD
        then returns one of them.
    """
    matrix = _as_square(matrix, "matrix")
    u, _, vt = np.linalg.svd(matrix)
    if proper and np.linalg.det(u @ vt) < 0.0:
        u = u.copy()
        u[:, -1] *= -1.0
    return u @ vt


def map_distance(matrix: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """Measure how far a learned linear map is from a reference rotation.

    Parameters
    ----------
    matrix : ndarray of shape (k, k)
        A learned map M from one modality's codes to the other's, z_a ≈ M z_v.
    reference : ndarray of shape (k, k)
        The reference rotation R, for example R_a R_vᵀ, which carries z_v = R_v s
        onto z_a = R_a s exactly.

    Returns
    -------
    dict
        ``rotation_distance`` = ‖M_orth − R‖_F / sqrt(k), with M_orth the rotation
        nearest to M (:func:`nearest_rotation`); 0 when M points the same way as R,
        at most 2. It ignores the scale and shear of M.

        ``relative_distance`` = ‖M − R‖_F / ‖R‖_F, the distance of M itself; it also
        counts a wrong scale (a Hebbian sum over n pairs grows with n).

        ``scaled_distance`` = min over c ≥ 0 of ‖c M − R‖_F / ‖R‖_F
        = sqrt(1 − max(⟨M, R⟩_F, 0)² / (‖M‖_F² ‖R‖_F²)), the relative distance after
        the best rescaling of M; 1 when M = 0 or when M is anti-aligned with R.
    """
    matrix = _as_square(matrix, "matrix")
    reference = _as_square(reference, "reference")
    if matrix.shape != reference.shape:
        raise ConfigError(
            f"matrix has shape {matrix.shape} but reference has shape {reference.shape}; both must be (k, k)."
        )
    k = matrix.shape[0]
    reference_norm = np.linalg.norm(reference, "fro")
    if reference_norm == 0.0:
        raise ConfigError("reference is the zero matrix; pass a rotation such as R_a @ R_v.T.")
    rotation_distance = np.linalg.norm(nearest_rotation(matrix) - reference, "fro") / np.sqrt(k)
    relative_distance = np.linalg.norm(matrix - reference, "fro") / reference_norm
    matrix_norm = np.linalg.norm(matrix, "fro")
    if matrix_norm == 0.0:
        scaled_distance = 1.0
    else:
        cosine = max(float(np.sum(matrix * reference)) / (matrix_norm * reference_norm), 0.0)
        scaled_distance = float(np.sqrt(max(1.0 - cosine**2, 0.0)))
    return {
        "rotation_distance": float(rotation_distance),
        "relative_distance": float(relative_distance),
        "scaled_distance": scaled_distance,
    }


# ---------------------------------------------------------------------------
# All scalar measures at once
# ---------------------------------------------------------------------------


def overlap_metrics(
    z_visual: np.ndarray,
    z_audio: np.ndarray,
    labels: np.ndarray,
    *,
    rank: int = DEFAULT_SUBSPACE_RANK,
    **tuning_options,
) -> dict[str, float]:
    """Compute every scalar overlap measure between paired codes of the two modalities.

    Parameters
    ----------
    z_visual, z_audio : ndarray of shape (n_samples, k)
        Row i of each belongs to pair i.
    labels : ndarray of shape (n_samples,)
        The digit of each pair.
    rank : int
        Subspace rank for :func:`principal_angles`.
    **tuning_options
        Passed to :func:`tuned_units`.

    Returns
    -------
    dict
        ``cka`` (:func:`linear_cka`), ``rsa_items`` (:func:`rsa` over items),
        ``rsa_classes`` (:func:`rsa` over class means), ``modality_gap``,
        ``principal_angle_mean`` and ``principal_angle_max`` (radians), and
        ``responsive_fraction`` (:attr:`Tuning.fraction`).
    """
    z_visual, z_audio = _paired_arrays(z_visual, z_audio, "z_visual", "z_audio")
    labels = _as_labels(labels, z_visual.shape[0], "labels")
    angles = principal_angles(z_visual, z_audio, rank)
    tuning = cross_modal_tuning(z_visual, labels, z_audio, labels, **tuning_options)
    n_classes = np.unique(labels).shape[0]
    return {
        "cka": linear_cka(z_visual, z_audio),
        "rsa_items": rsa(z_visual, z_audio),
        "rsa_classes": rsa(z_visual, z_audio, labels) if n_classes >= 3 else float("nan"),
        "modality_gap": modality_gap(z_visual, z_audio),
        "principal_angle_mean": float(angles.mean()),
        "principal_angle_max": float(angles.max()),
        "responsive_fraction": tuning.fraction,
    }


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def _as_matrix(array, name: str) -> np.ndarray:
    array = np.asarray(array, dtype=np.float64)
    if array.ndim != 2:
        raise ConfigError(f"{name} must be 2-d (n_samples, n_features); got shape {array.shape}.")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ConfigError(f"{name} is empty (shape {array.shape}); pass at least one sample and one feature.")
    if not np.all(np.isfinite(array)):
        raise ConfigError(f"{name} contains NaN or infinite values; check the codes passed in.")
    return array


def _as_square(array, name: str) -> np.ndarray:
    array = _as_matrix(array, name)
    if array.shape[0] != array.shape[1]:
        raise ConfigError(f"{name} must be square (k, k); got shape {array.shape}.")
    return array


def _as_labels(labels, n_samples: int, name: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n_samples,):
        raise ConfigError(f"{name} has shape {labels.shape}; expected ({n_samples},), one label per row.")
    return labels


def _paired_arrays(x, y, name_x: str, name_y: str) -> tuple[np.ndarray, np.ndarray]:
    x = _as_matrix(x, name_x)
    y = _as_matrix(y, name_y)
    if x.shape[0] != y.shape[0]:
        raise ConfigError(
            f"{name_x} has {x.shape[0]} rows but {name_y} has {y.shape[0]}; "
            "pass the same items in the same order for both."
        )
    return x, y


def _check_same_features(x: np.ndarray, y: np.ndarray, name_x: str, name_y: str) -> None:
    if x.shape[1] != y.shape[1]:
        raise ConfigError(
            f"{name_x} has {x.shape[1]} features but {name_y} has {y.shape[1]}; "
            "this measure needs both in the same space."
        )


def _class_means_pair(x, y, labels_x, labels_y) -> tuple[np.ndarray, np.ndarray]:
    labels_x = _as_labels(labels_x, x.shape[0], "labels")
    labels_y = _as_labels(labels_y, y.shape[0], "labels_y")
    classes = np.unique(labels_x)
    classes_y = np.unique(labels_y)
    if not np.array_equal(classes, classes_y):
        raise ConfigError(
            f"x has classes {classes.tolist()} but y has classes {classes_y.tolist()}; "
            "class-mean RSA needs the same classes in both."
        )
    means_x = np.stack([x[labels_x == label].mean(axis=0) for label in classes])
    means_y = np.stack([y[labels_y == label].mean(axis=0) for label in classes])
    return means_x, means_y
