"""Seeded mini-batches of image data (in memory or memory-mapped); uint8 -> normalised float."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch

from shiftnas.data.dataset import ImageData


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The sample order of one epoch, a pure function of (seed, epoch) so resume can skip ahead."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=generator)


def num_batches(n: int, batch_size: int, drop_last: bool) -> int:
    return n // batch_size if drop_last else -(-n // batch_size)


def iterate_batches(
    data: ImageData,
    batch_size: int,
    order: torch.Tensor | None = None,
    drop_last: bool = False,
    start: int = 0,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield `(images uint8 (B,C,H,W), labels (B,))` in `order`, from batch index `start` on."""
    index = order if order is not None else torch.arange(len(data))
    for b in range(start, num_batches(len(data), batch_size, drop_last)):
        picked = index[b * batch_size : (b + 1) * batch_size]
        yield data.take(picked), data.labels[picked]


def normalize(
    images: torch.Tensor, mean: Sequence[float], std: Sequence[float], device: torch.device | str
) -> torch.Tensor:
    """uint8 `(B, C, H, W)` -> float32 on `device`, standardised per channel."""
    x = images.to(device, non_blocking=True).float().div_(255.0)
    m = torch.tensor(mean, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, device=x.device).view(1, -1, 1, 1)
    return x.sub_(m).div_(s)  # in place: the same arithmetic as (x - m) / s, no temporaries
