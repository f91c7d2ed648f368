"""All shift metrics of one trained network, as one JSON-ready dict."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from shiftnas.data import ImageData
from shiftnas.robustness.metrics import (
    Classifier,
    accuracy_vs_offset,
    clean_accuracy,
    consistency,
    shifted_accuracy,
)
from shiftnas.robustness.settings import RobustnessConfig


def _generator(seed: int, salt: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + salt)


def shift_metrics(
    model: nn.Module,
    data: ImageData,
    mean: tuple[float, ...],
    std: tuple[float, ...],
    config: RobustnessConfig,
    *,
    seed: int = 0,
    device: torch.device | None = None,
    curve: bool = True,
    batch_size: int = 500,
) -> dict[str, Any]:
    """Clean accuracy, then per fill: shifted accuracy, consistency and (optionally) the
    accuracy-vs-offset curve. Fractions in [0, 1]; `num_classes` for the chance level. Shifts
    depend only on `seed` and the fill, so every network evaluated with one seed sees the very
    same shifted images."""
    if config.max_test_images is not None and len(data) > config.max_test_images:
        data = data.subset(torch.arange(config.max_test_images))
    clf = Classifier(model, mean, std, device, batch_size)
    out: dict[str, Any] = {
        "clean_acc": clean_accuracy(clf, data),
        "max_shift": config.max_shift,
        "images": len(data),
        "num_classes": data.num_classes,  # chance accuracy is 1 / num_classes
        "shift_pairs": config.shift_pairs,
        "fills": {},
    }
    for k, fill in enumerate(config.fills):
        metrics: dict[str, Any] = {
            "shifted_acc": shifted_accuracy(clf, data, config.max_shift, fill, _generator(seed, k)),
            "consistency": consistency(
                clf, data, config.max_shift, fill, _generator(seed, 100 + k), config.shift_pairs
            ),
        }
        if curve:
            metrics["offset_curve"] = accuracy_vs_offset(clf, data, config.max_shift, fill)
        out["fills"][fill] = metrics
    return out
