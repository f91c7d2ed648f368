"""Data-parallel training under `torchrun`: one process per device, one global batch per step.

`torchrun --nproc_per_node N -m shiftnas supernet train ...` starts N processes with `RANK`,
`WORLD_SIZE`, `LOCAL_RANK`, `MASTER_ADDR` and `MASTER_PORT` set; `setup` joins them with
`env://` initialisation, `nccl` on CUDA and `gloo` on the CPU. Without `WORLD_SIZE > 1` every
function here is a no-op, so a plain run is untouched.

The rule that makes N ranks train the same network as one process (same seed, same global
`batch_size`, dropout off; within float tolerance, tests/test_distributed.py):
- every rank walks the same seeded epoch order and augments the whole global batch with the
  step's generator, then keeps its contiguous `batch_size / N` slice of it (its shard);
- every rank trains the same paths at a step (a pure function of `(seed, step)`);
- BatchNorm statistics are those of the global batch (`sync_batchnorm`), as in one process;
- after all backward passes of a step, the gradients are averaged over ranks in one all-reduce.

Why an explicit all-reduce and not `DistributedDataParallel`: a fair supernet step runs 13
forward/backward passes through different candidate ops, and DDP all-reduces in every backward
(13 rounds of communication a step) and, with `find_unused_parameters`, walks the graph each
time to find the ops a path skipped. Averaging the accumulated gradients once after the last
backward costs one collective a step whatever the number of paths, and a parameter no path used
keeps `grad = None` on every rank (the paths are the same everywhere), so SGD skips it exactly as
in one process. The price, no overlap of communication with the backward pass, is small for
networks of this size. The global-batch BatchNorm costs more: a small collective per BatchNorm
layer and path, forward and backward (README, "Scaling out", has a measurement).
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from shiftnas.errors import ShiftnasError


@dataclass(frozen=True)
class Ranks:
    """This process's place in the job: `rank` of `world_size`, training on `device`."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def main(self) -> bool:
        """Rank 0: the only one that writes checkpoints, metrics and MLflow records."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def shard(self, batch_size: int) -> slice:
        """This rank's part of a global batch: contiguous, `batch_size / world_size` images.

        Raises ShiftnasError when the global batch does not split evenly over the ranks.
        """
        if batch_size % self.world_size:
            raise ShiftnasError(
                f"batch_size {batch_size} does not split over {self.world_size} ranks "
                f"(WORLD_SIZE): use a multiple of {self.world_size}"
            )
        size = batch_size // self.world_size
        return slice(self.rank * size, (self.rank + 1) * size)


def launched_by_torchrun() -> bool:
    """Whether this process is one of several ranks (`WORLD_SIZE > 1`)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def is_main_process() -> bool:
    """Rank 0, or a plain single process: the one that prints and writes."""
    return int(os.environ.get("RANK", "0")) == 0


def setup(device: torch.device) -> Ranks:
    """Join the `torchrun` job when `WORLD_SIZE > 1` (`env://`; `nccl` on CUDA, else `gloo`).

    On CUDA each rank takes the GPU `LOCAL_RANK` of its machine. Joining twice (retraining
    several networks in one process) reuses the group. Raises ShiftnasError when the variables
    torchrun sets are incomplete.
    """
    if not launched_by_torchrun():
        return Ranks(device=device)
    world = int(os.environ["WORLD_SIZE"])
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        missing = [v for v in ("RANK", "MASTER_ADDR", "MASTER_PORT") if v not in os.environ]
        if missing:
            raise ShiftnasError(
                f"WORLD_SIZE={world} but {', '.join(missing)} is not set: start the job with "
                "torchrun (it sets them), or unset WORLD_SIZE for one process"
            )
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", init_method="env://")
        atexit.register(_leave)
    return Ranks(dist.get_rank(), dist.get_world_size(), device)


