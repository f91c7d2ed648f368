"""Why `rwe_paper` learns nothing on deep networks, and what fixes the cause (issue #25, point 2).

    .venv/bin/python benchmarks/rwe_paper_scale.py [--networks 40] [--spaces nbmacro nb201 mbv3]
        [--train-images 2000] [--val-images 1000] [--work DIR] [--report-only]

RWE as published (Hu et al. 2022, arXiv:2110.05242) keeps PyTorch's default initialisation and
trains 5 SGD linear probes (fixed learning rate 0.25) on the raw classifier input of the frozen
network. PyTorch's default init draws conv weights with variance 1/(3 fan_in), a third of what
keeps the signal's scale, and BatchNorm in eval mode on a fresh network is the identity (running
mean 0, variance 1), so nothing restores it: the classifier input shrinks by about 10x per
MobileNet block, and a network with more convolutions hands the probe smaller features. An SGD
step on features of size s moves the logits by about lr * s^2, so the probe of a deep network does
not move in 30 epochs: chance error, and the networks ranked by depth, backwards.

Measured per network (full-size network, PyTorch init, seed 0, one torch thread):
- `feature_std`: standard deviation of the classifier input over the probe's training images
  (BatchNorm in eval mode, as published);
- the validation error of the same 5-probe SGD ensemble (`shiftnas.search.evaluators.probe`) on
  - `as_published`: those raw features;
  - `rescaled`: the same features divided by one number, their overall standard deviation on the
    training images (the cause, the scale, removed; nothing else changed);
  - `standardised`: the same features, each standardised with the training images' mean and std
    (as the tuned `rwe` does: every feature brought to one scale);
  - `bn_train`: features with BatchNorm using batch statistics (each layer renormalised).
Networks: `nbmacro`, the first `--networks` of one half of a seeded split of all 3,969 networks,
in `benchmarks/nbmacro_estimators.py`'s scoring order (spread over MACs; not that benchmark's
1,000: 7 of the 40 are in its tune half, 3 in its holdout half; truth: NAS-Bench-Macro
`mean_acc`, Su et al. CVPR 2021, arXiv:2103.11922, Apache-2.0,
`../shared/benchmarks/nas-bench-macro/`); `nb201`, the first `--networks` distinct networks
of `../shared/benchmarks/nb201_cifar10_dev.csv` in a seeded order (truth: 200-epoch test
accuracy); `mbv3`, the transfer check: all 46 networks of `benchmarks/results/mbv3_standalone.csv`
(skeleton of `configs/cifar10-cpu.yaml`, with squeeze-excite, hardswish and BlurPool; truth: mean
stand-alone test accuracy of 2-epoch trainings, a different truth from the other two).
Images: a seeded `--train-images` / `--val-images` of CIFAR-10 JPEG (the paper uses
10,000 / 5,000; fewer here so that both spaces fit on 2 CPU cores; the scale effect does not
depend on the count). Resumable: one line per network in `--work/rows.jsonl`.
Writes `benchmarks/results/rwe_paper_scale.json` (every row, the figures, machine, settings).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
NB201_CSV = ROOT.parent / "shared" / "benchmarks" / "nb201_cifar10_dev.csv"
OUT = ROOT / "benchmarks" / "results" / "rwe_paper_scale.json"
WORK = ROOT / "runs" / "bench-rwe-paper-scale"
VARIANTS = ("as_published", "rescaled", "standardised", "bn_train")
CHANCE = 0.85  # a validation error at or above this on 10 classes: the probe learnt ~nothing


def networks(space_name: str, count: int) -> dict[str, float]:
    """{genome string: true accuracy (%)} of the first `count` networks of the space's order."""
    if space_name == "mbv3":  # a fixed set: all 46, whatever `count` says
        from nbmacro_estimators import mbv3_truth

        return {g: 100.0 * acc for g, acc in sorted(mbv3_truth().items())}
    if space_name == "nbmacro":
        from nbmacro_estimators import nbmacro_truth, scoring_order, split_halves

        truth = nbmacro_truth()
        order = scoring_order(sorted(truth, key=lambda g: (truth[g]["flops"], g)))
        tune = set(split_halves(sorted(order, key=lambda g: (truth[g]["flops"], g)))[0])
        return {g: truth[g]["acc"] for g in [g for g in order if g in tune][:count]}
    import csv

    from shiftnas.search import get_space

    space = get_space("nb201")
    rows = list(csv.DictReader(NB201_CSV.open()))
    order = np.random.default_rng(0).permutation(len(rows))
    out: dict[str, float] = {}
    for i in order:
        genome = space.to_string(space.canonical(space.from_string(rows[i]["arch"])))
        out.setdefault(genome, float(rows[i]["cifar10_test_acc_200ep"]))
        if len(out) == count:
            break
    return out


