"""NSGA-II on NAS-Bench-Macro (estimated error, MACs) beside an equal-budget random search,
both judged against the benchmark's whole truth.

    .venv/bin/python benchmarks/nbmacro_search.py [--estimator inherited --supernet CKPT
        [--surrogate additive] | --estimator naswot | --estimator oracle] [--seeds 0 1 2]
        [--population 20 --generations 20] [--work DIR] [--report-only]

Truth: NAS-Bench-Macro (Su et al., CVPR 2021, arXiv:2103.11922; Apache-2.0, from the public
repository xiusu/NAS-Bench-Macro; `../shared/benchmarks/nas-bench-macro/`), the mean test accuracy
of each of its 3,969 distinct networks after three 50-epoch trainings.
Per seed: (1) shiftnas's NSGA-II (`run_search`, novel offspring: each generation brings
`population` unseen networks, so population x generations = at most 400 evaluations, 10% of
the space) minimising an estimated error and fvcore MACs; the found front is the non-dominated
set of everything it evaluated, in its own (estimated) objectives. The error is
- `inherited`: 1 - inherited accuracy on the supernet `--supernet` (BN recalibrated as in
  `nbmacro_supernet_ranking.py`, whose settings file, beside the supernet's folder, it reads);
- a training-free estimator (`naswot`, the product's default on this space, ...): its score as
  `shiftnas eval` prints it, built as `nbmacro_estimators.py` builds it;
- `inherited --surrogate additive`: 1 - an additive (layer, op) least-squares fit of the
  inherited accuracies already scored on that supernet (`nbmacro_supernet_ranking.py`'s networks,
  stratified over MACs): those are its only supernet evaluations, and every network the search or
  the random baseline asks for is read off the fit;
- `naswot --surrogate additive` (any training-free estimator): the same fit of the estimator's
  scores of the first `--fit-networks` networks of `nbmacro_estimators.py`'s tune half (its
  scoring order, spread over MACs), as the product's `search.evaluator.surrogate` does;
- `oracle`: the benchmark's own test error, so NSGA-II's result with a perfect estimate.
(2) Random search: as many distinct networks drawn with the space's sampler, scored the same
way, its estimated front kept. Both fronts are then judged in (true test error %, MACs M): the
hypervolume ratio to the true front's (reference point 10% beyond the true front's worst error
and worst MACs) and IGD to the true front (both axes divided by the reference point).
Scores are cached where the ranking and estimator benchmarks keep theirs (`scores/<supernet
folder>.jsonl` beside the supernet, `runs/bench-nbmacro-estimators/scores.jsonl`), so no network
is scored twice and a killed run resumes; `wall_seconds` therefore counts only new scores (None
with `--report-only`). Seeds can run as separate processes (`--seeds 1 --out ...`) sharing
those caches; `--report-only` with every seed then writes the one JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _machine import machine_info  # noqa: E402
from nbmacro_supernet_ranking import (  # noqa: E402
    BENCH,
    CIFAR,
    additive_model,
    data_splits,
    scored,
    stratified,
    truth,
)

OUT = ROOT / "benchmarks" / "results" / "nbmacro_search.json"
WORK = ROOT / "runs" / "bench-nbmacro-search"


class TrueFront:
    """True (error %, MACs M) of every canonical network, its Pareto front and reference."""

    def __init__(self) -> None:
        from shiftnas.search.nsga.metrics import front_indices

        raw = json.loads(BENCH.read_text())
        self.acc = truth()
        self.macs = {g: raw[g]["flops"] / 1e6 for g in self.acc}
        keys = list(self.acc)
        points = self.points(keys)
        self.front = [keys[k] for k in front_indices(points, np.ones(len(keys), bool))]
        self.reference = 1.1 * self.points(self.front).max(axis=0)

    def points(self, keys: list[str]) -> np.ndarray:
        return np.array([[100.0 - self.acc[k], self.macs[k]] for k in keys], float).reshape(-1, 2)

    def hypervolume(self, keys: list[str]) -> float:
        from pymoo.indicators.hv import HV

        points = self.points(keys)
        inside = points[np.all(points <= self.reference, axis=1)]
        return float(HV(ref_point=self.reference)(inside)) if len(inside) else 0.0

    def judge(self, keys: list[str]) -> dict[str, Any]:
        from pymoo.indicators.igd import IGD

        igd = IGD(self.points(self.front) / self.reference)(self.points(keys) / self.reference)
        return {
            "hypervolume_ratio": round(self.hypervolume(keys) / self.hypervolume(self.front), 4),
            "igd": round(float(igd), 5),
            "true_front_members_found": len(set(keys) & set(self.front)),
        }


class CachedScores:
    """`archs -> scores` through a JSON-lines cache that other runs share: a network is computed
    (by `compute`, built on the first miss only) once, ever; a killed run loses one line at most.
    `read(path)` gives {genome: value}; `compute(genome)` the line to write; `value(line)` its
    value."""

    def __init__(self, space: Any, path: Path, build: Any, read: Any, value: Any) -> None:
        self.space, self.path, self.build, self.read, self.value = space, path, build, read, value
        self.compute: Any = None

    def __call__(self, archs: list) -> list[float]:
        done, out = self.read(self.path), []
        for arch in archs:
            key = self.space.to_string(self.space.canonical(arch))
            if key not in done:
                if self.compute is None:
                    self.compute = self.build()
                line = self.compute(key)
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a") as f:
                    f.write(json.dumps(line) + "\n")
                done[key] = self.value(line)
            out.append(done[key])
        return out


def error_measure(space: Any, args: Any) -> Any:
    """The search's `error` (lower = predicted better): 1 - inherited accuracy on `--supernet`,
    a training-free estimator's score as `shiftnas eval` prints it, or (`oracle`) the true test
    error, the upper bound of what a perfect estimate would let NSGA-II find."""
    from shiftnas.search.nsga import Measure

    if args.estimator == "oracle":
        acc = truth()

        def make_oracle():  # type: ignore[no-untyped-def]
            return lambda archs: [1.0 - acc[space.to_string(space.canonical(a))] / 100.0
                                  for a in archs]  # fmt: skip

        return Measure("error", "cheap", make_oracle, bounds=(0.0, 1.0), fraction=True)
    if args.estimator == "inherited":
        cache = args.ranking_work / "scores" / f"{args.supernet.parent.name}.jsonl"

        def build_inherited():  # type: ignore[no-untyped-def]
            import torch

            from shiftnas.search.evaluators import InheritedEvaluator
            from shiftnas.search.supernet import load_supernet

            torch.set_num_threads(1)
            evaluator = InheritedEvaluator(
                load_supernet(space, args.supernet), data_splits(args), args.bn_batches,
                batch_size=128,
            )  # fmt: skip
            return lambda key: {
                "arch": key,
                "value": round(1.0 - evaluator.error(space.from_string(key)), 5),
            }

        if args.surrogate == "additive":
            # only the ranking benchmark's 250 networks: a direct search shares this cache and
            # adds its own networks to it, which must not change the fit
            raw = json.loads(BENCH.read_text())
            planned = set(stratified({g: raw[g] for g in truth()}, 250))
            fitted = {g: v for g, v in scored(cache).items() if g in planned}
            if len(fitted) < 50:
                raise SystemExit(f"--surrogate additive needs >= 50 scored networks in {cache}")
            return additive_measure(space, args, fitted, lambda v: 1.0 - v)

        def make_inherited():  # type: ignore[no-untyped-def]
            return CachedScores(space, cache, build_inherited,
                                lambda path: {k: 1.0 - v for k, v in scored(path).items()},
                                lambda line: 1.0 - line["value"])  # fmt: skip

        return Measure("error", "expensive", make_inherited, bounds=(0.0, 1.0), fraction=True)
    from nbmacro_estimators import WORK as ESTIMATOR_WORK
    from nbmacro_estimators import Scorer, read_scores

    est = args.estimator

    def build_estimator():  # type: ignore[no-untyped-def]
        scorer = Scorer()
        return lambda key: scorer.score("nbmacro", est, key)

    def make_estimator():  # type: ignore[no-untyped-def]
        return CachedScores(
            space, ESTIMATOR_WORK / "scores.jsonl", build_estimator,
            lambda path: {g: r["score"] for (f, e, g), r in read_scores(path).items()
                          if f == "nbmacro" and e == est},
            lambda line: line["score"],
        )  # fmt: skip

    if args.surrogate == "additive":  # fitted on the first tune networks, scored once
        from nbmacro_estimators import nbmacro_truth, scoring_order, split_halves

        records = nbmacro_truth()
        order = scoring_order(stratified(records, 1000))
        tune = set(split_halves(sorted(order, key=lambda g: (records[g]["flops"], g)))[0])
        fit_on = [g for g in order if g in tune][: args.fit_networks]
        scores = make_estimator()([space.from_string(g) for g in fit_on])
        fitted = dict(zip(fit_on, scores, strict=True))
        return additive_measure(space, args, fitted, lambda v: v, est)
    return Measure("error", "expensive", make_estimator, estimate=est)


def additive_measure(
    space: Any, args: Any, fitted: dict[str, float], to_error: Any, estimate: str | None = None
) -> Any:
    """The search's error, `to_error` of an additive (layer, op) least-squares fit of `fitted`
    {genome: value}: no network is scored during the search."""
    from shiftnas.search.nsga import Measure

    model = additive_model(fitted)
    args.fit_networks = len(fitted)

    def make_additive():  # type: ignore[no-untyped-def]
        return lambda archs: [to_error(model(space.to_string(space.canonical(a))))
                              for a in archs]  # fmt: skip

    if estimate is None:  # an error fraction
        return Measure("error", "cheap", make_additive, bounds=(0.0, 1.0), fraction=True)
    return Measure("error", "cheap", make_additive, estimate=estimate)


def one_seed(args: Any, space: Any, true: TrueFront, seed: int) -> dict[str, Any]:
    from shiftnas.search.nsga import macs_measure, run_search
    from shiftnas.search.nsga.archive import Archive
    from shiftnas.search.settings import SearchConfig, SearchObjectiveConfig

    folder = args.work / "search" / f"{args.label}-seed-{seed}"
    measures = [error_measure(space, args), macs_measure(space)]
    settings = SearchConfig(
        population=args.population, generations=args.generations, novel_offspring=True,
        mutation_eta=args.mutation_eta,
        objectives=[SearchObjectiveConfig(name="error", bounds=measures[0].bounds),
                    SearchObjectiveConfig(name="macs")],
    )  # fmt: skip
    started = time.time()
    if not args.report_only:
        run_search(space, measures, settings, folder / "search", seed, progress=True)
    found = Archive(folder / "search" / "archive.jsonl").all()
    search_seconds = time.time() - started
    # random: the same number of distinct networks from the space's sampler, scored the same way
    rng, picked = np.random.default_rng(seed + 31_000), {}
    while len(picked) < len(found):
        arch = space.sample(rng)
        picked.setdefault(space.to_string(arch), arch)
    started = time.time()
    errors = measures[0].make()(list(picked.values()))  # cached: free after the first run
    random_seconds = time.time() - started
    est = {r["string"]: r["objectives"]["error"] for r in found}
    fronts = {
        "search": _front(est, true),
        "random": _front(dict(zip(picked, errors, strict=True)), true),
    }
    return {
        "seed": seed, "evaluations": len(found), "random_evaluations": len(picked),
        # a report-only run times nothing: None, not the seconds it took to read the caches
        "wall_seconds": None if args.report_only else round(search_seconds, 1),
        "random_wall_seconds": None if args.report_only else round(random_seconds, 1),
        "front": [{"arch": k, "estimated_error": round(est[k], 5), "macs": true.macs[k] * 1e6,
                   "true_acc": true.acc[k]} for k in fronts["search"]],
        "random_front": [{"arch": k, "macs": true.macs[k] * 1e6, "true_acc": true.acc[k]}
                         for k in fronts["random"]],
        "judged": {name: true.judge(keys) for name, keys in fronts.items()},
    }  # fmt: skip


def _front(estimated: dict[str, float], true: TrueFront) -> list[str]:
    """Non-dominated networks in (estimated error, MACs), sorted by MACs."""
    from shiftnas.search.nsga.metrics import front_indices

    keys = list(estimated)
    F = np.array([[estimated[k], true.macs[k]] for k in keys], float)
    return sorted((keys[i] for i in front_indices(F, np.ones(len(keys), bool))),
                  key=lambda k: true.macs[k])  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--estimator", default="inherited",
                   help="inherited (needs --supernet), oracle (the true error) or a training-free "
                        "estimator (naswot, synflow, ...)")  # fmt: skip
    p.add_argument("--supernet", type=Path, help="a fair supernet checkpoint of the ranking run")
    p.add_argument("--surrogate", choices=["additive"],
                   help="rank by an additive (layer, op) fit: of the supernet's already scored "
                        "networks (inherited), or of a training-free estimator's scores of the "
                        "first --fit-networks tune networks of nbmacro_estimators.py")  # fmt: skip
    p.add_argument(
        "--fit-networks",
        type=int,
        default=200,
        help="training-free estimator + surrogate: networks the fit is made on",
    )
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--population", type=int, default=20)
    p.add_argument("--generations", type=int, default=20)
    p.add_argument("--mutation-eta", type=float, default=10.0)
    p.add_argument("--work", type=Path, default=WORK, help="search folders (resumable)")
    p.add_argument("--out", type=Path, help="default: results/nbmacro_search[_ESTIMATOR].json")
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args()
    if not BENCH.exists() or not CIFAR.is_dir():
        p.exit(2, f"needs {BENCH} and {CIFAR}: run beside ../shared\n")
    saved: dict[str, Any] = {}
    if args.estimator == "inherited":
        if args.supernet is None or not args.supernet.is_file():
            p.exit(2, f"--estimator inherited needs --supernet CHECKPOINT (got {args.supernet})\n")
        # the ranking run's folder: its data settings and its inherited-score cache
        args.ranking_work = args.supernet.parent.parent
        saved = json.loads((args.ranking_work / "settings.json").read_text())
        for key in ("train_images", "val_images", "bn_batches"):
            setattr(args, key, saved[key])
        args.label = args.supernet.parent.name + (f"+{args.surrogate}" if args.surrogate else "")
    else:
        args.label = args.estimator + (f"+{args.surrogate}" if args.surrogate else "")
    if args.surrogate and args.estimator == "oracle":
        p.exit(2, "--surrogate fits an estimate's scores: not with --estimator oracle\n")
    plain = args.estimator == "inherited" and not args.surrogate
    suffix = (
        "" if plain else f"_{args.estimator}" + (f"_{args.surrogate}" if args.surrogate else "")
    )
    args.out = args.out or OUT.with_name(f"nbmacro_search{suffix}.json")
    from shiftnas.search import get_space

    space, true = get_space("nbmacro"), TrueFront()
    runs = [one_seed(args, space, true, s) for s in args.seeds]
    result = {
        "benchmark": "nbmacro_search", "estimator": args.estimator,
        "supernet": args.supernet and str(args.supernet),
        "surrogate": args.surrogate
        and {"model": args.surrogate, "fit_networks": args.fit_networks},
        "settings": {"population": args.population, "generations": args.generations,
                     "mutation_eta": args.mutation_eta, "novel_offspring": True, **saved},
        "true_front": [{"arch": k, "macs": true.macs[k] * 1e6, "true_acc": true.acc[k]}
                       for k in true.front],
        "reference_point_error_pct_macs_m": true.reference.round(4).tolist(),
        "runs": runs, "machine": machine_info(),
    }  # fmt: skip
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    for run in runs:
        j = run["judged"]
        s, r = j["search"], j["random"]
        print(f"seed {run['seed']}: {run['evaluations']} networks; HV ratio search "
              f"{s['hypervolume_ratio']:.4f} random {r['hypervolume_ratio']:.4f}; "
              f"IGD {s['igd']:.4f} / {r['igd']:.4f}")  # fmt: skip
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
