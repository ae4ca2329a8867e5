import numpy as np
import pytest
from scipy.stats import special_ortho_group

from analysis.overlap import (
    cross_modal_tuning,
    linear_cka,
    map_distance,
    modality_gap,
    nearest_rotation,
    overlap_metrics,
    principal_angles,
    procrustes_rotation,
    rsa,
    tuned_units,
)
from assoc.errors import ConfigError


def _rotation(k, seed):
    return special_ortho_group.rvs(k, random_state=seed)


def _low_rank_codes(n_samples=200, k=6, rank=2, seed=0):
    """Codes that vary only in the first ``rank`` coordinates, with a nonzero mean."""
    rng = np.random.default_rng(seed)
    codes = np.zeros((n_samples, k))
    codes[:, :rank] = rng.normal(size=(n_samples, rank))
    codes[:, 0] += 3.0
    return codes


# Linear CKA


def test_cka_identical_is_one():
    x = np.random.default_rng(0).normal(size=(50, 4))
    assert linear_cka(x, x) == pytest.approx(1.0)


def test_cka_rotated_and_scaled_is_one():
    x = np.random.default_rng(1).normal(size=(50, 5))
    y = 3.0 * x @ _rotation(5, 2).T + 7.0
    assert linear_cka(x, y) == pytest.approx(1.0)


def test_cka_independent_noise_near_zero():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4000, 3))
    y = rng.normal(size=(4000, 3))
    # Expected value is of order n_features / n_samples, about 1e-3 here.
    assert linear_cka(x, y) < 0.01


def test_cka_hand_computed():
    # Centred x = [-1, 0, 1]; y = [1, -2, 1] is orthogonal to it after centring.
    x = np.array([[0.0], [1.0], [2.0]])
    assert linear_cka(x, np.array([[1.0], [-2.0], [1.0]])) == pytest.approx(0.0)
    # Add a second feature to y that is uncorrelated with x.
    y = np.hstack([x, np.array([[1.0], [-2.0], [1.0]])])
    # Centred: X = [-1,0,1]ᵀ, Y = [[-1,1],[0,-2],[1,1]]. YᵀX = [2, 0], ‖·‖² = 4.
    # XᵀX = 2; YᵀY = diag(2, 6), ‖·‖_F = sqrt(40). CKA = 4 / (2 sqrt(40)).
    assert linear_cka(x, y) == pytest.approx(4.0 / (2.0 * np.sqrt(40.0)))


def test_cka_rejects_constant_representation():
    x = np.ones((5, 2))
    with pytest.raises(ConfigError, match="without variance"):
        linear_cka(x, np.random.default_rng(0).normal(size=(5, 2)))


def test_cka_rejects_row_mismatch():
    with pytest.raises(ConfigError, match="x has 4 rows but y has 5"):
        linear_cka(np.zeros((4, 2)), np.zeros((5, 2)))


# RSA


def test_rsa_rotated_copy_is_one():
    x = np.random.default_rng(4).normal(size=(30, 5))
    y = 2.0 * x @ _rotation(5, 5).T
    assert rsa(x, y) == pytest.approx(1.0)


def test_rsa_class_means_of_rotated_copy_is_one():
    rng = np.random.default_rng(6)
    labels = np.repeat(np.arange(4), 10)
    x = rng.normal(size=(40, 3)) + 3.0 * np.eye(4, 3)[labels]
    y = x @ _rotation(3, 7).T
    # Different items in y: shuffle its rows together with its labels.
    order = rng.permutation(40)
    assert rsa(x, y[order], labels, labels[order]) == pytest.approx(1.0)


def test_rsa_hand_computed_reversed_order():
    # 1-d points 0, 1, 3 give distances (1, 3, 2); points 0, 2, 3 give (2, 3, 1).
    x = np.array([[0.0], [1.0], [3.0]])
    y = np.array([[0.0], [2.0], [3.0]])
    # Ranks (1, 3, 2) and (2, 3, 1): Spearman = 1 - 6·(1+0+1)/(3·8) = 0.5.
    assert rsa(x, y) == pytest.approx(0.5)


def test_rsa_constant_rdm_is_nan():
    x = np.eye(3)
    assert np.isnan(rsa(x, x))


def test_rsa_rejects_too_few_items():
    with pytest.raises(ConfigError, match="at least 3 items"):
        rsa(np.zeros((2, 2)), np.ones((2, 2)))


def test_rsa_rejects_different_classes():
    x = np.random.default_rng(0).normal(size=(6, 2))
    with pytest.raises(ConfigError, match="same classes"):
        rsa(x, x, np.array([0, 0, 1, 1, 2, 2]), np.array([0, 0, 1, 1, 3, 3]))


def test_rsa_rejects_unknown_metric():
    x = np.random.default_rng(0).normal(size=(4, 2))
    with pytest.raises(ConfigError, match="Unknown RDM metric 'manhatan'"):
        rsa(x, x, metric="manhatan")


# Modality gap


