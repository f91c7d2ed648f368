"""Seconds per network of each training-free estimator on MobileNet blocks, on quiet cores.

    .venv/bin/python benchmarks/estimator_seconds.py [--networks 20] [--slow-networks 2]
        [--threads 1 2] [--max-load 0.5]

The estimator figures of `benchmarks/nbmacro_estimators.py` were timed on cores shared with other
jobs; this script times them alone. Networks: the first `--networks` of that benchmark's scoring
order (1,000 NAS-Bench-Macro networks stratified over MACs, a van der Corput permutation, so any
prefix spans the MACs range); `rwe_paper` (tens of seconds a network) on the first
`--slow-networks`. Each estimator is built once (`get_evaluator(name, space=nbmacro,
data=CIFAR-10 JPEG, seed=0)`, its shipped settings), scores one network untimed (data loading,
first-call set-up), then each network once: wall seconds (`time.perf_counter`) and CPU seconds of
this process (`time.process_time`), at each of `--threads` torch thread counts. The machine's
1-minute load average is recorded before and after; the run stops with exit code 2 if it is above
`--max-load` at the start (another job running: the timing would not be quiet).
Writes `benchmarks/results/estimator_seconds.json` (machine, settings, every timing).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
OUT = ROOT / "benchmarks" / "results" / "estimator_seconds.json"
ESTIMATORS = ["macs", "params", "synflow", "naswot", "snip", "grad_norm", "fisher", "jacob_cov",
              "rwe", "default", "rwe_paper"]  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--networks", type=int, default=20)
    p.add_argument("--slow-networks", type=int, default=2, help="networks for rwe_paper")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--estimators", nargs="+", default=ESTIMATORS)
    p.add_argument("--max-load", type=float, default=0.5)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    load_before = os.getloadavg()[0]
    if load_before > args.max_load:
        p.exit(2, f"load average {load_before:.2f} > --max-load {args.max_load}: another job "
                  "is running, so the timing would not be quiet (stop it, or raise "
                  "--max-load)\n")  # fmt: skip
    import torch
    from _machine import machine_info
    from nbmacro_estimators import Scorer, nbmacro_truth, scoring_order, stratified

    truth = nbmacro_truth()
    order = scoring_order(stratified(truth, 1000))
    scorer = Scorer()  # sets one torch thread; each timing below sets its own count
    rows: list[dict[str, Any]] = []
    print(f"{'estimator':10s} {'threads':>7s} {'n':>3s} {'wall s/net':>10s} {'CPU s/net':>9s}")
    for threads in args.threads:
        torch.set_num_threads(threads)
        for est in args.estimators:
            count = args.slow_networks if est == "rwe_paper" else args.networks
            ev = scorer.evaluator("nbmacro", est)
            ev.evaluate([ev.space.from_string(order[-1])])  # set-up, untimed
            walls, cpus = [], []
            for genome in order[:count]:
                arch = ev.space.from_string(genome)
                cpu, wall = time.process_time(), time.perf_counter()
                ev.evaluate([arch])
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
            rows.append({"estimator": est, "threads": threads, "networks": order[:count],
                         "wall_s": [round(w, 4) for w in walls],
                         "cpu_s": [round(c, 4) for c in cpus],
                         "wall_s_mean": round(float(np.mean(walls)), 4),
                         "cpu_s_mean": round(float(np.mean(cpus)), 4)})  # fmt: skip
            print(f"{est:10s} {threads:7d} {count:3d} {np.mean(walls):10.3f} {np.mean(cpus):9.3f}",
                  flush=True)  # fmt: skip
    result = {
        "benchmark": "estimator_seconds", "machine": machine_info(),
        "load_average_1min": {"before": round(load_before, 2),
                              "after": round(os.getloadavg()[0], 2)},
        "settings": {"space": "nbmacro", "data": "CIFAR-10 JPEG, val_fraction 0.1, seed 0",
                     "networks": args.networks, "slow_networks": args.slow_networks,
                     "threads": args.threads, "untimed_warmup_networks": 1},
        "rows": rows,
    }  # fmt: skip
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
