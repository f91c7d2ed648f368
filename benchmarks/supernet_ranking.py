"""Does the supernet rank `mbv3` networks like stand-alone training does? Fair sampling vs SPOS.

    .venv/bin/python benchmarks/supernet_ranking.py [--strata 15] [--workers 2]
        [--supernet-epochs 3] [--report-only]

Networks: `2 x strata` networks of the CIFAR-10 preset's skeleton (configs/cifar10-cpu.yaml),
stratified over MACs, each with its filter twin (`_standalone.stratified_with_twins`). Ground
truth: each trained stand-alone under one fixed budget (`_standalone.Budget`: 2 epochs on 16,000
images from scratch, one thread: 250 steps at the measured 0.36 CPU-s each, plus evaluation),
tested on the 10,000 test images, appended to `benchmarks/results/mbv3_standalone.csv`. Two
supernets of equal compute on the same 16,000 images: fair sampling (SICNS: 13 paths per step)
for `supernet_epochs`, and SPOS (one uniform path per step) for 13 x as many epochs, so both
train the same number of path-images.
Inherited accuracy: each network extracted from a supernet, its BatchNorm recalibrated on
`--bn-batches` fixed training batches of 256, on the 4,000 validation images. Also scored: the
`default` training-free estimator, MACs and parameters (larger = predicted better).

Kendall tau and Spearman rho (scipy) of each predictor against the stand-alone test accuracy
go to `benchmarks/results/supernet_ranking.json`. Everything is resumable: run the same command
again after a kill; finished networks are read from the CSV, supernets resume from their
checkpoints in `runs/bench-supernet-ranking/`. `--report-only` writes the JSON from what has
finished so far (the networks with ground truth and both supernets, where present).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _machine import machine_info  # noqa: E402
from _standalone import (  # noqa: E402
    PRESET,
    Budget,
    add_training_arguments,
    append_row,
    load_preset,
    preset_space,
    read_rows,
    stratified_with_twins,
    train_standalone,
)

OUT = ROOT / "benchmarks" / "results" / "supernet_ranking.json"
WORK = ROOT / "runs" / "bench-supernet-ranking"
PREDICTORS = ("fair", "spos", "default", "macs", "params")
INHERITED_IMAGES = {"val": "the 4,000 validation images", "test": "the 10,000 test images"}


def supernet_config(preset: Any, sampling: str, fair_epochs: int) -> Any:
    """Equal compute: a fair step trains 13 paths, an SPOS step one, so SPOS gets 13 x epochs."""
    epochs = fair_epochs * (13 if sampling == "spos" else 1)
    return preset.supernet.model_copy(
        update={"sampling": sampling, "epochs": epochs, "checkpoint_every_steps": 50}
    )


def train_one_supernet(sampling: str, fair_epochs: int, budget: Budget, work: Path) -> str:
    import torch

    torch.set_num_threads(1)
    from shiftnas.data import load_data
    from shiftnas.training.supernet import train_supernet

    preset = load_preset()
    data = load_data(budget.data_config(preset), budget.seed)
    config = supernet_config(preset, sampling, fair_epochs)
    # one probe path: SPOS has 13 x the epochs, and each epoch's probe costs 4,000 forward passes
    train_supernet(
        preset_space(preset), data, config, work / sampling, seed=budget.seed, progress=False,
        probe_paths=1,
    )  # fmt: skip
    return sampling


def inherited_accuracy(
    sampling: str, genomes: list[str], budget: Budget, work: Path, bn_batches: int,
    images: str = "val",
) -> dict[str, float] | None:  # fmt: skip
    """Accuracy of each network on the weights of a finished supernet, on the validation images
    (what a search sees) or, as a diagnostic of measurement noise, the 10,000 test images; None
    if the supernet has not finished."""

    from shiftnas.data import load_data
    from shiftnas.search.evaluators import InheritedEvaluator
    from shiftnas.search.supernet import load_supernet

    ckpt = work / sampling / "checkpoint.pt"
    metrics = work / sampling / "metrics.jsonl"
    preset = load_preset()
    fair_epochs = budget_epochs(work)
    want = supernet_config(preset, sampling, fair_epochs).epochs
    if not ckpt.exists() or not metrics.exists() or len(metrics.read_text().splitlines()) < want:
        return None
    space = preset_space(preset)
    supernet = load_supernet(space, ckpt)
    data = load_data(budget.data_config(preset), budget.seed)
    if images == "test":
        data = replace(data, val=data.test)
    evaluator = InheritedEvaluator(supernet, data, bn_batches, seed=budget.seed)
    return {g: 1.0 - evaluator.error(space.from_string(g)) for g in genomes}


def budget_epochs(work: Path) -> int:
    return int(json.loads((work / "settings.json").read_text())["supernet_epochs"])


def default_scores(genomes: list[str], budget: Budget) -> dict[str, float]:
    """The `default` training-free estimator (lower = predicted better)."""
    from shiftnas.data import load_data
    from shiftnas.search.evaluators import get_evaluator

    preset = load_preset()
    space = preset_space(preset)
    data = load_data(budget.data_config(preset), budget.seed)
    evaluator = get_evaluator("default", space=space, data=data, seed=0, device="cpu")
    archs = [space.from_string(g) for g in genomes]
    return dict(zip(genomes, map(float, evaluator.evaluate(archs)), strict=True))


def correlations(truth: list[float], predictions: dict[str, list[float]]) -> dict[str, Any]:
    """Kendall tau-b and Spearman rho of each prediction (higher = predicted better) with truth;
    None where one side is constant (undefined, and not valid JSON as NaN)."""
    from scipy import stats

    def finite(value: float) -> float | None:
        return None if np.isnan(value) else float(value)

    with warnings.catch_warnings():  # a constant side is reported as None, below
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        tau = {k: finite(stats.kendalltau(v, truth).statistic) for k, v in predictions.items()}
        rho = {k: finite(stats.spearmanr(v, truth).statistic) for k, v in predictions.items()}
    return {"kendall_tau": tau, "spearman": rho}


def truth_budgets(base: Budget, seeds: list[int]) -> list[Budget]:
    """The ground truth's budgets: `base` for training seed 0, the same recipe on the same images
    with another initialisation and batch order for each other seed."""
    return [base if s == base.seed else replace(base, train_seed=s) for s in seeds]


def run_training(
    genomes: list[str], budgets: list[Budget], fair_epochs: int, samplings: list[str],
    workers: int, work: Path, csv: Path,
) -> None:  # fmt: skip
    todo = []
    for budget in budgets:
        done = read_rows(csv, budget)
        todo += [(g, budget) for g in genomes if g not in done]
        print(f"{budget.key}: {len(done)} networks trained, "
              f"{sum(b == budget for _, b in todo)} to go", flush=True)  # fmt: skip
    with ProcessPoolExecutor(workers) as pool:
        jobs = {pool.submit(train_one_supernet, s, fair_epochs, budgets[0], work): s
                for s in samplings}  # fmt: skip
        jobs.update({pool.submit(train_standalone, g, b, work / b.folder): g for g, b in todo})
        for future in as_completed(jobs):
            result = future.result()
            if isinstance(result, dict):
                append_row(result, csv)
                print(f"{result['arch']:>14} {result['macs'] / 1e6:6.2f}M MACs "
                      f"test acc {result['test_acc']:.4f} ({result['cpu_seconds']:.0f} CPU-s, "
                      f"{time.strftime('%H:%M:%S')})", flush=True)  # fmt: skip
            else:
                print(f"supernet {result} trained ({time.strftime('%H:%M:%S')})", flush=True)


def report(
    genomes: list[str], budgets: list[Budget], bn_batches: int, settings: dict, work: Path,
    csv: Path,
) -> dict:  # fmt: skip
    """Correlations against the mean stand-alone test accuracy over the ground truth's seeds
    (networks trained under every seed only), and how well the seeds agree with each other."""
    budget = budgets[0]
    by_seed = [read_rows(csv, b) for b in budgets]
    have = [g for g in genomes if all(g in rows for rows in by_seed)]
    rows = {g: {**by_seed[0][g], "test_acc": float(np.mean([r[g]["test_acc"] for r in by_seed]))}
            for g in have}  # fmt: skip
    inherited = {
        s: inherited_accuracy(s, have, budget, work, bn_batches, settings["inherited_images"])
        for s in ("fair", "spos")
    }
    scores = default_scores(have, budget) if have else {}
    networks = [{
        "arch": g, "macs": rows[g]["macs"], "params": rows[g]["params"],
        "standalone_test_acc": round(rows[g]["test_acc"], 5),
        "standalone_test_acc_by_seed": [r[g]["test_acc"] for r in by_seed],
        "fair_acc": inherited["fair"] and round(inherited["fair"][g], 4),
        "spos_acc": inherited["spos"] and round(inherited["spos"][g], 4),
        "default_score": round(scores[g], 4),
    } for g in have]  # fmt: skip
    predictions = {
        "fair": [n["fair_acc"] for n in networks] if inherited["fair"] else None,
        "spos": [n["spos_acc"] for n in networks] if inherited["spos"] else None,
        "default": [-n["default_score"] for n in networks],
        "macs": [n["macs"] for n in networks],
        "params": [n["params"] for n in networks],
    }
    ready = {k: v for k, v in predictions.items() if v is not None}
    result = (
        correlations([n["standalone_test_acc"] for n in networks], ready) if len(have) > 2 else {}
    )
    for key in ("kendall_tau", "spearman"):
        result.setdefault(key, {})
        result[key] = {k: result[key].get(k) for k in PREDICTORS}  # None: not measured yet
    seeds = [b.training_seed for b in budgets]
    if len(budgets) > 1 and len(have) > 2:
        # each predictor against each seed alone, and each seed against the first: the ceiling
        # a predictor can reach against one noisy training
        first = [n["standalone_test_acc_by_seed"][0] for n in networks]
        result["per_truth_seed"] = {
            str(s): correlations([n["standalone_test_acc_by_seed"][i] for n in networks],
                                 {**ready, **({f"seed_{seeds[0]}": first} if i else {})})
            for i, s in enumerate(seeds)
        }  # fmt: skip
    return {
        **result, "n_networks": len(have), "n_planned": len(genomes), "truth_seeds": seeds,
        "supernets_finished": [s for s, v in inherited.items() if v is not None],
        "settings": settings, "networks": networks,
        "notes": (
            "ground truth: test accuracy (10,000 images) of each network trained stand-alone "
            "under `settings.budget`, averaged over `truth_seeds` (training seeds on the same "
            "images; per_truth_seed: against each seed alone, and each later seed against the "
            f"first); fair/spos: accuracy on {INHERITED_IMAGES[settings['inherited_images']]} "
            "on inherited weights after BN recalibration; default: the "
            "training-free estimator (negated: lower score = predicted better); macs/params: "
            "larger = predicted better; None = not measured yet (training still running)"
        ),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strata", type=int, default=15, help="MACs groups (2 networks each)")
    parser.add_argument("--supernet-epochs", type=int, default=3, help="fair; SPOS gets 13x")
    parser.add_argument("--bn-batches", type=int, default=10)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--pool", type=int, default=400, help="random networks to stratify")
    parser.add_argument(
        "--truth-seeds",
        type=int,
        nargs="+",
        default=[0],
        help="training seeds of the ground truth (mean accuracy over them)",
    )
    parser.add_argument(
        "--inherited-images",
        choices=("val", "test"),
        default="val",
        help="where inherited accuracy is measured (test: a diagnostic of measurement noise)",
    )
    parser.add_argument(
        "--samplings",
        nargs="+",
        choices=("fair", "spos"),
        default=["fair", "spos"],
        help="supernets to train",
    )
    add_training_arguments(parser, OUT, WORK)
    args = parser.parse_args()
    budget = Budget(epochs=args.epochs, train_images=args.train_images)
    if len(set(args.truth_seeds)) < len(args.truth_seeds):
        parser.exit(2, f"--truth-seeds {args.truth_seeds} repeats a seed: give each once\n")
    budgets = truth_budgets(budget, args.truth_seeds)
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    settings = {"budget": budget.key, "strata": args.strata, "bn_batches": args.bn_batches,
                "inherited_images": args.inherited_images,
                "supernet_epochs": args.supernet_epochs, "spos_epochs": 13 * args.supernet_epochs,
                "preset": str(PRESET.relative_to(ROOT)),
                "budget_reason": (
                    "2 epochs on 16,000 images = 250 steps of batch 128 at the measured 0.36 "
                    "CPU-s per step (one thread): about 90 CPU-s of training per network, so 30 "
                    "networks fit in about 45 CPU-minutes plus evaluation"
                )}  # fmt: skip
    saved = work / "settings.json"
    if saved.exists() and json.loads(saved.read_text())["supernet_epochs"] != args.supernet_epochs:
        raise SystemExit(f"{work} holds supernets of other epochs: delete it or pass the same")
    saved.write_text(json.dumps(settings) + "\n")
    space = preset_space(load_preset())
    genomes = [space.to_string(a) for a in stratified_with_twins(space, args.strata, 0, args.pool)]
    started = time.perf_counter()
    if not args.report_only:
        run_training(genomes, budgets, args.supernet_epochs, args.samplings, args.workers, work,
                     args.csv)  # fmt: skip
    result = report(genomes, budgets, args.bn_batches, settings, work, args.csv)
    result.update(report_seconds=round(time.perf_counter() - started, 1), machine=machine_info())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{result['n_networks']} networks; Kendall tau {result['kendall_tau']}; wrote {args.out}")


if __name__ == "__main__":
    main()
