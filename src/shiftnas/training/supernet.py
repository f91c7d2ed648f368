"""Training the supernet of a layer-chain space (`mbv3`, `nbmacro`) with fair (SICNS) or
single-path (SPOS) sampling.

Fair: every step trains one path per candidate op, each op of each layer exactly once (strict
fairness of FairNAS, Chu et al. 2019, arXiv:1907.01845, as SICNS uses it: 13 paths a step on
`mbv3`, 3 on `nbmacro`).
SPOS: one uniformly sampled path a step (Guo et al. 2019, arXiv:1904.00420).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from shiftnas.arch import Arch
from shiftnas.data import DataSplits, iterate_batches, normalize
from shiftnas.search.supernet import SAMPLERS, LayerChainSpace, Supernet
from shiftnas.training import StepResult, TrainContext, TrainResult, train
from shiftnas.training.settings import SupernetConfig


def step_paths(space: LayerChainSpace, sampling: str, seed: int, step: int) -> list[Arch]:
    """The paths trained at `step`: a pure function of (seed, step), so resume repeats them."""
    return SAMPLERS[sampling](space, np.random.default_rng([seed, step, 17]))


def supernet_step(space: LayerChainSpace, sampling: str, seed: int, label_smoothing: float):  # type: ignore[no-untyped-def]
    """All sampled paths run forward and backward on the same batch; their gradients add up
    (the gradient of the summed loss) and the loop makes one optimiser step."""
    criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)

    def step_fn(
        model: Supernet, x: torch.Tensor, y: torch.Tensor, step: int, ctx: TrainContext
    ) -> StepResult:
        paths = step_paths(space, sampling, seed, step)
        total, correct = 0.0, 0
        for arch in paths:
            with ctx.autocast():
                logits = model(x, arch)
                loss = criterion(logits, y)
            ctx.backward(loss)
            total += float(loss.detach()) * len(y)
            correct += int((logits.argmax(1) == y).sum())
        return StepResult(total / len(paths), correct // len(paths), len(y))

    return step_fn


@torch.no_grad()
def path_accuracy(
    model: Supernet, arch: Arch, data: DataSplits, device: torch.device, batch_size: int = 256
) -> float:
    correct = 0
    for images, labels in iterate_batches(data.val, batch_size):
        logits = model(normalize(images, data.mean, data.std, device), arch)
        correct += int((logits.argmax(1).cpu() == labels).sum())
    return correct / max(1, len(data.val))


def train_supernet(
    space: LayerChainSpace,
    data: DataSplits,
    config: SupernetConfig,
    out_dir: Path,
    *,
    seed: int = 0,
    device: torch.device | None = None,
    progress: bool = True,
    max_steps: int | None = None,
    probe_paths: int = 3,
) -> tuple[Supernet, TrainResult]:
    """Train (or resume) the supernet in `out_dir`; each epoch logs the validation accuracy of
    `probe_paths` fixed random paths with the supernet's shared BatchNorm statistics."""
    torch.manual_seed(seed)
    supernet = Supernet(space)
    probes = [space.sample(np.random.default_rng([seed, i, 99])) for i in range(probe_paths)]
    device = device or torch.device("cpu")

    def evaluate(model: nn.Module, epoch: int) -> dict[str, Any]:
        if not probes:
            return {}
        accs = [path_accuracy(model, arch, data, device) for arch in probes]  # type: ignore[arg-type]
        return {"val_acc_probe_mean": float(np.mean(accs))}

    result = train(
        supernet,
        supernet_step(space, config.sampling, seed, config.label_smoothing),
        data,
        config,
        out_dir,
        seed=seed,
        device=device,
        evaluate=evaluate,
        progress=progress,
        description=f"supernet ({config.sampling})",
        max_steps=max_steps,
    )
    return supernet, result
