"""In-memory image data: uint8 tensors decoded once, normalised per batch on the device."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ImageData:
    """Images `(N, C, H, W)` uint8 and labels `(N,)` int64, with the class names."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError("images must be a (N, C, H, W) uint8 tensor")
        if self.labels.shape != (self.images.shape[0],):
            raise ValueError("labels must be a (N,) tensor matching the images")

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def subset(self, index: torch.Tensor) -> ImageData:
        return ImageData(self.images[index], self.labels[index], self.classes)


@dataclass(frozen=True)
class DataSplits:
    """Train and validation come from the training set (seeded split); test is for final reports."""

    train: ImageData
    val: ImageData
    test: ImageData
    mean: tuple[float, ...]
    std: tuple[float, ...]
    name: str

    @property
    def num_classes(self) -> int:
        return self.train.num_classes

    @property
    def image_shape(self) -> tuple[int, int, int]:
        _, c, h, w = self.train.images.shape
        return int(c), int(h), int(w)


def channel_stats(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std in [0, 1] units, computed in chunks to bound memory."""
    total = torch.zeros(images.shape[1], dtype=torch.float64)
    squares = torch.zeros_like(total)
    for chunk in images.split(4096):
        x = chunk.to(torch.float64) / 255.0
        total += x.sum(dim=(0, 2, 3))
        squares += (x * x).sum(dim=(0, 2, 3))
    count = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / count
    std = (squares / count - mean * mean).clamp_min(1e-12).sqrt()
    return tuple(mean.tolist()), tuple(std.tolist())


def split_train_val(data: ImageData, val_fraction: float, seed: int) -> tuple[ImageData, ImageData]:
    """A seeded, stratified split so that every class keeps its share in both parts."""
    generator = torch.Generator().manual_seed(seed)
    train_idx, val_idx = [], []
    for label in range(data.num_classes):
        members = torch.nonzero(data.labels == label).flatten()
        members = members[torch.randperm(len(members), generator=generator)]
        n_val = round(len(members) * val_fraction)
        val_idx.append(members[:n_val])
        train_idx.append(members[n_val:])
    # Both parts come out in a seeded random order, never grouped by class (an image folder is
    # read class by class), so the first N images of either part are a fair sample.
    train, val = torch.cat(train_idx), torch.cat(val_idx)
    train = train[torch.randperm(len(train), generator=generator)]
    val = val[torch.randperm(len(val), generator=generator)]
    return data.subset(train), data.subset(val)
