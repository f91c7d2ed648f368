"""Why does RWE rank MobileNetV3 blocks backwards? Remove one part of the block at a time.

    .venv/bin/python benchmarks/rwe_mbv3_ablation.py [--work DIR] [--report-only]

The 46 `mbv3` networks of `benchmarks/results/mbv3_standalone.csv` (skeleton of
`configs/cifar10-cpu.yaml`; truth = mean stand-alone test accuracy over training seeds) are
scored by `rwe` (ridge training squared error, default settings; `taps=each`: one probe per tap)
on networks with one part of the block changed, the same random init otherwise: squeeze-excite
removed, hardswish replaced by ReLU, BlurPool replaced by plain subsampling, the residual add
removed, BatchNorm in train mode (batch statistics). For each: Spearman with the truth, and with
MACs (does a bigger network fit the random features better, > 0, or worse, < 0?). Scores are
appended to `--work/ablation.jsonl` (resumable); writes `benchmarks/results/rwe_mbv3_ablation.json`.
Data: CIFAR-10 JPEG, val_fraction 0.1, seed 0 (as `-c configs/cifar10-cpu.yaml`). One thread;
2 cores shared with other jobs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _machine import machine_info  # noqa: E402
from nbmacro_estimators import Scorer, mbv3_truth  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "rwe_mbv3_ablation.json"
WORK = ROOT / "runs" / "bench-nbmacro-estimators"


class Subsample(nn.Module):
    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[..., :: self.stride, :: self.stride]


def replace(module: nn.Module, kind: type, make: Any) -> None:
    for name, child in module.named_children():
        if isinstance(child, kind):
            setattr(module, name, make(child))
        else:
            replace(child, kind, make)


def ablate(network: nn.Module, change: str) -> nn.Module:
    from shiftnas.search.spaces.blurpool import BlurPool
    from shiftnas.search.spaces.mbv3_blocks import InvertedResidual, SqueezeExcite

    if change == "no_se":
        replace(network, SqueezeExcite, lambda _: nn.Identity())
    elif change == "relu":
        replace(network, nn.Hardswish, lambda _: nn.ReLU(inplace=True))
    elif change == "no_blurpool":
        replace(network, BlurPool, lambda m: Subsample(m.stride))
    elif change == "no_residual":
        for m in network.modules():
            if isinstance(m, InvertedResidual):
                m.use_residual = False
    return network


class AblatedSpace:
    """The space, building every network with `change` applied."""

    def __init__(self, space: Any, change: str) -> None:
        self._space, self._change = space, change

    def __getattr__(self, name: str) -> Any:
        return getattr(self._space, name)

    def build(self, arch: Any) -> nn.Module:
        return ablate(self._space.build(arch), self._change)


CHANGES = ["no_se", "relu", "no_blurpool", "no_residual"]
# the unchanged network and BatchNorm in train mode are scored by nbmacro_estimators.py (`mbv3:`
# phases of rwe, rwe_bntrain, rwe_each, rwe_each_bntrain): read from its scores file
FROM_MAIN = {
    ("all", "none"): "rwe_nb201_settings",
    ("all", "bn_train"): "rwe_bntrain",
    ("each", "none"): "rwe_each",
    ("each", "bn_train"): "rwe_each_bntrain",
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--work", type=Path, default=WORK)
    p.add_argument("--report-only", action="store_true")
    p.add_argument("--taps", default="all,each")
    p.add_argument("--changes", default=",".join(CHANGES))
    args = p.parse_args()
    path = args.work / "ablation.jsonl"
    done = set()
    if path.exists():
        for line in path.read_text().splitlines():
            r = json.loads(line)
            done.add((r["taps"], r["change"], r["arch"]))
    genomes = sorted(mbv3_truth())
    if not args.report_only:
        from shiftnas.search.evaluators import get_evaluator

        scorer = Scorer()
        space = scorer.space("mbv3")
        for taps in args.taps.split(","):
            for change in args.changes.split(","):
                ev = get_evaluator("rwe", space=space, data=scorer.data(), seed=0, taps=taps)
                ev.proxy_space = AblatedSpace(space, change)
                for g in genomes:
                    if (taps, change, g) in done:
                        continue
                    score = ev.evaluate([space.from_string(g)])[0]
                    with path.open("a") as f:
                        f.write(json.dumps({"taps": taps, "change": change, "arch": g,
                                            "score": score}) + "\n")  # fmt: skip
    report(path)


def report(path: Path) -> None:
    from _nbmacro_report import agreement, mbv3_macs
    from nbmacro_estimators import read_scores

    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for (f, est, g), r in read_scores(path.parent / "scores.jsonl").items():
        for (taps, change), name in FROM_MAIN.items():
            if f == "mbv3" and est == name:
                rows.append({"taps": taps, "change": change, "arch": g, "score": r["score"]})
    truth, macs = mbv3_truth(), mbv3_macs()
    result: dict[str, Any] = {"benchmark": "rwe_mbv3_ablation", "doc": __doc__,
                              "machine": machine_info(), "figures": {}, "scores": {}}  # fmt: skip
    print(f"{'taps':<6}{'change':<13}{'n':>4}{'Spearman':>10}{'vs MACs':>10}")
    for taps in ("all", "each"):
        for change in ["none", "bn_train", *CHANGES]:
            scores = {r["arch"]: r["score"] for r in rows
                      if r["taps"] == taps and r["change"] == change}  # fmt: skip
            if len(scores) < 3:
                continue
            fig = agreement(truth, scores)
            vs = agreement(macs, scores)
            key = f"taps={taps}/{change}"
            result["figures"][key] = {**fig, "spearman_vs_macs": vs["spearman"]}
            result["scores"][key] = scores
            print(f"{taps:<6}{change:<13}{fig['n']:>4}{fig['spearman']:>+10.3f}"
                  f"{vs['spearman']:>+10.3f}")  # fmt: skip
    OUT.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
