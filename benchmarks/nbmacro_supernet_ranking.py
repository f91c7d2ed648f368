"""Does a supernet rank NAS-Bench-Macro's networks like their full training does? Fair vs SPOS.

    .venv/bin/python benchmarks/nbmacro_supernet_ranking.py [--budgets 2 6] [--networks 1000]
        [--small-networks 250] [--samplings fair spos] [--workers 2] [--work DIR] [--report-only]

Ground truth: NAS-Bench-Macro (Su et al., CVPR 2021, arXiv:2103.11922; Apache-2.0, from the
public repository xiusu/NAS-Bench-Macro; `../shared/benchmarks/nas-bench-macro/`): each of its
3,969 distinct networks trained three times for 50 epochs on CIFAR-10, `mean_acc` in percent.
Networks: `--networks` canonical networks stratified over MACs (all 3,969 sorted by MACs, every
k-th), and for the smaller budgets every 4th of those (`--small-networks`).
Supernets (`nbmacro` space, shiftnas's one supernet for layer-chain spaces) on CIFAR-10 (JPEG):
a seeded subset of `--train-images` training images, `--val-images` held out for inherited
accuracy; for each budget B in `--budgets` (fair epochs) a fair supernet trained B epochs (3 paths
a step, each candidate of each layer once) and an SPOS supernet trained 3 B epochs (one path a
step): equal path-images. Each budget is its own cosine schedule.
Inherited accuracy: each network extracted, BatchNorm recalibrated on `--bn-batches` fixed
training batches of 128, accuracy on the held-out images. Predictors (higher = better): fair@Bep,
spos@Bep, macs, params; Kendall tau-b, Spearman rho and top-10% precision
(`shiftnas.search.fidelity`) against `mean_acc`.
Resumable: supernets resume from checkpoints under `--work`; each scored network is appended to
`--work/scores/<predictor>.jsonl`; run the same command after a kill. `--report-only` writes the
JSON from what has finished.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _machine import machine_info  # noqa: E402
from nbmacro_estimators import stratified  # noqa: E402  (one definition of the MACs-stratified sample)

BENCH = ROOT.parent / "shared" / "benchmarks" / "nas-bench-macro" / "nas-bench-macro_cifar10.json"
CIFAR = ROOT.parent / "shared" / "datasets" / "cifar10-jpeg"
OUT = ROOT / "benchmarks" / "results" / "nbmacro_supernet_ranking.json"
WORK = ROOT / "runs" / "bench-nbmacro-ranking"
PAPER = {
    "source": "Su et al., CVPR 2021, arXiv:2103.11922 (PAS/MCTS), NAS-Bench-Macro supernets",
}


def truth() -> dict[str, float]:
    """mean_acc (percent) of each of the 3,969 canonical genomes."""
    from shiftnas.search import get_space

    space = get_space("nbmacro")
    data = json.loads(BENCH.read_text())
    canon = {space.to_string(space.canonical(space.from_string(k))) for k in data}
    return {g: float(data[g]["mean_acc"]) for g in sorted(canon)}


def data_splits(args: Any) -> Any:
    from shiftnas.data import load_data
    from shiftnas.data.settings import DataConfig

    total = args.train_images + args.val_images
    config = DataConfig(
        dataset="imagefolder", root=CIFAR, cache_dir=ROOT / "runs" / ".cache",
        max_train_images=total, val_fraction=args.val_images / total,
    )  # fmt: skip
    return load_data(config, seed=0)


def supernet_config(sampling: str, budget: int, args: Any) -> Any:
    from shiftnas.data.settings import AugmentConfig
    from shiftnas.training.settings import SupernetConfig

    return SupernetConfig(
        sampling=sampling, epochs=budget * (3 if sampling == "spos" else 1),
        batch_size=128, lr=args.lr, weight_decay=5e-4, warmup_epochs=0.25,
        label_smoothing=0.1, augment=AugmentConfig(enabled=False), checkpoint_every_steps=10,
    )  # fmt: skip


def folder(work: Path, sampling: str, budget: int) -> Path:
    return work / f"{sampling}@{budget}ep"


def finished(work: Path, sampling: str, budget: int, args: Any) -> bool:
    metrics = folder(work, sampling, budget) / "metrics.jsonl"
    want = supernet_config(sampling, budget, args).epochs
    return metrics.exists() and len(metrics.read_text().splitlines()) >= want


def train_job(sampling: str, budget: int, args: Any) -> str:
    import torch

    torch.set_num_threads(1)
    from shiftnas.search import get_space
    from shiftnas.training.supernet import train_supernet

    train_supernet(
        get_space("nbmacro"), data_splits(args), supernet_config(sampling, budget, args),
        folder(args.work, sampling, budget), seed=0, progress=False, probe_paths=1,
    )  # fmt: skip
    return f"trained {sampling}@{budget}ep"


def scored(path: Path) -> dict[str, float]:
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {r["arch"]: r["value"] for r in rows}


def score_job(sampling: str, budget: int, genomes: list[str], args: Any) -> str:
    """Inherited accuracy (fraction) of `genomes`, appended one line each as it is measured."""
    import torch

    torch.set_num_threads(1)
    from shiftnas.search import get_space
    from shiftnas.search.evaluators import InheritedEvaluator
    from shiftnas.search.supernet import load_supernet

    space = get_space("nbmacro")
    supernet = load_supernet(space, folder(args.work, sampling, budget) / "checkpoint.pt")
    evaluator = InheritedEvaluator(supernet, data_splits(args), args.bn_batches, batch_size=128)
    out = args.work / "scores" / f"{sampling}@{budget}ep.jsonl"
    done = scored(out)
    started = time.process_time()
    for g in genomes:
        if g in done:
            continue
        value = 1.0 - evaluator.error(space.from_string(g))
        with out.open("a") as f:
            f.write(json.dumps({"arch": g, "value": round(value, 5)}) + "\n")
    seconds = (time.process_time() - started) / max(1, len(genomes))
    return f"scored {len(genomes)} on {sampling}@{budget}ep ({seconds:.1f} CPU-s each)"


def samples(args: Any, records: dict[str, dict]) -> tuple[list[str], list[str]]:
    """(`--networks` stratified over MACs, the smaller budgets' every k-th of them), the first
    ordered to begin with the second: the largest budget scores those first, a like-for-like
    curve early."""
    big = stratified(records, args.networks)
    small = big[:: max(1, round(args.networks / args.small_networks))]
    first = set(small)
    return small + [g for g in big if g not in first], small


def plan(
    args: Any, records: dict[str, dict], samplings: tuple[str, ...] | None = None
) -> list[tuple[str, int, list[str]]]:
    """(sampling, budget, networks), the smallest budget first (an early look at the curve); the
    largest budget scores `--networks` networks (the smaller budgets' ones first, so a like-for-like
    curve arrives early), the others every k-th of them."""
    big, small = samples(args, records)
    budgets = sorted(args.budgets)
    return [
        (s, b, big if b == budgets[-1] else small)
        for b in budgets
        for s in (samplings or args.samplings)
    ]


def run(args: Any, records: dict[str, dict]) -> None:
    """At most `--workers` jobs at a time; a free worker takes scoring work before a training,
    so each budget's figures arrive as soon as its supernets have finished."""
    (args.work / "scores").mkdir(parents=True, exist_ok=True)
    trainings, scorings = [], []
    for sampling, budget, genomes in plan(args, records):
        if finished(args.work, sampling, budget, args):
            scorings += scoring_jobs(sampling, budget, genomes, args)
        else:
            trainings.append((sampling, budget, genomes))
    with ProcessPoolExecutor(args.workers) as pool:
        running: dict[Any, tuple[str, str, int, list[str]]] = {}
        while trainings or scorings or running:
            while len(running) < args.workers and (scorings or trainings):
                if scorings:
                    sampling, budget, chunk = scorings.pop(0)
                    future = pool.submit(score_job, sampling, budget, chunk, args)
                    running[future] = ("score", sampling, budget, chunk)
                else:
                    sampling, budget, genomes = trainings.pop(0)
                    future = pool.submit(train_job, sampling, budget, args)
                    running[future] = ("train", sampling, budget, genomes)
            future = next(as_completed(running))
            kind, sampling, budget, genomes = running.pop(future)
            print(f"{time.strftime('%H:%M:%S')} {future.result()}", flush=True)
            if kind == "train":
                scorings += scoring_jobs(sampling, budget, genomes, args)


def scoring_jobs(sampling: str, budget: int, genomes: list[str], args: Any) -> list[tuple]:
    done = scored(args.work / "scores" / f"{sampling}@{budget}ep.jsonl")
    todo = [g for g in genomes if g not in done]
    return [(sampling, budget, todo[i : i + 50]) for i in range(0, len(todo), 50)]


def planned_sample(genomes: list[str], small: int, have: dict[str, float]) -> list[str]:
    """The networks a budget's figures are taken on: all it planned once all are scored, else the
    smaller budgets' `small` networks (scored first) once those are, else those of them scored
    so far (an early look). Networks that another benchmark added to the shared cache
    (`nbmacro_search.py --supernet` scores whatever NSGA-II visits) are not a stratified sample
    and never count."""
    if all(g in have for g in genomes):
        return list(genomes)
    return [g for g in genomes[:small] if g in have]


def report(args: Any, records: dict[str, dict]) -> dict[str, Any]:
    from shiftnas.search.fidelity import rank_agreement

    mean_acc = {g: float(records[g]["mean_acc"]) for g in records}
    big = stratified(records, args.networks)
    scores: dict[str, dict[str, float]] = {
        "macs": {g: float(records[g]["flops"]) for g in big},
        "params": {g: float(records[g]["params"]) for g in big},
    }
    small = len(samples(args, records)[1])
    for sampling, budget, genomes in plan(args, records, ("fair", "spos")):
        have = scored(args.work / "scores" / f"{sampling}@{budget}ep.jsonl")
        if have:
            scores[f"{sampling}@{budget}ep"] = {
                g: have[g] for g in planned_sample(genomes, small, have)
            }
    figures: dict[str, Any] = {"kendall_tau": {}, "spearman": {}, "top10_precision": {}, "n": {}}
    for name, values in scores.items():
        if len(values) < 3:
            continue
        agreement = rank_agreement(mean_acc, values)
        # baselines on exactly the networks each supernet scored, for a like-for-like column
        for key, value in agreement.to_json().items():
            figures[key][name] = value
        if name not in ("macs", "params"):
            for base in ("macs", "params"):
                same = {g: scores[base][g] for g in values}
                figures.setdefault(f"{base}_on_same_networks", {})[name] = rank_agreement(
                    mean_acc, same
                ).kendall_tau
    diagnostics = {name: diagnose(values, records) for name, values in scores.items()
                   if name not in ("macs", "params") and len(values) >= 30}  # fmt: skip
    return {**figures, "diagnostics": diagnostics, "scores": scores,
            "networks_planned": len(big), "paper": PAPER}  # fmt: skip


def additive_model(values: dict[str, float]) -> Any:
    """The product's `AdditiveSurrogate` (one-hot (layer, op) features, ridge 0: plain least
    squares) fitted on `values` {8-digit genome: value}, as a function genome -> fitted value,
    rounded to 1e-8 as the committed results were (NSGA-II's path follows differences that
    small: a fit rounded to 1e-9 moves one seed's hypervolume ratio from 0.996 to 0.990)."""
    from shiftnas.search import get_space
    from shiftnas.search.surrogate import AdditiveSurrogate

    space = get_space("nbmacro")
    keys = sorted(values)
    model = AdditiveSurrogate(space, ridge=0.0).fit(
        [space.from_string(g) for g in keys], [values[g] for g in keys]
    )
    return lambda g: round(model.predict([space.from_string(g)])[0], 8)


def diagnose(values: dict[str, float], records: dict[str, dict]) -> dict[str, Any]:
    """Why a supernet ranks as it does, from its stored predictions alone (no new measurement):
    - `by_macs_tercile`: its tau and MACs' tau within each third of the networks by MACs;
    - `additive_fit_tau`: tau of `additive_model` fitted on its predictions: the part of the
      prediction that each layer's op explains on its own; the residual is path-specific, noise
      included, and `residual_std_pct` is its size (accuracy points) beside the predictions' own
      spread; `additive_fit_tau_out_of_sample`: the fit on every other network judged on the
      others (mean of both ways), the figure an additive surrogate would give on new networks;
    - `non_identity_layers_tau`: the tau of counting a network's non-identity layers, a
      no-cost baseline on this space."""
    import numpy as np

    from shiftnas.search.fidelity import rank_agreement

    keys = sorted(values, key=lambda g: (records[g]["flops"], g))
    acc = {g: float(records[g]["mean_acc"]) for g in keys}
    out: dict[str, Any] = {"by_macs_tercile": []}
    for third in np.array_split(np.array(keys), 3):
        part = list(third)
        out["by_macs_tercile"].append({
            "macs_m": [round(records[part[0]]["flops"] / 1e6, 1),
                       round(records[part[-1]]["flops"] / 1e6, 1)],
            "kendall_tau": round(rank_agreement({g: acc[g] for g in part},
                                                {g: values[g] for g in part}).kendall_tau, 4),
            "macs_kendall_tau": round(rank_agreement(
                {g: acc[g] for g in part},
                {g: float(records[g]["flops"]) for g in part}).kendall_tau, 4),
        })  # fmt: skip
    y = np.array([values[g] for g in keys]) * 100.0
    whole = additive_model(values)
    fit = np.array([whole(g) for g in keys]) * 100.0
    out["additive_fit_tau"] = round(
        rank_agreement(acc, dict(zip(keys, fit.tolist(), strict=True))).kendall_tau, 4
    )
    # out of sample: fitted on every other network (MACs order), judged on the rest, both ways
    halves = (keys[0::2], keys[1::2])
    taus = []
    for fit_on, judged in (halves, halves[::-1]):
        model = additive_model({g: values[g] for g in fit_on})
        taus.append(rank_agreement({g: acc[g] for g in judged},
                                   {g: model(g) for g in judged}).kendall_tau)  # fmt: skip
    out["additive_fit_tau_out_of_sample"] = round(float(np.mean(taus)), 4)
    out["prediction_std_pct"] = round(float(y.std()), 3)
    out["residual_std_pct"] = round(float((y - fit).std()), 3)
    depth = {g: float(8 - g.count("0")) for g in keys}
    out["non_identity_layers_tau"] = round(rank_agreement(acc, depth).kendall_tau, 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budgets", type=int, nargs="+", default=[2, 6], help="fair epochs")
    parser.add_argument("--networks", type=int, default=1000)
    parser.add_argument("--small-networks", type=int, default=250)
    parser.add_argument("--train-images", type=int, default=10_000)
    parser.add_argument("--val-images", type=int, default=1_000)
    parser.add_argument("--bn-batches", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.1)
    both = ["fair", "spos"]
    parser.add_argument("--samplings", nargs="+", choices=both, default=both)
    parser.add_argument("--workers", type=int, default=2, help="processes, one thread each")
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    if not BENCH.exists() or not CIFAR.is_dir():
        parser.exit(2, f"needs {BENCH} and {CIFAR}: run beside ../shared\n")
    if len(set(args.budgets)) < len(args.budgets):
        parser.exit(2, f"--budgets {args.budgets} repeats a budget: give each once\n")
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                if k not in ("report_only", "out", "work")}  # fmt: skip
    args.work.mkdir(parents=True, exist_ok=True)
    saved = args.work / "settings.json"
    free = ("workers", "budgets", "networks", "small_networks", "samplings")
    fixed = {k: v for k, v in settings.items() if k not in free}
    if saved.exists() and json.loads(saved.read_text()) != fixed:
        parser.exit(2, f"{args.work} holds supernets of other settings: pass the same or --work\n")
    saved.write_text(json.dumps(fixed) + "\n")
    raw = json.loads(BENCH.read_text())
    records = {g: raw[g] for g in truth()}
    started = time.perf_counter()
    if not args.report_only:
        run(args, records)
    result = report(args, records)
    result.update(settings=settings, report_seconds=round(time.perf_counter() - started, 1),
                  machine=machine_info())  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(args.out)
    for name in result["kendall_tau"]:
        print(
            f"{name:>12}  n={result['n'][name]:>4}  tau={result['kendall_tau'][name]}  "
            f"rho={result['spearman'][name]}  top10={result['top10_precision'][name]}"
        )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
