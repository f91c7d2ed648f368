"""Does a short training rank the networks near `default`'s front better than `default` itself?

A pilot for a multi-fidelity step (issue 15). `estimator_front_nb201.py` shows that even an
exhaustive search with `default` reaches about 0.92 of the true front's hypervolume on NB201's
development networks: the estimate, not the search, is the limit. Here the development networks
nearest `default`'s front (its first non-dominated layers of (estimate, MACs), at least
`--candidates` of them) are each trained briefly on CIFAR-10 as a reduced proxy network (`rwe`'s
proxy: C=8, 2 cells per stage, same genome): `--steps` SGD steps of batch 64 from a seeded
init, then accuracy on 2,000 validation images. Reported: Spearman against the true accuracy
within the candidates for `default`, the short training and their mean rank; and the true
hypervolume of the front each of them picks among the candidates. One process per worker, one
torch thread each; each result is appended to `--work` as it comes (kill and rerun: resumes).

    nohup nice .venv/bin/python benchmarks/multifidelity_nb201.py > /tmp/mf.log 2>&1 &
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info
from _nb201_truth import Truth, estimated_front
from estimator_front_nb201 import DEV, ROOT, default_scores, read_scores, scored_ids
from search_nb201 import CIFAR

from shiftnas.data import load_data
from shiftnas.data.settings import DataConfig
from shiftnas.files import append_jsonl, read_jsonl, write_json_atomic
from shiftnas.search import Arch, get_space

_DATA: Any = None


def _init() -> None:
    global _DATA
    torch.set_num_threads(1)
    config = DataConfig(dataset="imagefolder", root=CIFAR, cache_dir="/tmp/shiftnas-cache")
    _DATA = load_data(config, 0)


def train_briefly(task: tuple[list[int], int, float, int]) -> dict[str, Any]:
    """`steps` SGD steps (momentum 0.9, cosine lr, weight decay 5e-4, flips) on the proxy
    network; its accuracy on the first 2,000 validation images (fraction) and the seconds."""
    genome, steps, lr, seed = task
    wall, cpu = time.perf_counter(), time.process_time()
    space = get_space("nb201", channels=8, cells_per_stage=2)
    torch.manual_seed(seed)
    net = space.build(Arch("nb201", tuple(genome)))
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda t: 0.5 * (1 + math.cos(math.pi * t / steps))
    )
    mean = torch.tensor(_DATA.mean).view(1, -1, 1, 1)
    std = torch.tensor(_DATA.std).view(1, -1, 1, 1)
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(_DATA.train), generator=g)
    net.train()
    for t in range(steps):
        idx = order[(t * 64) % len(order) :][:64]
        x = (_DATA.train.images[idx].float() / 255 - mean) / std
        flip = torch.rand(len(idx), generator=g) < 0.5
        x[flip] = x[flip].flip(-1)
        loss = torch.nn.functional.cross_entropy(net(x), _DATA.train.labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    net.eval()
    correct = 0
    with torch.no_grad():
        for k in range(0, 2000, 500):
            x = (_DATA.val.images[k : k + 500].float() / 255 - mean) / std
            correct += int((net(x).argmax(1) == _DATA.val.labels[k : k + 500]).sum())
    seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
    return {"genome": genome, "seed": seed, "val_acc": correct / 2000,
            "last_loss": float(loss.detach()),
            "seconds": seconds, "cpu_seconds": cpu_seconds}  # fmt: skip


def candidates(scores: dict[str, float], truth: Truth, k: int) -> list[str]:
    """The first non-dominated layers of (estimate, MACs) until at least `k` networks."""
    left = {r["id"]: r for r in truth.records(scores)}
    picked: list[str] = []
    while len(picked) < k and left:
        layer = [r["id"] for r in estimated_front(list(left.values()))]
        picked += layer
        for i in layer:
            del left[i]
    return picked


def judge(
    chosen: list[str], default: dict, done: dict, truth: Truth, seeds: list[int]
) -> dict[str, Any]:
    """Rank correlation within `chosen` and the true hypervolume of the front each ranking
    picks among them (`default`, the short training's mean accuracy over `seeds`, their mean
    rank; with several seeds also each seed alone), and a perfect pick's."""

    def short(s: list[int]) -> np.ndarray:
        return np.array([-np.mean([done[truth.arch[i].genome, k]["val_acc"] for k in s])
                         for i in chosen])  # fmt: skip

    acc = np.array([truth.acc[i] for i in chosen])
    d = np.array([default[i] for i in chosen])
    s = short(seeds)
    mixed = (stats.rankdata(d) + stats.rankdata(s)) / 2
    rankings = [("default", d), ("short training", s), ("mean rank of both", mixed)]
    if len(seeds) > 1:
        rankings += [(f"short training, seed {k}", short([k])) for k in seeds]
    results = {}
    for name, sc in rankings:
        records = truth.records(dict(zip(chosen, sc, strict=True)))
        judged = truth.judge([r["id"] for r in estimated_front(records)], chosen)
        results[name] = {
            "spearman_within_candidates": round(float(stats.spearmanr(-sc, acc).statistic), 4),
            "front_hypervolume_ratio": judged["hypervolume_ratio_front"],
            "true_front_members_found": len(judged["true_front_members_found"]),
            "front_members": judged["front_members"],
        }
        print(f"{len(chosen):4} candidates  {name:27} rho "
              f"{results[name]['spearman_within_candidates']:.3f}  front HV "
              f"{judged['hypervolume_ratio_front']:.4f}  true front members "
              f"{results[name]['true_front_members_found']}", flush=True)  # fmt: skip
    return {
        "candidates": len(chosen),
        # a perfect pick among the candidates
        "candidates_hypervolume_ratio_ceiling": truth.judge(chosen, chosen)[
            "hypervolume_ratio_evaluated"
        ],
        "true_front_members_among_candidates": len(set(chosen) & set(truth.front)),
        "results": results,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--candidates",
        type=int,
        nargs="+",
        default=[40, 80, 120],
        help="judge the first layers holding at least this many (nested sets)",
    )
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument(
        "--seeds", type=int, nargs="+", default=[0], help="training seeds (accuracy averaged)"
    )
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--scores", type=Path, default=ROOT / "benchmarks/results/evaluator_scores_nb201_dev.json"
    )
    p.add_argument("--work", type=Path, default=Path("/tmp/multifidelity_nb201.jsonl"))
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/multifidelity_nb201.json")
    args = p.parse_args()
    if len(set(args.seeds)) < len(args.seeds):
        p.exit(2, f"--seeds {args.seeds} repeats a seed: give each once\n")
    if not DEV.exists() or not CIFAR.exists():
        print(f"skipped: needs {DEV} and {CIFAR}")
        return
    space = get_space("nb201")
    truth = Truth(space, DEV)
    raw = read_scores(args.scores)
    default = default_scores(space, raw, scored_ids(truth, raw))
    chosen = candidates(default, truth, max(args.candidates))
    done = {  # rows written before --seeds existed were trained with seed 0
        (tuple(r["genome"]), r.get("seed", 0)): r
        for r in read_jsonl(args.work)
        if r["steps"] == args.steps and r.get("lr", 0.05) == args.lr
    }
    todo = [(truth.arch[i].genome, k) for k in args.seeds for i in chosen
            if (truth.arch[i].genome, k) not in done]  # fmt: skip
    print(f"{len(chosen)} candidates x {len(args.seeds)} seeds, {len(todo)} to train "
          f"({args.steps} steps each)", flush=True)  # fmt: skip
    if todo:
        with ProcessPoolExecutor(args.workers, initializer=_init) as pool:
            tasks = [(list(g), args.steps, args.lr, k) for g, k in todo]
            for n, row in enumerate(pool.map(train_briefly, tasks), 1):
                row.update(steps=args.steps, lr=args.lr)
                append_jsonl(args.work, row)
                done[tuple(row["genome"]), row["seed"]] = row
                print(f"  {n}/{len(todo)}: val acc {row['val_acc']:.3f} "
                      f"({row['seconds']:.0f} s)", flush=True)  # fmt: skip
    by_size = [judge(candidates(default, truth, k), default, done, truth, args.seeds)
               for k in args.candidates]  # fmt: skip
    rows = [done[truth.arch[i].genome, k] for i in chosen for k in args.seeds]
    write_json_atomic(args.out, {
        "benchmark": "multifidelity_nb201", "steps": args.steps, "seeds": args.seeds,
        "lr": args.lr, "proxy": {"channels": 8, "cells_per_stage": 2}, "batch_size": 64,
        "true_front_size": len(truth.front), "by_candidates": by_size,
        "seconds_per_network": round(float(np.mean([r["seconds"] for r in rows])), 1),
        "cpu_seconds_per_network": round(float(np.mean([r["cpu_seconds"] for r in rows])), 1),
        "machine": machine_info(),
    })  # fmt: skip
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