def measure(space_name: str, genome: str, args: Any, cache: dict[str, Any]) -> dict[str, Any]:
    import torch
    from nbmacro_estimators import Scorer

    from shiftnas.search.evaluators import get_evaluator
    from shiftnas.search.evaluators.probe import rescale, sgd_ensemble_error, standardise
    from shiftnas.search.evaluators.scoring import arch_seed

    if "scorer" not in cache:
        cache["scorer"] = Scorer()
    data = cache["scorer"].data()
    space = space_of(space_name, cache["scorer"])
    arch = space.from_string(genome)
    started = time.process_time()
    row: dict[str, Any] = {"space": space_name, "arch": genome}
    for bn in ("eval", "train"):
        ev = get_evaluator("rwe_paper", space=space, data=data, seed=0, bn=bn,
                           train_images=args.train_images, val_images=args.val_images)  # fmt: skip
        train_x, val_x = ev.features(arch)
        train_y, val_y = (images.labels for images in ev.splits())
        train_x, val_x = torch.nan_to_num(train_x), torch.nan_to_num(val_x)

        def probe(tx: Any, vx: Any, ty: Any = train_y, vy: Any = val_y) -> float:
            generator = torch.Generator().manual_seed(arch_seed(0, arch))
            return round(sgd_ensemble_error(tx, ty, vx, vy, 10, generator), 5)

        if bn == "eval":
            row["feature_std"] = float(train_x.std())
            row["as_published"] = probe(train_x, val_x)
            row["rescaled"] = probe(*rescale(train_x, val_x))
            row["standardised"] = probe(*standardise(train_x, val_x))
        else:
            row["bn_train"] = probe(train_x, val_x)
    row["cpu_s"] = round(time.process_time() - started, 2)
    return row


def space_of(space_name: str, scorer: Any = None) -> Any:
    """The space at 10 classes; `mbv3` with the skeleton of `configs/cifar10-cpu.yaml`, as its
    stand-alone networks were trained (`scorer`: a `Scorer` to reuse)."""
    from nbmacro_estimators import Scorer

    from shiftnas.search import get_space

    if space_name == "mbv3":
        return (scorer or Scorer()).space("mbv3")
    return get_space(space_name, num_classes=10)


def read_rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a torn last line: measured again
    return rows


def macs_of(space_name: str, genomes: list[str]) -> dict[str, float]:
    """fvcore MACs of each network at 32x32 (NAS-Bench-Macro's own `flops` for `nbmacro`)."""
    if space_name == "nbmacro":
        from nbmacro_estimators import nbmacro_truth

        truth = nbmacro_truth()
        return {g: float(truth[g]["flops"]) for g in genomes}
    if space_name == "mbv3":
        import csv

        from nbmacro_estimators import MBV3_CSV

        return {r["arch"]: float(r["macs"]) for r in csv.DictReader(MBV3_CSV.open())
                if r["arch"] in genomes}  # fmt: skip
    from shiftnas.profiling import count_macs

    space = space_of(space_name)
    return {g: float(count_macs(space.build(space.from_string(g)), (1, 3, 32, 32)))
            for g in genomes}  # fmt: skip


