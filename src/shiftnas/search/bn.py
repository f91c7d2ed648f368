"""BatchNorm recalibration: inherited weights come with statistics averaged over many paths,
so each extracted network re-estimates its own on a few training batches before evaluation."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn


@torch.no_grad()
def recalibrate_bn(
    module: nn.Module,
    forward: Callable[[torch.Tensor], torch.Tensor],
    batches: Iterable[torch.Tensor],
) -> int:
    """Reset every BatchNorm's running statistics and re-estimate them as an exact average over
    `batches` (momentum None); returns the number of batches used. Leaves `module` in eval mode."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    module.train()
    used = 0
    for x in batches:
        forward(x)
        used += 1
    for m, momentum in zip(norms, saved, strict=True):
        m.momentum = momentum
    module.eval()
    return used
