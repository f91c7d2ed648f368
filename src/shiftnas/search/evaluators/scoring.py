"""Shared machinery of the estimators that score one network at a time from a fresh random init.

Every such evaluator is built with the same keywords, `space=`, `data=`, `seed=`, `device=`, so
search code can swap them by name. A network's random initialisation and its data batch depend
only on (seed, architecture id): a score does not depend on the order in which networks arrive,
which keeps batch runs resumable and reproducible.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from shiftnas.arch import Arch
from shiftnas.data import DataSplits, normalize
from shiftnas.errors import ShiftnasError
from shiftnas.search.space import SearchSpace


def arch_seed(seed: int, arch: Arch) -> int:
    """A per-network seed: the same network gets the same initial weights in any run order."""
    return (seed * 1_000_003 + int(arch.id[:8], 16)) % (2**63 - 1)


def build_seeded(
    space: SearchSpace,
    arch: Arch,
    seed: int,
    device: torch.device,
    init: Callable[[nn.Module], nn.Module] | None = None,
) -> nn.Module:
    """Build (and optionally re-initialise) under a per-network seed, leaving global RNG as is."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(arch_seed(seed, arch))
        network = space.build(arch)
        if init is not None:
            network = init(network)
        return network.to(device)


def fixed_batch(
    data: DataSplits, size: int, seed: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """`size` training images (normalised, on `device`) and labels, the same for every network."""
    generator = torch.Generator().manual_seed(seed)
    index = torch.randperm(len(data.train), generator=generator)[:size]
    x = normalize(data.train.take(index), data.mean, data.std, device)
    return x, data.train.labels[index].to(device)


def require_data(name: str, data: DataSplits | None) -> DataSplits:
    if data is None:
        raise ShiftnasError(
            f"evaluator '{name}' needs images: pass data= (DataSplits) or --dataset on the CLI"
        )
    return data


class ScoringEvaluator:
    """Base: canonicalise, cache by id, time each network; subclasses implement `score`."""

    name = "scoring"

    def __init__(
        self,
        *,
        space: SearchSpace,
        data: DataSplits | None = None,
        seed: int = 0,
        device: torch.device | str | None = None,
    ) -> None:
        self.space = space
        self.data = data
        self.seed = seed
        self.device = torch.device(device or "cpu")
        self.cache: dict[str, float] = {}
        self.seconds: dict[str, float] = {}

    def score(self, arch: Arch) -> float:
        raise NotImplementedError

    def seeded_score(self, arch: Arch) -> float:
        """`score` with torch's random state set from (seed, architecture) and restored after:
        random ops inside a score (the dropout of `mbv3` in jacob_cov's train-mode pass) then do
        not depend on what ran before in the process."""
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(arch_seed(self.seed, arch))
            return self.score(arch)

    def evaluate(self, archs: Sequence[Arch]) -> list[float]:
        scores = []
        for arch in archs:
            arch = self.space.canonical(arch)
            if arch.id not in self.cache:
                start = time.perf_counter()
                value = float(self.seeded_score(arch))
                self.seconds[arch.id] = time.perf_counter() - start
                self.cache[arch.id] = value if np.isfinite(value) else float(np.finfo(float).max)
            scores.append(self.cache[arch.id])
        return scores
