"""`load_data(config)`: the one entry point from a `DataConfig` to train/val/test splits."""

from __future__ import annotations

import torch

from shiftnas.data.checks import check_raw_splits, check_split_sizes
from shiftnas.data.cifar10 import load_cifar10
from shiftnas.data.dataset import DataSplits, ImageData, channel_stats, split_train_val
from shiftnas.data.digits import load_digits_splits
from shiftnas.data.imagefolder import load_imagefolder
from shiftnas.data.settings import DataConfig
from shiftnas.data.shapes import make_shapes


def _load_raw(config: DataConfig, seed: int) -> tuple[ImageData, ImageData]:
    if config.dataset == "shapes":
        size = config.shapes.image_size
        train = make_shapes(config.shapes.train_size, seed=seed, size=size)
        test = make_shapes(config.shapes.test_size, seed=seed + 7919, size=size)
        return train, test
    if config.dataset == "digits":
        return load_digits_splits(config.digits.image_size)
    assert config.root is not None  # checked by DataConfig
    if config.dataset == "cifar10":
        return (
            load_cifar10(config.root, "train", config.download),
            load_cifar10(config.root, "test", config.download),
        )
    return (
        load_imagefolder(config.root, "train", config.cache_dir),
        load_imagefolder(config.root, "test", config.cache_dir),
    )


def load_data(config: DataConfig, seed: int = 0) -> DataSplits:
    """Decode once, split train into train/val by `seed`, normalise with the train split's stats.

    Raises `ShiftnasError` (one line) when the data cannot be read, or does not match itself:
    test classes other than the training classes, one class only, a training class without
    images, two image sizes, or an empty train, validation or test split (`shiftnas.data.checks`).
    """
    full_train, test = _load_raw(config, seed)
    source = "shapes" if config.root is None else f"{config.dataset} data at {config.root}"
    check_raw_splits(full_train, test, source)
    if config.max_train_images is not None and config.max_train_images < len(full_train):
        keep = torch.randperm(len(full_train), generator=torch.Generator().manual_seed(seed))
        full_train = full_train.subset(keep[: config.max_train_images].sort().values)
    train, val = split_train_val(full_train, config.val_fraction, seed)
    # the test split in a seeded random order too, so a capped evaluation sees every class
    test = test.subset(torch.randperm(len(test), generator=torch.Generator().manual_seed(seed)))
    mean, std = channel_stats(train.images) if len(train) else ((0.0,), (1.0,))
    splits = DataSplits(train, val, test, mean, std, config.dataset)
    check_split_sizes(splits, config.val_fraction, source)
    return splits
