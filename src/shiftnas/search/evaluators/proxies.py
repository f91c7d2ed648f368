"""Zero-cost proxies and the `macs` / `params` baselines as evaluators (lower score = better).

Each proxy is negated (its higher-is-better value becomes lower-is-better), and so are MACs and
parameters, whose baseline prediction is "the bigger network is the better one".
"""

from __future__ import annotations

from typing import Any

import torch

from shiftnas.arch import Arch
from shiftnas.errors import ShiftnasError
from shiftnas.profiling.macs import count_macs, count_params
from shiftnas.search.evaluators.base import register_evaluator
from shiftnas.search.evaluators.scoring import (
    ScoringEvaluator,
    build_seeded,
    fixed_batch,
    require_data,
)
from shiftnas.search.evaluators.zero_cost import PROXIES

DATA_FREE = {"synflow"}
MIN_BATCH = {"naswot": 2, "jacob_cov": 2}  # proxies that compare the images of a batch


def input_shape(evaluator: ScoringEvaluator) -> tuple[int, int, int]:
    if evaluator.data is not None:
        return evaluator.data.image_shape
    settings: Any = getattr(evaluator.space, "settings", None)
    return (getattr(settings, "in_channels", 3), *(2 * (getattr(settings, "input_size", 32),)))


class ProxyEvaluator(ScoringEvaluator):
    """One zero-cost proxy on one fixed batch of `batch_size` training images (seeded)."""

    def __init__(self, proxy: str, *, batch_size: int = 64, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.name = proxy
        self.proxy = PROXIES[proxy]
        self.batch_size = batch_size
        self._batch: tuple[torch.Tensor, torch.Tensor] | None = None
        self._check_batch_size()

    def _check_batch_size(self) -> None:
        """A batch the proxy can use: at least MIN_BATCH[proxy] images (NASWOT's kernel and
        jacob_cov's correlation compare images), at most the training images there are."""
        least = MIN_BATCH.get(self.name, 1)
        if not isinstance(self.batch_size, int) or self.batch_size < least:
            raise ShiftnasError(
                f"evaluator '{self.name}': batch_size {self.batch_size!r} is not an integer "
                f">= {least}: set its settings.batch_size to {least} or more"
            )
        if self.data is not None and self.batch_size > len(self.data.train):
            raise ShiftnasError(
                f"evaluator '{self.name}': batch_size {self.batch_size} is larger than the "
                f"{len(self.data.train)} training images: lower settings.batch_size"
            )

    def batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._batch is None:
            if self.name in DATA_FREE and self.data is None:
                shape = input_shape(self)
                self._batch = torch.ones(1, *shape, device=self.device), torch.zeros(1).long()
            else:
                data = require_data(self.name, self.data)
                self._batch = fixed_batch(data, self.batch_size, self.seed, self.device)
        return self._batch

    def score(self, arch: Arch) -> float:
        network = build_seeded(self.space, arch, self.seed, self.device)
        x, y = self.batch()
        return -self.proxy(network, x, y)


class CostEvaluator(ScoringEvaluator):
    """`macs` (`count_macs`) or `params`, negated: the honest "bigger is better" baseline."""

    def __init__(self, kind: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.name = kind

    def score(self, arch: Arch) -> float:
        network = build_seeded(self.space, arch, self.seed, torch.device("cpu"))
        if self.name == "params":
            return -float(count_params(network))
        return -float(count_macs(network, (1, *input_shape(self))))


def _register_proxy(proxy: str) -> None:
    @register_evaluator(proxy)
    def make(**kwargs: Any) -> ProxyEvaluator:
        return ProxyEvaluator(proxy, **kwargs)


for _proxy in PROXIES:
    _register_proxy(_proxy)


@register_evaluator("macs")
def macs(**kwargs: Any) -> CostEvaluator:
    return CostEvaluator("macs", **kwargs)


@register_evaluator("params")
def params(**kwargs: Any) -> CostEvaluator:
    return CostEvaluator("params", **kwargs)
