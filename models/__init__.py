"""PyTorch models: SO(k) rotations, LeNet tokenizers, decoders and the rotation model."""