def test_gap_identical_is_zero():
    x = _low_rank_codes()
    assert modality_gap(x, x) == pytest.approx(0.0, abs=1e-12)


def test_gap_hand_computed():
    # Normalised centroids (1, 0) and (0, 1): gap sqrt(2), for any positive scale.
    x = np.array([[2.0, 0.0], [5.0, 0.0]])
    y = np.array([[0.0, 1.0], [0.0, 3.0]])
    assert modality_gap(x, y) == pytest.approx(np.sqrt(2.0))


def test_gap_detects_rotation():
    x = _low_rank_codes()
    y = x @ _rotation(6, 8).T
    assert linear_cka(x, y) == pytest.approx(1.0)
    assert modality_gap(x, y) > 0.5


def test_gap_rejects_zero_row():
    with pytest.raises(ConfigError, match="y row 1 is a zero vector"):
        modality_gap(np.ones((2, 2)), np.array([[1.0, 0.0], [0.0, 0.0]]))


# Principal angles


def test_angles_identical_are_zero():
    x = _low_rank_codes()
    np.testing.assert_allclose(principal_angles(x, x, rank=2), 0.0, atol=1e-7)


def test_angles_detect_rotation():
    x = _low_rank_codes()
    y = x @ _rotation(6, 9).T
    angles = principal_angles(x, y, rank=2)
    assert angles.shape == (2,)
    assert angles.max() > 0.1


def test_angles_hand_computed():
    # x varies along e1, y along (cos θ, sin θ): one angle θ.
    theta = 0.3
    t = np.linspace(-1.0, 1.0, 11)[:, None]
    x = t * np.array([[1.0, 0.0, 0.0]])
    y = t * np.array([[np.cos(theta), np.sin(theta), 0.0]])
    np.testing.assert_allclose(principal_angles(x, y, rank=1), [theta])


def test_angles_ascending():
    rng = np.random.default_rng(10)
    angles = principal_angles(rng.normal(size=(40, 8)), rng.normal(size=(40, 8)), rank=3)
    assert np.all(np.diff(angles) >= 0.0)


def test_angles_rank_clipped_to_features():
    x = _low_rank_codes(k=4)
    assert principal_angles(x, x, rank=50).shape == (4,)


def test_angles_reject_bad_rank():
    x = _low_rank_codes()
    with pytest.raises(ConfigError, match="rank must be a positive integer; got 0"):
        principal_angles(x, x, rank=0)


def test_angles_reject_feature_mismatch():
    with pytest.raises(ConfigError, match="x has 6 features but y has 5"):
        principal_angles(_low_rank_codes(k=6), _low_rank_codes(k=5))


# Cross-modally responsive units


