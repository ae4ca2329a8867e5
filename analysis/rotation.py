"""Diagnostics of rotation matrices: orthogonality error, determinant, geodesic distance."""

from __future__ import annotations

import numpy as np

from assoc.errors import ConfigError


def _as_square(rotation, name: str = "rotation") -> np.ndarray:
    matrix = np.asarray(rotation, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] == 0:
        raise ConfigError(f"{name} must be a non-empty square (k, k) matrix; got shape {matrix.shape}.")
    if not np.all(np.isfinite(matrix)):
        raise ConfigError(f"{name} contains NaN or infinite values.")
    return matrix


def orthogonality_error(rotation: np.ndarray) -> float:
    """Return ‖RᵀR − I‖_F, 0 for an exactly orthogonal R.

    Parameters
    ----------
    rotation : ndarray of shape (k, k)
    """
    matrix = _as_square(rotation)
    return float(np.linalg.norm(matrix.T @ matrix - np.eye(matrix.shape[0])))


def determinant(rotation: np.ndarray) -> float:
    """Return det R (+1 for a rotation, −1 for a reflection)."""
    return float(np.linalg.det(_as_square(rotation)))


def rotation_angles(rotation: np.ndarray) -> np.ndarray:
    """Return the rotation angles of R in [0, π], one per eigenvalue, sorted in decreasing order.

    The eigenvalues of an orthogonal matrix are e^{±iθ_j} (and ±1); the angles are their
    absolute arguments, so each plane of rotation appears twice.

    Returns
    -------
    ndarray of shape (k,)
    """
    eigenvalues = np.linalg.eigvals(_as_square(rotation))
    return np.sort(np.abs(np.angle(eigenvalues)))[::-1]


def geodesic_distance(rotation_a: np.ndarray, rotation_b: np.ndarray) -> float:
    """Return the geodesic distance on SO(k) between two rotations.

    d(R_a, R_b) = ‖log(R_aᵀ R_b)‖_F / √2 = sqrt(Σ_j θ_j²), summed over the planes of
    the relative rotation R_aᵀ R_b with angles θ_j; a rotation by θ in one plane is at
    distance θ from the identity. Computed from the eigenvalues, so it stays defined at
    θ = π, where the matrix logarithm is not unique.
    """
    a = _as_square(rotation_a, "rotation_a")
    b = _as_square(rotation_b, "rotation_b")
    if a.shape != b.shape:
        raise ConfigError(f"rotation_a has shape {a.shape} but rotation_b has shape {b.shape}; they must match.")
    angles = rotation_angles(a.T @ b)
    return float(np.sqrt(np.sum(angles**2) / 2.0))


def rotation_diagnostics(rotations: dict[str, np.ndarray]) -> dict[str, float]:
    """Summarise a set of modality rotations.

    Parameters
    ----------
    rotations : dict of str to ndarray of shape (k, k)
        For example ``{"visual": R_v, "audio": R_a}``.

    Returns
    -------
    dict
        ``orthogonality_error_<name>`` and ``det_<name>`` for each rotation, and for
        exactly two rotations ``geodesic_distance`` between them.
    """
    result = {}
    for name, rotation in rotations.items():
        result[f"orthogonality_error_{name}"] = orthogonality_error(rotation)
        result[f"det_{name}"] = determinant(rotation)
    if len(rotations) == 2:
        first, second = rotations.values()
        result["geodesic_distance"] = geodesic_distance(first, second)
    return result
