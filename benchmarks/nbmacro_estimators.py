"""How well does every training-free estimator rank MobileNet blocks? NAS-Bench-Macro + mbv3.

    .venv/bin/python benchmarks/nbmacro_estimators.py [--plan macs:1000,snip:256,...]
        [--work DIR] [--report-only]

Ground truth: NAS-Bench-Macro (Su et al., CVPR 2021, arXiv:2103.11922; Apache-2.0, public
repository xiusu/NAS-Bench-Macro; `../shared/benchmarks/nas-bench-macro/`): `mean_acc` (percent,
3 trainings of 50 epochs) of its 3,969 distinct (canonical) networks.
Networks: 1,000 canonical genomes stratified over MACs (all 3,969 sorted by (MACs, genome), every
k-th, as `benchmarks/nbmacro_supernet_ranking.py`). Tune/holdout protocol: consecutive pairs of
that MACs-sorted list are split by a seeded coin (numpy seed 0), one network to `tune`, one to
`holdout`: two halves of 500 with the same MACs distribution. Settings (the RWE variants below,
the default per space) are chosen on `tune` only; `holdout` is reported and never used to choose.
Scoring order: a van der Corput permutation of the 1,000, so every prefix that finished is itself
spread over MACs (an estimator scored on its first n networks is judged on those n).
Estimators: `get_evaluator(name, space=nbmacro, data=CIFAR-10 JPEG (val_fraction 0.1, seed 0, as
`-c configs/cifar10-cpu.yaml`), seed=0)`, their default settings, one torch thread; score as
`shiftnas eval` prints it (lower = predicted better); `default` is the real `RankEnsemble` code on
its members' scores, with the 48 reference networks it draws scored like the others.
Transfer (`mbv3:` phases): the 46 `mbv3` networks of `benchmarks/results/mbv3_standalone.csv`
(skeleton of `configs/cifar10-cpu.yaml`), truth = mean test accuracy over training seeds.
Resumable: one line per (estimator, network) in `--work/scores.jsonl`; a rerun skips what is done.
`--report-only` writes `benchmarks/results/nbmacro_estimators.json` from what has finished.
Seconds are CPU seconds (time.process_time) and wall seconds on 2 cores SHARED with other jobs.
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
BENCH = ROOT.parent / "shared" / "benchmarks" / "nas-bench-macro" / "nas-bench-macro_cifar10.json"
CIFAR = ROOT.parent / "shared" / "datasets" / "cifar10-jpeg"
MBV3_CSV = ROOT / "benchmarks" / "results" / "mbv3_standalone.csv"
PRESET = ROOT / "configs" / "cifar10-cpu.yaml"
OUT = ROOT / "benchmarks" / "results" / "nbmacro_estimators.json"
WORK = ROOT / "runs" / "bench-nbmacro-estimators"
NETWORKS = 1000
REFERENCE_SEED = 7_777  # RankEnsemble draws its reference networks with seed + 7_777
# name -> (registered estimator, settings): variants measured while finding why RWE inverts
S8 = {"stem_channels": 8, "head_channels": 320}  # nbmacro at 1/4 width: stages 16/32/64
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "rwe_s8": ("rwe", {"proxy": S8}),
    "rwe_s8_g1": ("rwe", {"proxy": S8, "grid": 1}),
    "rwe_s8_g1_bntrain": ("rwe", {"proxy": S8, "grid": 1, "bn": "train"}),
    "rwe_s8_g1_last": ("rwe", {"proxy": S8, "grid": 1, "taps": "last"}),
    "rwe_s8_n4k": ("rwe", {"proxy": S8, "train_images": 4000}),
    "rwe_s8_bntrain": ("rwe", {"proxy": S8, "bn": "train"}),
    "rwe_g1": ("rwe", {"grid": 1}),
    "rwe_g1_bntrain": ("rwe", {"grid": 1, "bn": "train"}),
    "rwe_bntrain": ("rwe", {"bn": "train"}),
    "rwe_n2k": ("rwe", {"train_images": 2000}),
    "rwe_s8_each": ("rwe", {"proxy": S8, "taps": "each"}),
    "rwe_each": ("rwe", {"taps": "each"}),
    # `rwe` as tuned on NB201, before issue #25 (full-size network on mbv3 and nbmacro, all taps)
    "rwe_nb201_settings": ("rwe", {"proxy": {}, "taps": "all"}),
    "rwe_s8_each_bntrain": ("rwe", {"proxy": S8, "taps": "each", "bn": "train"}),
    # the NB201 default (before issue #25) on a MobileNet-block space
    "default_nb201": (
        "ensemble",
        {"members": ["rwe", "synflow", "jacob_cov", "macs"], "reference": 48},
    ),
    "rwe_each_bntrain": ("rwe", {"taps": "each", "bn": "train"}),
}
CHEAP = ("snip", "naswot", "jacob_cov", "grad_norm", "fisher")
DEFAULT_PLAN = ",".join([  # the cheapest, most telling first: every phase resumes
    "macs:1000", "params:1000", "synflow:256",
    "mbv3:rwe:46", "rwe:128", "snip:64", "naswot:256", "ref:naswot:48", "ref:macs:48",
    "ref:synflow:48", "rwe_paper:2", "jacob_cov:64", "grad_norm:64",
    "fisher:64", "naswot:512",
    *(f"mbv3:{e}:46" for e in ("macs", "params", "synflow", *CHEAP)),
    "tune:rwe_s8:48", "tune:rwe_s8_g1:48", "mbv3:rwe:46", "tune:rwe_s8_each:48",
    "mbv3:rwe_each:46", *(f"{e}:64" for e in CHEAP), "rwe_paper:2", "mbv3:rwe_bntrain:46",
    "mbv3:default_nb201:46", "tune:rwe_s8_each_bntrain:48", *(f"{e}:128" for e in CHEAP),
    "mbv3:rwe_each_bntrain:46", "mbv3:rwe_g1:46", "mbv3:rwe_n2k:46",
    "tune:rwe_s8_g1_bntrain:48", "tune:rwe_s8_bntrain:48", "tune:rwe_s8_g1_last:48",
    "tune:rwe:16", "synflow:1000", *(f"{e}:256" for e in CHEAP), "tune:rwe_s8_n4k:64",
    *(f"{e}:512" for e in CHEAP), *(f"{e}:1000" for e in CHEAP),
    "ref:rwe:48", "ref:jacob_cov:48", "rwe:512", "rwe:1000",  # + default_nb201 on 1,000
])  # fmt: skip


def nbmacro_truth() -> dict[str, dict[str, float]]:
    """{canonical genome: {"acc": mean_acc percent, "flops": MACs}} for the 3,969 networks."""
    from shiftnas.search import get_space

    space = get_space("nbmacro")
    data = json.loads(BENCH.read_text())
    canon = {space.to_string(space.canonical(space.from_string(k))) for k in data}
    return {g: {"acc": float(data[g]["mean_acc"]), "flops": data[g]["flops"]} for g in canon}


def stratified(records: dict[str, dict], count: int) -> list[str]:
    """`count` genomes evenly spaced over all canonical genomes sorted by (MACs, genome)."""
    ordered = sorted(records, key=lambda g: (records[g]["flops"], g))
    step = len(ordered) / count
    return [ordered[int(i * step)] for i in range(count)]


def split_halves(networks: list[str], seed: int = 0) -> tuple[list[str], list[str]]:
    """(tune, holdout): one of each consecutive pair (MACs order) to each half by a seeded coin."""
    rng = np.random.default_rng(seed)
    tune, holdout = [], []
    for i in range(0, len(networks) - 1, 2):
        a, b = networks[i], networks[i + 1]
        if rng.random() < 0.5:
            a, b = b, a
        tune.append(a)
        holdout.append(b)
    return tune, holdout


def van_der_corput(i: int) -> float:
    value, denom = 0.0, 1.0
    while i:
        denom *= 2
        i, bit = divmod(i, 2)
        value += bit / denom
    return value


def scoring_order(networks: list[str]) -> list[str]:
    """`networks` (MACs-sorted) permuted so that every prefix is spread over MACs."""
    n = len(networks)
    return [networks[i] for i in sorted(range(n), key=lambda i: (van_der_corput(i), i))]


def mbv3_truth() -> dict[str, float]:
    """Mean test accuracy over training seeds per `mbv3` genome of the stand-alone CSV."""
    import csv

    rows: dict[str, list[float]] = {}
    with MBV3_CSV.open(newline="") as handle:
        for row in csv.DictReader(handle):
            rows.setdefault(row["arch"], []).append(float(row["test_acc"]))
    return {g: float(np.mean(v)) for g, v in rows.items()}


def read_scores(path: Path) -> dict[tuple[str, str, str], dict[str, float]]:
    """(family, estimator, genome) -> line; a torn last line is skipped."""
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            out[(r["family"], r["est"], r["arch"])] = r
    return out


class Scorer:
    """Builds each (family, estimator) evaluator once; data loaded once (both families share it)."""

    def __init__(self) -> None:
        import torch

        torch.set_num_threads(1)
        self.evaluators: dict[tuple[str, str], Any] = {}
        self._data: Any = None

    def data(self) -> Any:
        from shiftnas.data import load_data
        from shiftnas.data.settings import DataConfig

        if self._data is None:
            config = DataConfig(dataset="imagefolder", root=CIFAR, cache_dir=ROOT / "runs/.cache",
                                val_fraction=0.1)  # fmt: skip
            self._data = load_data(config, seed=0)
        return self._data

    def space(self, family: str) -> Any:
        from shiftnas.search import get_space

        if family == "mbv3":
            sys.path.insert(0, str(ROOT / "benchmarks"))
            from _standalone import load_preset

            return get_space("mbv3", load_preset(PRESET).space, num_classes=10)
        return get_space("nbmacro", num_classes=10)

    def evaluator(self, family: str, est: str) -> Any:
        from shiftnas.search.evaluators import get_evaluator

        if (family, est) not in self.evaluators:
            base, settings = VARIANTS.get(est, (est, {}))
            self.evaluators[family, est] = get_evaluator(
                base, space=self.space(family), data=self.data(), seed=0, **settings
            )
        return self.evaluators[family, est]

    def score(self, family: str, est: str, genome: str) -> dict[str, Any]:
        ev = self.evaluator(family, est)
        arch = ev.space.from_string(genome)
        cpu, wall = time.process_time(), time.perf_counter()
        value = ev.evaluate([arch])[0]
        return {"family": family, "est": est, "arch": genome, "score": value,
                "cpu_s": round(time.process_time() - cpu, 4),
                "wall_s": round(time.perf_counter() - wall, 4)}  # fmt: skip


def reference_genomes(count: int = 48) -> list[str]:
    """The `nbmacro` networks `RankEnsemble(reference=48, seed=0)` draws (canonical genomes)."""
    from shiftnas.search import get_space

    space = get_space("nbmacro")
    rng = np.random.default_rng(0 + REFERENCE_SEED)
    return [space.to_string(space.canonical(space.sample(rng))) for _ in range(count)]


def phase_networks(phase: str, order: list[str], scorer: Scorer) -> tuple[str, str, list[str]]:
    parts = phase.split(":")
    count = int(parts[-1])
    if parts[0] == "mbv3":
        return "mbv3", parts[1], sorted(mbv3_truth())[:count]
    if parts[0] == "tune":
        tune = set(split_halves(sorted(order, key=_macs_key))[0])
        return "nbmacro", parts[1], [g for g in order if g in tune][:count]
    if parts[0] == "ref":
        return "nbmacro", parts[1], reference_genomes(count)
    return "nbmacro", parts[0], order[:count]


_FLOPS: dict[str, int] = {}


def _macs_key(genome: str) -> tuple[int, str]:
    if not _FLOPS:
        _FLOPS.update({g: r["flops"] for g, r in nbmacro_truth().items()})
    return _FLOPS[genome], genome


def run(plan: list[str], work: Path) -> None:
    records = nbmacro_truth()
    order = scoring_order(stratified(records, NETWORKS))
    path = work / "scores.jsonl"
    work.mkdir(parents=True, exist_ok=True)
    scorer = Scorer()
    for phase in plan:
        family, est, genomes = phase_networks(phase, order, scorer)
        done = read_scores(path)
        todo = [g for g in genomes if (family, est, g) not in done]
        print(f"{phase}: {len(todo)} to score", flush=True)
        for g in todo:
            line = scorer.score(family, est, g)
            with path.open("a") as f:
                f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--plan", default=DEFAULT_PLAN, help="comma-separated [mbv3:|ref:]EST:COUNT")
    p.add_argument("--work", type=Path, default=WORK)
    p.add_argument("--report-only", action="store_true")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    if not args.report_only:
        run(args.plan.split(","), args.work)
    from _nbmacro_report import report

    report(args.work / "scores.jsonl", args.out)