def _tuned_responses(preferred_class, n_per_class=20, n_classes=3, seed=0):
    """Responses of units; unit u fires at 5 for ``preferred_class[u]`` (None: never)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), n_per_class)
    responses = rng.normal(scale=0.5, size=(labels.shape[0], len(preferred_class)))
    for unit, label in enumerate(preferred_class):
        if label is not None:
            responses[labels == label, unit] += 5.0
    return responses, labels


def test_tuned_units_hand_built():
    responses, labels = _tuned_responses([0, 2, None])
    tuned = tuned_units(responses, labels)
    expected = np.array([[True, False, False], [False, False, True], [False, False, False]])
    np.testing.assert_array_equal(tuned, expected)


def test_tuned_units_zscore_hand_built():
    responses, labels = _tuned_responses([1, None])
    tuned = tuned_units(responses, labels, test="zscore", z_threshold=3.0)
    np.testing.assert_array_equal(tuned, [[False, True, False], [False, False, False]])


def test_responsive_fraction_hand_built():
    # Unit 0: digit 0 in both (cross-modal). Unit 1: digit 1 visual, digit 2 audio (not).
    # Unit 2: digit 2 in both. Unit 3: visual only. Fraction 2 / 4.
    visual, labels_visual = _tuned_responses([0, 1, 2, 1], seed=1)
    audio, labels_audio = _tuned_responses([0, 2, 2, None], seed=2)
    tuning = cross_modal_tuning(visual, labels_visual, audio, labels_audio)
    assert tuning.fraction == pytest.approx(0.5)
    np.testing.assert_array_equal(tuning.cross_modal.any(axis=1), [True, False, True, False])
    assert tuning.cross_modal[0, 0]
    assert tuning.cross_modal[2, 2]


def test_constant_unit_is_not_tuned():
    labels = np.repeat(np.arange(3), 5)
    tuned = tuned_units(np.ones((15, 1)), labels)
    assert not tuned.any()


def test_tuning_rejects_unit_mismatch():
    with pytest.raises(ConfigError, match="responses_visual has 2 units but responses_audio has 3"):
        cross_modal_tuning(np.zeros((4, 2)), np.arange(4), np.zeros((4, 3)), np.arange(4))


def test_tuning_rejects_bad_alpha():
    with pytest.raises(ConfigError, match=r"alpha must be in \(0, 1\); got 1.5"):
        tuned_units(np.zeros((4, 2)), np.arange(4), alpha=1.5)


def test_tuning_rejects_unknown_test():
    with pytest.raises(ConfigError, match="Unknown tuning test 'ttest'"):
        tuned_units(np.zeros((4, 2)), np.arange(4), test="ttest")


# Procrustes and map distance


def test_procrustes_hand_computed_2d():
    # Target = source rotated by 90°: (1, 0) → (0, 1), (0, 2) → (−2, 0).
    source = np.array([[1.0, 0.0], [0.0, 2.0]])
    target = np.array([[0.0, 1.0], [-2.0, 0.0]])
    expected = np.array([[0.0, -1.0], [1.0, 0.0]])
    np.testing.assert_allclose(procrustes_rotation(source, target), expected, atol=1e-12)


def test_procrustes_recovers_random_rotation():
    source = np.random.default_rng(11).normal(size=(30, 5))
    rotation = _rotation(5, 12)
    np.testing.assert_allclose(procrustes_rotation(source, source @ rotation.T), rotation, atol=1e-10)


def test_procrustes_proper_excludes_reflection():
    # Target is a mirror image: the best orthogonal map is a reflection, det −1.
    source = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    target = source * np.array([1.0, -1.0])
    assert np.linalg.det(procrustes_rotation(source, target, proper=False)) == pytest.approx(-1.0)
    assert np.linalg.det(procrustes_rotation(source, target)) == pytest.approx(1.0)


def test_nearest_rotation_of_scaled_rotation():
    rotation = _rotation(4, 13)
    np.testing.assert_allclose(nearest_rotation(5.0 * rotation), rotation, atol=1e-12)


def test_map_distance_exact_rotation_is_zero():
    rotation = _rotation(4, 14)
    distances = map_distance(rotation, rotation)
    assert distances["rotation_distance"] == pytest.approx(0.0, abs=1e-12)
    assert distances["relative_distance"] == pytest.approx(0.0, abs=1e-12)
    assert distances["scaled_distance"] == pytest.approx(0.0, abs=1e-6)


def test_map_distance_scaled_map():
    # M = 3R: its rotation and its best rescaling match R; M itself is 2‖R‖ away.
    rotation = _rotation(4, 15)
    distances = map_distance(3.0 * rotation, rotation)
    assert distances["rotation_distance"] == pytest.approx(0.0, abs=1e-12)
    assert distances["relative_distance"] == pytest.approx(2.0)
    assert distances["scaled_distance"] == pytest.approx(0.0, abs=1e-6)


def test_map_distance_hand_computed_2d():
    # M = I against R = rotation by θ: ‖I − R‖_F² = 4 − 4 cos θ, k = 2.
    theta = np.pi / 3
    reference = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    distances = map_distance(np.eye(2), reference)
    expected = np.sqrt(4.0 - 4.0 * np.cos(theta)) / np.sqrt(2.0)
    assert distances["rotation_distance"] == pytest.approx(expected)
    assert distances["relative_distance"] == pytest.approx(expected)
    # ⟨I, R⟩ / (‖I‖ ‖R‖) = cos θ, so the scaled distance is sin θ.
    assert distances["scaled_distance"] == pytest.approx(np.sin(theta))


def test_map_distance_rejects_shape_mismatch():
    with pytest.raises(ConfigError, match=r"matrix has shape \(3, 3\) but reference has shape \(2, 2\)"):
        map_distance(np.eye(3), np.eye(2))


def test_map_distance_rejects_non_square():
    with pytest.raises(ConfigError, match=r"matrix must be square \(k, k\); got shape \(2, 3\)"):
        map_distance(np.zeros((2, 3)), np.eye(2))


def test_rejects_nan_input():
    x = np.ones((4, 2))
    x[1, 1] = np.nan
    with pytest.raises(ConfigError, match="x contains NaN"):
        linear_cka(x, np.ones((4, 2)))


# All measures at once


def test_overlap_metrics_rotated_copy():
    rng = np.random.default_rng(16)
    labels = np.repeat(np.arange(5), 20)
    z_visual = rng.normal(scale=0.3, size=(100, 6)) + 2.0 * np.eye(5, 6)[labels] + 1.0
    z_audio = z_visual @ _rotation(6, 17).T
    metrics = overlap_metrics(z_visual, z_audio, labels, rank=4)
    assert metrics["cka"] == pytest.approx(1.0)
    assert metrics["rsa_items"] == pytest.approx(1.0)
    assert metrics["rsa_classes"] == pytest.approx(1.0)
    assert metrics["modality_gap"] > 0.1
    assert metrics["principal_angle_max"] > 0.1
    # Identity copies make every tuned unit cross-modal.
    same = overlap_metrics(z_visual, z_visual, labels, rank=4)
    assert same["modality_gap"] == pytest.approx(0.0, abs=1e-12)
    assert same["responsive_fraction"] == pytest.approx(5 / 6)
