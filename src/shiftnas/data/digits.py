"""`digits`: scikit-learn's handwritten digits (UCI optdigits test set), shipped with the package.

1,797 greyscale images of 8x8 pixels in 17 grey levels, 10 classes (about 180 each), read from the
file scikit-learn installs, so nothing is downloaded. They are upsampled (bilinear) to
`image_size` and repeated over 3 channels, so every `mbv3` network takes them as it takes RGB.
A fixed stratified fifth is the test split, the same for every run seed.
"""

from __future__ import annotations

import torch
from torch.nn import functional

from shiftnas.data.dataset import ImageData, split_train_val
from shiftnas.errors import ShiftnasError

DIGIT_CLASSES = tuple(str(d) for d in range(10))
TEST_FRACTION = 0.2
_TEST_SPLIT_SEED = 0  # not the run's seed: the test images stay the same across runs


def load_digits_images(image_size: int = 16) -> ImageData:
    """All 1,797 images as uint8 `(1797, 3, image_size, image_size)`, labels 0-9.

    Raises `ShiftnasError` when scikit-learn is not installed."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ShiftnasError(
            "data.dataset 'digits' needs scikit-learn: pip install scikit-learn"
        ) from None
    bunch = load_digits()
    grey = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (N, 1, 8, 8)
    grey = functional.interpolate(grey, size=image_size, mode="bilinear", align_corners=False)
    images = (grey.clamp(0, 1) * 255).round().to(torch.uint8).repeat(1, 3, 1, 1)
    return ImageData(images, torch.tensor(bunch.target, dtype=torch.int64), DIGIT_CLASSES)


def load_digits_splits(image_size: int = 16) -> tuple[ImageData, ImageData]:
    """(train, test): 1,438 and 359 images, the test fifth stratified by class."""
    return split_train_val(load_digits_images(image_size), TEST_FRACTION, _TEST_SPLIT_SEED)
