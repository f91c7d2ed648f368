"""Image data: uint8 pixels decoded once (in memory or a memory-mapped cache file), split into
views by index, normalised per batch on the device."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ImageData:
    """Images `(N, C, H, W)` uint8 and labels `(N,)` int64, with the class names.

    `pixels` may be larger than the data set: `rows` `(N,)` then picks its images (a split of a
    memory-mapped cache is a list of rows, never a copy). `take(index)` reads a batch; `images`
    materialises every image of the set (small sets and tests only).
    """

    pixels: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]
    rows: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.pixels.dtype != torch.uint8 or self.pixels.ndim != 4:
            raise ValueError("images must be a (N, C, H, W) uint8 tensor")
        n = self.pixels.shape[0] if self.rows is None else self.rows.shape[0]
        if self.labels.shape != (n,):
            raise ValueError("labels must be a (N,) tensor matching the images")

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """`(C, H, W)` of every image."""
        _, c, h, w = self.pixels.shape
        return int(c), int(h), int(w)

    @property
    def images(self) -> torch.Tensor:
        """All images `(N, C, H, W)` uint8, read into memory."""
        if self.rows is None:
            return self.pixels
        return self.take(torch.arange(len(self)))

    def take(self, index: torch.Tensor) -> torch.Tensor:
        """The images at `index` (a `(B,)` int64 tensor or a slice) as a `(B, C, H, W)` copy."""
        rows = self.rows[index] if self.rows is not None else index
        if isinstance(rows, slice):
            return self.pixels[rows].clone()
        return self.pixels[rows]

    def subset(self, index: torch.Tensor) -> ImageData:
        """The images at `index` `(K,)`, as a view of the same pixels (no copy)."""
        rows = self.rows[index] if self.rows is not None else index
        return ImageData(self.pixels, self.labels[index], self.classes, rows)


@dataclass(frozen=True)
class DataSplits:
    """Train and validation come from the training set (seeded split); test is for final reports."""

    train: ImageData
    val: ImageData
    test: ImageData
    mean: tuple[float, ...]
    std: tuple[float, ...]
    name: str
    recipe: dict | None = None  # how a raw image becomes these pixels (`data.decode.recipe`)
    skipped: list | None = None  # `[path, reason]` of unreadable files left out (data.unreadable)

    @property
    def num_classes(self) -> int:
        return self.train.num_classes

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.train.image_shape


def channel_stats(data: ImageData | torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std in [0, 1] units, read in chunks (bounded memory)."""
    if isinstance(data, torch.Tensor):
        data = ImageData(data, torch.zeros(len(data), dtype=torch.int64), ())
    c, h, w = data.image_shape
    total = torch.zeros(c, dtype=torch.float64)
    squares = torch.zeros_like(total)
    # 4096 images a chunk as always (so the sums of small images are bitwise those of before),
    # fewer for large images: a chunk holds at most 2**24 values (128 MB as float64)
    step = max(1, min(4096, 2**24 // (c * h * w)))
    for start in range(0, len(data), step):
        x = data.take(torch.arange(start, min(start + step, len(data)))).to(torch.float64) / 255.0
        total += x.sum(dim=(0, 2, 3))
        squares += (x * x).sum(dim=(0, 2, 3))
    count = len(data) * h * w
    mean = total / count
    std = (squares / count - mean * mean).clamp_min(1e-12).sqrt()
    return tuple(mean.tolist()), tuple(std.tolist())


def stratified_split(
    labels: torch.Tensor, num_classes: int, fraction: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices `(rest, part)`: `round(n_c x fraction)` of each class's n_c go to `part`; both
    come out in a seeded random order, never grouped by class."""
    generator = torch.Generator().manual_seed(seed)
    rest_idx, part_idx = [], []
    for label in range(num_classes):
        members = torch.nonzero(labels == label).flatten()
        members = members[torch.randperm(len(members), generator=generator)]
        n_part = round(len(members) * fraction)
        part_idx.append(members[:n_part])
        rest_idx.append(members[n_part:])
    rest, part = torch.cat(rest_idx), torch.cat(part_idx)
    rest = rest[torch.randperm(len(rest), generator=generator)]
    part = part[torch.randperm(len(part), generator=generator)]
    return rest, part


def split_train_val(data: ImageData, val_fraction: float, seed: int) -> tuple[ImageData, ImageData]:
    """A seeded, stratified split so that every class keeps its share in both parts."""
    # Both parts come out in a seeded random order, never grouped by class (an image folder is
    # read class by class), so the first N images of either part are a fair sample.
    train, val = stratified_split(data.labels, data.num_classes, val_fraction, seed)
    return data.subset(train), data.subset(val)
