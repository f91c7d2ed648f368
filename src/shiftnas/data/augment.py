"""Batched augmentation: pad + random crop, horizontal flip, cutout; no per-image Python loops."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from shiftnas.data.shift import gather_window


def random_crop(images: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Zero-pad by `padding` and cut a window of the original size at a random place per image."""
    if padding == 0:
        return images
    b, _, h, w = images.shape
    padded = F.pad(images, (padding, padding, padding, padding))
    oy = torch.randint(0, 2 * padding + 1, (b,), generator=generator).to(images.device)
    ox = torch.randint(0, 2 * padding + 1, (b,), generator=generator).to(images.device)
    rows = oy[:, None] + torch.arange(h, device=images.device)[None, :]
    cols = ox[:, None] + torch.arange(w, device=images.device)[None, :]
    return gather_window(padded, rows, cols)


def random_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    flip = torch.rand(images.shape[0], generator=generator).to(images.device) < 0.5
    return torch.where(flip[:, None, None, None], images.flip(3), images)


def cutout(images: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """Zero a `size` x `size` square (clipped at the border) at a random centre per image."""
    if size == 0:
        return images
    b, _, h, w = images.shape
    cy = torch.randint(0, h, (b,), generator=generator).to(images.device)
    cx = torch.randint(0, w, (b,), generator=generator).to(images.device)
    ys = torch.arange(h, device=images.device)[None, :]
    xs = torch.arange(w, device=images.device)[None, :]
    half = size // 2
    inside_y = (ys >= (cy[:, None] - half)) & (ys < (cy[:, None] - half + size))  # (B, H)
    inside_x = (xs >= (cx[:, None] - half)) & (xs < (cx[:, None] - half + size))  # (B, W)
    mask = inside_y[:, :, None] & inside_x[:, None, :]  # (B, H, W)
    return images.masked_fill(mask[:, None], 0)


def augment(
    images: torch.Tensor,
    generator: torch.Generator,
    crop_padding: int = 4,
    flip: bool = True,
    cutout_size: int = 0,
) -> torch.Tensor:
    """The standard CIFAR recipe on a uint8 or float batch `(B, C, H, W)`."""
    images = random_crop(images, crop_padding, generator)
    if flip:
        images = random_flip(images, generator)
    return cutout(images, cutout_size, generator)
