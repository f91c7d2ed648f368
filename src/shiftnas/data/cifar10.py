"""`cifar10`: torchvision's CIFAR-10 files under a root, downloaded only when asked to."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from shiftnas.data.dataset import ImageData
from shiftnas.errors import ShiftnasError


def load_cifar10(root: str | Path, split: str, download: bool = False) -> ImageData:
    from torchvision.datasets import CIFAR10

    root = Path(root)
    try:
        dataset = CIFAR10(str(root), train=split == "train", download=download)
    except RuntimeError:
        raise ShiftnasError(
            f"no CIFAR-10 (torchvision format, cifar-10-batches-py/) under {root}: "
            "set data.root to its parent folder, or set data.download: true"
        ) from None
    images = torch.from_numpy(np.asarray(dataset.data)).permute(0, 3, 1, 2).contiguous()
    labels = torch.tensor(dataset.targets, dtype=torch.int64)
    return ImageData(images, labels, tuple(dataset.classes))
