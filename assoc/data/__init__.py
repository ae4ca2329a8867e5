"""Datasets: AV-MNIST built from the raw MNIST and FSDD files, and the embedded demo set.

Every dataset meets the contract in :mod:`assoc.data.contract`. Load one with
:func:`load_dataset`.
"""

from assoc.data.contract import AUDIO_SHAPE, IMAGE_SHAPE, N_CLASSES, SPLIT_NAMES, Split
from assoc.data.load import DATASETS, load_dataset
from assoc.data.paths import default_cache_dir, resolve_data_dir

__all__ = [
    "AUDIO_SHAPE",
    "DATASETS",
    "IMAGE_SHAPE",
    "N_CLASSES",
    "SPLIT_NAMES",
    "Split",
    "default_cache_dir",
    "load_dataset",
    "resolve_data_dir",
]
