"""NSGA-II on NAS-Bench-201 (estimator + MACs) beside an equal-budget random search, per seed.

For each seed: (1) NSGA-II minimising the estimator's score (`default` unless `--evaluator`) and
fvcore MACs, population x generations, in `<run-dir>/seed-<s>/search`; its front is taken from
the archive of every network it evaluated, not only the last population. (2) Random search: the
same number of distinct networks drawn uniformly (seeded), scored by the same estimator
(networks the search already scored keep their score: the estimator is seeded per network),
its estimated front kept. Both fronts are judged against the truth at hand (`_nb201_truth`: the
1,000 development networks; the share of front members with a known accuracy is reported).
Everything resumes: kill it and run the same command again.

    nohup nice .venv/bin/python benchmarks/search_nb201.py --seeds 0 1 2 > /tmp/s.log 2>&1 &

Writes `{"runs": [{"seed", "front", "random_front", "evaluations", "wall_seconds",
"hypervolume_per_generation", ...}], "machine", ...}`; a run of other seeds keeps the others.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info
from _nb201_truth import Truth, estimated_front

from shiftnas.data import DataSplits, load_data
from shiftnas.data.settings import DataConfig
from shiftnas.files import read_jsonl, write_json_atomic
from shiftnas.search import get_space
from shiftnas.search.evaluators import get_evaluator
from shiftnas.search.nsga import Measure, macs_measure, run_search
from shiftnas.search.nsga.archive import Archive
from shiftnas.search.nsga.evaluation import Engine
from shiftnas.search.settings import SearchConfig, SearchEvaluatorConfig, SearchObjectiveConfig

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CIFAR = SHARED / "datasets" / "cifar10-jpeg"
DEV = SHARED / "benchmarks" / "nb201_cifar10_dev.csv"


def shuffled(data: DataSplits, seed: int) -> DataSplits:
    """Train and val in a seeded random order: the image folder is sorted by class, and an
    estimator that takes the first N images would otherwise see one class only."""
    g = torch.Generator().manual_seed(seed)
    train = data.train.subset(torch.randperm(len(data.train), generator=g))
    val = data.val.subset(torch.randperm(len(data.val), generator=g))
    return dataclasses.replace(data, train=train, val=val)


def measures(space: Any, name: str, seed: int, cache_dir: str | None) -> list[Measure]:
    """The estimator (made once, before the pool forks) and MACs."""
    made: dict[str, Any] = {}

    def make_error():
        if "evaluator" not in made:
            config = DataConfig(dataset="imagefolder", root=CIFAR, cache_dir=cache_dir)
            data = shuffled(load_data(config, seed), seed)
            made["evaluator"] = get_evaluator(name, space=space, data=data, seed=seed, device="cpu")
        return made["evaluator"].evaluate

    error = Measure("error", "expensive", make_error, bounds=(0.0, 1.0))
    return [error, macs_measure(space)]


class Clock:
    """Wall seconds of one piece of work, summed over a killed and a resumed invocation."""

    def __init__(self, path: Path, record: bool = True) -> None:
        self.path, self.record = path, record

    def __enter__(self) -> Clock:
        self.start = time.time()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.record:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.path, self.total + time.time() - self.start)

    @property
    def total(self) -> float:
        return float(json.loads(self.path.read_text())) if self.path.exists() else 0.0


def random_search(space: Any, found: Archive, n: int, folder: Path, seed: int, ms, workers: int):
    """`n` distinct uniformly drawn networks scored like the search's; their archive."""
    rng = np.random.default_rng(seed + 31_000)
    archs: dict[str, Any] = {}
    while len(archs) < n:
        arch = space.canonical(space.sample(rng))
        archs.setdefault(arch.id, arch)
    archive = Archive(folder / "archive.jsonl")
    for arch in archs.values():  # the estimator is seeded per network: same network, same score
        if arch.id in found and arch.id not in archive:
            archive.add(arch, space.to_string(arch), found.values(arch.id), 0)
    todo = [a for a in archs.values() if a.id not in archive]
    with Engine(ms, [], archive, space.to_string, workers) as engine:
        for k in range(0, len(todo), 50):  # chunks: progress, and a kill loses one chunk at most
            engine.evaluate(todo[k : k + 50], 1)
            print(f"  random: {len(archive)}/{n} scored", flush=True)
    return archive


