"""The `nb201` space: the NAS-Bench-201 cell (4 nodes, 6 edges, 5 ops) in the benchmark's network.

Network (as the benchmark builds it): 3x3 conv stem + BN; three stages of N cells at C, 2C, 4C
channels, separated by residual reduction blocks; BN + ReLU, global pooling, linear classifier.
At C=16, N=5 the all-`nor_conv_3x3` network has 220.1M MACs and 1.53M parameters (classifier
included), the figures the benchmark publishes (its "FLOPs" are MACs).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from shiftnas.arch import Arch
from shiftnas.errors import ShiftnasError
from shiftnas.search.space import check_genome, register_space
from shiftnas.search.spaces.cell_ops import ReLUConvBN, Zero, avg_pool_3x3
from shiftnas.search.spaces.settings import Nb201Settings, with_overrides

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# Edges in the order of the benchmark's string: (to node, from node).
EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
NONE = 0


def make_op(name: str, channels: int) -> nn.Module:
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3)
    return avg_pool_3x3()


class Nb201Cell(nn.Module):
    """node_i = sum over j < i of op_(i,j)(node_j); the cell's output is node 3."""

    def __init__(self, genome: tuple[int, ...], channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(make_op(OPS[g], channels) for g in genome)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for i in (1, 2, 3):
            nodes.append(
                sum(op(nodes[j]) for op, (to, j) in zip(self.edges, EDGES, strict=True) if to == i)
            )
        return nodes[3]


class ResidualReduction(nn.Module):
    """The benchmark's stride-2 block between stages: two ReLU-conv-BN, avg-pool + 1x1 skip."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(cin, cout, 3, stride=2)
        self.conv_b = ReLUConvBN(cout, cout, 3)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(cin, cout, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class Nb201Network(nn.Module):
    """`taps` are the outputs of every cell and block, for estimators that read features."""

    def __init__(self, settings: Nb201Settings, genome: tuple[int, ...]) -> None:
        super().__init__()
        c, n = settings.channels, settings.cells_per_stage
        self.stem = nn.Sequential(
            nn.Conv2d(settings.in_channels, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        )
        cells: list[nn.Module] = []
        for stage, width in enumerate((c, 2 * c, 4 * c)):
            if stage > 0:
                cells.append(ResidualReduction(width // 2, width))
            cells += [Nb201Cell(genome, width) for _ in range(n)]
        self.cells = nn.Sequential(*cells)
        self.lastact = nn.Sequential(nn.BatchNorm2d(4 * c), nn.ReLU())
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1))
        self.classifier = nn.Linear(4 * c, settings.num_classes)

    @property
    def taps(self) -> list[nn.Module]:
        return [*self.cells, self.lastact]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.lastact(self.cells(self.stem(x)))))


class Nb201Space:
    """Genome: 6 genes in [0, 4], one op per edge in the order of the benchmark's string.

    `canonical` sets to `none` every edge whose output cannot reach the cell's output (it ends in
    a node 1 or 2 that has no non-`none` path to node 3): such genomes build networks that compute
    the same function, and share one id. It does not merge networks that differ only in edges
    fed by an all-zero node (BatchNorm's shift makes those differ) nor isomorphic cells.
    """

    name = "nb201"
    capabilities: frozenset[str] = frozenset()
    ops = OPS

    def __init__(self, settings: Nb201Settings | None = None) -> None:
        self.settings = settings or Nb201Settings()

    @property
    def genome_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(6, dtype=int), np.full(6, len(OPS) - 1, dtype=int)

    def sample(self, rng: np.random.Generator) -> Arch:
        return self.canonical(Arch(self.name, tuple(rng.integers(0, len(OPS), size=6))))

    def validate(self, arch: Arch) -> Arch:
        return check_genome(self, arch)

    def canonical(self, arch: Arch) -> Arch:
        genome = list(self.validate(arch).genome)
        op = dict(zip(EDGES, genome, strict=True))
        live = {3}
        for node in (2, 1):  # a node is live if a non-none edge leads to a live node
            if any(op[(to, node)] != NONE for to in live if (to, node) in op):
                live.add(node)
        genome = [g if to in live else NONE for (to, _), g in zip(EDGES, genome, strict=True)]
        return Arch(self.name, tuple(genome))

    def build(self, arch: Arch) -> Nb201Network:
        return Nb201Network(self.settings, self.canonical(arch).genome)

    def to_string(self, arch: Arch) -> str:
        g = [OPS[x] for x in self.validate(arch).genome]
        return f"|{g[0]}~0|+|{g[1]}~0|{g[2]}~1|+|{g[3]}~0|{g[4]}~1|{g[5]}~2|"

    def from_string(self, text: str) -> Arch:
        example = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|...~0|...~1|...~2|"
        nodes = [part.strip("|").split("|") for part in text.strip().split("+")]
        genome: list[int] = []
        if [len(node) for node in nodes] != [1, 2, 3]:
            raise ShiftnasError(f"'{text}' is not an nb201 cell string: write it as {example}")
        for node in nodes:
            for j, edge in enumerate(node):
                name, _, source = edge.partition("~")
                if name not in OPS or source != str(j):
                    raise ShiftnasError(
                        f"'{edge}' in '{text}' is not an nb201 edge: use OP~{j} with OP one of "
                        f"{', '.join(OPS)}"
                    )
                genome.append(OPS.index(name))
        return self.validate(Arch(self.name, tuple(genome)))

    def describe(self) -> dict[str, Any]:
        return {
            "space": self.name,
            "ops": list(OPS),
            "edges": [f"{j}->{to}" for to, j in EDGES],
            "skeleton": self.settings.model_dump(),
        }


@register_space("nb201")
def nb201(settings: Nb201Settings | None = None, **overrides: Any) -> Nb201Space:
    return Nb201Space(with_overrides(Nb201Settings, settings, overrides))
