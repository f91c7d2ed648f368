"""The `darts` space: the NASNet/DARTS micro cell space searched in the RWE paper.

A network stacks `layers` cells; the cells at 1/3 and 2/3 depth are reduction cells (stride 2,
twice the channels). All normal cells share one genotype, all reduction cells another. Each of
the 4 nodes of a cell picks two inputs (the two previous cells' outputs or an earlier node) and
one of the 8 DARTS ops for each; the cell outputs all nodes concatenated. The RWE paper searches
with 10 channels and 5 layers (the defaults here) and deploys at 34 channels, 20 layers
(`DEPLOY`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from shiftnas.arch import Arch
from shiftnas.errors import ShiftnasError
from shiftnas.search.space import check_genome, register_space
from shiftnas.search.spaces.cell_ops import FactorizedReduce, ReLUConvBN
from shiftnas.search.spaces.darts_ops import OPS, make_op
from shiftnas.search.spaces.settings import DartsSettings, with_overrides

NODES = 4
GENES_PER_CELL = 4 * NODES  # per node: input a, op a, input b, op b
DEPLOY = {"channels": 34, "layers": 20}
CELL_TYPES = ("normal", "reduce")


class DartsCell(nn.Module):
    def __init__(
        self,
        genes: tuple[int, ...],
        c_pp: int,
        c_p: int,
        c: int,
        reduction: bool,
        reduction_prev: bool,
    ) -> None:
        super().__init__()
        self.pre0 = FactorizedReduce(c_pp, c) if reduction_prev else ReLUConvBN(c_pp, c, 1)
        self.pre1 = ReLUConvBN(c_p, c, 1)
        self.inputs = [genes[k] for k in range(0, GENES_PER_CELL, 2)]  # (2 * NODES,)
        self.ops = nn.ModuleList(
            make_op(OPS[genes[k + 1]], c, 2 if reduction and genes[k] < 2 else 1)
            for k in range(0, GENES_PER_CELL, 2)
        )

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.pre0(s0), self.pre1(s1)]
        for node in range(NODES):
            a, b = 2 * node, 2 * node + 1
            states.append(self.ops[a](states[self.inputs[a]]) + self.ops[b](states[self.inputs[b]]))
        return torch.cat(states[2:], dim=1)


class DartsNetwork(nn.Module):
    def __init__(self, settings: DartsSettings, genome: tuple[int, ...]) -> None:
        super().__init__()
        c = settings.channels
        stem = settings.stem_multiplier * c
        self.stem = nn.Sequential(
            nn.Conv2d(settings.in_channels, stem, 3, padding=1, bias=False), nn.BatchNorm2d(stem)
        )
        c_pp, c_p, reduction_prev = stem, stem, False
        self.cells = nn.ModuleList()
        reductions = {settings.layers // 3, 2 * settings.layers // 3}
        for i in range(settings.layers):
            reduction = i in reductions
            c = c * 2 if reduction else c
            genes = genome[GENES_PER_CELL:] if reduction else genome[:GENES_PER_CELL]
            self.cells.append(DartsCell(genes, c_pp, c_p, c, reduction, reduction_prev))
            c_pp, c_p, reduction_prev = c_p, NODES * c, reduction
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1))
        self.classifier = nn.Linear(c_p, settings.num_classes)

    @property
    def taps(self) -> list[nn.Module]:
        return list(self.cells)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(self.pool(s1))


class DartsSpace:
    """Genome: 32 genes, 16 for the normal then 16 for the reduction cell; per node
    (input a, op a, input b, op b), node i's inputs in [0, i + 1] (0, 1: the previous cells).

    `canonical` orders each node's two (input, op) pairs, since their sum does not depend on
    their order; it does not merge other isomorphisms."""

    name = "darts"
    capabilities: frozenset[str] = frozenset()
    ops = OPS

    def __init__(self, settings: DartsSettings | None = None) -> None:
        self.settings = settings or DartsSettings()
        high = [g for i in range(NODES) for g in (i + 1, len(OPS) - 1, i + 1, len(OPS) - 1)]
        self._high = np.array(high * 2, dtype=int)

    @property
    def genome_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(len(self._high), dtype=int), self._high.copy()

    def sample(self, rng: np.random.Generator) -> Arch:
        genome = rng.integers(0, self._high + 1)
        return self.canonical(Arch(self.name, tuple(genome)))

    def validate(self, arch: Arch) -> Arch:
        return check_genome(self, arch)

    def canonical(self, arch: Arch) -> Arch:
        genome = list(self.validate(arch).genome)
        for k in range(0, len(genome), 4):
            pairs = sorted([(genome[k], genome[k + 1]), (genome[k + 2], genome[k + 3])])
            genome[k : k + 4] = [*pairs[0], *pairs[1]]
        return Arch(self.name, tuple(genome))

    def build(self, arch: Arch) -> DartsNetwork:
        return DartsNetwork(self.settings, self.canonical(arch).genome)

    def to_string(self, arch: Arch) -> str:
        g = self.validate(arch).genome
        cells = []
        for t, kind in enumerate(CELL_TYPES):
            part = g[t * GENES_PER_CELL : (t + 1) * GENES_PER_CELL]
            nodes = [
                f"{OPS[part[k + 1]]}~{part[k]}+{OPS[part[k + 3]]}~{part[k + 2]}"
                for k in range(0, GENES_PER_CELL, 4)
            ]
            cells.append(f"{kind}:" + "|".join(nodes))
        return ";".join(cells)

    def from_string(self, text: str) -> Arch:
        example = "normal:sep_conv_3x3~0+skip_connect~1|...(4 nodes);reduce:..."
        genome: list[int] = []
        try:
            cells = dict(part.split(":", 1) for part in text.strip().split(";"))
            for kind in CELL_TYPES:
                nodes = cells[kind].split("|")
                if len(nodes) != NODES:
                    raise ValueError
                for node in nodes:
                    for edge in node.split("+", 1):
                        op, source = edge.split("~")
                        genome += [int(source), OPS.index(op)]
        except (ValueError, KeyError):
            raise ShiftnasError(
                f"'{text[:60]}' is not a darts genotype: write it as {example} with ops from "
                f"{', '.join(OPS)}"
            ) from None
        if len(genome) != 2 * GENES_PER_CELL:
            raise ShiftnasError(f"darts genotype needs {NODES} nodes of 2 edges in each cell")
        return self.validate(Arch(self.name, tuple(genome)))

    def describe(self) -> dict[str, Any]:
        return {
            "space": self.name,
            "ops": list(OPS),
            "nodes": NODES,
            "deploy": DEPLOY,
            "skeleton": self.settings.model_dump(),
        }


@register_space("darts")
def darts(settings: DartsSettings | None = None, **overrides: Any) -> DartsSpace:
    return DartsSpace(with_overrides(DartsSettings, settings, overrides))
