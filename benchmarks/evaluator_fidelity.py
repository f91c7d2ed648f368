"""How well does each performance estimator rank networks? Spearman/Kendall against ground truth.

    python benchmarks/evaluator_fidelity.py --space nb201 \
        --truth ../shared/benchmarks/nb201_cifar10_dev.csv --n 300

Every method scores the same development networks in one run (methods in parallel worker
processes, one torch thread each; wall and CPU seconds per network are both recorded because the
machine is shared). `default` is computed by the real `RankEnsemble` code from its members'
scores. The development networks are split into tune and holdout halves; rank ensembles of other
member sets are chosen on tune and reported on holdout. Networks outside the development file
have no ground truth: for them the run reports how much the methods agree with each other,
next to the same agreement on the development networks.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
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

from shiftnas.data import load_data
from shiftnas.data.settings import DataConfig
from shiftnas.search import Arch, get_space
from shiftnas.search.evaluators import RankEnsemble, get_evaluator
from shiftnas.search.evaluators.ensemble import DEFAULT_MEMBERS, DEFAULT_REFERENCE

REPO = Path(__file__).resolve().parents[1]
PROXIES = ["synflow", "naswot", "snip", "grad_norm", "fisher", "jacob_cov"]
METHODS = ["rwe", "rwe_paper", *PROXIES, "macs", "params"]
_DATA: Any = None


def _init_worker(root: str, cache: str) -> None:
    global _DATA
    torch.set_num_threads(1)
    _DATA = load_data(DataConfig(dataset="imagefolder", root=root, cache_dir=cache), seed=0)


def _score(task: tuple[str, str, list[list[int]], dict[str, Any], int]) -> dict[str, list[float]]:
    """One method on a chunk of networks: id -> [score, wall seconds, cpu seconds]."""
    method, space_name, genomes, extra, seed = task
    space = get_space(space_name, num_classes=_DATA.num_classes)
    ev = get_evaluator(method, space=space, data=_DATA, seed=seed, **extra)
    out = {}
    for genome in genomes:
        arch = Arch(space_name, tuple(genome))
        wall, cpu = time.perf_counter(), time.process_time()
        score = ev.evaluate([arch])[0]
        out[arch.id] = [score, time.perf_counter() - wall, time.process_time() - cpu]
    return out


class Lookup:
    """Precomputed scores behind the `Evaluator` protocol, so `RankEnsemble` runs unchanged."""

    def __init__(self, name: str, scores: dict[str, list[float]]) -> None:
        self.name, self.scores = name, scores

    def evaluate(self, archs: list[Arch]) -> list[float]:
        return [self.scores[a.id][0] for a in archs]


def rank_quality(scores: np.ndarray, acc: np.ndarray) -> dict[str, float]:
    return {
        "spearman": round(float(stats.spearmanr(-scores, acc).statistic), 4),
        "kendall": round(float(stats.kendalltau(-scores, acc).statistic), 4),
    }


def over_splits(scores: np.ndarray, acc: np.ndarray, splits: list) -> dict[str, Any]:
    """Mean rank quality on the tune halves and on the holdout halves, and the worst holdout."""
    tune = [rank_quality(scores[t], acc[t]) for t, _ in splits]
    hold = [rank_quality(scores[h], acc[h]) for _, h in splits]

    def mean(qs: list[dict[str, float]]) -> dict[str, float]:
        return {k: round(float(np.mean([q[k] for q in qs])), 4) for k in qs[0]}

    return {"tune": mean(tune), "holdout": mean(hold),
            "holdout_min_spearman": min(q["spearman"] for q in hold)}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--space", default="nb201")
    p.add_argument(
        "--truth", type=Path, default=REPO.parent / "shared/benchmarks/nb201_cifar10_dev.csv"
    )
    p.add_argument("--data-root", default=str(REPO.parent / "shared/datasets/cifar10-jpeg"))
    p.add_argument("--cache-dir", default="/tmp/shiftnas-cache")
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--paper-n", type=int, default=20, help="networks for rwe_paper (slow)")
    p.add_argument("--paper-images", type=int, nargs=2, default=[10_000, 5_000])
    p.add_argument("--outside", type=int, default=60, help="networks not in the truth file")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--reference", type=int, default=DEFAULT_REFERENCE, help="default's reference")
    p.add_argument(
        "--resume", type=Path, help="raw scores file: read if it exists (only the missing "
        "networks are scored), written as scores arrive"
    )  # fmt: skip
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1, help="which development networks")
    p.add_argument("--splits", type=int, default=5, help="random tune/holdout halvings")
    p.add_argument("--ensemble-from", help="comma-separated members for the ensemble search")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks/results/evaluator_fidelity.json")
    args = p.parse_args()
    started = time.time()
    space = get_space(args.space)
    with args.truth.open() as f:
        rows = list(csv.DictReader(f))
    pick = np.random.default_rng(args.seed).permutation(len(rows))[: args.n]
    dev = [space.canonical(space.from_string(rows[i]["arch"])) for i in pick]
    acc = np.array([float(rows[i]["cifar10_test_acc_200ep"]) for i in pick])
    truth = {x.id: y for x, y in zip(dev, acc, strict=True)}
    known = {space.canonical(space.from_string(r["arch"])).id for r in rows}
    rng = np.random.default_rng(args.seed + 100)
    outside: dict[str, Arch] = {}
    while len(outside) < args.outside:
        a = space.sample(rng)
        if a.id not in known:
            outside[a.id] = a
    ref_rng = np.random.default_rng(0 + 7_777)  # what RankEnsemble(seed=0) samples
    reference = [space.sample(ref_rng) for _ in range(args.reference)]
    methods = args.methods.split(",")
    results: dict[str, dict[str, list[float]]] = {m: {} for m in methods}
    partial = args.resume or Path("/tmp") / f"evaluator_fidelity.{os.getpid()}.partial.json"
    if args.resume is not None and args.resume.exists():  # scores of an earlier, cut run
        saved = json.loads(args.resume.read_text())
        results = {m: saved.get(m, {}) for m in methods}
    tasks = []
    for m in sorted(methods, key=lambda m: m == "rwe_paper"):  # the slow one last
        archs = dev[: args.paper_n] if m == "rwe_paper" else list(dev)
        if m != "rwe_paper":  # any of them may be an ensemble member: ranked on the reference
            archs += reference + list(outside.values())
        archs = [a for a in dict.fromkeys(archs) if a.id not in results[m]]  # only what is missing
        extra = {}
        if m == "rwe_paper":
            extra = {"train_images": args.paper_images[0], "val_images": args.paper_images[1]}
        chunk = 5 if m == "rwe_paper" else 40
        for k in range(0, len(archs), chunk):
            tasks.append((m, args.space, [list(a.genome) for a in archs[k : k + chunk]], extra, 0))
    if tasks:
        with ProcessPoolExecutor(
            args.workers, initializer=_init_worker, initargs=(args.data_root, args.cache_dir)
        ) as pool:
            for (m, *_), part in zip(tasks, pool.map(_score, tasks), strict=True):
                results[m].update(part)
                partial.write_text(json.dumps(results))  # raw scores, in case of a cut
                print(
                    f"  {m}: {len(results[m])} networks scored ({time.time() - started:.0f} s)",
                    flush=True,
                )

    # protocol: `--splits` random halvings of the development networks; an ensemble is chosen
    # by its mean Spearman on the tune halves and judged by its mean on the holdout halves
    halves = [np.random.default_rng(args.seed + 1 + k).permutation(len(dev)) for k in
              range(args.splits)]  # fmt: skip
    splits = [(h[: len(dev) // 2], h[len(dev) // 2 :]) for h in halves]
    report: dict[str, Any] = {}
    for m in methods:
        archs = [x for x in dev if x.id in results[m]]
        sc = np.array([results[m][x.id][0] for x in archs])
        a = np.array([truth[x.id] for x in archs])
        entry = rank_quality(sc, a)
        entry["n"] = len(archs)
        entry["seconds_per_arch"] = round(float(np.mean([results[m][x.id][1] for x in archs])), 3)
        entry["cpu_seconds_per_arch"] = round(
            float(np.mean([results[m][x.id][2] for x in archs])), 3
        )
        if len(archs) == len(dev):
            entry.update(over_splits(sc, a, splits))
        report[m] = entry

    def ensemble(members: tuple[str, ...], archs: list[Arch], reference_size: int) -> np.ndarray:
        look = [Lookup(m, results[m]) for m in members]
        ens = RankEnsemble(members=look, reference=reference_size, space=space, seed=0)
        return np.array(ens.evaluate(archs))

    if all(m in methods for m in DEFAULT_MEMBERS):
        sc = ensemble(DEFAULT_MEMBERS, dev, args.reference)
        entry = rank_quality(sc, acc)
        entry.update(
            n=len(dev),
            members=list(DEFAULT_MEMBERS),
            reference=args.reference,
            **over_splits(sc, acc, splits),
        )
        for key, col in (("seconds_per_arch", 1), ("cpu_seconds_per_arch", 2)):
            entry[key] = round(
                float(np.mean([sum(results[m][a.id][col] for m in DEFAULT_MEMBERS) for a in dev])),
                3,
            )
        entry["reference_seconds_once"] = round(
            sum(results[m][a.id][1] for m in DEFAULT_MEMBERS for a in reference), 1
        )
        report["default"] = entry
    # Rank ensembles of other member sets: chosen on the tune half, judged on the holdout half.
    pool_members = [m for m in methods if m != "rwe_paper"]
    if args.ensemble_from:  # ensembles only of these (other methods: single rows for comparison)
        pool_members = [m for m in pool_members if m in args.ensemble_from.split(",")]
    combos = {}
    for k in (2, 3, 4, 5):
        for members in itertools.combinations(pool_members, k):
            sc = ensemble(members, dev, 0)
            combos["+".join(members)] = over_splits(sc, acc, splits) | {
                "all": rank_quality(sc, acc)
            }
    best = sorted(combos, key=lambda c: -combos[c]["tune"]["spearman"])[:8]
    report_combos = {c: combos[c] for c in best}

    cols = [m for m in pool_members if m in results] + (["default"] if "default" in report else [])

    def column(m: str, archs: list[Arch]) -> np.ndarray:
        if m == "default":
            return ensemble(DEFAULT_MEMBERS, archs, args.reference)
        return np.array([results[m][a.id][0] for a in archs])

    agreement = {}
    for name, archs in (("development", dev), ("outside", list(outside.values()))):
        table = {m: column(m, archs) for m in cols}
        agreement[name] = {
            f"{x}~{y}": round(float(stats.spearmanr(table[x], table[y]).statistic), 3)
            for x, y in itertools.combinations(cols, 2)
            if "default" in (x, y) or "macs" in (x, y)
        }

    result = {
        "n": len(dev),
        "methods": report,
        "ensembles_chosen_on_tune": report_combos,
        "agreement_spearman": agreement,
        "outside_n": len(outside),
        "settings": {k: str(v) for k, v in vars(args).items()}
        | {"default_members": list(DEFAULT_MEMBERS)},
        "machine": machine_info(),
        "total_seconds": round(time.time() - started, 1),
        "load_average_after": list(os.getloadavg()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"\n{'method':12s} {'n':>4s} {'spearman':>9s} {'kendall':>8s} {'holdout':>8s} "
        f"{'s/net':>7s} {'cpu s':>6s}"
    )
    for m, e in sorted(report.items(), key=lambda kv: -kv[1]["spearman"]):
        hold_s = e.get("holdout", {}).get("spearman", float("nan"))
        print(
            f"{m:12s} {e['n']:4d} {e['spearman']:9.3f} {e['kendall']:8.3f} {hold_s:8.3f} "
            f"{e['seconds_per_arch']:7.2f} {e['cpu_seconds_per_arch']:6.2f}"
        )
    for c in best:
        print(
            f"ensemble {c}: tune {combos[c]['tune']['spearman']:.3f} "
            f"holdout {combos[c]['holdout']['spearman']:.3f}"
        )
    print(f"agreement: {json.dumps(agreement)}\nwrote {args.out}")


if __name__ == "__main__":
    main()
