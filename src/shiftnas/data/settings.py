"""Typed settings of `shiftnas.data`: the `data:` section and the augmentation recipe."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from shiftnas.section import Section

# torchvision's datasets by their lowercase names; each reads from `data.root`
TORCHVISION_DATASETS = ("cifar10", "cifar100", "svhn", "mnist", "fashionmnist", "stl10")
Dataset = Literal[
    "shapes", "digits", "imagefolder", "csv",
    "cifar10", "cifar100", "svhn", "mnist", "fashionmnist", "stl10",
]  # fmt: skip
# none: every image must already have one size (the behaviour before resizing existed);
# center_crop: shorter side to the target, then the centre square (torchvision's evaluation
# transform); pad: longer side to the target, then padded to a square; stretch: both sides.
ResizePolicy = Literal["none", "center_crop", "pad", "stretch"]


class ShapesConfig(Section):
    train_size: int = Field(default=4000, ge=10, le=1_000_000)
    test_size: int = Field(default=1000, ge=10, le=1_000_000)
    image_size: int = Field(default=32, ge=8, le=256)


class DigitsConfig(Section):
    """scikit-learn's 8x8 handwritten digits, upsampled to `image_size` pixels."""

    image_size: int = Field(default=16, ge=8, le=256)


class DataConfig(Section):
    dataset: Dataset = "shapes"
    root: Path | None = None  # image folder, CSV file, or torchvision's dataset root
    download: bool = False  # torchvision datasets only, and only when set
    cache_dir: Path | None = None  # default: $SHIFTNAS_CACHE, else ~/.cache/shiftnas
    val_fraction: float = Field(default=0.2, gt=0.0, lt=1.0)
    # an image folder without test/ (or a CSV without a split column) is split by this fraction
    test_fraction: float = Field(default=0.2, gt=0.0, lt=1.0)
    split_seed: int = Field(default=0, ge=0)  # the train/test split of a single folder
    max_train_images: int | None = Field(default=None, ge=10)
    resize: ResizePolicy = "none"
    image_size: int | None = Field(default=None, ge=8, le=1024)  # default: space.input_size
    pad_fill: int = Field(default=0, ge=0, le=255)  # grey level of the padding (resize: pad)
    unreadable: Literal["stop", "skip"] = "stop"  # files that cannot be decoded
    workers: int | None = Field(default=None, ge=1, le=256)  # decoding processes
    shapes: ShapesConfig = ShapesConfig()
    digits: DigitsConfig = DigitsConfig()

    @model_validator(mode="after")
    def _root_when_needed(self) -> DataConfig:
        if self.dataset not in ("shapes", "digits") and self.root is None:
            raise ValueError(
                f"data.root is required for dataset '{self.dataset}': set it to a folder"
                + (" or file" if self.dataset == "csv" else "")
            )
        return self


class AugmentConfig(Section):
    enabled: bool = True
    crop_padding: int = Field(default=4, ge=0, le=64)
    flip: bool = True
    cutout: int = Field(default=0, ge=0, le=256)
    # random-resized crop (scale range of the area kept) instead of pad + crop; "auto" uses it
    # for images of 64 px and more, and pad + crop below (the CIFAR recipe at 32 px)
    resized_crop: Literal["auto", "on", "off"] = "auto"
    resized_crop_scale: tuple[float, float] = (0.35, 1.0)
