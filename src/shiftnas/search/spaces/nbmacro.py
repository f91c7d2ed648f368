"""`nbmacro`: the MobileNetV2-block space of NAS-Bench-Macro, built as the benchmark trained it.

Su et al., "Prioritized Architecture Sampling with Monte-Carlo Tree Search", CVPR 2021
(arXiv:2103.11922); benchmark data: `../shared/benchmarks/nas-bench-macro/` (Apache-2.0, from the
public repository xiusu/NAS-Bench-Macro). Eight searchable layers in three stages (2, 3, 3 layers;
the first layer of each stage has stride 2 and doubles the channels), each one of three candidate
ops: `0` identity, `1` inverted residual kernel 3 expansion 3, `2` inverted residual kernel 5
expansion 6 (MobileNetV2 blocks: ReLU, no squeeze-and-excite). Ops map (B, C_in, H, W) to
(B, C_out, H / stride, W / stride). The default skeleton reproduces the benchmark's `params` and
`flops` (multiply-adds, what shiftnas calls MACs) for every one of its 3,969 distinct networks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from shiftnas.arch import Arch
from shiftnas.errors import ShiftnasError
from shiftnas.search.space import LayerSpec, check_genome, describe_layers, register_space
from shiftnas.search.spaces.settings import NbMacroSettings, with_overrides

OPS = ("identity", "mb_k3_e3", "mb_k5_e6")  # gene -> op, the benchmark's digits 0, 1, 2
KERNEL_EXPAND = {1: (3, 3), 2: (5, 6)}


def conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]


class MobileNetV2Block(nn.Module):
    """Inverted residual of Sandler et al. 2018 (arXiv:1801.04381): 1x1 expand to `cin * expand`
    channels + BN + ReLU, kxk depthwise (strided) + BN + ReLU, 1x1 project + BN; a residual add
    when the block keeps stride 1 and its channels."""

    def __init__(self, cin: int, cout: int, stride: int, kernel: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        self.body = nn.Sequential(
            *conv_bn(cin, hidden, 1),
            nn.ReLU(inplace=True),
            *conv_bn(hidden, hidden, kernel, stride, groups=hidden),
            nn.ReLU(inplace=True),
            *conv_bn(hidden, cout, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return out + x if self.use_residual else out


def make_op(gene: int, cin: int, cout: int, stride: int) -> nn.Module:
    """The op of `gene`; an identity that must subsample or change channels is a strided 1x1
    convolution + BN, as in the benchmark."""
    if gene == 0:
        if stride == 1 and cin == cout:
            return nn.Identity()
        return nn.Sequential(*conv_bn(cin, cout, 1, stride))
    kernel, expand = KERNEL_EXPAND[gene]
    return MobileNetV2Block(cin, cout, stride, kernel, expand)


class NbMacroNetwork(nn.Module):
    """A standalone network: stem, one op per layer, head (same parts as an `mbv3` network)."""

    def __init__(self, stem: nn.Module, ops: list[nn.Module], head: nn.Module) -> None:
        super().__init__()
        self.stem = stem
        self.layers = nn.Sequential(*ops)
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.layers(self.stem(x)))  # (B, classes)


class NbMacroSpace:
    """Genome: one gene per layer in {0, 1, 2}; written as the benchmark writes it, 8 digits
    ("01200000"). `canonical` moves, inside each stage, the identities after the stage's first
    layer behind its other ops: those genomes build the same network, and the benchmark trained
    one network (3,969 in all) per canonical genome."""

    name = "nbmacro"
    capabilities: frozenset[str] = frozenset({"supernet", "layer_table"})
    num_choices = len(OPS)

    def __init__(self, settings: NbMacroSettings | None = None) -> None:
        self.settings = settings or NbMacroSettings()
        s = self.settings
        specs: list[LayerSpec] = []
        self.stages: list[tuple[int, ...]] = []  # layer indices of each stage
        side, cin = s.input_size, s.stem_channels
        for count in s.stage_layers:
            first = len(specs)
            for k in range(count):
                stride, cout = (2, cin * 2) if k == 0 else (1, cin)
                specs.append(LayerSpec(len(specs), cin, cout, stride, side, self.num_choices))
                side, cin = (side + stride - 1) // stride, cout
            self.stages.append(tuple(range(first, len(specs))))
        self.layer_specs: tuple[LayerSpec, ...] = tuple(specs)

    @property
    def num_layers(self) -> int:
        return len(self.layer_specs)

    @property
    def genome_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.num_layers
        return np.zeros(n, dtype=int), np.full(n, self.num_choices - 1, dtype=int)

    def sample(self, rng: np.random.Generator) -> Arch:
        genome = rng.integers(0, self.num_choices, size=self.num_layers)
        return self.canonical(Arch(self.name, tuple(genome)))

    def validate(self, arch: Arch) -> Arch:
        return check_genome(self, arch)

    def canonical_gene(self, layer: int, gene: int) -> int:
        """Every gene builds its own op (for lookup tables and the supernet's modules)."""
        return gene

    def canonical(self, arch: Arch) -> Arch:
        genome = list(self.validate(arch).genome)
        for layers in self.stages:
            rest = [genome[i] for i in layers[1:]]
            moved = [g for g in rest if g != 0] + [0] * rest.count(0)
            for i, g in zip(layers[1:], moved, strict=True):
                genome[i] = g
        return Arch(self.name, tuple(genome))

    def build_op(self, layer: int, gene: int) -> nn.Module:
        spec = self.layer_specs[layer]
        return make_op(gene, spec.in_channels, spec.out_channels, spec.stride)

    def build_stem(self) -> nn.Module:
        s = self.settings
        return nn.Sequential(*conv_bn(s.in_channels, s.stem_channels, 3), nn.ReLU(inplace=True))

    def build_head(self) -> nn.Module:
        s = self.settings
        last = self.layer_specs[-1].out_channels
        return nn.Sequential(
            *conv_bn(last, s.head_channels, 1),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(1),
            nn.Linear(s.head_channels, s.num_classes),
        )

    def build(self, arch: Arch) -> NbMacroNetwork:
        arch = self.canonical(arch)
        ops = [self.build_op(i, g) for i, g in enumerate(arch.genome)]
        return NbMacroNetwork(self.build_stem(), ops, self.build_head())

    def to_string(self, arch: Arch) -> str:
        return "".join(str(g) for g in self.validate(arch).genome)

    def from_string(self, text: str) -> Arch:
        text = text.strip()
        if len(text) != self.num_layers or any(c not in "012" for c in text):
            raise ShiftnasError(
                f"'{text}' is not an nbmacro architecture: write {self.num_layers} digits of "
                "0 (identity), 1 (MB k3 e3) or 2 (MB k5 e6), e.g. 01200000"
            )
        return self.validate(Arch(self.name, tuple(int(c) for c in text)))

    def describe(self) -> dict[str, Any]:
        return {
            "space": self.name,
            "candidates": [{"id": i, "op": op} for i, op in enumerate(OPS)],
            "skeleton": {
                "input_size": self.settings.input_size,
                "stem_channels": self.settings.stem_channels,
                "layers": describe_layers(self.layer_specs),
                "head_channels": self.settings.head_channels,
                "num_classes": self.settings.num_classes,
            },
            "source": "NAS-Bench-Macro, Su et al. CVPR 2021, arXiv:2103.11922 (Apache-2.0)",
        }


@register_space("nbmacro")
def nbmacro(settings: NbMacroSettings | None = None, **overrides: Any) -> NbMacroSpace:
    return NbMacroSpace(with_overrides(NbMacroSettings, settings, overrides))
