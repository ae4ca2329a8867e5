"""Learned rotations in SO(k), parametrised through the Lie algebra so(k).

A rotation is R = B · φ(A), where B is a fixed base rotation (a buffer), A = L − Lᵀ is
the skew-symmetric matrix built from a strictly lower-triangular generator L with
k(k−1)/2 trainable entries, and φ is the matrix exponential or the Cayley map. Both
maps send skew-symmetric matrices into SO(k), so every R that training produces is a
rotation (det +1) up to floating-point rounding, whatever the optimiser does to L.

Dynamic trivialization: :meth:`SORotation.fold` moves φ(A) into the base, B ← B φ(A)
(re-orthonormalised in float64), and resets L to zero. Folding keeps A small, so the
float32 rounding error of φ(A) stays small and angles stay well below π, where the
exponential map stops being injective.
"""

from __future__ import annotations

import math
from enum import Enum

import torch
from torch import nn

from assoc.errors import ConfigError


class RotationMap(str, Enum):
    """Map from the Lie algebra so(k) onto SO(k)."""

    EXP = "exp"
    CAYLEY = "cayley"


class RotationInit(str, Enum):
    """Starting rotation: the identity, or a Haar-uniform draw from SO(k)."""

    IDENTITY = "identity"
    HAAR = "haar"


def skew_from_generator(generator: torch.Tensor, k: int) -> torch.Tensor:
    """Build A = L − Lᵀ from the k(k−1)/2 entries of a strictly lower-triangular L.

    Parameters
    ----------
    generator : Tensor of shape (k * (k - 1) // 2,)
        Entries of L below the diagonal, in row-major order (``torch.tril_indices`` with
        offset −1).
    k : int

    Returns
    -------
    Tensor of shape (k, k)
        Skew-symmetric matrix.
    """
    rows, cols = torch.tril_indices(k, k, offset=-1, device=generator.device)
    lower = generator.new_zeros(k, k).index_put((rows, cols), generator)
    return lower - lower.T


def matrix_exp_map(skew: torch.Tensor) -> torch.Tensor:
    """Return exp(A) for a skew-symmetric A, an element of SO(k)."""
    return torch.linalg.matrix_exp(skew)


def cayley_map(skew: torch.Tensor) -> torch.Tensor:
    """Return the Cayley transform (I − A/2)⁻¹ (I + A/2), an element of SO(k).

    With A/2 in place of A the map agrees with exp(A) up to terms of order A³. It never
    reaches rotations with an eigenvalue −1; dynamic trivialization (folding into a
    base rotation) lifts that restriction.
    """
    identity = torch.eye(skew.shape[-1], dtype=skew.dtype, device=skew.device)
    return torch.linalg.solve(identity - 0.5 * skew, identity + 0.5 * skew)


_MAPS = {RotationMap.EXP: matrix_exp_map, RotationMap.CAYLEY: cayley_map}


def haar_rotation(k: int, *, generator: torch.Generator | None = None, dtype=torch.float64) -> torch.Tensor:
    """Draw a rotation uniformly (Haar measure) from SO(k).

    QR of a Gaussian matrix gives a Haar-uniform element of O(k) once the signs of R's
    diagonal are moved into Q (without that fix, QR's sign convention biases the draw).
    Negating the first column when det Q = −1 maps O(k) onto SO(k) and keeps the
    measure uniform, so the result always has det +1.

    Parameters
    ----------
    k : int
    generator : torch.Generator, optional
        Source of randomness; pass a seeded generator for reproducible draws.
    dtype : torch.dtype

    Returns
    -------
    Tensor of shape (k, k)
    """
    gaussian = torch.randn(k, k, generator=generator, dtype=torch.float64)
    q, r = torch.linalg.qr(gaussian)
    signs = torch.sign(torch.diagonal(r))
    signs[signs == 0] = 1.0
    q = q * signs
    if torch.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q.to(dtype)


