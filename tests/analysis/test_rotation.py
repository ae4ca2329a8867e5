import math

import numpy as np
import pytest

from analysis.rotation import (
    determinant,
    geodesic_distance,
    orthogonality_error,
    rotation_angles,
    rotation_diagnostics,
)
from assoc.errors import ConfigError


def _planar(theta, k=2):
    rotation = np.eye(k)
    rotation[:2, :2] = [[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]]
    return rotation


def test_orthogonality_error_closed_form():
    assert orthogonality_error(_planar(0.3)) == pytest.approx(0.0, abs=1e-15)
    # (2I)ᵀ(2I) − I = 3I in 3-d: Frobenius norm 3√3.
    assert orthogonality_error(2 * np.eye(3)) == pytest.approx(3 * math.sqrt(3))


def test_determinant_of_rotation_and_reflection():
    assert determinant(_planar(1.1, k=4)) == pytest.approx(1.0)
    assert determinant(np.diag([1.0, 1.0, -1.0])) == pytest.approx(-1.0)


@pytest.mark.parametrize("theta", [0.0, 0.5, 2.0, math.pi])
def test_geodesic_distance_of_planar_rotation(theta):
    assert geodesic_distance(np.eye(3), _planar(theta, k=3)) == pytest.approx(theta, abs=1e-7)


def test_geodesic_distance_two_planes():
    rotation = np.eye(4)
    rotation[:2, :2] = _planar(0.3)
    rotation[2:, 2:] = _planar(0.4)
    assert geodesic_distance(np.eye(4), rotation) == pytest.approx(0.5)


def test_geodesic_distance_is_invariant_and_symmetric():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    a = _planar(0.7, k=5)
    b = _planar(-0.2, k=5)
    assert geodesic_distance(a, b) == pytest.approx(0.9)
    assert geodesic_distance(q @ a, q @ b) == pytest.approx(geodesic_distance(a, b))
    assert geodesic_distance(b, a) == pytest.approx(geodesic_distance(a, b))


def test_rotation_angles_list_each_plane_twice():
    angles = rotation_angles(_planar(0.6, k=3))
    np.testing.assert_allclose(angles, [0.6, 0.6, 0.0], atol=1e-12)


def test_diagnostics_keys():
    result = rotation_diagnostics({"visual": np.eye(3), "audio": _planar(0.25, k=3)})
    assert result["det_visual"] == pytest.approx(1.0)
    assert result["orthogonality_error_audio"] == pytest.approx(0.0, abs=1e-15)
    assert result["geodesic_distance"] == pytest.approx(0.25)


def test_rejects_non_square():
    with pytest.raises(ConfigError, match="square \\(k, k\\) matrix; got shape \\(2, 3\\)"):
        determinant(np.zeros((2, 3)))
    with pytest.raises(ConfigError, match="must match"):
        geodesic_distance(np.eye(2), np.eye(3))
