"""Loss terms of the rotation model, each a function of tensors.

Notation: x_v an image, x_a a spectrogram, t_m the tokenizer of modality m, W (or W_m)
the k × d embedding, R_m the modality rotation, z_m = R_m W t_m(x_m) the code (stored
as a row, so a batch is Z_m = T_m Wᵀ R_mᵀ), D_m the decoder.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def reconstruction_loss(reconstruction: Tensor, target: Tensor) -> Tensor:
    """Mean squared error over every pixel of the batch."""
    return F.mse_loss(reconstruction, target)


def info_nce_loss(codes_a: Tensor, codes_b: Tensor, temperature: float) -> Tensor:
    """Symmetric InfoNCE: row i of ``codes_a`` must pick row i of ``codes_b``, and back.

    L = ½ [CE(S, I) + CE(Sᵀ, I)], S_ij = cos(a_i, b_j) / τ, where CE(S, I) is the mean
    cross-entropy of each row's softmax against the matching column.

    Parameters
    ----------
    codes_a, codes_b : Tensor of shape (n_samples, k)
        Paired codes; other rows of the batch act as negatives.
    temperature : float
        τ > 0; smaller values sharpen the softmax.
    """
    a = F.normalize(codes_a, dim=1)
    b = F.normalize(codes_b, dim=1)
    logits = a @ b.T / temperature
    targets = torch.arange(a.shape[0], device=a.device)
    return 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets))


def subspace_overlap(map_v: Tensor, map_a: Tensor) -> Tensor:
    """Orthogonality regularizer between the two modality maps M_v = R_v W_v and M_a = R_a W_a.

    L = ‖M_vᵀ M_a‖²_F / (‖M_v‖²_F ‖M_a‖²_F), which lies in [0, 1] because
    ‖AᵀB‖_F <= ‖A‖_F ‖B‖_F, does not change when W is rescaled, and is 0 exactly when
    the column spaces of M_v and M_a (the subspaces of ℝ^k that each modality's codes
    occupy) are orthogonal. With a shared W it reads ‖Wᵀ R_vᵀ R_a W‖²_F / ‖W‖⁴_F, so it
    depends on the rotations only through the relative rotation R_vᵀ R_a.

    Parameters
    ----------
    map_v, map_a : Tensor of shape (k, d)
    """
    cross = map_v.T @ map_a
    return cross.pow(2).sum() / (map_v.pow(2).sum() * map_a.pow(2).sum())
