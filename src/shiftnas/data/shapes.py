"""`shapes`: a synthetic 10-class image dataset generated from a seed, for runs with no download.

Each image is a coloured shape at a random position and scale on a textured background (random
stripes and noise), so a classifier must learn shape, not colour or location. The class decides
only the shape's outline.
"""

from __future__ import annotations

import torch

from shiftnas.data.dataset import ImageData

SHAPE_CLASSES = (
    "circle", "square", "triangle", "cross", "ring", "hbar", "vbar", "diamond", "xcross", "dots",
)  # fmt: skip


def _masks(
    label: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor, r: torch.Tensor
) -> torch.Tensor:
    """Boolean masks `(N, S, S)` of each image's shape; dx, dy are offsets from its centre."""
    ax, ay = dx.abs(), dy.abs()
    dist = (dx * dx + dy * dy).sqrt()
    box = torch.maximum(ax, ay)
    shapes = torch.stack(
        [
            dist < r,
            box < 0.8 * r,
            (dy < 0.8 * r) & (dy > -0.8 * r) & (ax < (dy + 0.8 * r) * 0.6),
            ((ax < r / 4) & (ay < r)) | ((ay < r / 4) & (ax < r)),
            (dist < r) & (dist > 0.55 * r),
            (ay < r / 3) & (ax < r),
            (ax < r / 3) & (ay < r),
            ax + ay < r,
            ((ax - ay).abs() < r / 4) & (box < 0.8 * r),
            ((dx - r / 2) ** 2 + dy**2 < (r / 2.5) ** 2)
            | ((dx + r / 2) ** 2 + dy**2 < (r / 2.5) ** 2),
        ],
        dim=1,
    )  # (N, 10, S, S)
    return shapes[torch.arange(len(label)), label]


def make_shapes(num_images: int, seed: int, size: int = 32, chunk: int = 2048) -> ImageData:
    """Generate `num_images` images with balanced classes; the same seed gives the same bytes."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(num_images) % len(SHAPE_CLASSES)
    labels = labels[torch.randperm(num_images, generator=generator)]
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")  # (S, S)
    images = []
    for start in range(0, num_images, chunk):
        lab = labels[start : start + chunk]
        n = len(lab)

        def rand(*shape: int) -> torch.Tensor:
            return torch.rand(*shape, generator=generator)

        # Background: two colours mixed by stripes of random frequency, angle and phase, plus noise.
        angle, freq, phase = rand(n, 1, 1) * torch.pi, 2 + 6 * rand(n, 1, 1), 6.3 * rand(n, 1, 1)
        stripes = torch.sin(freq * 6.28 * (xx * angle.cos() + yy * angle.sin()) + phase)
        mix = (0.5 + 0.5 * stripes).unsqueeze(1)  # (n, 1, S, S)
        colour_a = rand(n, 3, 1, 1)
        colour_b = (colour_a + 0.35 * (rand(n, 3, 1, 1) - 0.5)).clamp(0, 1)
        background = (
            colour_a * mix
            + colour_b * (1 - mix)
            + 0.05 * torch.randn(n, 3, size, size, generator=generator)
        )
        # Foreground: the class's shape at a random centre and radius, in a random colour.
        cx, cy = 0.25 + 0.5 * rand(n, 1, 1), 0.25 + 0.5 * rand(n, 1, 1)
        radius = 0.14 + 0.14 * rand(n, 1, 1)
        mask = _masks(lab, xx - cx, yy - cy, radius).unsqueeze(1).float()
        colour = rand(n, 3, 1, 1)
        # Keep the shape visible: push its colour away from the background's where they are close.
        close = (colour - colour_a).abs().mean(dim=1, keepdim=True) < 0.25
        colour = torch.where(close, 1.0 - colour, colour)
        image = background * (1 - mask) + colour * mask
        images.append((image.clamp(0, 1) * 255).round().to(torch.uint8))
    return ImageData(torch.cat(images), labels.to(torch.int64), SHAPE_CLASSES)
