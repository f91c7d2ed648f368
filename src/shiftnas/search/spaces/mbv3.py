"""The `mbv3` search space of SICNS: a fixed skeleton whose every layer picks one of 13 ops."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from shiftnas.arch import Arch
from shiftnas.errors import ShiftnasError
from shiftnas.search.space import LayerSpec, check_genome, describe_layers, register_space
from shiftnas.search.spaces.mbv3_blocks import CANDIDATES, CONV1X1, conv_bn_act, make_candidate
from shiftnas.search.spaces.settings import Mbv3Settings, with_overrides


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
    capabilities: frozenset[str] = frozenset({"supernet", "filter_twins", "layer_table"})
    candidates = CANDIDATES
    num_choices = len(CANDIDATES)

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

    def build_stem(self) -> nn.Sequential:
        s = self.settings
        return conv_bn_act(s.in_channels, s.stem_channels, 3, s.stem_stride)

    def build_head(self) -> nn.Sequential:
        return make_head(self.settings)

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
                "layers": describe_layers(self.layer_specs),
                "head_channels": self.settings.head_channels,
                "num_classes": self.settings.num_classes,
            },
        }


@register_space("mbv3")
def mbv3(settings: Mbv3Settings | None = None, **overrides: Any) -> Mbv3Space:
    return Mbv3Space(with_overrides(Mbv3Settings, settings, overrides))