def _leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def share(obj: Any, ranks: Ranks) -> Any:
    """Rank 0's `obj` on every rank (a pickled broadcast; pass CPU tensors)."""
    if not ranks.distributed:
        return obj
    box = [obj if ranks.main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def broadcast_model(model: nn.Module, ranks: Ranks) -> None:
    """Copy rank 0's parameters and buffers to every rank, in place."""
    if ranks.distributed:
        for tensor in model.state_dict().values():
            dist.broadcast(tensor, src=0)


def average_gradients(model: nn.Module, ranks: Ranks, totals: list[float]) -> list[float]:
    """Average `.grad` over ranks in one all-reduce, and sum `totals` (loss, counts) over them.

    Parameters without a gradient are left alone: every rank trained the same paths, so the
    same parameters have none everywhere.
    """
    if not ranks.distributed:
        return totals
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    stats = torch.tensor(totals, dtype=torch.float32, device=ranks.device)
    flat = torch.cat([g.reshape(-1).float() for g in grads] + [stats])  # 4 bytes a parameter
    dist.all_reduce(flat)
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g) / ranks.world_size)
        offset += g.numel()
    return flat[offset:].cpu().tolist()


class _AllReduceSum(torch.autograd.Function):
    """Sum over ranks, differentiable: the gradient of a sum is the sum of the gradients.
    (torch.distributed.nn.functional.all_reduce does the same but is deprecated.)"""

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        tensor = tensor.clone()
        dist.all_reduce(tensor)
        return tensor

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


class SyncedBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training-mode statistics are those of the global batch of all ranks.
    For the CPU (`gloo`); on CUDA `sync_batchnorm` uses torch's `nn.SyncBatchNorm`.

    Input and output `(B, C, H, W)`. Per-channel sums and sums of squares of the local batch are
    all-reduced with a differentiable all-reduce, so the backward pass carries the
    statistics' gradient across ranks too. Torch's own `nn.SyncBatchNorm` refuses CPU tensors,
    and `gloo` training needs them. In eval mode, or without a process group, it is BatchNorm2d;
    its `state_dict` is BatchNorm2d's, so checkpoints load into plain networks.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        xf = x.float()  # statistics in float32 also under autocast
        n_local = torch.tensor([x.numel() / x.shape[1]], device=x.device)
        local = torch.cat([xf.sum((0, 2, 3)), (xf * xf).sum((0, 2, 3)), n_local])
        total = _AllReduceSum.apply(local)
        channels = x.shape[1]
        n = total[-1]
        mean = total[:channels] / n
        # biased, as BatchNorm normalises; E[x^2] - E[x]^2 may round below 0
        var = torch.clamp(total[channels : 2 * channels] / n - mean * mean, min=0.0)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                m = (
                    self.momentum
                    if self.momentum is not None
                    else 1.0 / float(self.num_batches_tracked)
                )
                self.running_mean.mul_(1 - m).add_(mean.detach(), alpha=m)
                unbiased = var.detach() * n / (n - 1)
                self.running_var.mul_(1 - m).add_(unbiased, alpha=m)
        shape = (1, channels, 1, 1)
        y = (xf - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y.to(x.dtype)


def sync_batchnorm(model: nn.Module, ranks: Ranks) -> nn.Module:
    """Make every BatchNorm2d of `model` use the global batch's statistics, in place, when
    distributed (before the optimiser is made: the parameters are new): torch's fused
    `nn.SyncBatchNorm` on CUDA, `SyncedBatchNorm2d` on the CPU. State dicts are unchanged."""
    if not ranks.distributed:
        return model
    if ranks.device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)
    for name, child in list(model.named_children()):
        if type(child) is nn.BatchNorm2d:
            synced = SyncedBatchNorm2d(
                child.num_features, child.eps, child.momentum, child.affine,
                child.track_running_stats,
            )  # fmt: skip
            synced.load_state_dict(child.state_dict())
            synced.train(child.training)
            setattr(model, name, synced)
        else:
            sync_batchnorm(child, ranks)
    return model