def orthonormalize(matrix: torch.Tensor) -> torch.Tensor:
    """Return the rotation nearest to ``matrix`` in Frobenius norm (polar factor U Vᵀ).

    Computed in float64 and cast back, which removes the rounding drift that repeated
    float32 products accumulate. The input must already be close to SO(k), so that the
    nearest orthogonal matrix has det +1.
    """
    u, _, vh = torch.linalg.svd(matrix.to(torch.float64))
    return (u @ vh).to(matrix.dtype)


class SORotation(nn.Module):
    """A trainable rotation R = B · φ(L − Lᵀ) in SO(k).

    Parameters
    ----------
    k : int
        Dimension; at least 2.
    rotation_map : {'exp', 'cayley'}
        φ, the map from the Lie algebra onto the group.
    init : {'identity', 'haar'}
        Starting base rotation B; the generator L starts at zero in both cases.
    generator : torch.Generator, optional
        Randomness for the Haar draw.
    max_angle : float
        :meth:`maybe_fold` folds as soon as the largest rotation angle of φ(A), the
        spectral norm of A, exceeds this many radians.

    Attributes
    ----------
    generator : Parameter of shape (k * (k - 1) // 2,)
        The strictly lower-triangular entries of L.
    base : buffer of shape (k, k)
        The fixed rotation B that folds accumulate into.
    n_folds : int
        Folds so far (saved in the state dict as a buffer).
    """

    def __init__(
        self,
        k: int,
        *,
        rotation_map: str = RotationMap.EXP,
        init: str = RotationInit.HAAR,
        generator: torch.Generator | None = None,
        max_angle: float = math.pi / 2,
    ):
        super().__init__()
        if int(k) != k or k < 2:
            raise ConfigError(f"Rotation dimension k must be an integer >= 2; got {k!r}.")
        self.k = int(k)
        self.rotation_map = _parse_enum(RotationMap, rotation_map, "rotation_map")
        init = _parse_enum(RotationInit, init, "rotation_init")
        if not 0 < max_angle < math.pi:
            raise ConfigError(f"max_angle must lie in (0, π) radians; got {max_angle!r}.")
        self.max_angle = float(max_angle)

        self.generator = nn.Parameter(torch.zeros(self.k * (self.k - 1) // 2))
        if init is RotationInit.HAAR:
            base = haar_rotation(self.k, generator=generator, dtype=torch.float32)
        else:
            base = torch.eye(self.k)
        self.register_buffer("base", base)
        self.register_buffer("n_folds", torch.zeros((), dtype=torch.int64))

    def skew(self) -> torch.Tensor:
        """Return A = L − Lᵀ, shape (k, k)."""
        return skew_from_generator(self.generator, self.k)

    def forward(self) -> torch.Tensor:
        """Return the rotation matrix R = B φ(A), shape (k, k)."""
        return self.base @ _MAPS[self.rotation_map](self.skew())

    def generator_angle(self) -> float:
        """Return the largest rotation angle (radians) of φ(A): the spectral norm of A."""
        with torch.no_grad():
            return float(torch.linalg.matrix_norm(self.skew().to(torch.float64), ord=2))

    @torch.no_grad()
    def fold(self) -> None:
        """Move φ(A) into the base rotation and reset the generator to zero.

        R is unchanged up to rounding. The optimiser's moment estimates for the
        generator are kept. After a fold they refer to coordinates around the new base,
        which differ from the old ones only by the small rotation φ(A).
        """
        rotation = self.base.to(torch.float64) @ _MAPS[self.rotation_map](self.skew().to(torch.float64))
        self.base.copy_(orthonormalize(rotation).to(self.base.dtype))
        self.generator.zero_()
        self.n_folds += 1

    def maybe_fold(self) -> bool:
        """Fold when the generator's angle exceeds ``max_angle``; return whether it folded."""
        if self.generator_angle() > self.max_angle:
            self.fold()
            return True
        return False

    def extra_repr(self) -> str:
        return f"k={self.k}, rotation_map={self.rotation_map.value}"


def _parse_enum(enum_type, value, key: str):
    try:
        return enum_type(value)
    except ValueError:
        choices = ", ".join(repr(member.value) for member in enum_type)
        raise ConfigError(f"Invalid {key} {value!r}; choose one of {choices}.") from None
