"""Shifting whole batches by per-image offsets, for augmentation and robustness evaluation.

Everything is index arithmetic on the batch (`gather`), so it runs on the CPU or a GPU with no
per-image Python loop.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

Fill = Literal["zero", "circular"]


def _as_offsets(value: int | torch.Tensor, batch: int, device: torch.device) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.to(device=device, dtype=torch.long).expand(batch)
    return torch.full((batch,), int(value), dtype=torch.long, device=device)


def shift_batch(
    images: torch.Tensor, dx: int | torch.Tensor, dy: int | torch.Tensor, fill: Fill = "zero"
) -> torch.Tensor:
    """Move each image `dx` pixels right and `dy` pixels down (negative: left, up).

    `fill="circular"` wraps the content around (a pure permutation of pixels); `"zero"` brings in
    zeros where the content left. Offsets are ints or `(B,)` tensors, one per image.
    """
    b, _, h, w = images.shape
    dx = _as_offsets(dx, b, images.device)
    dy = _as_offsets(dy, b, images.device)
    rows = torch.arange(h, device=images.device)[None, :] - dy[:, None]  # (B, H) source row
    cols = torch.arange(w, device=images.device)[None, :] - dx[:, None]  # (B, W) source col
    if fill == "circular":
        return gather_window(images, rows % h, cols % w)
    if fill != "zero":
        raise ValueError(f"fill must be 'zero' or 'circular', not {fill!r}")
    pad = int(max(dx.abs().max().item(), dy.abs().max().item(), 0))
    if pad == 0:
        return images.clone()
    padded = F.pad(images, (pad, pad, pad, pad))
    return gather_window(padded, rows + pad, cols + pad)


def gather_window(images: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """out[b, c, i, j] = images[b, c, rows[b, i], cols[b, j]] for row and column index tables."""
    b, c, _, w_in = images.shape
    h, w = rows.shape[1], cols.shape[1]
    picked_rows = images.gather(2, rows[:, None, :, None].expand(b, c, h, w_in))
    return picked_rows.gather(3, cols[:, None, None, :].expand(b, c, h, w))


def random_shifts(
    batch: int, max_shift: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Offsets uniform in [-max_shift, max_shift] in each direction, one pair per image."""
    dx = torch.randint(-max_shift, max_shift + 1, (batch,), generator=generator)
    dy = torch.randint(-max_shift, max_shift + 1, (batch,), generator=generator)
    return dx, dy
