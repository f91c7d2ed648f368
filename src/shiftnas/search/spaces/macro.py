"""The `macro` space: Genetic-CNN phases as used by NSGA-Net and the RWE paper.

A network is `phases` phases separated by predefined 2x2 max-pool reductions. Each phase has an
input node, `nodes` searchable nodes and an output node, all conv3x3-BN-ReLU at `channels`
channels. Bit (i, j) connects node j to node i (j < i); a node with no connection at all is
dropped; a connected node with no predecessor reads the input node, and the nodes with no
successor are summed into the output node. One more bit per phase adds a residual connection
from the input node to the output (NSGA-Net's extension). The RWE paper searches at 32
channels (the default) and deploys at 128 (`DEPLOY`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from shiftnas.arch import Arch
from shiftnas.errors import ShiftnasError
from shiftnas.search.space import check_genome, register_space
from shiftnas.search.spaces.settings import MacroSettings, with_overrides

DEPLOY = {"channels": 128}


def conv_bn_relu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
    )


def pairs(nodes: int) -> list[tuple[int, int]]:
    """(to, from) node pairs in Genetic-CNN bit order: node 1 <- 0; node 2 <- 0, 1; ..."""
    return [(i, j) for i in range(1, nodes) for j in range(i)]


class Phase(nn.Module):
    def __init__(self, bits: tuple[int, ...], cin: int, channels: int, nodes: int) -> None:
        super().__init__()
        edges = [p for p, b in zip(pairs(nodes), bits[:-1], strict=True) if b]
        self.residual = bool(bits[-1])
        self.active = sorted({n for e in edges for n in e})
        self.preds = {i: [j for to, j in edges if to == i] for i in self.active}
        self.sinks = [i for i in self.active if not any(j == i for _, j in edges)]
        self.input = conv_bn_relu(cin, channels)
        self.nodes = nn.ModuleDict({str(i): conv_bn_relu(channels, channels) for i in self.active})
        self.output = conv_bn_relu(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.input(x)
        out: dict[int, torch.Tensor] = {}
        for i in self.active:  # sorted, so predecessors come first
            preds = self.preds[i]
            out[i] = self.nodes[str(i)](sum(out[j] for j in preds) if preds else x)
        y = self.output(sum(out[i] for i in self.sinks) if self.sinks else x)
        return y + x if self.residual else y


class MacroNetwork(nn.Module):
    def __init__(self, settings: MacroSettings, genome: tuple[int, ...]) -> None:
        super().__init__()
        per = len(pairs(settings.nodes)) + 1
        layers: list[nn.Module] = []
        cin = settings.in_channels
        for p in range(settings.phases):
            if p > 0:
                layers.append(nn.MaxPool2d(2))
            layers.append(
                Phase(genome[p * per : (p + 1) * per], cin, settings.channels, settings.nodes)
            )
            cin = settings.channels
        self.phases = nn.Sequential(*layers)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1))
        self.classifier = nn.Linear(settings.channels, settings.num_classes)

    @property
    def taps(self) -> list[nn.Module]:
        return [m for m in self.phases if isinstance(m, Phase)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.phases(x)))


class MacroSpace:
    """Genome: per phase, one bit per node pair (Genetic-CNN order) then the residual bit.

    `canonical` is the identity: nodes without connections have all-zero bits already, and every
    other bit changes the network."""

    name = "macro"
    capabilities: frozenset[str] = frozenset()

    def __init__(self, settings: MacroSettings | None = None) -> None:
        self.settings = settings or MacroSettings()
        self.bits_per_phase = len(pairs(self.settings.nodes)) + 1

    @property
    def genome_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.settings.phases * self.bits_per_phase
        return np.zeros(n, dtype=int), np.ones(n, dtype=int)

    def sample(self, rng: np.random.Generator) -> Arch:
        n = self.settings.phases * self.bits_per_phase
        return Arch(self.name, tuple(rng.integers(0, 2, size=n)))

    def validate(self, arch: Arch) -> Arch:
        return check_genome(self, arch)

    def canonical(self, arch: Arch) -> Arch:
        return self.validate(arch)

    def build(self, arch: Arch) -> MacroNetwork:
        return MacroNetwork(self.settings, self.validate(arch).genome)

    def to_string(self, arch: Arch) -> str:
        g, per = self.validate(arch).genome, self.bits_per_phase
        return "-".join("".join(map(str, g[p : p + per])) for p in range(0, len(g), per))

    def from_string(self, text: str) -> Arch:
        parts = text.strip().split("-")
        per = self.bits_per_phase
        if len(parts) != self.settings.phases or any(
            len(p) != per or set(p) - {"0", "1"} for p in parts
        ):
            raise ShiftnasError(
                f"'{text[:60]}' is not a macro architecture: write {self.settings.phases} groups "
                f"of {per} bits joined by '-' (node-pair bits, then the residual bit)"
            )
        return self.validate(Arch(self.name, tuple(int(c) for p in parts for c in p)))

    def describe(self) -> dict[str, Any]:
        return {
            "space": self.name,
            "bits": [f"{j}->{i}" for i, j in pairs(self.settings.nodes)] + ["residual"],
            "deploy": DEPLOY,
            "skeleton": self.settings.model_dump(),
        }


@register_space("macro")
def macro(settings: MacroSettings | None = None, **overrides: Any) -> MacroSpace:
    return MacroSpace(with_overrides(MacroSettings, settings, overrides))
