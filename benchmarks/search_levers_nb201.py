"""Which NSGA-II settings find the front on NAS-Bench-201? Judged where the answer is known.

The search's job is to find the front of its own objectives; whether the estimator ranks like
training is a separate question (`evaluator_fidelity.py`). This separates the two: every one of
the 12,205 canonical NB201 networks is scored once with `synflow` (0.07 s a network) and MACs,
so the exact front of (synflow score, MACs) is known; searches then run on that lookup table in
seconds, and each setting gets many seeds. Measured per setting at an equal budget of distinct
evaluations: the hypervolume of the found front as a fraction of the exact front's
(objectives min-max normalised over the space, reference point 1.1 x the exact front's worst),
the share of the exact front's members found, and IGD+ to the exact front, against random
search with the same number of networks.

    nohup nice .venv/bin/python benchmarks/search_levers_nb201.py > /tmp/levers.log 2>&1 &
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info
from _nb201_truth import MacsModel
from search_nb201 import CIFAR, shuffled

from shiftnas.data import load_data
from shiftnas.data.settings import DataConfig
from shiftnas.files import write_json_atomic
from shiftnas.search import Arch, get_space
from shiftnas.search.evaluators import get_evaluator
from shiftnas.search.nsga import Measure, run_search
from shiftnas.search.nsga.metrics import front_indices
from shiftnas.search.settings import SearchConfig, SearchObjectiveConfig

ROOT = Path(__file__).resolve().parents[1]
# name: (population, front taken from, mutation eta, novel offspring, first population)
SETTINGS = {
    "pop20_last_population": (20, "population", 3.0, False, "random"),
    "pop20_archive": (20, "archive", 3.0, False, "random"),
    "pop20_archive_novel": (20, "archive", 3.0, True, "random"),
    "pop32_archive_novel": (32, "archive", 3.0, True, "random"),
    "pop50_archive_novel": (50, "archive", 3.0, True, "random"),
    "pop32_archive_novel_eta10": (32, "archive", 10.0, True, "random"),
    "pop20_archive_eta10": (20, "archive", 10.0, False, "random"),
    "pop20_archive_novel_eta10": (20, "archive", 10.0, True, "random"),
    "pop20_archive_novel_eta10_spread": (20, "archive", 10.0, True, "spread"),
    "pop32_archive_novel_eta10_spread": (32, "archive", 10.0, True, "spread"),
    "pop20_archive_eta10_spread": (20, "archive", 10.0, False, "spread"),
}


def _score_chunk(genomes: list[tuple[int, ...]]) -> list[float]:
    torch.set_num_threads(1)
    space = get_space("nb201")
    data = shuffled(load_data(DataConfig(dataset="imagefolder", root=CIFAR,
                                         cache_dir="/tmp/shiftnas-cache"), 0), 0)  # fmt: skip
    ev = get_evaluator("synflow", space=space, data=data, seed=0, device="cpu")
    return [float(ev.evaluate([Arch("nb201", g)])[0]) for g in genomes]


def table(path: Path, workers: int) -> dict[tuple[int, ...], float]:
    """synflow score of every canonical network (cached in `path`)."""
    if path.exists():
        return {tuple(json.loads(k)): v for k, v in json.loads(path.read_text()).items()}
    space = get_space("nb201")
    genomes = sorted({space.canonical(Arch("nb201", g)).genome
                      for g in itertools.product(range(5), repeat=6)})  # fmt: skip
    chunks = [genomes[k : k + 500] for k in range(0, len(genomes), 500)]
    scores: list[float] = []
    with ProcessPoolExecutor(workers) as pool:
        for part in pool.map(_score_chunk, chunks):
            scores += part
            print(f"  scored {len(scores)}/{len(genomes)}", flush=True)
    out = dict(zip(genomes, scores, strict=True))
    write_json_atomic(path, {json.dumps(list(g)): v for g, v in out.items()})
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--evaluations", type=int, default=600)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--settings", help="comma-separated names of SETTINGS (default: all)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--table", type=Path, default=Path("/tmp/nb201_synflow_table.json"))
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/search_levers_nb201.json")
    args = p.parse_args()
    if not CIFAR.exists():
        print(f"skipped: needs {CIFAR}")
        return
    started = time.time()
    space = get_space("nb201")
    scores = table(args.table, args.workers)
    macs = MacsModel(space)
    genomes = list(scores)
    F = np.array([[scores[g], macs(Arch("nb201", g))] for g in genomes], float)
    low, high = F.min(axis=0), F.max(axis=0)
    norm = lambda X: (np.asarray(X, float) - low) / (high - low)  # noqa: E731
    exact = front_indices(F, np.ones(len(F), bool))
    ref = 1.1 * norm(F[exact]).max(axis=0)
    from pymoo.indicators.hv import HV

    hv = HV(ref_point=ref)
    exact_hv = float(hv(norm(F[exact])))
    lookup = {Arch("nb201", g).id: s for g, s in scores.items()}
    error = Measure("error", "expensive", lambda: lambda archs: [lookup[a.id] for a in archs])
    macs_m = Measure("macs", "cheap", lambda: lambda archs: [float(macs(a)) for a in archs])

    from pymoo.indicators.igd_plus import IGDPlus

    igd = IGDPlus(norm(F[exact]))
    exact_points = {tuple(x) for x in F[exact]}

    def quality(points: np.ndarray) -> dict[str, float]:
        """HV ratio to the exact front, share of its members found, IGD+ (normalised)."""
        front = points[front_indices(points, np.ones(len(points), bool))]
        return {
            "hv_ratio": float(hv(norm(front))) / exact_hv,
            "exact_front_found": len(exact_points & {tuple(x) for x in front}) / len(exact),
            "igd_plus": float(igd(norm(front))),
        }

    results: dict[str, Any] = {}
    chosen = args.settings.split(",") if args.settings else list(SETTINGS)
    for name in chosen:
        pop, source, eta, novel, initial = SETTINGS[name]
        ratios, evals = [], []
        for seed in range(args.seeds):
            gens = int(np.ceil(args.evaluations / pop))
            with tempfile.TemporaryDirectory() as tmp:
                while True:  # more generations until the budget of distinct networks is spent
                    settings = SearchConfig(
                        population=pop, generations=gens, workers=1, mutation_eta=eta,
                        novel_offspring=novel, initial_population=initial,
                        objectives=[SearchObjectiveConfig(name=n) for n in ("error", "macs")],
                    )  # fmt: skip
                    res = run_search(
                        space, [error, macs_m], settings, Path(tmp), seed, progress=False
                    )
                    if res.evaluations >= args.evaluations or res.stopped or gens > 500:
                        break
                    gens += int(np.ceil((args.evaluations - res.evaluations) / pop))
                archive = [json.loads(x) for x in (Path(tmp) / "archive.jsonl").open()]
            pool = res.front if source == "population" else archive
            pts = np.array([[r["objectives"]["error"], r["objectives"]["macs"]] for r in pool])
            ratios.append(quality(pts))
            evals.append(len(archive))
        results[name] = summary(ratios) | {"evaluations_mean": float(np.mean(evals))}
        show(name, results[name])
    for n in sorted({round(r["evaluations_mean"]) for r in results.values()}):
        ratios = []
        for seed in range(args.seeds):
            pick = np.random.default_rng(seed + 31_000).choice(len(F), n, replace=False)
            ratios.append(quality(F[pick]))
        results[f"random_{n}"] = summary(ratios) | {"evaluations_mean": n}
        show(f"random_{n}", results[f"random_{n}"])
    write_json_atomic(args.out, {
        "benchmark": "search_levers_nb201", "objectives": ["synflow score (lookup)", "macs"],
        "networks_in_space": len(F), "exact_front_size": len(exact),
        "budget_distinct_evaluations": args.evaluations, "seeds": args.seeds,
        "settings": {k: {"population": v[0], "front_from": v[1], "mutation_eta": v[2],
                         "novel_offspring": v[3], "initial_population": v[4]}
                     for k, v in SETTINGS.items() if k in chosen},
        "quality_against_exact_front": results,
        "total_seconds": round(time.time() - started, 1), "machine": machine_info(),
    })  # fmt: skip
    print(f"written {args.out}")


def summary(values: list[dict[str, float]]) -> dict[str, Any]:
    """Mean, std and worst over seeds of each quality measure."""
    out: dict[str, Any] = {}
    for key in values[0]:
        a = np.array([v[key] for v in values])
        worst = a.max() if key == "igd_plus" else a.min()
        out[key] = {"mean": round(float(a.mean()), 4), "std": round(float(a.std()), 4),
                    "worst": round(float(worst), 4)}  # fmt: skip
    return out


def show(name: str, r: dict[str, Any]) -> None:
    h, f, g = r["hv_ratio"], r["exact_front_found"], r["igd_plus"]
    print(f"{name:26} HV ratio {h['mean']:.4f} +- {h['std']:.4f} (worst {h['worst']:.4f})  "
          f"front found {f['mean']:.2f}  IGD+ {g['mean']:.4f}  "
          f"{r['evaluations_mean']:.0f} networks", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
