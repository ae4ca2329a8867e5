"""The rotation model, its ablations, and the late-fusion classifier.

The rotation model maps an input x_m of modality m (``visual`` or ``audio``) to the code

    z_m = R_m · W · t_m(x_m) ∈ ℝ^k,

with a per-modality tokenizer t_m (LeNet features projected to width d), a shared
embedding W ∈ ℝ^(k×d) and a learned rotation R_m ∈ SO(k). R_mᵀ z_m = W t_m(x_m) is the
de-rotated (shared) code. Codes are stored as rows, so a batch of codes is
Z_m = T_m Wᵀ R_mᵀ and de-rotation is Z_m R_m.

Ablations, chosen by ``TrainConfig.variant``: ``no_rotation`` fixes R_v = R_a = I;
``separate`` gives each modality its own embedding W_m. ``late_fusion`` is a different
model, a supervised classifier on the concatenated LeNet features.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch import Tensor, nn

from assoc.data.contract import N_CLASSES
from assoc.errors import ConfigError
from models.config import TrainConfig, Variant
from models.decoders import audio_decoder, image_decoder
from models.losses import info_nce_loss, reconstruction_loss, subspace_overlap
from models.rotation import SORotation
from models.tokenizers import audio_tokenizer, image_tokenizer

VISUAL = "visual"
AUDIO = "audio"
MODALITIES = (VISUAL, AUDIO)
LOSS_NAMES = ("joint", "cross", "contrastive", "orthogonality")


def check_modality(modality: str) -> str:
    """Return ``modality`` unchanged, or raise ConfigError when it is not a known modality."""
    if modality not in MODALITIES:
        raise ConfigError(f"Unknown modality {modality!r}; choose 'visual' or 'audio'.")
    return modality


class RotationModel(nn.Module):
    """Shared embedding with learned SO(k) modality rotations, tokenizers and decoders.

    Parameters
    ----------
    config : TrainConfig
        Uses ``variant`` (``rotation``, ``no_rotation`` or ``separate``), ``k``,
        ``width``, ``rotation_map``, ``rotation_init`` and ``max_generator_angle``.
    generator : torch.Generator, optional
        Randomness for the Haar-uniform initial rotations.
    """

    def __init__(self, config: TrainConfig, *, generator: torch.Generator | None = None):
        super().__init__()
        self.variant = Variant(config.variant)
        if self.variant is Variant.LATE_FUSION:
            raise ConfigError("RotationModel does not build variant 'late_fusion'; use build_model(config).")
        self.k = config.k
        self.width = config.width
        self.tokenizers = nn.ModuleDict({VISUAL: image_tokenizer(config.width), AUDIO: audio_tokenizer(config.width)})

        # W is stored as a Linear layer's (k, d) weight; a semi-orthogonal start keeps
        # distances between tokens in the codes.
        n_embeddings = 2 if self.variant is Variant.SEPARATE else 1
        self.embeddings = nn.ModuleList(nn.Linear(config.width, config.k, bias=False) for _ in range(n_embeddings))
        for embedding in self.embeddings:
            nn.init.orthogonal_(embedding.weight)

        if self.variant is Variant.NO_ROTATION:
            self.rotations = None
        else:
            self.rotations = nn.ModuleDict(
                {
                    modality: SORotation(
                        config.k,
                        rotation_map=config.rotation_map,
                        init=config.rotation_init,
                        generator=generator,
                        max_angle=config.max_generator_angle,
                    )
                    for modality in MODALITIES
                }
            )
        self.decoders = nn.ModuleDict({VISUAL: image_decoder(config.k), AUDIO: audio_decoder(config.k)})

    # --- building blocks ----------------------------------------------------------------

    def embedding_matrix(self, modality: str) -> Tensor:
        """Return W_m, shape (k, d): the shared W unless the variant is ``separate``."""
        index = MODALITIES.index(check_modality(modality)) if len(self.embeddings) == 2 else 0
        return self.embeddings[index].weight

    def rotation(self, modality: str) -> Tensor:
        """Return R_m, shape (k, k); the identity for the ``no_rotation`` variant."""
        check_modality(modality)
        if self.rotations is None:
            weight = self.embeddings[0].weight
            return torch.eye(self.k, dtype=weight.dtype, device=weight.device)
        return self.rotations[modality]()

    def shared_code(self, x: Tensor, modality: str) -> Tensor:
        """Return the de-rotated codes W_m t_m(x), shape (n_samples, k)."""
        return self.tokenizers[check_modality(modality)](x) @ self.embedding_matrix(modality).T

    def encode(self, x: Tensor, modality: str) -> Tensor:
        """Return the codes z_m = R_m W_m t_m(x), shape (n_samples, k)."""
        return self.shared_code(x, modality) @ self.rotation(modality).T

    def derotate(self, codes: Tensor, modality: str) -> Tensor:
        """Return R_mᵀ z for codes z of modality m, shape (n_samples, k)."""
        return codes @ self.rotation(modality)

    def transfer(self, codes: Tensor, source: str, target: str) -> Tensor:
        """Carry codes of ``source`` into the frame of ``target``: R_target R_sourceᵀ z."""
        return codes @ self.rotation(source) @ self.rotation(target).T

    def decode(self, codes: Tensor, modality: str) -> Tensor:
        """Decode codes (n_samples, k) into images (n, 1, 28, 28) or spectrograms (n, 1, 112, 112)."""
        return self.decoders[check_modality(modality)](codes)

    def fold_rotations(self, *, force: bool = False) -> int:
        """Fold rotation generators into their base rotations; return how many folded.

        Without ``force`` only generators whose angle exceeds the configured maximum fold.
        """
        if self.rotations is None:
            return 0
        folded = 0
        for rotation in self.rotations.values():
            if force:
                rotation.fold()
                folded += 1
            else:
                folded += int(rotation.maybe_fold())
        return folded

    # --- losses -------------------------------------------------------------------------

    def loss_terms(self, image: Tensor, audio: Tensor, config: TrainConfig, *, joint: bool = True) -> dict[str, Tensor]:
        """Compute every loss term on a batch of pairs, and their weighted sum.

        Parameters
        ----------
        image : Tensor of shape (n_samples, 1, 28, 28)
        audio : Tensor of shape (n_samples, 1, 112, 112)
        config : TrainConfig
            Supplies the loss weights and the InfoNCE temperature.
        joint : bool
            Include joint reconstruction; the binding stage switches it off.

        Returns
        -------
        dict
            ``joint``, ``cross``, ``contrastive``, ``orthogonality`` (unweighted, zero when
            their weight is zero) and ``total`` (the weighted sum to minimise).
        """
        zero = image.new_zeros(())
        rotation_v = self.rotation(VISUAL)
        rotation_a = self.rotation(AUDIO)
        shared_v = self.shared_code(image, VISUAL)
        shared_a = self.shared_code(audio, AUDIO)
        code_v = shared_v @ rotation_v.T
        code_a = shared_a @ rotation_a.T
        terms = dict.fromkeys(LOSS_NAMES, zero)

        # Joint: each modality reconstructed from its own code.
        if joint and config.joint_weight > 0:
            terms["joint"] = reconstruction_loss(self.decode(code_v, VISUAL), image) + reconstruction_loss(
                self.decode(code_a, AUDIO), audio
            )

        # Cross-modal: R_v R_aᵀ z_a = R_v W t_a(x_a) must decode to the image, and back.
        if config.cross_weight > 0:
            image_from_audio = self.decode(shared_a @ rotation_v.T, VISUAL)
            audio_from_image = self.decode(shared_v @ rotation_a.T, AUDIO)
            terms["cross"] = reconstruction_loss(image_from_audio, image) + reconstruction_loss(audio_from_image, audio)

        # Contrastive alignment of the de-rotated codes R_mᵀ z_m = W t_m(x_m).
        if config.contrastive_weight > 0:
            terms["contrastive"] = info_nce_loss(shared_v, shared_a, config.temperature)

        # Orthogonality between the modality maps R_v W_v and R_a W_a; with R = I and a
        # shared W the two maps are the same matrix, so the term cannot act and is skipped.
        if config.orthogonality_weight > 0 and self.variant is not Variant.NO_ROTATION:
            terms["orthogonality"] = subspace_overlap(
                rotation_v @ self.embedding_matrix(VISUAL), rotation_a @ self.embedding_matrix(AUDIO)
            )

        weights = {
            "joint": config.joint_weight if joint else 0.0,
            "cross": config.cross_weight,
            "contrastive": config.contrastive_weight,
            "orthogonality": config.orthogonality_weight,
        }
        terms["total"] = sum(weights[name] * terms[name] for name in LOSS_NAMES)
        return terms

    # --- numpy interface ----------------------------------------------------------------

    def encode_numpy(
        self, x: np.ndarray, modality: str, *, derotate: bool = False, batch_size: int = 256
    ) -> np.ndarray:
        """Encode inputs to codes as float32 numpy, in evaluation mode and without gradients.

        Parameters
        ----------
        x : ndarray of shape (n_samples, 1, 28, 28) or (n_samples, 1, 112, 112)
        modality : {'visual', 'audio'}
        derotate : bool
            Return the de-rotated codes R_mᵀ z_m instead of z_m.
        batch_size : int

        Returns
        -------
        ndarray of shape (n_samples, k)
        """
        with _evaluation_mode(self):
            device = self.embeddings[0].weight.device
            rotation = self.rotation(modality)
            blocks = []
            for start in range(0, len(x), batch_size):
                batch = torch.as_tensor(np.asarray(x[start : start + batch_size], dtype=np.float32), device=device)
                codes = self.shared_code(batch, modality)
                if not derotate:
                    codes = codes @ rotation.T
                blocks.append(codes.cpu().numpy())
        return np.concatenate(blocks) if blocks else np.zeros((0, self.k), dtype=np.float32)

    def decode_numpy(self, codes: np.ndarray, modality: str, *, batch_size: int = 256) -> np.ndarray:
        """Decode codes (n_samples, k) into float32 numpy images or spectrograms."""
        with _evaluation_mode(self):
            device = self.embeddings[0].weight.device
            blocks = [
                self.decode(torch.as_tensor(np.asarray(codes[start : start + batch_size], dtype=np.float32), device=device), modality)
                .cpu()
                .numpy()
                for start in range(0, len(codes), batch_size)
            ]
        return np.concatenate(blocks)

    def rotations_numpy(self) -> dict[str, np.ndarray]:
        """Return R_v and R_a as float64 numpy arrays of shape (k, k), keyed by modality."""
        with torch.no_grad():
            return {modality: self.rotation(modality).double().cpu().numpy() for modality in MODALITIES}


class LateFusionClassifier(nn.Module):
    """Supervised late fusion: LeNet features (48 visual + 192 audio) → MLP → 10 classes.

    The accuracy anchor of AV-MNIST: published test accuracies for this late-fusion
    baseline on the degraded-image variant are about 71–73%.
    NOTE: that range was not re-checked against the original papers here.
    """

    def __init__(self, config: TrainConfig):
        super().__init__()
        self.variant = Variant.LATE_FUSION
        self.tokenizers = nn.ModuleDict({VISUAL: image_tokenizer(config.width), AUDIO: audio_tokenizer(config.width)})
        n_features = self.tokenizers[VISUAL].n_features + self.tokenizers[AUDIO].n_features
        self.head = nn.Sequential(
            nn.Linear(n_features, config.hidden), nn.ReLU(inplace=True), nn.Linear(config.hidden, N_CLASSES)
        )

    def forward(self, image: Tensor, audio: Tensor) -> Tensor:
        """Return class logits, shape (n_samples, 10)."""
        features = torch.cat([self.tokenizers[VISUAL].extract(image), self.tokenizers[AUDIO].extract(audio)], dim=1)
        return self.head(features)

    def loss_terms(self, image: Tensor, audio: Tensor, label: Tensor) -> dict[str, Tensor]:
        """Return the cross-entropy of the batch as ``cross_entropy`` and ``total``."""
        loss = nn.functional.cross_entropy(self(image, audio), label)
        return {"cross_entropy": loss, "total": loss}

    def predict_numpy(self, image: np.ndarray, audio: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
        """Return predicted labels, shape (n_samples,) int64."""
        with _evaluation_mode(self):
            device = self.head[0].weight.device
            blocks = []
            for start in range(0, len(image), batch_size):
                stop = start + batch_size
                logits = self(
                    torch.as_tensor(np.asarray(image[start:stop], dtype=np.float32), device=device),
                    torch.as_tensor(np.asarray(audio[start:stop], dtype=np.float32), device=device),
                )
                blocks.append(logits.argmax(dim=1).cpu().numpy())
        return np.concatenate(blocks).astype(np.int64)


def build_model(config: TrainConfig) -> RotationModel | LateFusionClassifier:
    """Build the model that ``config.variant`` names, with weights drawn from ``config.seed``.

    Initial weights come from torch's global generator, so it is seeded inside
    ``torch.random.fork_rng``, which restores the caller's RNG state afterwards.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        if config.variant == Variant.LATE_FUSION.value:
            return LateFusionClassifier(config)
        generator = torch.Generator().manual_seed(config.seed + 1)
        return RotationModel(config, generator=generator)


@contextlib.contextmanager
def _evaluation_mode(module: nn.Module):
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        module.train(was_training)
