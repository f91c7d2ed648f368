"""`cifar10`: torchvision's CIFAR-10 files under a root, downloaded only when asked to."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from shiftnas.data.dataset import ImageData
from shiftnas.errors import ShiftnasError

# what the shipped configs' comments suggest; the project's shared JPEG export lies there
LOCAL_COPY = "data: {dataset: imagefolder, root: ../shared/datasets/cifar10-jpeg}"


def load_cifar10(root: str | Path, split: str, download: bool = False) -> ImageData:
    """CIFAR-10's `split` ("train" or "test") as uint8 `(N, 3, 32, 32)` images and 10 classes.

    Raises `ShiftnasError` (one line) when the files are absent, or the download fails: it says
    how to point `data.root` at a local copy.
    """
    from torchvision.datasets import CIFAR10

    root = Path(root)
    try:
        dataset = CIFAR10(str(root), train=split == "train", download=download)
    except RuntimeError:
        raise ShiftnasError(
            f"no CIFAR-10 (torchvision format, cifar-10-batches-py/) under {root}: "
            f"set data.root to its parent folder, use a JPEG copy ({LOCAL_COPY}), "
            "or set data.download: true"
        ) from None
    except OSError as err:  # urllib's URLError and HTTPError, a refused or cut connection
        reason = getattr(err, "reason", None) or err
        raise ShiftnasError(
            f"could not download CIFAR-10 into {root} ({reason}): offline, point data.root at "
            f"a local copy ({LOCAL_COPY}, or a folder holding cifar-10-batches-py/ with "
            "download: false)"
        ) from None
    images = torch.from_numpy(np.asarray(dataset.data)).permute(0, 3, 1, 2).contiguous()
    labels = torch.tensor(dataset.targets, dtype=torch.int64)
    return ImageData(images, labels, tuple(dataset.classes))
