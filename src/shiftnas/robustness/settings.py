"""Typed settings of `shiftnas.robustness`: the `robustness:` section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shiftnas.section import Section


class RobustnessConfig(Section):
    """Shift-robustness evaluation and the Table III ablation of SICNS."""

    max_shift: int = Field(default=4, ge=1, le=64)
    fills: tuple[Literal["zero", "circular"], ...] = Field(
        default=("zero", "circular"), min_length=1
    )
    # pairs of random shifts per image (consistency)
    shift_pairs: int = Field(default=2, ge=1, le=100)
    ablation: bool = True
    ablation_epochs: int | None = Field(default=None, ge=1)  # None: the retrain section's epochs
    max_test_images: int | None = Field(default=None, ge=10)
