"""Scale-out throughput, measured side by side in one run on this machine:
- search evaluation: networks per second of one expensive estimate (a zero-cost proxy on the
  quickstart space) in-process, in today's process pool (2 workers), and on 1 and 2 Ray actors
  of a local Ray cluster;
- supernet training: fair steps (13 paths) per second with 1 rank (1 and all threads) and with
  2 `gloo` ranks of 1 thread on 127.0.0.1, at the same global batch.

    .venv/bin/python benchmarks/scale_out.py [--networks 24] [--steps 6] [--batch 64]

Writes benchmarks/results/scale_out.json (or --out) with the machine block. Start-up (Ray
actors importing torch, pool workers forking, the first step) is timed apart from throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import torch
import torch.multiprocessing as mp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info

import shiftnas.training.supernet as supernet_module
from shiftnas.data import load_data
from shiftnas.data.settings import DataConfig, ShapesConfig
from shiftnas.files import write_json_atomic
from shiftnas.pipeline.config import load_config
from shiftnas.search import get_space
from shiftnas.search.nsga import Measure
from shiftnas.search.nsga.archive import Archive
from shiftnas.search.nsga.evaluation import Engine
from shiftnas.search.settings import SearchRayConfig
from shiftnas.training.settings import SupernetConfig

ROOT = Path(__file__).resolve().parents[1]


def quickstart_space(data):
    cfg = load_config()
    return get_space(cfg.space.name, cfg.space, num_classes=data.num_classes)


def shapes(train_size: int):
    return load_data(DataConfig(dataset="shapes", shapes=ShapesConfig(train_size=train_size)), 0)


# ---------------------------------------------------------------- search evaluation throughput


def search_throughput(args: argparse.Namespace, work: Path) -> dict:
    data = shapes(400)
    space = quickstart_space(data)

    def make():
        from shiftnas.search.evaluators import get_evaluator

        evaluator = get_evaluator(
            args.evaluator, space=space, data=data, seed=0, device="cpu", batch_size=args.batch
        )
        return evaluator.evaluate

    measure = Measure("error", "expensive", make)
    torch.set_num_threads(1)  # in-process like a pool worker or a Ray actor: one thread each
    rng = np.random.default_rng(0)
    archs = list({a.id: a for a in (space.sample(rng) for _ in range(4 * args.networks))}.values())
    warm, timed = archs[:2], archs[2 : 2 + args.networks]
    setups = [("in_process", 1, None), ("process_pool", 2, None)]
    setups += [(f"ray_{w}", w, SearchRayConfig(num_cpus=2)) for w in (1, 2)]
    out = {}
    for name, workers, ray_settings in setups:
        if ray_settings is not None:
            import ray

            if not ray.is_initialized():  # after the pool: forking a Ray driver is unsafe
                ray.init(
                    num_cpus=2, resources={"latency_host": 1}, include_dashboard=False,
                    logging_level="ERROR",
                )  # fmt: skip
        archive = Archive(work / name / "archive.jsonl")
        engine = Engine([measure], [], archive, space.to_string, workers, ray=ray_settings)
        with engine:
            started = time.perf_counter()
            engine.evaluate(warm, 1)  # start-up: workers or actors build their scorers
            ready = time.perf_counter()
            engine.evaluate(timed, 2)
            done = time.perf_counter()
        out[name] = {
            "workers": workers,
            "networks": len(timed),
            "startup_s": round(ready - started, 3),
            "seconds": round(done - ready, 3),
            "networks_per_s": round(len(timed) / (done - ready), 3),
        }
        print(name, out[name], flush=True)
    return out


# ---------------------------------------------------------------- supernet steps per second


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rank(rank, world, port, threads, args, folder, result_path):
    if world > 1:
        os.environ.update(
            RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world),
            MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), GLOO_SOCKET_IFNAME="lo",
        )  # fmt: skip
    torch.set_num_threads(threads)
    stamps: list[tuple[float, float]] = []
    real = supernet_module.supernet_step

    def timed_step(*a, **k):
        step_fn = real(*a, **k)

        def step(model, x, y, index, ctx):
            stamps.append((time.perf_counter(), time.process_time()))
            return step_fn(model, x, y, index, ctx)

        return step

    supernet_module.supernet_step = timed_step
    config = SupernetConfig(
        epochs=1, batch_size=args.batch, checkpoint_every_steps=10_000, augment={"cutout": 0}
    )
    data = shapes(args.batch * (args.steps + 2) * 5 // 4 + 10)  # 80% of it is training data
    space = quickstart_space(data)
    supernet_module.train_supernet(
        space, data, config, folder, progress=False, max_steps=args.steps + 1, probe_paths=0
    )
    if rank == 0:
        (wall0, cpu0), (wall1, cpu1) = stamps[1], stamps[-1]  # step 0 (warm-up) left out
        steps = len(stamps) - 2
        result_path.write_text(
            json.dumps({"steps": steps, "wall_s": wall1 - wall0, "cpu_s_rank0": cpu1 - cpu0})
        )


def supernet_throughput(args: argparse.Namespace, work: Path) -> dict:
    out = {}
    cores = os.cpu_count() or 1
    for name, world, threads in [
        ("1_rank_1_thread", 1, 1),
        (f"1_rank_{cores}_threads", 1, cores),
        ("2_ranks_1_thread", 2, 1),
    ]:
        result = work / f"{name}.json"
        mp.start_processes(
            _rank, args=(world, _free_port(), threads, args, work / name, result), nprocs=world,
            start_method="fork",
        )  # fmt: skip
        r = json.loads(result.read_text())
        out[name] = {
            "ranks": world,
            "threads_per_rank": threads,
            "global_batch": args.batch,
            "steps": r["steps"],
            "seconds": round(r["wall_s"], 3),
            "steps_per_s": round(r["steps"] / r["wall_s"], 4),
            "cpu_s_per_step_rank0": round(r["cpu_s_rank0"] / r["steps"], 3),
        }
        print(name, out[name], flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=24, help="timed networks per executor")
    parser.add_argument("--evaluator", default="snip", help="the estimate timed (a proxy name)")
    parser.add_argument("--steps", type=int, default=6, help="timed supernet steps per setting")
    parser.add_argument("--batch", type=int, default=64, help="global batch (and proxy batch)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/scale_out.json")
    args = parser.parse_args()
    machine = machine_info()
    machine["versions"]["ray"] = metadata.version("ray")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        supernet = supernet_throughput(args, work / "supernet")  # forks before Ray starts
        search = search_throughput(args, work / "search")
    write_json_atomic(
        args.out,
        {
            "benchmark": "scale_out",
            "settings": vars(args) | {"out": str(args.out)},
            "machine": machine,
            "search_evaluation": search,
            "supernet_training": supernet,
            "speedups": {
                "ray_2_over_ray_1": _ratio(search, "ray_2", "ray_1", "networks_per_s"),
                "ray_2_over_process_pool": _ratio(
                    search, "ray_2", "process_pool", "networks_per_s"
                ),
                "2_ranks_over_1_rank_1_thread": _ratio(
                    supernet, "2_ranks_1_thread", "1_rank_1_thread", "steps_per_s"
                ),
            },
        },
    )
    print(f"wrote {args.out}")


def _ratio(table: dict, a: str, b: str, key: str) -> float:
    return round(table[a][key] / table[b][key], 3)


if __name__ == "__main__":
    main()
