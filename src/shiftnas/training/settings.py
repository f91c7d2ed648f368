"""Typed settings of `shiftnas.training`: the `supernet:` and `retrain:` sections."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shiftnas.data.settings import AugmentConfig
from shiftnas.section import Section


class TrainingConfig(Section):
    """Shared by supernet training and retraining: one loop, one recipe format."""

    epochs: int = Field(default=1, ge=1, le=100_000)
    batch_size: int = Field(default=128, ge=1, le=65_536)
    lr: float = Field(default=0.05, gt=0.0, le=10.0)
    momentum: float = Field(default=0.9, ge=0.0, lt=1.0)
    nesterov: bool = True
    weight_decay: float = Field(default=4e-5, ge=0.0, le=1.0)
    warmup_epochs: float = Field(default=0.0, ge=0.0)
    label_smoothing: float = Field(default=0.1, ge=0.0, lt=1.0)
    grad_clip: float | None = Field(default=5.0, gt=0.0)
    augment: AugmentConfig = AugmentConfig()
    checkpoint_every_steps: int = Field(default=200, ge=1)
    amp: bool = True  # only takes effect on CUDA
    # channels-last halves a step of these depthwise-heavy networks on the CPU too (measured:
    # 1.2 s against 2.3 s for one mbv3 path, batch 64, 2 cores), so it is on everywhere.
    channels_last: bool = True


class SupernetConfig(TrainingConfig):
    sampling: Literal["fair", "spos"] = "fair"
    bn_recalibration_batches: int = Field(default=10, ge=0, le=10_000)


class RetrainConfig(TrainingConfig):
    """Retraining one searched network: the shared recipe plus where its weights start.

    SICNS retrains for 600 epochs at batch 128 with augmentation; the defaults stay short so the
    embedded quickstart finishes on a CPU. `inherited` starts from the supernet's weights.
    """

    init: Literal["scratch", "inherited"] = "scratch"
    eval_batch_size: int = Field(default=500, ge=1, le=65_536)