def one_seed(args: argparse.Namespace, space: Any, truth: Truth, seed: int) -> dict[str, Any]:
    folder = args.run_dir / f"seed-{seed}"
    ms = measures(space, args.evaluator, seed, args.cache_dir)
    settings = SearchConfig(
        population=args.population, generations=args.generations, workers=args.workers,
        novel_offspring=args.novel, mutation_eta=args.mutation_eta,
        evaluator=SearchEvaluatorConfig(name=args.evaluator),
        objectives=[SearchObjectiveConfig(name="error", bounds=(0.0, 1.0)),
                    SearchObjectiveConfig(name="macs")],
    )  # fmt: skip
    record = not args.report_only
    with Clock(folder / "search_wall_seconds.json", record) as search_clock:
        # made (and its reference networks scored) before a pool forks: workers inherit it;
        # this one-off setup counts in the search's wall time
        if not args.report_only:
            ms[0].make()([space.sample(np.random.default_rng(seed))])
        result = run_search(space, ms, settings, folder / "search", seed, progress=True)
    found = Archive(folder / "search" / "archive.jsonl")
    with Clock(folder / "random_wall_seconds.json", record) as random_clock:
        rand = random_search(space, found, len(found), folder / "random", seed, ms, args.workers)
    metrics = list(read_jsonl(folder / "search" / "metrics.jsonl"))

    def entries(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"arch": r["string"], "estimate": round(r["objectives"]["error"], 5),
             "macs": int(r["objectives"]["macs"]), "true_acc": truth.acc.get(r["id"])}
            for r in records
        ]  # fmt: skip

    front, random_front = estimated_front(found.all()), estimated_front(rand.all())
    return {
        "seed": seed,
        "front": entries(front),
        "random_front": entries(random_front),
        "evaluations": len(found),
        "random_evaluations": len(rand),
        "generations": result.generations,
        "wall_seconds": round(search_clock.total, 1),
        "random_wall_seconds": round(random_clock.total, 1),
        "hypervolume_per_generation": [round(m["hypervolume"], 5) for m in metrics],
        # Zitzler's coverage: the share of one front weakly dominated by a member of the other
        "coverage_in_estimated_objectives": {
            "search_covers_random": coverage(front, random_front),
            "random_covers_search": coverage(random_front, front),
        },
        "estimate_hypervolume": {
            "search": estimate_hv(front, truth),
            "random": estimate_hv(random_front, truth),
        },
        "judged_on_dev_truth": {
            "search": truth.judge([r["id"] for r in front], list(found.records)),
            "random": truth.judge([r["id"] for r in random_front], list(rand.records)),
        },
    }


