import math

import pytest
import torch

from assoc.errors import ConfigError
from models.rotation import SORotation, cayley_map, haar_rotation, matrix_exp_map, skew_from_generator


def _tolerance(dtype, k):
    # Rounding in a k × k product grows about linearly with k; 10 eps per row is loose
    # enough for matrix_exp and the float64 re-orthonormalisation of folds.
    return 10 * k * torch.finfo(dtype).eps


def _orthogonality_error(rotation):
    identity = torch.eye(rotation.shape[0], dtype=rotation.dtype)
    return float((rotation.T @ rotation - identity).abs().max())


@pytest.mark.parametrize("rotation_map", ["exp", "cayley"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_orthogonal_after_large_gradient_steps(rotation_map, dtype):
    k = 12
    generator = torch.Generator().manual_seed(0)
    rotation = SORotation(k, rotation_map=rotation_map, generator=generator).to(dtype)
    target = torch.randn(k, k, generator=generator, dtype=dtype)
    optimizer = torch.optim.SGD(rotation.parameters(), lr=0.5)
    for _ in range(50):
        optimizer.zero_grad()
        # A loss scaled by 1e3 gives gradients far larger than any angle budget.
        loss = 1e3 * ((rotation() - target) ** 2).sum()
        loss.backward()
        optimizer.step()
        rotation.maybe_fold()
    with torch.no_grad():
        matrix = rotation()
    assert int(rotation.n_folds) > 0
    assert _orthogonality_error(matrix) < _tolerance(dtype, k)
    assert float(torch.linalg.det(matrix.double())) == pytest.approx(1.0, abs=_tolerance(dtype, k))


def test_two_by_two_closed_form():
    theta = 0.7
    rotation = SORotation(2, init="identity")
    with torch.no_grad():
        rotation.generator.fill_(theta)
    expected = torch.tensor([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    torch.testing.assert_close(rotation().detach(), expected)


def test_skew_from_generator_layout():
    skew = skew_from_generator(torch.tensor([1.0, 2.0, 3.0]), 3)
    expected = torch.tensor([[0.0, -1.0, -2.0], [1.0, 0.0, -3.0], [2.0, 3.0, 0.0]])
    torch.testing.assert_close(skew, expected)


@pytest.mark.parametrize("rotation_map", [matrix_exp_map, cayley_map])
def test_gradcheck_float64(rotation_map):
    k = 4
    generator = torch.randn(k * (k - 1) // 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda g: rotation_map(skew_from_generator(g, k)), (generator,))


def test_cayley_matches_exp_for_small_generators():
    k = 6
    generator = 1e-3 * torch.randn(k * (k - 1) // 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    skew = skew_from_generator(generator, k)
    difference = (matrix_exp_map(skew) - cayley_map(skew)).abs().max()
    # The two maps differ by A³/12 + O(A⁴), so about ‖A‖³.
    assert float(difference) < 10 * float(torch.linalg.matrix_norm(skew, ord=2)) ** 3


def test_haar_rotation_has_det_plus_one():
    generator = torch.Generator().manual_seed(3)
    for k in (2, 3, 5, 8):
        for _ in range(10):
            rotation = haar_rotation(k, generator=generator)
            assert _orthogonality_error(rotation) < _tolerance(torch.float64, k)
            assert float(torch.linalg.det(rotation)) == pytest.approx(1.0)


def test_haar_rotation_is_seeded():
    first = haar_rotation(5, generator=torch.Generator().manual_seed(9))
    second = haar_rotation(5, generator=torch.Generator().manual_seed(9))
    torch.testing.assert_close(first, second, rtol=0, atol=0)


def test_fold_keeps_rotation():
    rotation = SORotation(5, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        rotation.generator.normal_(0.0, 0.3, generator=torch.Generator().manual_seed(4))
        before = rotation().clone()
    rotation.fold()
    assert float(rotation.generator.detach().abs().max()) == 0.0
    assert rotation.generator_angle() == 0.0
    torch.testing.assert_close(rotation().detach(), before, atol=1e-5, rtol=0)


def test_fold_only_beyond_max_angle():
    rotation = SORotation(3, init="identity", max_angle=0.5)
    with torch.no_grad():
        rotation.generator.fill_(0.1)
    assert not rotation.maybe_fold()
    with torch.no_grad():
        rotation.generator.fill_(1.0)
    assert rotation.maybe_fold()
    assert int(rotation.n_folds) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 1}, "k must be an integer >= 2"),
        ({"k": 4, "rotation_map": "qr"}, "Invalid rotation_map 'qr'"),
        ({"k": 4, "init": "random"}, "Invalid rotation_init 'random'"),
        ({"k": 4, "max_angle": 4.0}, r"max_angle must lie in \(0, π\)"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        SORotation(**kwargs)
