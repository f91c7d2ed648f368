"""A robustness report of real (untrained, tiny) networks, shared by the report tests."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from shiftnas.data import make_shapes
from shiftnas.robustness import CONDITIONS
from shiftnas.robustness.evaluate import shift_metrics
from shiftnas.robustness.report import write_report
from shiftnas.robustness.settings import RobustnessConfig


def demo_report(out_dir: Path) -> Path:
    """A report of real (untrained, tiny) networks' metrics on synthetic shapes."""
    data = make_shapes(60, seed=0, size=16)
    config = RobustnessConfig(max_shift=2, shift_pairs=1)
    stats = ((0.5,) * 3, (0.25,) * 3)

    def metrics(seed: int) -> dict:
        torch.manual_seed(seed)
        model = nn.Sequential(
            nn.Conv2d(3, 10, 3, 2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(1)
        )
        return shift_metrics(model, data, *stats, config, seed=0)

    ablation = {c.name: {"arch": {"space": "mbv3", "genome": [1]}, "arch_id": c.name,
                         "filter": c.filter, "augment": c.augment, "epochs": 1,
                         "folder": c.name, "metrics": metrics(i)}
                for i, c in enumerate(CONDITIONS)}  # fmt: skip
    result = {"arch": {"space": "mbv3", "genome": [1]}, "arch_id": "demo",
              "twin": {"space": "mbv3", "genome": [0]}, "settings": config.model_dump(mode="json"),
              "network": ablation["searched-aug"]["metrics"], "ablation": ablation}  # fmt: skip
    history = [{"epoch": e, "train_acc": 0.1 * e, "val_acc": 0.08 * e, "test_acc": 0.07 * e}
               for e in range(4)]  # fmt: skip
    return write_report(result, history, out_dir)["html"]
