"""The `mbv3` search space of SICNS: a fixed skeleton whose every layer picks one of 13 ops."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from shiftnas.errors import ShiftnasError
from shiftnas.search.arch import Arch
from shiftnas.search.space import LayerSpec, check_genome, register_space
from shiftnas.search.spaces.mbv3_blocks import CANDIDATES, CONV1X1, conv_bn_act, make_candidate


class LayerSetting(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    channels: int = Field(gt=0, le=4096)
    stride: int = Field(ge=1, le=2)


def _default_layers() -> list[LayerSetting]:
    # (channels, stride) for 32x32 inputs: three subsamplings leave a 4x4 map for the head.
    # Random subnets then have 0.5-1.1M parameters (median 0.86M) and 38-63M MACs (5-95%).
    plan = [
        (16, 1),
        (24, 1),
        (24, 1),
        (32, 2),
        (32, 1),
        (32, 1),
        (64, 2),
        (64, 1),
        (64, 1),
        (96, 1),
        (96, 1),
        (128, 2),
    ]
    return [LayerSetting(channels=c, stride=s) for c, s in plan]


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


class Mbv3Network(nn.Module):
    """A standalone network of the space: stem, one op per layer, head. Needs no supernet."""

    def __init__(self, settings: Mbv3Settings, ops: list[nn.Module]) -> None:
        super().__init__()
        self.stem = conv_bn_act(
            settings.in_channels, settings.stem_channels, 3, settings.stem_stride
        )
        self.layers = nn.Sequential(*ops)
        self.head = make_head(settings)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.layers(self.stem(x)))


def make_head(settings: Mbv3Settings) -> nn.Sequential:
    last = settings.layers[-1].channels
    return nn.Sequential(
        conv_bn_act(last, settings.head_channels, 1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(1),
        nn.Dropout(settings.dropout),
        nn.Linear(settings.head_channels, settings.num_classes),
    )


class Mbv3Space:
    """Genome: one gene per layer in [0, 12], the row of SICNS Table I.

    On a stride-1 layer the filter has nothing to act on, so "with" and "without" build the same
    network; `canonical` maps every such gene to its "without" twin (an even id).
    """

    name = "mbv3"
    candidates = CANDIDATES

    def __init__(self, settings: Mbv3Settings | None = None) -> None:
        self.settings = settings or Mbv3Settings()
        side = self.settings.input_size // self.settings.stem_stride
        specs: list[LayerSpec] = []
        cin = self.settings.stem_channels
        for i, layer in enumerate(self.settings.layers):
            specs.append(LayerSpec(i, cin, layer.channels, layer.stride, side, len(CANDIDATES)))
            side = (side + layer.stride - 1) // layer.stride
            cin = layer.channels
        self.layer_specs: tuple[LayerSpec, ...] = tuple(specs)

    @property
    def num_layers(self) -> int:
        return len(self.layer_specs)

    @property
    def genome_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.num_layers
        return np.zeros(n, dtype=int), np.full(n, len(CANDIDATES) - 1, dtype=int)

    def sample(self, rng: np.random.Generator) -> Arch:
        genome = rng.integers(0, len(CANDIDATES), size=self.num_layers)
        return self.canonical(Arch(self.name, tuple(genome)))

    def validate(self, arch: Arch) -> Arch:
        return check_genome(self, arch)

    def canonical_gene(self, layer: int, gene: int) -> int:
        if self.layer_specs[layer].stride == 1 and gene != CONV1X1:
            return gene & ~1  # drop the filter flag: nothing is subsampled
        return gene

    def canonical(self, arch: Arch) -> Arch:
        self.validate(arch)
        genome = tuple(self.canonical_gene(i, g) for i, g in enumerate(arch.genome))
        return Arch(self.name, genome)

    def build_op(self, layer: int, gene: int) -> nn.Module:
        spec = self.layer_specs[layer]
        return make_candidate(gene, spec.in_channels, spec.out_channels, spec.stride)

    def build(self, arch: Arch) -> Mbv3Network:
        arch = self.canonical(arch)
        ops = [self.build_op(i, g) for i, g in enumerate(arch.genome)]
        return Mbv3Network(self.settings, ops)

    def without_filter(self, arch: Arch) -> Arch:
        """The ablation twin of SICNS Table III: every filter removed, all else the same."""
        arch = self.canonical(arch)
        return Arch(self.name, tuple(g if g == CONV1X1 else g & ~1 for g in arch.genome))

    def with_filter(self, arch: Arch) -> Arch:
        """Every stride-2 block carries the filter (the opposite twin of `without_filter`)."""
        arch = self.canonical(arch)
        genome = tuple(
            g | 1 if g != CONV1X1 and self.layer_specs[i].stride > 1 else g
            for i, g in enumerate(arch.genome)
        )
        return Arch(self.name, genome)

    def to_string(self, arch: Arch) -> str:
        return "-".join(str(g) for g in self.validate(arch).genome)

    def from_string(self, text: str) -> Arch:
        try:
            genome = tuple(int(part) for part in text.strip().split("-"))
        except ValueError:
            raise ShiftnasError(
                f"'{text}' is not an mbv3 architecture: write the genes joined by '-', e.g. 0-12-5"
            ) from None
        return self.validate(Arch(self.name, genome))

    def describe(self) -> dict[str, Any]:
        return {
            "space": self.name,
            "candidates": [
                {
                    "id": c.index,
                    "op": c.label,
                    "kernel": c.kernel,
                    "expand": c.expand,
                    "filter": "with" if c.blur else ("-" if c.is_conv1x1 else "without"),
                }
                for c in CANDIDATES
            ],
            "skeleton": {
                "input_size": self.settings.input_size,
                "stem_channels": self.settings.stem_channels,
                "stem_stride": self.settings.stem_stride,
                "layers": [
                    {
                        "layer": s.index,
                        "in": s.in_channels,
                        "out": s.out_channels,
                        "stride": s.stride,
                        "input_size": s.input_size,
                    }
                    for s in self.layer_specs
                ],
                "head_channels": self.settings.head_channels,
                "num_classes": self.settings.num_classes,
            },
        }


@register_space("mbv3")
def mbv3(settings: Mbv3Settings | None = None, **overrides: Any) -> Mbv3Space:
    if overrides:
        base = (settings or Mbv3Settings()).model_dump()
        settings = Mbv3Settings(**{**base, **overrides})
    return Mbv3Space(settings)
