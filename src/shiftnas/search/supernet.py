"""The one-shot model of the `mbv3` space: every candidate of every layer, weights shared by all.

Follows once-for-all's API: `forward(x, arch)` runs one path; `extract(arch)` returns a plain
`Mbv3Network` holding copies of that path's weights, ready to fine-tune or export.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from shiftnas.arch import Arch
from shiftnas.errors import ShiftnasError
from shiftnas.files import load_weights
from shiftnas.search.spaces.mbv3 import Mbv3Network, Mbv3Space, make_head
from shiftnas.search.spaces.mbv3_blocks import CANDIDATES, conv_bn_act


class Mbv3Supernet(nn.Module):
    """Layer `i` holds one module per *distinct* op: on stride-1 layers a candidate and its
    "with filter" twin build the same network, so they share one module (7 modules, 13 ids)."""

    def __init__(self, space: Mbv3Space) -> None:
        super().__init__()
        self.space = space
        settings = space.settings
        self.stem = conv_bn_act(
            settings.in_channels, settings.stem_channels, 3, settings.stem_stride
        )
        self.layers = nn.ModuleList()
        for i in range(space.num_layers):
            genes = sorted({space.canonical_gene(i, c.index) for c in CANDIDATES})
            self.layers.append(nn.ModuleDict({str(g): space.build_op(i, g) for g in genes}))
        self.head = make_head(settings)

    def op(self, layer: int, gene: int) -> nn.Module:
        return self.layers[layer][str(self.space.canonical_gene(layer, gene))]

    def forward(self, x: torch.Tensor, arch: Arch) -> torch.Tensor:
        x = self.stem(x)  # (B, stem, H, W)
        for i, gene in enumerate(arch.genome):
            x = self.op(i, gene)(x)
        return self.head(x)  # (B, classes)

    @torch.no_grad()
    def extract(self, arch: Arch) -> Mbv3Network:
        """A standalone network with copies of this path's weights and BatchNorm statistics."""
        network = self.space.build(arch)
        network.stem.load_state_dict(self.stem.state_dict())
        network.head.load_state_dict(self.head.state_dict())
        for i, gene in enumerate(arch.genome):
            network.layers[i].load_state_dict(self.op(i, gene).state_dict())
        return network.to(next(self.parameters()).device)


def fair_paths(space: Mbv3Space, rng: np.random.Generator) -> list[Arch]:
    """SICNS fair sampling: per layer a random permutation of the 13 candidates; path k takes
    the k-th entry of every layer, so each candidate of each layer is used exactly once."""
    n = len(CANDIDATES)
    perms = np.stack([rng.permutation(n) for _ in range(space.num_layers)])  # (layers, 13)
    return [Arch(space.name, tuple(perms[:, k])) for k in range(n)]


def uniform_path(space: Mbv3Space, rng: np.random.Generator) -> list[Arch]:
    """SPOS: one path per step, each layer's candidate drawn uniformly."""
    return [Arch(space.name, tuple(rng.integers(0, len(CANDIDATES), space.num_layers)))]


SAMPLERS = {"fair": fair_paths, "spos": uniform_path}


def load_supernet(space: Any, checkpoint: Path, device: torch.device | str = "cpu") -> Mbv3Supernet:
    """The trained supernet of `space` from a checkpoint of supernet training, in eval mode on
    `device` (every caller: retraining from inherited weights, the search, `shiftnas eval`).

    Raises ShiftnasError when `space` has no supernet (only `mbv3` has), when the checkpoint is
    missing or damaged, or when it was trained for another skeleton of the space."""
    if not isinstance(space, Mbv3Space):
        raise ShiftnasError(
            f"space '{space.name}' has no supernet (only mbv3 has): inherited weights need "
            "one; choose a training-free estimator (search.evaluator.name)"
        )
    supernet = Mbv3Supernet(space)
    try:
        supernet.load_state_dict(load_weights(checkpoint))
    except RuntimeError:
        raise ShiftnasError(
            f"{checkpoint} was trained for another skeleton of space 'mbv3': use the config "
            "it was trained with, or train a supernet for this one"
        ) from None
    return supernet.to(device).eval()
