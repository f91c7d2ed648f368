"""The skeleton settings of every search space, in one torch-free module.

A config names its space and skeleton (`space: {name: mbv3, ...}`); loading it must not build
networks or import torch, so each space's settings model lives here and its code beside it
(`mbv3.py`, `nb201.py`, ...) imports it. Add a space's settings here and to
`pipeline.config.SpaceConfig` to make it configurable.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

SettingsT = TypeVar("SettingsT", bound=BaseModel)


def with_overrides(
    cls: type[SettingsT], settings: SettingsT | None, overrides: dict[str, Any]
) -> SettingsT:
    """`settings` (or the defaults of `cls`) with `overrides` applied and validated again.

    Raises pydantic.ValidationError when an override is out of range or unknown."""
    if settings is None:
        return cls(**overrides)  # presets that depend on an override (mbv3's input_size) apply
    if not overrides:
        return settings
    base = settings.model_dump()
    return cls(**{**base, **overrides})


class LayerSetting(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    channels: int = Field(gt=0, le=4096)
    stride: int = Field(ge=1, le=2)


# (channels, stride) for 32x32 inputs: three subsamplings leave a 4x4 map for the head.
# Random subnets then have 0.5-1.1M parameters (median 0.86M) and 38-63M MACs (5-95%).
_PLAN_32 = [(16, 1), (24, 1), (24, 1), (32, 2), (32, 1), (32, 1), (64, 2), (64, 1), (64, 1),
            (96, 1), (96, 1), (128, 2)]  # fmt: skip
# MobileNetV3-Large's stages at 224 px: stem stride 2, then 16 s1, 24 s2, 40 s2, 80 s2, 112 s1,
# 160 s2: a 7x7 map (stride 32) for the head; 128 px the same (4x4).
_PLAN_224 = [(16, 1), (24, 2), (24, 1), (40, 2), (40, 1), (40, 1), (80, 2), (80, 1), (80, 1),
             (112, 1), (112, 1), (160, 2), (160, 1)]  # fmt: skip
# input size -> (stem stride, plan): the largest preset not above the input size applies, so
# below 64 px the 32 px skeleton (as before presets existed); 64 px: 4x4, 96 px: 6x6 for the head.
MBV3_PRESETS: dict[int, tuple[int, list[tuple[int, int]]]] = {
    32: (1, _PLAN_32),
    64: (2, _PLAN_32),
    96: (2, _PLAN_32),
    128: (2, _PLAN_224),
    224: (2, _PLAN_224),
}


def mbv3_preset(input_size: int) -> tuple[int, list[tuple[int, int]]]:
    """`(stem stride, [(channels, stride)])` of the preset for `input_size` px."""
    fitting = [s for s in MBV3_PRESETS if s <= input_size] or [32]
    return MBV3_PRESETS[max(fitting)]


def _default_layers() -> list[LayerSetting]:
    return [LayerSetting(channels=c, stride=s) for c, s in _PLAN_32]


class Mbv3Settings(BaseModel):
    """Skeleton of the `mbv3` space; the defaults put typical subnets at about 0.5-1M parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Literal["mbv3"] = "mbv3"
    input_size: int = Field(default=32, ge=8, le=1024)
    in_channels: int = Field(default=3, ge=1, le=16)
    num_classes: int = Field(default=10, ge=2, le=100_000)
    stem_channels: int = Field(default=16, gt=0, le=1024)
    stem_stride: int = Field(default=1, ge=1, le=2)
    layers: list[LayerSetting] = Field(default_factory=_default_layers, min_length=1)
    head_channels: int = Field(default=512, gt=0, le=8192)
    dropout: float = Field(default=0.1, ge=0.0, lt=1.0)

    @model_validator(mode="before")
    @classmethod
    def _preset_for_the_input_size(cls, data: Any) -> Any:
        """Without `layers`, the preset of `input_size` (`MBV3_PRESETS`) gives the layers and,
        unless set, the stem's stride."""
        if not isinstance(data, dict) or "layers" in data:
            return data
        size = data.get("input_size", 32)
        if not isinstance(size, int) or size < 8:
            return data  # the field's own check says what is wrong
        stem, plan = mbv3_preset(size)
        layers = [{"channels": c, "stride": s} for c, s in plan]
        return {"stem_stride": stem, **data, "layers": layers}


class Nb201Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Literal["nb201"] = "nb201"
    channels: int = Field(default=16, ge=1, le=1024)  # C of the first stage
    cells_per_stage: int = Field(default=5, ge=1, le=64)  # N
    input_size: int = Field(default=32, ge=8, le=1024)
    in_channels: int = Field(default=3, ge=1, le=16)
    num_classes: int = Field(default=10, ge=2, le=100_000)


class DartsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Literal["darts"] = "darts"
    channels: int = Field(default=10, ge=2, le=1024)  # initial channels (C)
    layers: int = Field(default=5, ge=3, le=100)  # cells in the network
    stem_multiplier: int = Field(default=3, ge=1, le=8)
    input_size: int = Field(default=32, ge=8, le=1024)
    in_channels: int = Field(default=3, ge=1, le=16)
    num_classes: int = Field(default=10, ge=2, le=100_000)


class MacroSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Literal["macro"] = "macro"
    channels: int = Field(default=32, ge=1, le=4096)
    phases: int = Field(default=3, ge=1, le=6)
    nodes: int = Field(default=6, ge=2, le=12)  # searchable nodes per phase
    input_size: int = Field(default=32, ge=8, le=1024)
    in_channels: int = Field(default=3, ge=1, le=16)
    num_classes: int = Field(default=10, ge=2, le=100_000)


class NbMacroSettings(BaseModel):
    """Skeleton of `nbmacro`, the NAS-Bench-Macro space (Su et al., CVPR 2021, arXiv:2103.11922).

    The defaults are the benchmark's: a 32-channel stem, stages of 2, 3 and 3 layers whose first
    layer subsamples and doubles the channels (64, 128, 256), a 1280-channel head. Only these
    defaults match the benchmark's trained networks; other values make a space of the same kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Literal["nbmacro"] = "nbmacro"
    input_size: int = Field(default=32, ge=8, le=1024)
    in_channels: int = Field(default=3, ge=1, le=16)
    num_classes: int = Field(default=10, ge=2, le=100_000)
    stem_channels: int = Field(default=32, gt=0, le=1024)
    stage_layers: list[Annotated[int, Field(ge=1, le=16)]] = Field(
        default_factory=lambda: [2, 3, 3], min_length=1, max_length=8
    )
    head_channels: int = Field(default=1280, gt=0, le=8192)
