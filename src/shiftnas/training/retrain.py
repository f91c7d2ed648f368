"""Retraining one searched network with the shared loop: from scratch or from supernet weights.

Everything a retrained network is later looked up by lives in `out_dir` (`retrain/<arch-id>/`):
`arch.json` (the architecture), `checkpoint.pt` (weights, resumable), `metrics.jsonl` (one line
per epoch with train, validation and test loss/accuracy: the curves of the report).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from shiftnas.arch import Arch
from shiftnas.data import DataSplits, ImageData, iterate_batches, normalize
from shiftnas.errors import ShiftnasError
from shiftnas.files import write_json_atomic
from shiftnas.search.space import SearchSpace
from shiftnas.training.checkpoint import load_checkpoint
from shiftnas.training.loop import TrainResult, single_path_step, train
from shiftnas.training.settings import RetrainConfig


@dataclass
class Retrained:
    arch: Arch
    model: nn.Module
    result: TrainResult
    out_dir: Path


@torch.no_grad()
def evaluate_split(
    model: nn.Module, data: ImageData, mean: tuple[float, ...], std: tuple[float, ...],
    device: torch.device, batch_size: int = 500,
) -> tuple[float, float]:  # fmt: skip
    """Mean cross-entropy and accuracy of `model` (already in eval mode) on one split."""
    loss, correct = 0.0, 0
    for images, labels in iterate_batches(data, batch_size):
        logits = model(normalize(images, mean, std, device)).float()
        y = labels.to(device)
        loss += float(nn.functional.cross_entropy(logits, y, reduction="sum"))
        correct += int((logits.argmax(1) == y).sum())
    n = max(1, len(data))
    return loss / n, correct / n


def split_evaluator(data: DataSplits, device: torch.device, batch_size: int = 500):  # type: ignore[no-untyped-def]
    """The loop's `evaluate` callback: validation and test loss/accuracy after every epoch."""

    def evaluate(model: nn.Module, epoch: int) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for name, split in (("val", data.val), ("test", data.test)):
            if len(split):
                loss, acc = evaluate_split(model, split, data.mean, data.std, device, batch_size)
                record[f"{name}_loss"], record[f"{name}_acc"] = loss, acc
        return record

    return evaluate


def inherited_network(space: SearchSpace, arch: Arch, supernet_checkpoint: Path) -> nn.Module:
    """The path `arch` of a trained supernet, as a standalone network with copied weights."""
    from shiftnas.search.supernet import load_supernet

    if not Path(supernet_checkpoint).exists():
        raise ShiftnasError(
            f"retrain.init is 'inherited' but {supernet_checkpoint} does not exist: "
            "train the supernet first (`shiftnas supernet train`) or set retrain.init: scratch"
        )
    return load_supernet(space, supernet_checkpoint).train().extract(arch)


def load_retrained(
    space: SearchSpace, out_dir: Path, device: torch.device | None = None
) -> Retrained:
    """A retrained network from its folder (`arch.json` + `checkpoint.pt`), in eval mode."""
    out_dir = Path(out_dir)
    arch_path, ckpt = out_dir / "arch.json", out_dir / "checkpoint.pt"
    if not arch_path.exists() or not ckpt.exists():
        raise ShiftnasError(
            f"{out_dir} holds no retrained network (arch.json and checkpoint.pt): "
            "run `shiftnas retrain` for this architecture first"
        )
    arch = space.canonical(Arch.load(arch_path))
    model = space.build(arch)
    state = load_checkpoint(ckpt, device or "cpu")
    assert state is not None
    model.load_state_dict(state["model"])
    model.to(device or torch.device("cpu")).eval()
    empty = TrainResult(state["step"], 0, 0.0)
    return Retrained(arch, model, empty, out_dir)


def retrain(
    space: SearchSpace,
    arch: Arch,
    data: DataSplits,
    config: RetrainConfig,
    out_dir: Path,
    *,
    seed: int = 0,
    device: torch.device | None = None,
    supernet_checkpoint: Path | None = None,
    progress: bool = True,
    max_steps: int | None = None,
) -> Retrained:
    """Train `arch` for `config.epochs` in `out_dir`, resuming from its checkpoint if present.

    The starting weights are seeded (`scratch`) or copied from the supernet (`inherited`); a
    resumed run loads the checkpoint over them, so both starts resume bit-identically.
    """
    arch = space.canonical(arch)
    out_dir = Path(out_dir)
    arch_path = out_dir / "arch.json"
    if arch_path.exists() and Arch.load(arch_path) != arch:
        raise ShiftnasError(
            f"{out_dir} already holds another architecture: pass another folder or delete it"
        )
    write_json_atomic(arch_path, arch.to_json())
    device = device or torch.device("cpu")
    if config.init == "inherited":
        if supernet_checkpoint is None:
            raise ShiftnasError("retrain.init is 'inherited': pass the supernet checkpoint path")
        model = inherited_network(space, arch, supernet_checkpoint)
    else:
        torch.manual_seed(seed)
        model = space.build(arch)
    criterion = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    result = train(
        model,
        single_path_step(criterion),
        data,
        config,
        out_dir,
        seed=seed,
        device=device,
        evaluate=split_evaluator(data, device, config.eval_batch_size),
        progress=progress,
        description=f"retrain {arch.id}",
        max_steps=max_steps,
    )
    model.eval()
    return Retrained(arch, model, result, out_dir)
