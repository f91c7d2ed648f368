"""The one-shot model of every space whose genome picks one candidate op per layer.

Follows once-for-all's API: `forward(x, arch)` runs one path; `extract(arch)` returns the space's
plain standalone network holding copies of that path's weights, ready to fine-tune or export.
A space serves a supernet when it has the capability "supernet" and the `LayerChainSpace`
methods below (`mbv3`, `nbmacro`); a new space of this kind gets the supernet, its training
(fair or SPOS), BN recalibration, checkpoints and inherited-weight estimates with no more code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from shiftnas.arch import Arch
from shiftnas.errors import ShiftnasError
from shiftnas.files import load_weights
from shiftnas.search.space import CAPABILITIES, SearchSpace, list_spaces, space_capabilities


@runtime_checkable
class LayerChainSpace(SearchSpace, Protocol):
    """A stem, `num_layers` searchable layers of `num_choices` candidate ops each, a head; the
    built network has the parts `stem`, `layers` (an `nn.Sequential`, one op per layer), `head`."""

    num_choices: int

    @property
    def num_layers(self) -> int: ...

    def canonical_gene(self, layer: int, gene: int) -> int:
        """The gene whose op module `gene` shares at `layer` (equal ops share their weights)."""
        ...

    def build_op(self, layer: int, gene: int) -> nn.Module: ...

    def build_stem(self) -> nn.Module: ...

    def build_head(self) -> nn.Module: ...


class Supernet(nn.Module):
    """Layer `i` holds one module per *distinct* op (`space.canonical_gene`): on `mbv3`'s stride-1
    layers a candidate and its "with filter" twin build the same op and share one module (7
    modules for 13 ids); `nbmacro` has 3 modules a layer. Parameters are created in the order
    stem, layers (ascending gene), head, so a seed gives the same weights on every machine."""

    def __init__(self, space: LayerChainSpace) -> None:
        super().__init__()
        self.space = space
        self.stem = space.build_stem()
        self.layers = nn.ModuleList()
        for i in range(space.num_layers):
            genes = sorted({space.canonical_gene(i, g) for g in range(space.num_choices)})
            self.layers.append(nn.ModuleDict({str(g): space.build_op(i, g) for g in genes}))
        self.head = space.build_head()

    def op(self, layer: int, gene: int) -> nn.Module:
        return self.layers[layer][str(self.space.canonical_gene(layer, gene))]

    def forward(self, x: torch.Tensor, arch: Arch) -> torch.Tensor:
        x = self.stem(x)  # (B, stem channels, H', W')
        for i, gene in enumerate(arch.genome):
            x = self.op(i, gene)(x)
        return self.head(x)  # (B, classes)

    @torch.no_grad()
    def extract(self, arch: Arch) -> nn.Module:
        """A standalone network of the canonical form of `arch` with copies of that path's
        weights and BatchNorm statistics (on the supernet's device)."""
        arch = self.space.canonical(arch)
        network: Any = self.space.build(arch)
        network.stem.load_state_dict(self.stem.state_dict())
        network.head.load_state_dict(self.head.state_dict())
        for i, gene in enumerate(arch.genome):
            network.layers[i].load_state_dict(self.op(i, gene).state_dict())
        return network.to(next(self.parameters()).device)


def fair_paths(space: LayerChainSpace, rng: np.random.Generator) -> list[Arch]:
    """Strict fairness (FairNAS, Chu et al. 2019, arXiv:1907.01845; SICNS): per layer a random
    permutation of the n candidates; path k takes the k-th entry of every layer, so n paths use
    each candidate of each layer exactly once (13 paths on `mbv3`, 3 on `nbmacro`)."""
    n = space.num_choices
    perms = np.stack([rng.permutation(n) for _ in range(space.num_layers)])  # (layers, n)
    return [Arch(space.name, tuple(perms[:, k])) for k in range(n)]


def uniform_path(space: LayerChainSpace, rng: np.random.Generator) -> list[Arch]:
    """SPOS (Guo et al. 2020, arXiv:1904.00420): one path, each layer's candidate uniform."""
    return [Arch(space.name, tuple(rng.integers(0, space.num_choices, space.num_layers)))]


SAMPLERS = {"fair": fair_paths, "spos": uniform_path}


def supernet_spaces() -> list[str]:
    """The registered spaces that serve a supernet."""
    return [name for name in list_spaces() if "supernet" in space_capabilities(name)]


def require_supernet(space: Any) -> LayerChainSpace:
    """`space` itself when it serves a supernet, else a one-line ShiftnasError naming those
    that do."""
    if "supernet" not in getattr(space, "capabilities", frozenset()):
        raise ShiftnasError(
            f"space '{space.name}' has no {CAPABILITIES['supernet'].split(' (')[0]} (spaces with "
            f"one: {', '.join(supernet_spaces())}): inherited weights need one; choose a "
            "training-free estimator (search.evaluator.name)"
        )
    return space  # type: ignore[no-any-return]


def load_supernet(space: Any, checkpoint: Path, device: torch.device | str = "cpu") -> Supernet:
    """The trained supernet of `space` from a checkpoint of supernet training, in eval mode on
    `device` (every caller: retraining from inherited weights, the search, `shiftnas eval`).

    Raises ShiftnasError when `space` has no supernet, when the checkpoint is missing or
    damaged, or when it was trained for another skeleton (or space)."""
    supernet = Supernet(require_supernet(space))
    try:
        supernet.load_state_dict(load_weights(checkpoint))
    except RuntimeError:
        raise ShiftnasError(
            f"{checkpoint} was trained for another skeleton or space than '{space.name}': use "
            "the config it was trained with, or train a supernet for this one"
        ) from None
    return supernet.to(device).eval()
