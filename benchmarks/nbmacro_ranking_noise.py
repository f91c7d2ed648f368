"""How much of a supernet's ranking on NAS-Bench-Macro is measurement noise? BN batches, images.

    .venv/bin/python benchmarks/nbmacro_ranking_noise.py --supernet DIR/fair@2ep/checkpoint.pt
        [--networks 40] [--report-only]

Diagnoses `nbmacro_supernet_ranking.py` (whose settings file, beside the supernet's folder, it
reads). For `--networks` of that benchmark's smaller-budget networks (spread over MACs), each
network's inherited accuracy is measured under three BatchNorm recalibrations, on the same 2,000
CIFAR-10 test images the supernet never saw, kept as two chunks of 1,000:
- `bn2_seed0`: 2 batches of 128 training images, seed 0 (the ranking benchmark's setting);
- `bn2_seed1`: 2 other batches (seed 1): how much the choice of calibration images moves a score;
- `bn8_seed0`: 8 batches: whether more calibration changes the ranking.
Reported: the split-half reliability (Pearson r between the two 1,000-image chunks, same BN),
the BN reliability (r between seeds 0 and 1, same 2,000 images), and Kendall tau against
NAS-Bench-Macro's `mean_acc` (Su et al., CVPR 2021, arXiv:2103.11922; Apache-2.0, public
repository xiusu/NAS-Bench-Macro) of each setting on 1,000 and on 2,000 images, and of the mean
of the two BN seeds, beside MACs on the same networks. Low reliability means the ranking is
limited by noise in the measurement, not by the supernet's weights.
Resumable: one line per (setting, network) in `--work/noise/<supernet folder>.jsonl`.
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
from nbmacro_supernet_ranking import BENCH, data_splits, stratified, truth  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "nbmacro_ranking_noise.json"
SETTINGS = {"bn2_seed0": (2, 0), "bn2_seed1": (2, 1), "bn8_seed0": (8, 0)}
CHUNK, CHUNKS = 1000, 2


def networks(records: dict[str, dict], count: int) -> list[str]:
    """`count` of the ranking benchmark's 250 smaller-budget networks, evenly spread over MACs."""
    small = stratified(records, 1000)[::4]
    step = len(small) / count
    return [small[int(i * step)] for i in range(count)]


def measure(args: Any, genomes: list[str], path: Path) -> None:
    import torch

    from shiftnas.data import iterate_batches, normalize
    from shiftnas.search import get_space
    from shiftnas.search.bn import recalibrate_bn
    from shiftnas.search.evaluators import InheritedEvaluator
    from shiftnas.search.supernet import load_supernet

    torch.set_num_threads(1)
    done = {(r["setting"], r["arch"]) for r in read(path)}
    space = get_space("nbmacro")
    supernet = load_supernet(space, args.supernet).eval()
    data = data_splits(args)
    test = data.test.subset(torch.arange(CHUNK * CHUNKS))
    for name, (bn_batches, seed) in SETTINGS.items():
        calib = InheritedEvaluator(supernet, data, bn_batches, batch_size=128, seed=seed)
        batches = calib.calibration_batches()
        for g in genomes:
            if (name, g) in done:
                continue
            started = time.process_time()
            with torch.no_grad():
                network = supernet.extract(space.from_string(g))
                recalibrate_bn(network, network, batches)
                network.eval()
                right = []
                for images, labels in iterate_batches(test, CHUNK):
                    logits = network(normalize(images, data.mean, data.std, torch.device("cpu")))
                    right.append(int((logits.argmax(1) == labels).sum()))
            line = {"setting": name, "arch": g, "correct": right,
                    "cpu_s": round(time.process_time() - started, 2)}  # fmt: skip
            with path.open("a") as f:
                f.write(json.dumps(line) + "\n")
        print(f"{time.strftime('%H:%M:%S')} {name} done", flush=True)


def read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip().endswith("}")]


def report(rows: list[dict], records: dict[str, dict], genomes: list[str]) -> dict[str, Any]:
    from shiftnas.search.fidelity import rank_agreement

    acc = {g: float(records[g]["mean_acc"]) for g in genomes}
    got: dict[str, dict[str, list[int]]] = {}
    for r in rows:
        got.setdefault(r["setting"], {})[r["arch"]] = r["correct"]
    common = [g for g in genomes if all(g in got.get(s, {}) for s in SETTINGS)]
    if len(common) < 5:
        return {"networks": len(common)}

    def pct(setting: str, chunks: slice) -> dict[str, float]:
        return {g: 100.0 * sum(got[setting][g][chunks]) / (CHUNK * len(range(CHUNKS)[chunks]))
                for g in common}  # fmt: skip

    def tau(values: dict[str, float]) -> float:
        return round(rank_agreement({g: acc[g] for g in values}, values).kendall_tau, 4)

    def pearson(a: dict[str, float], b: dict[str, float]) -> float:
        return round(float(np.corrcoef([a[g] for g in common], [b[g] for g in common])[0, 1]), 4)

    out: dict[str, Any] = {"networks": len(common), "kendall_tau": {}, "mean_acc_pct": {}}
    for s in SETTINGS:
        first, both = pct(s, slice(0, 1)), pct(s, slice(0, CHUNKS))
        out["kendall_tau"][f"{s}@1000img"] = tau(first)
        out["kendall_tau"][f"{s}@2000img"] = tau(both)
        out["mean_acc_pct"][s] = round(float(np.mean(list(both.values()))), 2)
        out.setdefault("split_half_r", {})[s] = pearson(first, pct(s, slice(1, 2)))
    a, b = pct("bn2_seed0", slice(0, CHUNKS)), pct("bn2_seed1", slice(0, CHUNKS))
    out["bn_seed_r"] = pearson(a, b)
    out["kendall_tau"]["bn2_mean_of_seeds@2000img"] = tau({g: (a[g] + b[g]) / 2 for g in common})
    out["kendall_tau"]["macs"] = tau({g: float(records[g]["flops"]) for g in common})
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--supernet", type=Path, required=True)
    p.add_argument("--networks", type=int, default=40)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args()
    if not BENCH.exists() or not args.supernet.is_file():
        p.exit(2, f"needs {BENCH} and --supernet {args.supernet}\n")
    work = args.supernet.parent.parent
    saved = json.loads((work / "settings.json").read_text())
    for key in ("train_images", "val_images"):
        setattr(args, key, saved[key])
    raw = json.loads(BENCH.read_text())
    records = {g: raw[g] for g in truth()}
    genomes = networks(records, args.networks)
    path = work / "noise" / f"{args.supernet.parent.name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        measure(args, genomes, path)
    rows = read(path)
    result = {
        "benchmark": "nbmacro_ranking_noise", "supernet": args.supernet.parent.name,
        "settings": {**saved, "networks": args.networks, "test_images": CHUNK * CHUNKS,
                     "recalibrations": {k: {"bn_batches": b, "seed": s}
                                        for k, (b, s) in SETTINGS.items()}},
        **report(rows, records, genomes),
        "cpu_s_per_network": {s: round(float(np.mean([r["cpu_s"] for r in rows
                                                        if r["setting"] == s])), 2)
                              for s in SETTINGS if any(r["setting"] == s for r in rows)},
        "rows": rows, "machine": machine_info(),
    }  # fmt: skip
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(args.out)
    for key in ("networks", "split_half_r", "bn_seed_r", "mean_acc_pct", "kendall_tau"):
        print(f"{key}: {result.get(key)}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
