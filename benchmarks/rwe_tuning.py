"""How `rwe` was chosen: its knobs measured on NAS-Bench-201 development networks that the
fidelity benchmark (evaluator_fidelity.py, seed 1) never scores, so the choice is not tuned on
the networks it is judged on.

    python benchmarks/rwe_tuning.py --n 150 [--from-raw raw.json]

Per network, features are extracted once per backbone setting (proxy size, init, BatchNorm mode,
init seed) from 4000 training images, and every probe setting (pooling, number of images, ridge
penalty, objective) is scored from them. Writes benchmarks/results/rwe_tuning.json: Spearman of
every setting, synflow and naswot on the same networks, and split-half stability.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import stats
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info

from shiftnas.data import load_data
from shiftnas.data.settings import DataConfig
from shiftnas.search import Arch, get_space
from shiftnas.search.evaluators import get_evaluator
from shiftnas.search.evaluators.features import extract_features, initialise
from shiftnas.search.evaluators.probe import ridge_error, standardise
from shiftnas.search.evaluators.rwe import subsample
from shiftnas.search.evaluators.scoring import build_seeded

REPO = Path(__file__).resolve().parents[1]
BACKBONES = {  # name: (proxy settings, init, BatchNorm mode, init seed)
    "c8n1_kaiming": ({"channels": 8, "cells_per_stage": 1}, "kaiming", "eval", 0),
    "c8n1_default": ({"channels": 8, "cells_per_stage": 1}, "default", "eval", 0),
    "c8n1_kaiming_bntrain": ({"channels": 8, "cells_per_stage": 1}, "kaiming", "train", 0),
    "c16n1_kaiming": ({"channels": 16, "cells_per_stage": 1}, "kaiming", "eval", 0),
    "c8n2_kaiming": ({"channels": 8, "cells_per_stage": 2}, "kaiming", "eval", 0),
    "c8n1_kaiming_s2": ({"channels": 8, "cells_per_stage": 1}, "kaiming", "eval", 1),
}
IMAGES = 4000
_DATA: Any = None


def _init_worker(root: str, cache: str) -> None:
    global _DATA
    torch.set_num_threads(1)
    _DATA = load_data(DataConfig(dataset="imagefolder", root=root, cache_dir=cache), seed=0)


def probe_settings(features: torch.Tensor, last_width: int, y: torch.Tensor) -> dict[str, float]:
    """`features`: every cell 2x2-pooled, laid out (C, 2, 2) per cell, then the classifier's
    input (`last_width` columns); grid 1 is the mean of each channel's four cells."""
    cells, last = features[:, :-last_width], features[:, -last_width:]
    grid1 = torch.cat([cells.reshape(len(cells), -1, 4).mean(-1), last], 1)
    out = {}
    for pooling, x_all in (
        ("g2all", features),
        ("g1all", grid1),
        ("last", last),
    ):
        x_all = torch.nan_to_num(x_all)
        for n in (1000, 2000, 4000):
            x, _ = standardise(x_all[:n], x_all[:n])
            for alpha in (1e-4, 1e-3, 1e-2, 1e-1):
                error, mse = ridge_error(x, y[:n], x, y[:n], 10, alpha)
                out[f"{pooling}/n{n}/a{alpha}/fit_err"] = error + 1e-4 * mse
                out[f"{pooling}/n{n}/a{alpha}/fit_mse"] = mse
        train, val = standardise(x_all[:2000], x_all[2000:4000])
        for alpha in (1e-2, 1e-1, 1.0):
            error, mse = ridge_error(train, y[:2000], val, y[2000:4000], 10, alpha)
            out[f"{pooling}/val/a{alpha}/err"] = error + 1e-4 * mse
            out[f"{pooling}/val/a{alpha}/mse"] = mse
    return out


