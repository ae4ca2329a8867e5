"""Decoders that reconstruct an image or a spectrogram from a k-dimensional code.

A linear layer maps the code to a (channels, 7, 7) map. Transposed 4×4 convolutions
with stride 2 then double the side until it reaches the input size: 7 → 14 → 28 for
images, 7 → 14 → 28 → 56 → 112 for spectrograms. A sigmoid keeps the
output in [0, 1], the range of the data.
"""

from __future__ import annotations

from torch import Tensor, nn

from assoc.errors import ConfigError

SEED_SIDE = 7


class ConvDecoder(nn.Module):
    """Decode codes (n_samples, k) into maps (n_samples, 1, output_size, output_size).

    Parameters
    ----------
    k : int
        Code width.
    output_size : int
        Side of the square output; 7 · 2**m for some m >= 1.
    channels : int
        Channels of the 7×7 seed map; each transposed convolution halves them, to no
        fewer than 4.
    """

    def __init__(self, k: int, output_size: int, *, channels: int = 32):
        super().__init__()
        n_upsamplings = 0
        side = SEED_SIDE
        while side < output_size:
            side *= 2
            n_upsamplings += 1
        if side != output_size or n_upsamplings == 0:
            raise ConfigError(
                f"Decoder output_size must be 7 · 2**m with m >= 1 (14, 28, 56, 112, …); got {output_size}."
            )
        self.seed_channels = channels
        self.seed = nn.Sequential(nn.Linear(k, channels * SEED_SIDE * SEED_SIDE), nn.ReLU(inplace=True))

        layers: list[nn.Module] = []
        in_channels = channels
        for step in range(n_upsamplings):
            last = step == n_upsamplings - 1
            out_channels = 1 if last else max(4, in_channels // 2)
            layers.append(nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1))
            layers.append(nn.Sigmoid() if last else nn.ReLU(inplace=True))
            in_channels = out_channels
        self.upsample = nn.Sequential(*layers)

    def forward(self, code: Tensor) -> Tensor:
        seed = self.seed(code).view(code.shape[0], self.seed_channels, SEED_SIDE, SEED_SIDE)
        return self.upsample(seed)


def image_decoder(k: int) -> ConvDecoder:
    """Return the decoder from codes to (1, 28, 28) images."""
    return ConvDecoder(k, 28, channels=32)


def audio_decoder(k: int) -> ConvDecoder:
    """Return the decoder from codes to (1, 112, 112) spectrograms."""
    return ConvDecoder(k, 112, channels=32)
