"""MNIST from its four gzipped IDX files.

IDX layout (big-endian): two zero bytes, a type code (0x08 for unsigned bytes), the
number of dimensions, one 4-byte size per dimension, then the data in C order. Image
files have magic number 2051 (0x00000803) and label files 2049 (0x00000801).
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from assoc.data.paths import raw_file_fix
from assoc.errors import DataError, DataNotFoundError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
_UNSIGNED_BYTE = 0x08

# File name and SHA-256 of the original gzipped files published by LeCun, Cortes and Burges.
MNIST_FILES = {
    "train_images": ("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    "train_labels": ("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    "test_images": ("t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
}

FETCH_HINT = (
    "Run 'assoc data fetch' to download the raw files, or point --data-dir or ASSOC_DATA_DIR at a folder "
    "laid out as mnist/*.gz and fsdd/recordings/*.wav."
)


def mnist_dir(data_dir: str | os.PathLike) -> Path:
    """Return ``data_dir/mnist``, or raise DataNotFoundError when it is missing."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataNotFoundError(f"Data directory not found: {data_dir}. {FETCH_HINT}")
    directory = data_dir / "mnist"
    if not directory.is_dir():
        raise DataNotFoundError(f"MNIST directory not found: {directory}. {FETCH_HINT}")
    return directory


def mnist_paths(data_dir: str | os.PathLike) -> dict[str, Path]:
    """Return the path of each of the four MNIST files, raising DataNotFoundError if one is missing."""
    directory = mnist_dir(data_dir)
    paths = {}
    for key, (file_name, _) in MNIST_FILES.items():
        path = directory / file_name
        if not path.is_file():
            raise DataNotFoundError(f"MNIST file not found: {path}. {FETCH_HINT}")
        paths[key] = path
    return paths


def read_idx(path: str | os.PathLike, expected_magic: int) -> np.ndarray:
    """Read a gzipped IDX file of unsigned bytes.

    Parameters
    ----------
    path : path to a ``.gz`` file
    expected_magic : int
        2051 for images, 2049 for labels.

    Returns
    -------
    ndarray of uint8, of the shape the header declares
        For example (60000, 28, 28) for the training images.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataError
        The file is not valid gzip, is truncated, has another magic number, or its
        data length does not match its header.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"IDX file not found: {path}. {FETCH_HINT}")
    try:
        with gzip.open(path, "rb") as stream:
            content = stream.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise DataError(
            f"{path} is truncated or not a valid gzip file ({error}). {raw_file_fix(path)}"
        ) from error

    if len(content) < 4:
        raise DataError(
            f"{path} is too short for an IDX header ({len(content)} bytes): it is truncated or corrupt. "
            f"{raw_file_fix(path)}"
        )
    magic = int.from_bytes(content[:4], "big")
    if magic != expected_magic:
        kind = "images" if expected_magic == IMAGES_MAGIC else "labels"
        raise DataError(
            f"{path} has IDX magic number {magic}; expected {expected_magic} (MNIST {kind}). "
            f"Check that the file is the right MNIST file. {raw_file_fix(path)}"
        )
    if content[2] != _UNSIGNED_BYTE:
        raise DataError(f"{path} has IDX type code 0x{content[2]:02x}; expected 0x08 (unsigned byte).")

    n_dims = content[3]
    header_size = 4 + 4 * n_dims
    shape = tuple(int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims))
    n_bytes = len(content) - header_size
    if n_bytes != int(np.prod(shape)):
        raise DataError(
            f"{path} has {n_bytes} data bytes but its header declares shape {shape} ({int(np.prod(shape))} bytes). "
            f"{raw_file_fix(path)}"
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header_size).reshape(shape)


def load_mnist(data_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read the four MNIST files from ``data_dir/mnist``.

    Returns
    -------
    dict with
        ``train_images`` (60000, 28, 28) uint8, ``train_labels`` (60000,) uint8,
        ``test_images`` (10000, 28, 28) uint8, ``test_labels`` (10000,) uint8.
    """
    paths = mnist_paths(data_dir)
    arrays = {}
    for key, path in paths.items():
        is_images = key.endswith("images")
        array = read_idx(path, IMAGES_MAGIC if is_images else LABELS_MAGIC)
        expected_ndim = 3 if is_images else 1
        if array.ndim != expected_ndim or (is_images and array.shape[1:] != (28, 28)):
            raise DataError(f"{path} has shape {array.shape}; expected {'(n, 28, 28)' if is_images else '(n,)'}.")
        arrays[key] = array
    for part in ("train", "test"):
        n_images, n_labels = len(arrays[f"{part}_images"]), len(arrays[f"{part}_labels"])
        if n_images != n_labels:
            raise DataError(
                f"MNIST {part} files disagree: {n_images} images but {n_labels} labels in "
                f"{paths[f'{part}_images'].parent}. Fetch the files again."
            )
    return arrays
