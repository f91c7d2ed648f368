"""NSGA-II on NAS-Bench-201 with a cheap estimator and MACs, judged against the known truth.

Objectives: the estimator's score (issue 4's `default`; if not registered, `rwe`, the variant
its README chose by measurement) and fvcore MACs. Population 20; generations 30, or fewer so the
search fits `--budget-minutes` (estimated from timing a few networks first; the JSON says which).
Then, with ../shared/benchmarks/nb201_cifar10_dev.csv (1000 networks with their true CIFAR-10
accuracy): the true accuracy of front networks found in it, the true Pareto front of (true error,
MACs) among those 1000, each found network's gap to the best true error reachable at its MACs, and
the estimator's Spearman rho on every evaluated network that has a true accuracy.

    nohup .venv/bin/python benchmarks/search_nb201.py > /tmp/search_nb201.log 2>&1 &
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info

from shiftnas.data import DataSplits, load_data
from shiftnas.data.settings import DataConfig
from shiftnas.profiling import count_macs
from shiftnas.search import Arch, get_space
from shiftnas.search.evaluators import get_evaluator, list_evaluators
from shiftnas.search.nsga import Measure, macs_measure, run_search
from shiftnas.search.nsga.metrics import front_indices
from shiftnas.search.settings import SearchConfig, SearchEvaluatorConfig, SearchObjectiveConfig

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CIFAR = SHARED / "datasets" / "cifar10-jpeg"
DEV = SHARED / "benchmarks" / "nb201_cifar10_dev.csv"
SHAPE = (1, 3, 32, 32)


def shuffled(data: DataSplits, seed: int) -> DataSplits:
    """Train and val in a seeded random order: the image folder is sorted by class, and an
    estimator that takes the first N images would otherwise see one class only."""
    g = torch.Generator().manual_seed(seed)
    train = data.train.subset(torch.randperm(len(data.train), generator=g))
    val = data.val.subset(torch.randperm(len(data.val), generator=g))
    return dataclasses.replace(data, train=train, val=val)


def macs_model(space) -> tuple[int, dict[int, int]]:
    """MACs = base + sum over the canonical genome's edges of one cost per op (every edge of a
    cell sees the same channels), fitted on edge 0->3, which always reaches the output."""
    base = count_macs(space.build(Arch("nb201", (0,) * 6)), SHAPE)
    cost = {0: 0}
    for op in range(1, 5):
        genome = (0, 0, 0, op, 0, 0)
        cost[op] = count_macs(space.build(Arch("nb201", genome)), SHAPE) - base  # type: ignore[operator]
    return base, cost  # type: ignore[return-value]


def model_macs(space, base: int, cost: dict[int, int], arch: Arch) -> int:
    return base + sum(cost[g] for g in space.canonical(arch).genome)


def true_front(points: np.ndarray) -> np.ndarray:
    return front_indices(points, np.ones(len(points), bool))


def hv2(points: np.ndarray, ref: np.ndarray) -> float:
    from pymoo.indicators.hv import HV

    inside = points[np.all(points <= ref, axis=1)]
    return float(HV(ref_point=ref)(inside)) if len(inside) else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=20)
    parser.add_argument(
        "--generations",
        type=int,
        default=None,
        help="30 for a new run (fewer if the budget is short); on resume: the planned number, "
        "or this one (a smaller one ends the search at the generation already reached)",
    )
    parser.add_argument("--budget-minutes", type=float, default=30.0)
    parser.add_argument("--evaluator", default="auto")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--run-dir", type=Path, default=Path("/tmp/shiftnas-bench-search-nb201"))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/search_nb201.json")
    args = parser.parse_args()
    if not CIFAR.exists() or not DEV.exists():
        print(f"skipped: needs {CIFAR} and {DEV}")
        return
    torch.set_num_threads(1)
    name = args.evaluator
    if name == "auto":
        name = "default" if "default" in list_evaluators() else "rwe"
    space = get_space("nb201")

    # one evaluator, made (and set up) before the worker pool forks: what it computes once (the
    # `default` ensemble scores fixed reference networks) is inherited by the workers
    cache: dict[str, object] = {}

    def make_error():
        if "evaluator" not in cache:  # data and evaluator only when something is evaluated
            started = time.time()
            config = DataConfig(dataset="imagefolder", root=CIFAR)
            data = shuffled(load_data(config, args.seed), args.seed)
            cache["data_load_seconds"] = round(time.time() - started, 1)
            cache["evaluator"] = get_evaluator(
                name, space=space, data=data, seed=args.seed, device="cpu"
            )
        return cache["evaluator"].evaluate  # type: ignore[attr-defined]

    unit = name in ("default", "ensemble") or name.startswith("rwe")  # scores in [0, 1]
    error = Measure("error", "expensive", make_error, bounds=(0.0, 1.0) if unit else None)
    macs = macs_measure(space)

    probe = [space.sample(np.random.default_rng(10_000 + i)) for i in range(3)]
    plan_path = args.run_dir / "bench_plan.json"
    if plan_path.exists():  # resuming (or re-judging) a run: its plan, no probe
        plan = json.loads(plan_path.read_text())
        generations = args.generations or plan["generations"]
    else:  # how many generations fit the budget: time a few networks (estimator + MACs)
        t0 = time.time()
        make_error()(probe[:1])  # the ensemble's one-off reference scoring happens here
        setup_seconds = time.time() - t0 - float(cache["data_load_seconds"])  # type: ignore[arg-type]
        t0 = time.time()
        make_error()(probe[1:])
        macs.make()(probe[1:])
        per_network = (time.time() - t0) / len(probe[1:])
        speedup = max(1.0, 0.75 * args.workers)
        fit = int(args.budget_minutes * 60 / (args.population * per_network / speedup))
        generations = max(2, min(args.generations or 30, fit))
        members = [m.name for m in getattr(cache["evaluator"], "members", [])]
        plan = {"generations": generations, "seconds_per_network_probe": round(per_network, 3),
                "evaluator_setup_seconds": round(setup_seconds, 1), "evaluator_members": members,
                "evaluator_note": (cache["evaluator"].__doc__ or "").split("\n")[0],
                "data_load_seconds": cache["data_load_seconds"]}  # fmt: skip
        args.run_dir.mkdir(parents=True, exist_ok=True)
        plan_path.write_text(json.dumps(plan))
    per_network = plan["seconds_per_network_probe"]
    print(
        f"estimator {name}: {per_network:.2f} s/network with MACs; running "
        f"{args.population} x {generations} generations",
        flush=True,
    )

    settings = SearchConfig(
        population=args.population, generations=generations, workers=args.workers,
        evaluator=SearchEvaluatorConfig(name=name),
        objectives=[SearchObjectiveConfig(name="error", bounds=error.bounds),
                    SearchObjectiveConfig(name="macs")],
    )  # fmt: skip
    t0 = time.time()
    result = run_search(space, [error, macs], settings, args.run_dir, args.seed, progress=False)
    # wall time of the search summed over invocations (a killed and resumed run counts twice
    # only for what it really did)
    spent = args.run_dir / "bench_wall_seconds.json"
    wall = time.time() - t0 + (json.loads(spent.read_text()) if spent.exists() else 0.0)
    spent.write_text(json.dumps(wall))

    # ---- the truth we know ---------------------------------------------------------------
    rows = list(csv.DictReader(DEV.open()))
    base, cost = macs_model(space)
    check = [space.from_string(r["arch"]) for r in rows[:5]] + probe
    for arch in check:  # the additive model must equal fvcore exactly
        assert model_macs(space, base, cost, arch) == count_macs(space.build(arch), SHAPE)
    truth: dict[str, float] = {}
    dev_macs: dict[str, int] = {}
    for r in rows:
        arch = space.canonical(space.from_string(r["arch"]))
        truth.setdefault(arch.id, float(r["cifar10_test_acc_200ep"]))
        dev_macs[arch.id] = model_macs(space, base, cost, arch)
    ids = list(truth)
    dev_points = np.array([[100.0 - truth[i], dev_macs[i] / 1e6] for i in ids])
    dev_front = [ids[k] for k in true_front(dev_points)]
    dev_front.sort(key=lambda i: dev_macs[i])

    front = []
    for entry in result.front:
        arch = Arch.from_json(entry["arch"])
        macs = entry["objectives"]["macs"]
        reachable = [100.0 - truth[i] for i in ids if dev_macs[i] <= macs]
        item = {"arch": entry["string"], "id": entry["id"], "error": entry["objectives"]["error"],
                "macs": int(macs), "true_acc": truth.get(arch.id),
                "best_true_error_in_dev_at_or_below_these_macs":
                    min(reachable) if reachable else None}  # fmt: skip
        if item["true_acc"] is not None and reachable:
            item["gap_to_dev_front_points"] = round(100.0 - item["true_acc"] - min(reachable), 4)
        front.append(item)

    gaps = [f["gap_to_dev_front_points"] for f in front if "gap_to_dev_front_points" in f]
    archive = [json.loads(line) for line in (args.run_dir / "archive.jsonl").open()]
    known = [(r["objectives"]["error"], truth[r["id"]]) for r in archive if r["id"] in truth]
    # all evaluated networks with a true accuracy: their true front against the dev's true front
    seen = [r for r in archive if r["id"] in truth]
    seen_points = np.array([[100.0 - truth[r["id"]], dev_macs[r["id"]] / 1e6] for r in seen])
    seen_front = true_front(seen_points) if len(seen) else np.zeros(0, int)
    seen_gaps = [
        100.0 - truth[seen[k]["id"]]
        - min(100.0 - truth[i] for i in ids if dev_macs[i] <= dev_macs[seen[k]["id"]])
        for k in seen_front
    ]  # fmt: skip
    rho = None
    if len(known) >= 5:
        from scipy.stats import spearmanr

        rho = float(spearmanr([-e for e, _ in known], [a for _, a in known]).statistic)
    found_known = np.array([[100.0 - f["true_acc"], f["macs"] / 1e6] for f in front
                            if f["true_acc"] is not None]).reshape(-1, 2)  # fmt: skip
    # reference point: 1 point worse than the worst true error on either front, 1.1 x max MACs
    worst = max([*dev_points[true_front(dev_points), 0], *found_known[:, 0]])
    ref = np.array([worst + 1.0, dev_points[:, 1].max() * 1.1])
    hv_dev = hv2(dev_points[true_front(dev_points)], ref)
    hv_found = hv2(found_known, ref) if len(found_known) else 0.0
    hv_seen = hv2(seen_points[seen_front], ref) if len(seen_front) else 0.0
    visited = {
        "n": len(seen),
        "true_front": [
            {"arch": r["string"], "true_error": round(100.0 - truth[r["id"]], 4),
             "macs": dev_macs[r["id"]], "estimator_error": r["objectives"]["error"]}
            for r in (seen[k] for k in seen_front)
        ],
        "mean_gap_to_dev_true_front_points": float(np.mean(seen_gaps)) if seen_gaps else None,
        "hypervolume_ratio_to_dev_true_front": hv_seen / hv_dev if hv_dev else None,
    }  # fmt: skip

    out = {
        "benchmark": "search_nb201",
        "evaluator": name,
        "evaluator_note": plan.get("evaluator_note"),
        "evaluator_members": plan.get("evaluator_members"),
        "data": "CIFAR-10 (JPEG) train split 40k/10k, shuffled with the seed (see `shuffled`)",
        "population": args.population,
        "generations": result.generations,
        "generations_planned": plan["generations"],
        "workers": args.workers,
        "seed": args.seed,
        "seconds_per_network_probe": per_network,
        "wall_seconds": round(wall, 1),
        "data_load_seconds": plan.get("data_load_seconds"),
        "evaluator_setup_seconds": plan.get("evaluator_setup_seconds"),
        "evaluations": result.evaluations,
        "final_hypervolume_normalised": result.hypervolume,
        "front": front,
        "front_networks_with_true_acc": len(found_known),
        "mean_gap_to_dev_true_front_points": float(np.mean(gaps)) if gaps else None,
        "dev_true_front": [
            {"id": i, "true_error": round(100.0 - truth[i], 4), "macs": dev_macs[i]}
            for i in dev_front
        ],
        "hypervolume_true_error_macs": {
            "reference_point": ref.tolist(),
            "dev_true_front": hv_dev,
            "found_front_networks_with_known_truth": hv_found,
            "ratio": hv_found / hv_dev if hv_dev else None,
        },
        "estimator_spearman_on_evaluated_with_truth": {"n": len(known), "rho": rho},
        "evaluated_with_truth": visited,
        "machine": machine_info(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"{'arch':<70} {'error':>8} {'MMACs':>8} {'true acc':>9}")
    for f in front:
        acc = "-" if f["true_acc"] is None else f"{f['true_acc']:.2f}"
        print(f"{f['arch']:<70} {f['error']:>8.4f} {f['macs'] / 1e6:>8.1f} {acc:>9}")
    print(
        f"wall {wall:.0f} s, {result.evaluations} networks, {result.generations} generations; "
        f"HV ratio (known truth) {out['hypervolume_true_error_macs']['ratio']}; rho {rho}"
    )
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
