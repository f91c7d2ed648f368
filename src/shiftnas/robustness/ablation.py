"""The ablation of SICNS Table III: filter on/off x augmentation on/off, under one budget.

The four cells share everything but the two factors: the skeleton, seed, data, optimiser and
number of epochs; the "without" twin is `space.without_filter(arch)`, which drops the filter from
every block and keeps every weight's shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from shiftnas.arch import Arch
from shiftnas.data import DataSplits
from shiftnas.robustness.evaluate import shift_metrics
from shiftnas.robustness.settings import RobustnessConfig
from shiftnas.search.spaces.mbv3 import Mbv3Space
from shiftnas.training.retrain import retrain
from shiftnas.training.settings import RetrainConfig


@dataclass(frozen=True)
class Condition:
    """One training condition of the SICNS Table III ablation: the filter on or off, augmentation
    on or off."""

    filter: bool  # the searched network (True) or its "without" twin (False)
    augment: bool

    @property
    def name(self) -> str:
        network = "searched" if self.filter else "without_filter"
        return f"{network}-{'aug' if self.augment else 'noaug'}"


CONDITIONS = tuple(Condition(f, a) for a in (True, False) for f in (True, False))


def condition_config(base: RetrainConfig, augment: bool, epochs: int) -> RetrainConfig:
    """The shared budget with augmentation switched on or off (cutout follows augmentation)."""
    aug = base.augment.model_copy(update={"enabled": augment})
    return base.model_copy(update={"augment": aug, "epochs": epochs, "init": "scratch"})


def run_ablation(
    space: Mbv3Space,
    arch: Arch,
    data: DataSplits,
    retrain_config: RetrainConfig,
    config: RobustnessConfig,
    out_dir: Path,
    *,
    seed: int = 0,
    device: torch.device | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train (or resume) the four cells in `out_dir/<cell>/` and evaluate each on clean and
    shifted test inputs; returns `{cell name: {"arch", "filter", "augment", "metrics"}}`.

    When `arch` has no filter at all its twin is itself, and the twin cells reuse its runs."""
    arch = space.canonical(arch)
    twin = space.without_filter(arch)
    epochs = config.ablation_epochs or retrain_config.epochs
    results: dict[str, Any] = {}
    trained: dict[tuple[Arch, bool], dict[str, Any]] = {}
    for cell in CONDITIONS:
        cell_arch = arch if cell.filter else twin
        key = (cell_arch, cell.augment)
        if key not in trained:
            folder = Path(out_dir) / (f"{cell_arch.id}-{'aug' if cell.augment else 'noaug'}")
            recipe = condition_config(retrain_config, cell.augment, epochs)
            done = retrain(
                space, cell_arch, data, recipe, folder, seed=seed, device=device, progress=progress
            )
            metrics = shift_metrics(
                done.model, data.test, data.mean, data.std, config, seed=seed, device=device
            )
            trained[key] = {"folder": folder.name, "metrics": metrics}
        results[cell.name] = {
            "arch": cell_arch.to_json(), "arch_id": cell_arch.id, "filter": cell.filter,
            "augment": cell.augment, "epochs": epochs, **trained[key],
        }  # fmt: skip
    return results
