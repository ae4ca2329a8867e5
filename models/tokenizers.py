"""LeNet-style tokenizers: per-modality CNN encoders followed by a linear map to width d.

The layout follows the LeNet encoders of MultiBench's AV-MNIST baselines
(``LeNet(1, 6, 3)`` and ``LeNet(1, 6, 5)`` in its example scripts). The first block is a
5×5 convolution (padding 2, no bias) with BatchNorm, ReLU and 2×2 max-pooling. Each
further block is a 3×3 convolution (padding 1, no bias) that doubles the channels,
BatchNorm, ReLU and 2×2 max-pooling. With 6 base channels:

- images (1, 28, 28), 3 blocks: 6 → 12 → 24 → 48 channels, 28 → 14 → 7 → 3 → 1 pixels,
  a 48-d feature vector;
- spectrograms (1, 112, 112), 5 blocks: 6 → … → 192 channels, 112 → … → 1 pixels,
  a 192-d feature vector.

Every BatchNorm receives at least a 3×3 map, so training works with a batch of one.
"""

from __future__ import annotations

from torch import Tensor, nn

from assoc.errors import ConfigError

IMAGE_BLOCKS = 3
AUDIO_BLOCKS = 5
BASE_CHANNELS = 6


def _conv_block(in_channels: int, out_channels: int, kernel_size: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class LeNetTokenizer(nn.Module):
    """A LeNet feature extractor plus a linear projection to ``width``.

    Parameters
    ----------
    input_size : int
        Height and width of the square input; after ``1 + n_blocks`` poolings it must
        shrink to 1 pixel (28 with 3 blocks, 112 with 5 blocks).
    n_blocks : int
        3×3 blocks after the first 5×5 block; each doubles the channels.
    width : int
        Output width d of the projection.
    base_channels : int
        Channels of the first block.

    Attributes
    ----------
    n_features : int
        Length of the feature vector before the projection, base_channels · 2**n_blocks.
    """

    def __init__(self, input_size: int, n_blocks: int, width: int, *, base_channels: int = BASE_CHANNELS):
        super().__init__()
        final_size = input_size
        for _ in range(n_blocks + 1):
            final_size //= 2
        if final_size != 1:
            raise ConfigError(
                f"A {input_size}×{input_size} input pooled {n_blocks + 1} times leaves {final_size}×{final_size} "
                "pixels; choose n_blocks so that the map shrinks to 1×1."
            )
        layers = [_conv_block(1, base_channels, 5)]
        channels = base_channels
        for _ in range(n_blocks):
            layers.append(_conv_block(channels, 2 * channels, 3))
            channels *= 2
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.n_features = channels
        self.projection = nn.Linear(channels, width)

    def extract(self, x: Tensor) -> Tensor:
        """Return the CNN features, shape (n_samples, n_features), before the projection."""
        return self.features(x)

    def forward(self, x: Tensor) -> Tensor:
        """Map inputs (n_samples, 1, size, size) to tokens (n_samples, width)."""
        return self.projection(self.features(x))


def image_tokenizer(width: int) -> LeNetTokenizer:
    """Return the tokenizer for (1, 28, 28) images: 48 features, then ``width``."""
    return LeNetTokenizer(28, IMAGE_BLOCKS, width)


def audio_tokenizer(width: int) -> LeNetTokenizer:
    """Return the tokenizer for (1, 112, 112) spectrograms: 192 features, then ``width``."""
    return LeNetTokenizer(112, AUDIO_BLOCKS, width)
