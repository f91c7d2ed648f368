"""Supernet training overhead: one fair step (13 paths, summed losses, one update) against the
same 13 paths trained as 13 plain standalone networks, measured interleaved in one run; plus the
peak memory of real supernet training on CIFAR-10 (JPEG) at batch 128.

    .venv/bin/python benchmarks/supernet_throughput.py [--batch 64] [--repeats 6]

Each allocator setting is measured in its own child process; the supernet's training loop tunes
glibc's allocator (shiftnas.device.tune_cpu_allocator), so that is the headline figure.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info

from shiftnas.device import tune_cpu_allocator
from shiftnas.search import get_space
from shiftnas.search.supernet import Supernet
from shiftnas.training import TrainContext, make_optimizer
from shiftnas.training.settings import SupernetConfig
from shiftnas.training.supernet import step_paths, supernet_step

ROOT = Path(__file__).resolve().parents[1]
CIFAR = ROOT.parent / "shared" / "datasets" / "cifar10-jpeg"


def time_fair_step(supernet, step_fn, optimizer, x, y) -> float:
    ctx = TrainContext(torch.device("cpu"), amp=False)
    start = time.perf_counter()
    step_fn(supernet, x, y, 0, ctx)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return time.perf_counter() - start


def time_standalone(networks, optimizers, x, y) -> float:
    criterion = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    for network, optimizer in zip(networks, optimizers, strict=True):
        criterion(network(x), y).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return time.perf_counter() - start


def peak_memory_mb(batch: int, steps: int) -> float | None:
    """Peak RSS of a child process that trains the supernet on CIFAR-10 (JPEG) for `steps`."""
    if not CIFAR.is_dir():
        return None
    code = f"""
import resource, tempfile, torch
from shiftnas.data.settings import DataConfig
from shiftnas.training.settings import SupernetConfig
from shiftnas.data import load_data
from shiftnas.search import get_space
from shiftnas.training.supernet import train_supernet
data = load_data(DataConfig(dataset="imagefolder", root={str(CIFAR)!r}), seed=0)
space = get_space("mbv3")
cfg = SupernetConfig(epochs=1, batch_size={batch}, checkpoint_every_steps=10_000)
with tempfile.TemporaryDirectory() as tmp:
    train_supernet(space, data, cfg, tmp, progress=False, max_steps={steps}, probe_paths=0)
"""
    subprocess.run([sys.executable, "-c", code], check=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def measure_steps(batch: int, repeats: int, warmup: int, tuned_allocator: bool) -> dict:
    """Seconds per fair step and per 13 standalone steps, interleaved in this process."""
    if tuned_allocator:
        tune_cpu_allocator()
    torch.manual_seed(0)
    space = get_space("mbv3")
    supernet = Supernet(space).to(memory_format=torch.channels_last)
    config = SupernetConfig(label_smoothing=0.0)
    optimizer = make_optimizer(supernet, config)
    # the very 13 paths the fair step trains (step 0): two different sets of 13 fair paths took
    # 8.9 s and 10.1 s here for the same ops, so both sides must train the same paths
    paths = step_paths(space, "fair", seed=0, step=0)
    step_fn = supernet_step(space, "fair", seed=0, label_smoothing=0.0)
    networks = [supernet.extract(p).to(memory_format=torch.channels_last).train() for p in paths]
    optimizers = [make_optimizer(n, config) for n in networks]
    x = torch.randn(batch, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,))

    # warm-up both, then interleave so that machine noise hits both sides alike
    for _ in range(warmup):
        time_fair_step(supernet, step_fn, optimizer, x, y)
        time_standalone(networks, optimizers, x, y)
    fair, standalone = [], []
    for repeat in range(repeats):
        # alternate which side goes first, so neither always runs on a warmer cache
        if repeat % 2 == 0:
            fair.append(time_fair_step(supernet, step_fn, optimizer, x, y))
            standalone.append(time_standalone(networks, optimizers, x, y))
        else:
            standalone.append(time_standalone(networks, optimizers, x, y))
            fair.append(time_fair_step(supernet, step_fn, optimizer, x, y))
    images = len(paths) * batch
    fair_s, standalone_s = float(np.median(fair)), float(np.median(standalone))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "fair_step_images_per_s": images / fair_s,
        "single_path_images_per_s": images / standalone_s,
        "overhead_ratio": fair_s / standalone_s,
        "fair_step_seconds": fair,
        "standalone_13_paths_seconds": standalone,
        "pairwise_ratios": [f / s for f, s in zip(fair, standalone, strict=True)],
        "process_user_seconds": usage.ru_utime,
        "process_kernel_seconds": usage.ru_stime,
        "allocator_tuned": tuned_allocator,
    }


def measure_in_child(args: argparse.Namespace, allocator: str) -> dict:
    """A fresh process per allocator setting: mallopt cannot be undone within a process."""
    command = [sys.executable, __file__, "--child", allocator, "--batch", str(args.batch),
               "--repeats", str(args.repeats), "--warmup", str(args.warmup)]  # fmt: skip
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--memory-batch", type=int, default=128)
    parser.add_argument("--memory-steps", type=int, default=2)
    parser.add_argument("--child", choices=("tuned", "default"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks/results/supernet_throughput.json"
    )
    args = parser.parse_args()
    if args.child:
        timing = measure_steps(args.batch, args.repeats, args.warmup, args.child == "tuned")
        print(json.dumps(timing))
        return

    # training tunes glibc's allocator (shiftnas.device.tune_cpu_allocator); the headline figures
    # are measured as training runs, and the default allocator is measured beside them
    tuned = measure_in_child(args, "tuned")
    default = measure_in_child(args, "default")
    result = {
        **tuned,
        "default_allocator": default,
        "peak_rss_mb": peak_memory_mb(args.memory_batch, args.memory_steps),
        "settings": {
            "space": "mbv3 (default skeleton, 32x32)",
            "paths": 13,
            "batch": args.batch,
            "repeats": args.repeats,
            "warmup_rounds": args.warmup,
            "channels_last": True,
            "device": "cpu",
            "allocator": "glibc mallopt as in training (tune_cpu_allocator); "
            "default_allocator: glibc defaults, in a separate process",
            "memory": f"CIFAR-10 (JPEG) supernet training, batch {args.memory_batch}, "
            f"{args.memory_steps} fair steps, peak RSS of the training process",
            "images_per_s": "13 paths x batch images per step / median step seconds",
        },
        "machine": machine_info(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    table = Table(title="supernet fair step vs 13 standalone networks")
    for column in ("allocator", "fair img/s", "standalone img/s", "overhead ratio", "kernel s"):
        table.add_column(column)
    for name, timing in (("tuned (training)", tuned), ("glibc default", default)):
        table.add_row(
            name, f"{timing['fair_step_images_per_s']:.1f}",
            f"{timing['single_path_images_per_s']:.1f}", f"{timing['overhead_ratio']:.3f}",
            f"{timing['process_kernel_seconds']:.0f}",
        )  # fmt: skip
    Console().print(table)
    Console().print(f"peak RSS, CIFAR-10 supernet training at batch {args.memory_batch}: "
                    f"{result['peak_rss_mb'] or float('nan'):.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