def coverage(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> float:
    """C(A, B): the fraction of B's members weakly dominated by some member of A (Zitzler &
    Thiele 1999, IEEE TEC 3(4)), in the search's objectives (estimate, MACs)."""
    pa = np.array([[r["objectives"]["error"], r["objectives"]["macs"]] for r in a])
    pb = np.array([[r["objectives"]["error"], r["objectives"]["macs"]] for r in b])
    covered = [bool(np.any(np.all(pa <= x, axis=1))) for x in pb]
    return round(float(np.mean(covered)), 4) if covered else 0.0


def estimate_hv(records: list[dict[str, Any]], truth: Truth) -> float:
    """Hypervolume in the search's own objectives: estimate in [0, 1], MACs / (1.1 x the
    largest MACs of the space), reference (1, 1); search and random compare directly."""
    from pymoo.indicators.hv import HV

    top = 1.1 * (truth.macs.base + 6 * max(truth.macs.cost.values()))
    F = np.array([[r["objectives"]["error"], r["objectives"]["macs"] / top] for r in records])
    return round(float(HV(ref_point=np.ones(2))(F.reshape(-1, 2))), 5)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    # chosen on the synflow lookup table (benchmarks/search_levers_nb201.py): population 20,
    # novel offspring, mutation eta 10 found the most of the exact front at 640 networks
    p.add_argument("--population", type=int, default=20)
    p.add_argument("--generations", type=int, default=32)
    p.add_argument("--mutation-eta", type=float, default=10.0)
    p.add_argument("--evaluator", default="default")
    p.add_argument(
        "--novel", action=argparse.BooleanOptionalAction, default=True,
        help="search.novel_offspring: every generation brings `population` unseen networks",
    )  # fmt: skip
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--cache-dir", default="/tmp/shiftnas-cache")
    p.add_argument(
        "--report-only", action="store_true",
        help="judge finished runs again from their archives: nothing is evaluated or timed",
    )  # fmt: skip
    p.add_argument("--run-dir", type=Path, default=Path("/tmp/shiftnas-bench-search-nb201"))
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/search_nb201.json")
    args = p.parse_args()
    if not CIFAR.exists() or not DEV.exists():
        print(f"skipped: needs {CIFAR} and {DEV}")
        return
    torch.set_num_threads(1)
    space = get_space("nb201")
    truth = Truth(space, DEV)
    old = json.loads(args.out.read_text()) if args.out.exists() else {}
    runs = {r["seed"]: r for r in old.get("runs", []) if old.get("evaluator") == args.evaluator}
    unfinished = [
        s for s in args.seeds if not (args.run_dir / f"seed-{s}/random/archive.jsonl").exists()
    ]
    if args.report_only and unfinished:  # report-only must not start evaluating
        print(f"--report-only: seed {unfinished[0]} has no finished run in {args.run_dir}: "
              "run it without --report-only first", file=sys.stderr)  # fmt: skip
        sys.exit(2)
    for seed in args.seeds:
        runs[seed] = one_seed(args, space, truth, seed)
        out = {
            "benchmark": "search_nb201",
            "evaluator": args.evaluator,
            "settings": {"population": args.population, "generations": args.generations,
                         "workers": args.workers, "novel_offspring": args.novel,
                         "mutation_eta": args.mutation_eta,
                         "data": "CIFAR-10 JPEG train split, "
                         "shuffled with the seed; estimator seeded with the run's seed"},
            "truth": {"file": DEV.name, "networks": len(truth.acc),
                      "true_front": [{"arch": space.to_string(truth.arch[i]),
                                      "true_acc": truth.acc[i], "macs": truth.macs(truth.arch[i])}
                                     for i in truth.front],
                      "reference_point_error_pct_macs_m": truth.reference.round(4).tolist()},
            "runs": [runs[s] for s in sorted(runs)],
            "machine": machine_info(),
        }  # fmt: skip
        write_json_atomic(args.out, out)
        report(runs[seed])
    print(f"written {args.out}")


def report(run: dict[str, Any]) -> None:
    j = run["judged_on_dev_truth"]
    print(f"seed {run['seed']}: {run['evaluations']} networks, {run['wall_seconds']:.0f} s search, "
          f"{run['random_wall_seconds']:.0f} s random")  # fmt: skip
    print(f"{'':8} {'front':>6} {'w/ truth':>8} {'HV front':>9} {'HV evaluated':>13} {'est HV':>7}")
    for k in ("search", "random"):
        print(
            f"{k:8} {j[k]['front_members']:>6} {j[k]['front_members_with_truth']:>8} "
            f"{j[k]['hypervolume_ratio_front']:>9.4f} {j[k]['hypervolume_ratio_evaluated']:>13.4f} "
            f"{run['estimate_hypervolume'][k]:>7.4f}"
        )


if __name__ == "__main__":
    main()
