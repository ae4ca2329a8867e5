"""``assoc data``: list, fetch and build the datasets."""

from __future__ import annotations

import argparse
import logging

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    """Add ``assoc data info | fetch | build`` to the top-level parser."""
    from assoc.data.load import DATASETS

    data = subparsers.add_parser(
        "data",
        help="list, download and build the datasets",
        description="List, download and build the paired image-audio datasets.",
    )
    actions = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    info = actions.add_parser(
        "info",
        help="show which raw files and built datasets are present, with checksum status",
        description="Show the raw data directory, the cache directory, the state of every raw file "
        "(present, SHA-256 check) and the built datasets in the cache.",
    )
    _add_directory_options(info)
    info.set_defaults(func=run_info)

    fetch = actions.add_parser(
        "fetch",
        help="download MNIST and the FSDD recordings into the cache",
        description="Download the four MNIST files (checked against their published SHA-256) and the "
        "3,000 FSDD recordings into the cache directory. Files already present and intact are kept. "
        "ASSOC_MNIST_URL (a base URL) and ASSOC_FSDD_URL (an archive URL) override the sources.",
    )
    fetch.add_argument(
        "--cache-dir", metavar="DIR", help="download into DIR (default: ASSOC_CACHE_DIR, else the user cache)"
    )
    fetch.set_defaults(func=run_fetch)

    names = "; ".join(f"{name}: {description}" for name, description in DATASETS.items())
    build = actions.add_parser(
        "build",
        help="build a dataset (or load it from the cache) and print its shapes",
        description=f"Build a dataset, or load it from the cache, and print each split's shapes and class "
        f"balance. Datasets: {names}.",
    )
    build.add_argument("name", metavar="NAME", choices=tuple(DATASETS), help=f"dataset: {', '.join(DATASETS)}")
    _add_directory_options(build)
    build.add_argument(
        "--degrade-images",
        action="store_true",
        help="keep only the PCA components that explain 25%% of the training images' variance",
    )
    build.add_argument("--noise-snr", type=float, metavar="DB", help="add white noise to the audio at this SNR in dB")
    build.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the pairing and noise (default: 0)")
    build.add_argument("--limit", type=int, metavar="N", help="keep at most N pairs per split, for quick checks")
    build.set_defaults(func=run_build)


def _add_directory_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="raw files, laid out as mnist/*.gz and fsdd/recordings/*.wav (default: ASSOC_DATA_DIR, else the cache)",
    )
    parser.add_argument(
        "--cache-dir", metavar="DIR", help="built datasets (default: ASSOC_CACHE_DIR, else the user cache)"
    )


def run_info(args) -> int:
    """Print where the data is and what state each part is in."""
    from assoc.data.load import DATASETS
    from assoc.data.paths import resolve_cache_dir, resolve_data_dir
    from assoc.data.status import cached_datasets, fsdd_status, mnist_status

    cache_dir = resolve_cache_dir(args.cache_dir)
    data_dir = resolve_data_dir(args.data_dir, cache_dir=cache_dir)
    print(f"raw data directory: {data_dir}")
    mnist = mnist_status(data_dir)
    print("  MNIST (CC BY-SA 3.0):")
    for status in mnist:
        print(f"    {status.path.name:28s} {status.state}{': ' + status.detail if status.detail else ''}")
    status = fsdd_status(data_dir)
    print("  FSDD recordings (CC BY-SA 4.0):")
    print(f"    {status.path}  {status.state}{': ' + status.detail if status.detail else ''}")

    print(f"cache directory: {cache_dir}")
    entries = cached_datasets(cache_dir)
    if not entries:
        print("  no built datasets")
    for path, build in entries:
        size = f"{path.stat().st_size / 1e6:,.1f} MB"
        if build is None:
            print(f"  {path.name}  {size}  unreadable or incomplete (delete it)")
            continue
        settings = ", ".join(f"{key}={build.get(key)}" for key in ("seed", "limit", "degrade_images", "noise_snr"))
        print(f"  {path.name}  {size}  {build.get('dataset')}: {settings}")

    print("datasets:")
    for name, description in DATASETS.items():
        print(f"  {name}: {description}")
    if any(item.state == "missing" for item in [*mnist, status]):
        print("raw files are missing: run 'assoc data fetch', or pass --data-dir / set ASSOC_DATA_DIR")
    return 0


def run_fetch(args) -> int:
    """Download the raw files into the cache directory."""
    from assoc.data.fetch import fetch_raw_data
    from assoc.progress import progress_bar

    with progress_bar("downloading", unit="B") as progress:
        target = fetch_raw_data(args.cache_dir, progress=progress)
    print(f"raw data ready in {target} (mnist/ and fsdd/recordings/)")
    return 0


def run_build(args) -> int:
    """Build or load a dataset and print its splits."""
    import math
    import time

    import numpy as np

    from assoc.data.load import load_dataset
    from assoc.errors import ConfigError
    from assoc.progress import progress_bar

    # Check the flags here, so the messages name them as the user typed them.
    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit must be a positive integer; got {args.limit}.")
    if args.seed < 0:
        raise ConfigError(f"--seed must be a non-negative integer; got {args.seed}.")
    if args.noise_snr is not None and not math.isfinite(args.noise_snr):
        raise ConfigError(f"--noise-snr must be a finite number of decibels; got {args.noise_snr}.")

    started = time.perf_counter()
    with progress_bar(f"building {args.name}", unit="step") as progress:
        splits = load_dataset(
            args.name,
            data_dir=args.data_dir,
            cache_dir=args.cache_dir,
            seed=args.seed,
            limit=args.limit,
            degrade_images=args.degrade_images,
            noise_snr=args.noise_snr,
            progress=progress,
        )
    elapsed = time.perf_counter() - started

    for name, split in splits.items():
        print(f"{name}: {len(split):,} pairs")
        for field in ("image", "audio", "label"):
            array = getattr(split, field)
            print(f"  {field:6s} {str(array.shape):22s} {array.dtype}")
        counts = np.bincount(split.label, minlength=10)
        print("  labels " + "  ".join(f"{digit}:{count}" for digit, count in enumerate(counts)))
    first = next(iter(splits.values()))
    if first.attrs.get("synthetic_audio"):
        print("note: the demo set's audio is SYNTHETIC (procedural spectrograms), not recorded speech")
    cache_path = first.attrs.get("cache_path")
    print(f"cache: {cache_path}" if cache_path else "cache: none (built in memory)")
    print(f"time: {elapsed:.1f} s")
    return 0