def score_network(genome: list[int]) -> tuple[str, dict[str, float]]:
    space = get_space("nb201", num_classes=10)
    arch = Arch("nb201", tuple(genome))
    images = subsample(_DATA.train, IMAGES, 0)
    scores: dict[str, float] = {}
    for name, (overrides, init, bn, seed) in BACKBONES.items():
        proxy = get_space("nb201", space.settings, **overrides)
        cpu = time.process_time()
        network = build_seeded(
            proxy, arch, seed, torch.device("cpu"), lambda m, init=init: initialise(m, init)
        )
        features = extract_features(
            network, images, _DATA.mean, _DATA.std, taps="all", grid=2, bn=bn, batch_size=500
        )
        last_width = [m for m in network.modules() if isinstance(m, nn.Linear)][-1].in_features
        scores[f"{name}/cpu"] = time.process_time() - cpu
        probes = probe_settings(features, last_width, images.labels)
        scores.update({f"{name}/{k}": v for k, v in probes.items()})
    for method in ("synflow", "naswot"):
        scores[method] = get_evaluator(method, space=space, data=_DATA, seed=0).evaluate([arch])[0]
    return arch.id, scores


def summarise(raw: dict[str, Any]) -> dict[str, Any]:
    ids = list(raw["scores"])
    acc = np.array([raw["acc"][i] for i in ids])
    half = len(ids) // 2

    def rho(s: np.ndarray, a: np.ndarray) -> float:
        return round(float(stats.spearmanr(-s, a).statistic), 4)

    settings = {}
    for key in raw["scores"][ids[0]]:
        if key.endswith("/cpu"):
            continue
        s = np.array([raw["scores"][i][key] for i in ids])
        settings[key] = {
            "spearman": rho(s, acc),
            "halves": [rho(s[:half], acc[:half]), rho(s[half:], acc[half:])],
        }
    cpu = {
        k.removesuffix("/cpu"): round(float(np.mean([raw["scores"][i][k] for i in ids])), 3)
        for k in raw["scores"][ids[0]]
        if k.endswith("/cpu")
    }
    return {
        "n": len(ids),
        "settings": dict(sorted(settings.items(), key=lambda kv: -kv[1]["spearman"])),
        "cpu_seconds_per_backbone_4000_images": cpu,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--truth", type=Path, default=REPO.parent / "shared/benchmarks/nb201_cifar10_dev.csv"
    )
    p.add_argument("--data-root", default=str(REPO.parent / "shared/datasets/cifar10-jpeg"))
    p.add_argument("--cache-dir", default="/tmp/shiftnas-cache")
    p.add_argument("--n", type=int, default=150)
    p.add_argument("--from-raw", type=Path, help="summarise raw scores of an earlier (cut) run")
    p.add_argument("--raw", type=Path, default=Path("/tmp/rwe_tuning.raw.json"))
    p.add_argument("--out", type=Path, default=REPO / "benchmarks/results/rwe_tuning.json")
    args = p.parse_args()
    started = time.time()
    if args.from_raw:
        raw = json.loads(args.from_raw.read_text())
    else:
        space = get_space("nb201")
        rows = list(csv.DictReader(args.truth.open()))
        judged = set(np.random.default_rng(1).permutation(len(rows))[:300].tolist())
        order = np.random.default_rng(42).permutation(len(rows))
        picked = [int(i) for i in order if i not in judged][: args.n]
        archs = [space.canonical(space.from_string(rows[i]["arch"])) for i in picked]
        raw = {
            "acc": {
                a.id: float(rows[i]["cifar10_test_acc_200ep"])
                for a, i in zip(archs, picked, strict=True)
            },
            "scores": {},
        }
        with ProcessPoolExecutor(
            2, initializer=_init_worker, initargs=(args.data_root, args.cache_dir)
        ) as pool:
            for k, (arch_id, scores) in enumerate(
                pool.map(score_network, [list(a.genome) for a in archs])
            ):
                raw["scores"][arch_id] = scores
                args.raw.write_text(json.dumps(raw))  # keep every network scored so far
                print(f"{k + 1}/{len(archs)} networks ({time.time() - started:.0f} s)", flush=True)
    result = summarise(raw) | {
        "machine": machine_info(),
        "run_settings": {k: str(v) for k, v in vars(args).items()},
        "backbones": {k: str(v) for k, v in BACKBONES.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    top = list(result["settings"].items())
    print(f"n = {result['n']}")
    shown = dict(top[:12]) | {k: result["settings"][k] for k in ("synflow", "naswot")}
    for name, entry in shown.items():
        print(
            f"{entry['spearman']:.3f}  halves {entry['halves'][0]:.3f} "
            f"{entry['halves'][1]:.3f}  {name}"
        )


if __name__ == "__main__":
    main()