def figures(rows: list[dict[str, Any]], truth: dict[str, float], space_name: str) -> dict[str, Any]:
    """Per variant: Spearman/Kendall of -error with the truth, share at chance, and Spearman of
    -error with MACs (> 0: a bigger network's features fit better); MACs' own figures on the same
    networks; how the feature scale relates to the truth (a deeper network, smaller features)."""
    from shiftnas.search.fidelity import rank_agreement

    acc = {r["arch"]: truth[r["arch"]] for r in rows}
    macs = macs_of(space_name, list(acc))
    q = rank_agreement(acc, macs)
    out: dict[str, Any] = {
        "networks": len(rows),
        "macs": {"spearman": _r(q.spearman), "kendall_tau": _r(q.kendall_tau)},
    }
    for v in VARIANTS:
        q = rank_agreement(acc, {r["arch"]: -r[v] for r in rows})
        out[v] = {"spearman": _r(q.spearman), "kendall_tau": _r(q.kendall_tau), "n": q.n,
                  "at_chance": round(float(np.mean([r[v] >= CHANCE for r in rows])), 3),
                  "mean_error": round(float(np.mean([r[v] for r in rows])), 4),
                  "vs_macs_spearman": _r(rank_agreement(
                      macs, {r["arch"]: -r[v] for r in rows}).spearman)}  # fmt: skip
    log_std = {r["arch"]: math.log10(max(r["feature_std"], 1e-30)) for r in rows}
    out["feature_std_vs_truth"] = _r(rank_agreement(acc, log_std).spearman)
    stds = [r["feature_std"] for r in rows]
    out["feature_std_range"] = [float(min(stds)), float(max(stds))]
    out["cpu_s_per_network"] = round(float(np.mean([r["cpu_s"] for r in rows])), 1)
    return out


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _f(value: float | None) -> str:
    return "undefined" if value is None else f"{value:+.3f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--networks", type=int, default=40)
    p.add_argument("--spaces", nargs="+", default=["nbmacro", "nb201", "mbv3"])
    p.add_argument("--train-images", type=int, default=2000)
    p.add_argument("--val-images", type=int, default=1000)
    p.add_argument("--work", type=Path, default=WORK)
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args()
    import torch

    torch.set_num_threads(1)
    args.work.mkdir(parents=True, exist_ok=True)
    path = args.work / "rows.jsonl"
    truths = {s: networks(s, args.networks) for s in args.spaces}
    cache: dict[str, Any] = {}
    if not args.report_only:
        # interleaved, so a run stopped early has both spaces' first networks
        longest = max(len(t) for t in truths.values())
        todo = [(s, g) for i in range(longest) for s in args.spaces
                if i < len(truths[s]) for g in [list(truths[s])[i]]]  # fmt: skip
        done = {(r["space"], r["arch"]) for r in read_rows(path) if set(VARIANTS) <= set(r)}
        for n, (s, g) in enumerate(todo):
            if (s, g) in done:
                continue
            row = measure(s, g, args, cache)
            with path.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(f"{time.strftime('%H:%M:%S')} {n + 1}/{len(todo)} {s} {g} std "
                  f"{row['feature_std']:.1e} errors "
                  + " ".join(f"{row[v]:.3f}" for v in VARIANTS) + f" ({row['cpu_s']} CPU-s)",
                  flush=True)  # fmt: skip
    from _machine import machine_info

    latest = {(r["space"], r["arch"]): r for r in read_rows(path) if set(VARIANTS) <= set(r)}
    rows = [{**r, "truth": truths[r["space"]][r["arch"]]} for r in latest.values()
            if r["space"] in truths and r["arch"] in truths[r["space"]]]  # fmt: skip
    result: dict[str, Any] = {
        "benchmark": "rwe_paper_scale", "machine": machine_info(),
        "settings": {"train_images": args.train_images, "val_images": args.val_images,
                     "networks": args.networks, "seed": 0, "chance_threshold": CHANCE,
                     "probe": "5 SGD linear probes, lr 0.25, momentum 0.9, 30 epochs, cosine"},
        "spaces": {}, "rows": rows,
    }  # fmt: skip
    print(f"\n{'space':8s} {'variant':13s} {'n':>3s} {'spearman':>9s} {'kendall':>8s} "
          f"{'at chance':>9s} {'mean err':>8s} {'vs MACs':>8s}")  # fmt: skip
    for s in args.spaces:
        mine = [r for r in rows if r["space"] == s and r["arch"] in truths[s]]
        if len(mine) < 3:
            continue
        result["spaces"][s] = figures(mine, truths[s], s)
        for v in VARIANTS:
            f = result["spaces"][s][v]
            print(f"{s:8s} {v:13s} {len(mine):3d} {_f(f['spearman']):>9s} "
                  f"{_f(f['kendall_tau']):>8s} {f['at_chance']:9.2f} {f['mean_error']:8.3f} "
                  f"{_f(f['vs_macs_spearman']):>8s}")  # fmt: skip
        f = result["spaces"][s]["macs"]
        print(f"{s:8s} {'MACs':13s} {len(mine):3d} {_f(f['spearman']):>9s} "
              f"{_f(f['kendall_tau']):>8s}")  # fmt: skip
        print(f"{s:8s} log10 feature std vs truth: Spearman "
              f"{_f(result['spaces'][s]['feature_std_vs_truth'])}")  # fmt: skip
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(OUT)


if __name__ == "__main__":
    main()
