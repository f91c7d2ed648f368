"""Typed settings of `shiftnas.data`: the `data:` section and the augmentation recipe."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from shiftnas.section import Section


class ShapesConfig(Section):
    train_size: int = Field(default=4000, ge=10, le=1_000_000)
    test_size: int = Field(default=1000, ge=10, le=1_000_000)
    image_size: int = Field(default=32, ge=8, le=256)


class DigitsConfig(Section):
    """scikit-learn's 8x8 handwritten digits, upsampled to `image_size` pixels."""

    image_size: int = Field(default=16, ge=8, le=256)


class DataConfig(Section):
    dataset: Literal["shapes", "digits", "cifar10", "imagefolder"] = "shapes"
    root: Path | None = None
    download: bool = False
    cache_dir: Path | None = None
    val_fraction: float = Field(default=0.2, gt=0.0, lt=1.0)
    max_train_images: int | None = Field(default=None, ge=10)
    shapes: ShapesConfig = ShapesConfig()
    digits: DigitsConfig = DigitsConfig()

    @model_validator(mode="after")
    def _root_when_needed(self) -> DataConfig:
        if self.dataset in ("cifar10", "imagefolder") and self.root is None:
            raise ValueError(
                f"data.root is required for dataset '{self.dataset}': set it to a folder"
            )
        return self


class AugmentConfig(Section):
    enabled: bool = True
    crop_padding: int = Field(default=4, ge=0, le=64)
    flip: bool = True
    cutout: int = Field(default=0, ge=0, le=256)
