"""Checks that the loaded splits agree with each other and with the space's skeleton.

Each failure is one `ShiftnasError` line that names the split, class or size at fault and the fix.
They run where the data is loaded, before a run folder is made or any network is trained: data
that does not match itself gives wrong results silently (a test class mapped to the wrong output,
MACs optimised at another input size), or fails only at a late stage.
"""

from __future__ import annotations

from typing import Any

import torch

from shiftnas.data.dataset import DataSplits, ImageData
from shiftnas.errors import ShiftnasError


def _names(items: list[str]) -> str:
    return ", ".join(items) if items else "none"


def check_raw_splits(train: ImageData, test: ImageData, source: str) -> None:
    """The full training set and the test set: same classes, >= 2 of them, one image size.

    Raises `ShiftnasError` naming the differing classes, the single class, a training class
    without images, or the two sizes (`C x H x W`).
    """
    if train.classes != test.classes:
        only_train = sorted(set(train.classes) - set(test.classes))
        only_test = sorted(set(test.classes) - set(train.classes))
        raise ShiftnasError(
            f"{source}: the test classes differ from the training classes (only in train: "
            f"{_names(only_train)}; only in test: {_names(only_test)}): give both splits the "
            "same class folders"
        )
    if train.num_classes < 2:
        raise ShiftnasError(
            f"{source}: only one class ({_names(list(train.classes))}): a classifier needs at "
            "least 2 classes"
        )
    counts = torch.bincount(train.labels, minlength=train.num_classes)
    empty = [name for name, count in zip(train.classes, counts.tolist(), strict=True) if not count]
    if empty:
        raise ShiftnasError(
            f"{source}: training class {_names(empty)} has no images: add images or remove "
            "the class from both splits"
        )
    if train.image_shape != test.image_shape:
        raise ShiftnasError(
            f"{source}: training images are {_shape(train)} but test images {_shape(test)}: "
            "set data.resize: center_crop (or pad, stretch) to resize all images to one size"
        )


def check_split_sizes(splits: DataSplits, val_fraction: float, source: str) -> None:
    """No split may be empty: an empty validation split scores every network 1.0 error."""
    n = len(splits.train) + len(splits.val)
    if len(splits.val) == 0:
        raise ShiftnasError(
            f"{source}: the validation split is empty ({n} training images, val_fraction "
            f"{val_fraction:g} rounds to 0 images per class): add images or raise "
            "data.val_fraction"
        )
    if len(splits.train) == 0:
        raise ShiftnasError(
            f"{source}: the training split is empty ({n} training images, val_fraction "
            f"{val_fraction:g} takes them all): add images or lower data.val_fraction"
        )
    if len(splits.test) == 0:
        raise ShiftnasError(f"{source}: the test split is empty: add test images")


def check_fits_space(splits: DataSplits, space: Any) -> None:
    """The images must have the skeleton's `input_size` and `in_channels` (space settings).

    MACs, latency and the lookup table are all computed at `input_size`; images of another size
    would ship a network whose cost differs from the one searched for.
    """
    c, h, w = splits.image_shape
    size = getattr(space, "input_size", None)
    if size is not None and (h, w) != (size, size):
        raise ShiftnasError(
            f"the data's images are {h}x{w} px but space.input_size is {size}: "
            f"set space.input_size: {h} (square images) or data.resize: center_crop (or pad, "
            f"stretch) to resize them to {size}x{size}"
        )
    channels = getattr(space, "in_channels", None)
    if channels is not None and c != channels:
        raise ShiftnasError(
            f"the data's images have {c} channels but space.in_channels is {channels}: "
            f"set space.in_channels: {c}"
        )


def _shape(data: ImageData) -> str:
    c, h, w = data.image_shape
    return f"{h}x{w} px ({c} channels)"
