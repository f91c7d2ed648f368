"""`inherited`: validation error of networks that take their weights from the trained supernet."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from shiftnas.arch import Arch
from shiftnas.data import DataSplits, epoch_order, iterate_batches, normalize
from shiftnas.search.bn import recalibrate_bn
from shiftnas.search.evaluators.base import register_evaluator
from shiftnas.search.supernet import Supernet


class InheritedEvaluator:
    """Extract each network, recalibrate its BatchNorm on `bn_batches` fixed training batches,
    and measure its error on the validation split. Cached by canonical architecture id."""

    name = "inherited"

    def __init__(
        self,
        supernet: Supernet,
        data: DataSplits,
        bn_batches: int = 10,
        batch_size: int = 256,
        seed: int = 0,
        device: torch.device | None = None,
        max_val_images: int | None = None,
    ) -> None:
        self.supernet = supernet.eval()
        self.space = supernet.space
        self.data = data
        self.bn_batches = bn_batches
        self.batch_size = batch_size
        self.device = device or torch.device("cpu")
        self.order = epoch_order(len(data.train), seed, epoch=-1)  # the same batches for all
        self.val = (
            data.val
            if max_val_images is None
            else data.val.subset(torch.arange(min(max_val_images, len(data.val))))
        )
        self.cache: dict[str, float] = {}

    def calibration_batches(self) -> list[torch.Tensor]:
        batches = iterate_batches(self.data.train, self.batch_size, self.order, drop_last=True)
        return [
            normalize(images, self.data.mean, self.data.std, self.device)
            for _, (images, _) in zip(range(self.bn_batches), batches, strict=False)
        ]

    @torch.no_grad()
    def error(self, arch: Arch) -> float:
        arch = self.space.canonical(arch)
        if arch.id in self.cache:
            return self.cache[arch.id]
        network = self.supernet.extract(arch)
        if self.bn_batches > 0:
            recalibrate_bn(network, network, self.calibration_batches())
        network.eval()
        correct = 0
        for images, labels in iterate_batches(self.val, self.batch_size):
            logits = network(normalize(images, self.data.mean, self.data.std, self.device))
            correct += int((logits.argmax(1).cpu() == labels).sum())
        self.cache[arch.id] = 1.0 - correct / max(1, len(self.val))
        return self.cache[arch.id]

    def evaluate(self, archs: Sequence[Arch]) -> list[float]:
        return [self.error(arch) for arch in archs]


@register_evaluator("inherited")
def inherited(**kwargs: object) -> InheritedEvaluator:
    return InheritedEvaluator(**kwargs)  # type: ignore[arg-type]
