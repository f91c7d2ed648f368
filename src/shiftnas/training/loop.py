"""The one training loop, shared by supernet training and retraining.

What a step does with a batch (one path, 13 fair paths, ...) is the caller's `StepFn`; the loop
owns everything else: batches, augmentation, optimiser and schedule, AMP on CUDA, checkpoints,
resume and metrics. All randomness of step `s` is derived from `(seed, s)`, so a run resumed from
any checkpoint continues bit-identically on the CPU.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from shiftnas.data import DataSplits, augment, epoch_order, normalize, num_batches
from shiftnas.data.augment import resized_crop_scale
from shiftnas.device import tune_cpu_allocator
from shiftnas.errors import ShiftnasError
from shiftnas.files import append_jsonl, read_jsonl
from shiftnas.progress import make_progress
from shiftnas.training import distributed
from shiftnas.training.checkpoint import load_checkpoint, save_checkpoint, set_rng_states
from shiftnas.training.schedule import make_optimizer, make_scheduler
from shiftnas.training.settings import TrainingConfig


@dataclass
class StepResult:
    loss: float  # summed over the batch (and over paths, for multi-path steps)
    correct: int
    count: int


class TrainContext:
    """Mixed precision and loss scaling when on CUDA; a no-op on the CPU."""

    def __init__(self, device: torch.device, amp: bool) -> None:
        self.device = device
        self.amp = amp and device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.amp:
            return torch.autocast(device_type="cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    def backward(self, loss: torch.Tensor) -> None:
        self.scaler.scale(loss).backward()


class StepFn(Protocol):
    def __call__(
        self, model: nn.Module, images: torch.Tensor, labels: torch.Tensor, step: int,
        ctx: TrainContext,
    ) -> StepResult: ...  # fmt: skip


def single_path_step(
    criterion: nn.Module,
) -> StepFn:
    """The plain step of a standalone network: forward, loss, backward."""

    def step_fn(model, images, labels, step, ctx):  # type: ignore[no-untyped-def]
        with ctx.autocast():
            logits = model(images)
            loss = criterion(logits, labels)
        ctx.backward(loss)
        correct = int((logits.argmax(1) == labels).sum())
        return StepResult(float(loss.detach()) * len(labels), correct, len(labels))

    return step_fn


def step_seed(seed: int, step: int, salt: str = "") -> int:
    digest = hashlib.sha256(f"{seed}:{step}:{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


@dataclass
class TrainResult:
    steps: int
    epochs: int
    seconds: float
    history: list[dict[str, Any]] = field(default_factory=list)


def _batches_of_epoch(
    data: DataSplits, batch_size: int, seed: int, epoch: int, start: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    order = epoch_order(len(data.train), seed, epoch)
    for b in range(start, num_batches(len(data.train), batch_size, drop_last=True)):
        picked = order[b * batch_size : (b + 1) * batch_size]
        yield data.train.take(picked), data.train.labels[picked]


def train(
    model: nn.Module,
    step_fn: StepFn,
    data: DataSplits,
    config: TrainingConfig,
    out_dir: Path,
    *,
    seed: int = 0,
    device: torch.device | None = None,
    evaluate: Callable[[nn.Module, int], dict[str, float]] | None = None,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
    progress: bool = True,
    description: str = "training",
    max_steps: int | None = None,
) -> TrainResult:
    """Train `model` for `config.epochs`, resuming from `out_dir/checkpoint.pt` if present.

    Writes `checkpoint.pt` every `config.checkpoint_every_steps` steps and at every epoch's end,
    and one line per epoch to `metrics.jsonl` (train loss/accuracy, lr, and what `evaluate`
    returns). `max_steps` stops early after that many steps in total (a simulated kill for tests).

    Under `torchrun` (WORLD_SIZE > 1) each rank trains its shard of every global batch of
    `config.batch_size` images and only rank 0 writes files or shows progress (see
    `training.distributed`); a checkpoint of any world size resumes on any other.
    """
    ranks = distributed.setup(device or torch.device("cpu"))
    device = ranks.device
    shard = ranks.shard(config.batch_size)
    progress = progress and ranks.main
    if device.type == "cpu":
        tune_cpu_allocator()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path, metrics_path = out_dir / "checkpoint.pt", out_dir / "metrics.jsonl"
    distributed.sync_batchnorm(model, ranks)
    model.to(device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last)
    steps_per_epoch = num_batches(len(data.train), config.batch_size, drop_last=True)
    if steps_per_epoch == 0:
        raise ShiftnasError(
            f"batch_size {config.batch_size} is larger than the {len(data.train)} training images: "
            "lower batch_size or use more data"
        )
    total_steps = config.epochs * steps_per_epoch
    optimizer = make_optimizer(model, config)
    scheduler = make_scheduler(
        optimizer, total_steps, round(config.warmup_epochs * steps_per_epoch)
    )
    ctx = TrainContext(device, config.amp)

    step, running = 0, {"loss": 0.0, "correct": 0, "count": 0}
    if ranks.distributed:  # rank 0 reads; the other ranks need no copy of the run folder
        state = distributed.share(load_checkpoint(ckpt_path) if ranks.main else None, ranks)
        distributed.broadcast_model(model, ranks)
    else:
        state = load_checkpoint(ckpt_path, device)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        ctx.scaler.load_state_dict(state["scaler"])
        set_rng_states(state["rng"])
        step, running = state["step"], state["running"]

    def checkpoint() -> None:
        if not ranks.main:
            return
        save_checkpoint(
            ckpt_path,
            {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "scaler": ctx.scaler.state_dict(),
                "step": step, "running": running, "total_steps": total_steps,
            },
        )  # fmt: skip

    history = list(read_jsonl(metrics_path)) if ranks.main else []
    logged_epochs = {record["epoch"] for record in history}
    aug = config.augment
    resized = resized_crop_scale(aug, data.image_shape[1])
    started = time.perf_counter()
    stop_at = total_steps if max_steps is None else min(total_steps, max_steps)
    model.train()
    try:
        with make_progress(progress) as bar:
            task = bar.add_task(description, total=total_steps, completed=step)
            while step < stop_at:
                epoch, first = divmod(step, steps_per_epoch)
                for images, labels in _batches_of_epoch(
                    data, config.batch_size, seed, epoch, first
                ):
                    salt = "torch" if ranks.main else f"torch:{ranks.rank}"
                    torch.manual_seed(step_seed(seed, step, salt))  # dropout and the like
                    generator = torch.Generator().manual_seed(step_seed(seed, step, "augment"))
                    if aug.enabled:
                        images = augment(
                            images, generator, aug.crop_padding, aug.flip, aug.cutout, resized
                        )
                    images, labels = images[shard], labels[shard]
                    x = normalize(images, data.mean, data.std, device)
                    if config.channels_last:
                        x = x.contiguous(memory_format=torch.channels_last)
                    y = labels.to(device)
                    result = step_fn(model, x, y, step, ctx)
                    if ranks.distributed:
                        totals = [result.loss, result.correct, result.count]
                        loss, correct, count = distributed.average_gradients(model, ranks, totals)
                        result = StepResult(loss, round(correct), round(count))
                    if config.grad_clip is not None:
                        ctx.scaler.unscale_(optimizer)
                        nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                    ctx.scaler.step(optimizer)
                    ctx.scaler.update()
                    optimizer.zero_grad(set_to_none=True)
                    scheduler.step()
                    step += 1
                    running["loss"] += result.loss
                    running["correct"] += result.correct
                    running["count"] += result.count
                    bar.update(task, completed=step, description=f"{description} e{epoch + 1}")
                    end_of_epoch = step % steps_per_epoch == 0
                    if end_of_epoch:
                        record = _epoch_record(epoch, step, running, optimizer)
                        if evaluate is not None and ranks.main:
                            model.eval()
                            record.update(evaluate(model, epoch))
                            model.train()
                        if epoch not in logged_epochs and ranks.main:
                            append_jsonl(metrics_path, record)
                            history.append(record)
                            logged_epochs.add(epoch)
                            if on_epoch is not None:
                                on_epoch(record)
                        running = {"loss": 0.0, "correct": 0, "count": 0}
                    if end_of_epoch or step % config.checkpoint_every_steps == 0:
                        checkpoint()
                    if step >= stop_at:
                        break
    except KeyboardInterrupt:
        checkpoint()
        raise
    return TrainResult(step, step // steps_per_epoch, time.perf_counter() - started, history)


def _epoch_record(
    epoch: int, step: int, running: dict[str, float], optimizer: torch.optim.Optimizer
) -> dict[str, Any]:
    count = max(1, running["count"])
    return {
        "epoch": epoch,
        "step": step,
        "train_loss": running["loss"] / count,
        "train_acc": running["correct"] / count,
        "lr": optimizer.param_groups[0]["lr"],
    }
