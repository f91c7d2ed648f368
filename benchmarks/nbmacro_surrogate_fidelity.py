"""Does an additive surrogate rank MobileNet blocks better than the estimate it is fitted on?

    .venv/bin/python benchmarks/nbmacro_surrogate_fidelity.py [--fit 50 100 200 500]

No network is scored here: every figure comes from committed scores.
- Training-free estimators: the scores of `benchmarks/results/nbmacro_estimators.json` (1,000
  NAS-Bench-Macro networks stratified over MACs, split into a 500-network tune and holdout half;
  NAS-Bench-Macro: Su et al., CVPR 2021, arXiv:2103.11922, Apache-2.0,
  `../shared/benchmarks/nas-bench-macro/`). For each estimator and each fit size k, the product's
  `AdditiveSurrogate` (`shiftnas.search.surrogate`, ridge 0.001, one-hot (layer, op) features of
  the canonical genome) is fitted on the estimator's scores of the first k tune networks (the
  benchmark's scoring order, a van der Corput permutation, so any prefix spans the MACs range)
  and ranks the 500 holdout networks; the estimator's own scores rank the same 500.
- Supernets: the inherited accuracies of `benchmarks/results/nbmacro_supernet_ranking.json`
  (250 networks per supernet): fitted on every other network in MACs order, judged on the rest,
  both ways, mean (its `diagnostics`, recomputed here with the product's class).
Figures against the benchmark's `mean_acc`: Kendall tau, Spearman, top-10% precision
(`shiftnas.search.fidelity.rank_agreement`). Writes
`benchmarks/results/nbmacro_surrogate_fidelity.json`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
RESULTS = ROOT / "benchmarks" / "results"
OUT = RESULTS / "nbmacro_surrogate_fidelity.json"
ESTIMATORS = ["naswot", "fisher", "grad_norm", "synflow", "snip", "jacob_cov", "rwe", "macs",
              "params"]  # fmt: skip


def fit_predict(space: Any, fit: dict[str, float], judged: list[str]) -> dict[str, float]:
    """The surrogate fitted on `fit` {genome: score}, its predictions for `judged`."""
    from shiftnas.search.surrogate import AdditiveSurrogate

    keys = sorted(fit)
    model = AdditiveSurrogate(space).fit([space.from_string(g) for g in keys],
                                         [fit[g] for g in keys])  # fmt: skip
    return dict(zip(judged, model.predict([space.from_string(g) for g in judged]), strict=True))


def agreement(truth: dict[str, float], higher_better: dict[str, float]) -> dict[str, Any]:
    from shiftnas.search.fidelity import rank_agreement

    q = rank_agreement(truth, higher_better)
    return {"kendall_tau": round(q.kendall_tau, 4), "spearman": round(q.spearman, 4),
            "top10_precision": round(q.top10_precision, 4), "n": q.n}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--fit", type=int, nargs="+", default=[50, 100, 200, 500])
    args = p.parse_args()
    from _machine import machine_info
    from nbmacro_estimators import nbmacro_truth, scoring_order

    from shiftnas.search import get_space

    space = get_space("nbmacro")
    records = nbmacro_truth()
    acc = {g: r["acc"] for g, r in records.items()}
    est = json.loads((RESULTS / "nbmacro_estimators.json").read_text())
    holdout = est["holdout"]
    tune_order = [g for g in scoring_order(sorted(est["tune"], key=lambda g: (
        records[g]["flops"], g)))]  # fmt: skip
    truth_h = {g: acc[g] for g in holdout}
    result: dict[str, Any] = {"benchmark": "nbmacro_surrogate_fidelity", "fit_sizes": args.fit,
                              "estimators": {}, "supernets": {}}  # fmt: skip
    head = " ".join(f"{'fit ' + str(k):>8s}" for k in args.fit)
    print(f"{'estimate':12s} {'raw rho':>8s} {head}")
    for name in ESTIMATORS:
        scores = est["scores"][name]
        raw = agreement(truth_h, {g: -scores[g] for g in holdout})
        fits = {}
        for k in args.fit:
            fit = {g: -scores[g] for g in tune_order[:k]}
            fits[str(k)] = agreement(truth_h, fit_predict(space, fit, holdout))
        result["estimators"][name] = {"raw": raw, "additive": fits}
        print(f"{name:12s} {raw['spearman']:+8.3f} "
              + " ".join(f"{fits[str(k)]['spearman']:+8.3f}" for k in args.fit))  # fmt: skip
    ranking = json.loads((RESULTS / "nbmacro_supernet_ranking.json").read_text())
    for name, values in ranking["scores"].items():
        if name in ("macs", "params") or len(values) < 100:
            continue
        keys = sorted(values, key=lambda g: (records[g]["flops"], g))
        halves = (keys[0::2], keys[1::2])
        raw_q, fit_q = [], []
        for fit_on, judged in (halves, halves[::-1]):
            truth_j = {g: acc[g] for g in judged}
            raw_q.append(agreement(truth_j, {g: values[g] for g in judged}))
            fit_q.append(agreement(truth_j, fit_predict(space, {g: values[g] for g in fit_on},
                                                        judged)))  # fmt: skip

        def mean(qs: list[dict[str, Any]]) -> dict[str, Any]:
            return {m: round(float(np.mean([q[m] for q in qs])), 4)
                    for m in ("kendall_tau", "spearman", "top10_precision")}  # fmt: skip

        result["supernets"][name] = {"networks": len(keys), "raw": mean(raw_q),
                                     "additive_out_of_sample": mean(fit_q)}  # fmt: skip
        print(f"{name:12s} {mean(raw_q)['spearman']:+8.3f} (half) -> additive, other half: "
              f"{mean(fit_q)['spearman']:+8.3f}")  # fmt: skip
    result["machine"] = machine_info()
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
