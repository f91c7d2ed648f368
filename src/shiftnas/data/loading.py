"""`load_data(config)`: the one entry point from a `DataConfig` to train/val/test splits."""

from __future__ import annotations

from typing import Any

import torch

from shiftnas.data.cache import DecodeSpec
from shiftnas.data.checks import check_raw_splits, check_split_sizes
from shiftnas.data.dataset import DataSplits, ImageData, channel_stats, split_train_val
from shiftnas.data.decode import recipe
from shiftnas.data.digits import load_digits_splits
from shiftnas.data.imagefolder import load_listing
from shiftnas.data.settings import TORCHVISION_DATASETS, DataConfig
from shiftnas.data.shapes import make_shapes
from shiftnas.data.sources import list_csv, list_imagefolder
from shiftnas.errors import ShiftnasError


def decode_spec(config: DataConfig, space: Any = None) -> DecodeSpec:
    """The decode settings: `data.resize`, the size (`data.image_size`, else the skeleton's
    `input_size`) and the skeleton's `in_channels` (3 without a space)."""
    size = config.image_size or getattr(space, "input_size", None)
    if config.resize != "none" and size is None:
        raise ShiftnasError(
            f"data.resize: {config.resize} needs a target size: set data.image_size"
        )
    channels = getattr(space, "in_channels", None) or 3
    if channels not in (1, 3):
        raise ShiftnasError(
            f"space.in_channels is {channels}: image files decode to 1 (greyscale) or 3 (RGB) "
            "channels; set space.in_channels: 3"
        )
    return DecodeSpec(config.resize, size if config.resize != "none" else None, channels,
                      config.pad_fill)  # fmt: skip


def _load_raw(
    config: DataConfig, seed: int, space: Any, progress: bool
) -> tuple[ImageData, ImageData, list[Any]]:
    if config.dataset == "shapes":
        size = config.shapes.image_size
        train = make_shapes(config.shapes.train_size, seed=seed, size=size)
        test = make_shapes(config.shapes.test_size, seed=seed + 7919, size=size)
        return train, test, []
    if config.dataset == "digits":
        return (*load_digits_splits(config.digits.image_size), [])
    assert config.root is not None  # checked by DataConfig
    spec = decode_spec(config, space)
    if config.dataset in TORCHVISION_DATASETS:
        from shiftnas.data.torchvision_data import load_torchvision

        parts = [
            load_torchvision(config.dataset, config.root, split, spec, config.download,
                             config.cache_dir, progress)
            for split in ("train", "test")
        ]  # fmt: skip
        return parts[0], parts[1], []
    lister = list_csv if config.dataset == "csv" else list_imagefolder
    listings = lister(config.root, config.test_fraction, config.split_seed)
    loaded = [
        load_listing(listing, spec, config.cache_dir, config.workers, config.unreadable,
                     progress, f"decoding {split}")
        for split, listing in zip(("train", "test"), listings, strict=True)
    ]  # fmt: skip
    skipped = [[str(p), r] for _, bad in loaded for p, r in bad]
    return loaded[0][0], loaded[1][0], skipped


def load_data(
    config: DataConfig, seed: int = 0, space: Any = None, progress: bool = False
) -> DataSplits:
    """Decode once, split train into train/val by `seed`, normalise with the train split's stats.

    `space` (the skeleton's settings) gives the target size and channels of decoded image files.
    Raises `ShiftnasError` (one line) when the data cannot be read, or does not match itself:
    test classes other than the training classes, one class only, a training class without
    images, two image sizes, or an empty train, validation or test split (`shiftnas.data.checks`).
    """
    full_train, test, skipped = _load_raw(config, seed, space, progress)
    source = "shapes" if config.root is None else f"{config.dataset} data at {config.root}"
    check_raw_splits(full_train, test, source)
    if config.max_train_images is not None and config.max_train_images < len(full_train):
        keep = torch.randperm(len(full_train), generator=torch.Generator().manual_seed(seed))
        full_train = full_train.subset(keep[: config.max_train_images].sort().values)
    train, val = split_train_val(full_train, config.val_fraction, seed)
    # the test split in a seeded random order too, so a capped evaluation sees every class
    test = test.subset(torch.randperm(len(test), generator=torch.Generator().manual_seed(seed)))
    mean, std = channel_stats(train) if len(train) else ((0.0,), (1.0,))
    c, h, _ = train.image_shape
    policy = config.resize if config.root is not None else "none"
    splits = DataSplits(
        train, val, test, mean, std, config.dataset,
        recipe={**recipe(policy, h, c, config.pad_fill), "mean": list(mean), "std": list(std)},
        skipped=skipped,
    )  # fmt: skip
    check_split_sizes(splits, config.val_fraction, source)
    return splits
