import math

import pytest
import torch

from models.losses import info_nce_loss, reconstruction_loss, subspace_overlap


def test_info_nce_uniform_codes_is_log_batch():
    codes = torch.ones(4, 3)
    # Every similarity equals 1/τ, so each softmax is uniform over the 4 candidates.
    assert float(info_nce_loss(codes, codes, 0.5)) == pytest.approx(math.log(4))


def test_info_nce_matched_orthogonal_codes():
    codes = torch.eye(3)
    temperature = 0.1
    # Matching pair: similarity 1/τ; the others 0. L = −log(e^{10} / (e^{10} + 2)).
    expected = -math.log(math.exp(10) / (math.exp(10) + 2))
    assert float(info_nce_loss(codes, codes, temperature)) == pytest.approx(expected, abs=1e-6)


def test_info_nce_is_symmetric():
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 4, generator=generator), torch.randn(5, 4, generator=generator)
    assert float(info_nce_loss(a, b, 0.2)) == pytest.approx(float(info_nce_loss(b, a, 0.2)), rel=1e-6)


def test_subspace_overlap_closed_forms():
    basis = torch.eye(4)
    assert float(subspace_overlap(basis[:, :2], basis[:, 2:])) == 0.0
    # Identical rank-one maps: ‖mᵀm‖² / ‖m‖⁴ = 1.
    column = torch.tensor([[1.0], [2.0], [0.0], [0.0]])
    assert float(subspace_overlap(column, column)) == pytest.approx(1.0)
    # Identical orthonormal maps of width d: d / d² = 1/d.
    assert float(subspace_overlap(basis[:, :2], basis[:, :2])) == pytest.approx(0.5)


def test_subspace_overlap_ignores_scale():
    generator = torch.Generator().manual_seed(1)
    a, b = torch.randn(6, 2, generator=generator), torch.randn(6, 2, generator=generator)
    assert float(subspace_overlap(3 * a, 0.1 * b)) == pytest.approx(float(subspace_overlap(a, b)), rel=1e-5)


def test_reconstruction_loss_is_mean_squared_error():
    assert float(reconstruction_loss(torch.zeros(2, 2), torch.tensor([[1.0, 0.0], [0.0, 1.0]]))) == 0.5
