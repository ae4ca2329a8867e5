"""Datasets: AV-MNIST built from the raw MNIST and FSDD files, and the embedded demo set.

Every dataset meets the contract in :mod:`assoc.data.contract`.
"""

from assoc.data.contract import AUDIO_SHAPE, IMAGE_SHAPE, N_CLASSES, SPLIT_NAMES, Split

__all__ = ["AUDIO_SHAPE", "IMAGE_SHAPE", "N_CLASSES", "SPLIT_NAMES", "Split"]
