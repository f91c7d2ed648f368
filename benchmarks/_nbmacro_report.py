"""The JSON and table of `nbmacro_estimators.py`, from its scores file (see that script)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from _machine import machine_info
from nbmacro_estimators import (
    DEFAULT_PLAN,
    MBV3_CSV,
    NETWORKS,
    VARIANTS,
    mbv3_truth,
    nbmacro_truth,
    read_scores,
    reference_genomes,
    split_halves,
    stratified,
)

ENSEMBLES = [("naswot", "macs"), ("naswot", "synflow"), ("naswot", "macs", "synflow")]
PROTOCOL = (
    "1,000 canonical NAS-Bench-Macro networks stratified over MACs (all 3,969 sorted by (MACs, "
    "genome), every k-th); consecutive pairs split by a seeded coin (numpy seed 0) into tune and "
    "holdout halves of 500 with the same MACs distribution. Choices (RWE variants, defaults) are "
    "made on tune; holdout is only reported. Networks are scored in a van der Corput order of the "
    "MACs-sorted list, so an estimator scored on its first n networks has a MACs-spread subset; "
    "each figure gives its n. Truth: mean_acc (percent, 3 x 50 epochs). mbv3 transfer: the 46 "
    "networks of benchmarks/results/mbv3_standalone.csv, truth = mean test accuracy over training "
    "seeds (2 epochs on 20,000 images)."
)


def mbv3_macs() -> dict[str, float]:
    import csv

    with MBV3_CSV.open(newline="") as handle:
        return {row["arch"]: float(row["macs"]) for row in csv.DictReader(handle)}


def agreement(truth: dict[str, float], scores: dict[str, float]) -> dict[str, Any] | None:
    """rank_agreement of -score (lower score = predicted better) against truth; None if < 3."""
    from shiftnas.search.fidelity import rank_agreement

    keys = set(truth) & set(scores)
    if len(keys) < 3:
        return None
    if len({scores[k] for k in keys}) == 1:
        return {"n": len(keys), "kendall_tau": None, "spearman": None, "top10_precision": None,
                "note": "every network has the same score"}  # fmt: skip
    result = rank_agreement({k: truth[k] for k in keys}, {k: -scores[k] for k in keys})
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in result.to_json().items()}


def default_scores(rows: dict, members: tuple[str, ...], reference: list[str]) -> dict[str, float]:
    """`default` = RankEnsemble(members, reference=48, seed=0) on the members' stored scores."""
    from shiftnas.search import get_space
    from shiftnas.search.evaluators import RankEnsemble

    space = get_space("nbmacro")

    class Lookup:
        def __init__(self, est: str) -> None:
            self.name, self.space = est, space

        def evaluate(self, archs: list) -> list[float]:
            return [rows[("nbmacro", self.name, space.to_string(a))]["score"] for a in archs]

    if any(("nbmacro", m, g) not in rows for m in members for g in reference):
        return {}
    ensemble = RankEnsemble(members=[Lookup(m) for m in members], reference=len(reference),
                            space=space, seed=0)  # fmt: skip
    common = set.intersection(*({g for f, e, g in rows if f == "nbmacro" and e == m}
                                for m in members))  # fmt: skip
    genomes = sorted(common)
    values = ensemble.evaluate([space.from_string(g) for g in genomes])
    return dict(zip(genomes, values, strict=True))


def report(path: Path, out: Path) -> dict[str, Any]:
    from shiftnas.search.evaluators.ensemble import DEFAULT_BY_SPACE, DEFAULT_MEMBERS

    rows = read_scores(path)
    records = nbmacro_truth()
    truth = {g: r["acc"] for g, r in records.items()}
    tune, holdout = split_halves(stratified(records, NETWORKS))
    tune_set, hold_set = set(tune), set(holdout)
    result: dict[str, Any] = {
        "benchmark": "nbmacro_estimators", "protocol": PROTOCOL, "plan": DEFAULT_PLAN,
        "variants": {k: {"estimator": b, "settings": s} for k, (b, s) in VARIANTS.items()},
        "seconds_note": "CPU seconds (process_time) and wall seconds on 2 cores shared with "
                        "other jobs (loaded); ratios between estimators are meaningful",
        "machine": machine_info(), "tune": tune, "holdout": holdout,
        "figures": {}, "mbv3_transfer": {}, "scores": {}, "mbv3_scores": {},
        "seconds_per_network": {}, "score_vs_macs": {},
    }  # fmt: skip
    reference = reference_genomes()
    for family in ("nbmacro", "mbv3"):
        ests = sorted({e for f, e, _ in rows if f == family})
        for est in ests:
            scores = {g: r["score"] for (f, e, g), r in rows.items() if f == family and e == est}
            if family == "nbmacro":
                in_set = {g: s for g, s in scores.items() if g in tune_set or g in hold_set}
                result["scores"][est] = in_set
                cpu = [r["cpu_s"] for (f, e, _), r in rows.items() if f == family and e == est]
                wall = [r["wall_s"] for (f, e, _), r in rows.items() if f == family and e == est]
                result["seconds_per_network"][est] = {
                    "cpu": round(float(np.mean(cpu)), 3), "wall": round(float(np.mean(wall)), 3),
                    "n": len(cpu)}  # fmt: skip
                result["figures"][est] = {
                    "tune": agreement({g: truth[g] for g in tune}, in_set),
                    "holdout": agreement({g: truth[g] for g in holdout}, in_set),
                    "all": agreement(truth, in_set),
                }
                macs = {g: float(r["flops"]) for g, r in records.items()}
            else:
                result["mbv3_scores"][est] = scores
                result["mbv3_transfer"][est] = agreement(mbv3_truth(), scores)
                macs = mbv3_macs()
            # how much the estimate just follows size: Spearman of -score with MACs
            vs = agreement(macs, scores)
            result["score_vs_macs"].setdefault(family, {})[est] = vs and vs["spearman"]
    # rank ensembles (RankEnsemble code, 48 reference networks), candidates for the default
    for members in (DEFAULT_MEMBERS, *ENSEMBLES):
        joint = default_scores(rows, members, reference)
        if not joint:
            continue
        key = "default_nb201" if members == DEFAULT_MEMBERS else "+".join(members)
        in_set = {g: s for g, s in joint.items() if g in tune_set or g in hold_set}
        result["scores"][key] = in_set
        result["figures"][key] = {
            "tune": agreement({g: truth[g] for g in tune}, in_set),
            "holdout": agreement({g: truth[g] for g in holdout}, in_set),
            "all": agreement(truth, in_set),
            "members": list(members),
        }
    # `default` on these spaces is its one member itself (DEFAULT_BY_SPACE): its figures are the
    # member's (tests/search/test_default_by_space.py checks the scores are the same)
    for family, figures, scores in (
        ("nbmacro", result["figures"], result["scores"]),
        ("mbv3", result["mbv3_transfer"], result["mbv3_scores"]),
    ):
        (member,) = DEFAULT_BY_SPACE[family]
        if member in figures:
            figures["default"] = {**figures[member], "same_as": member}
            scores["default"] = scores[member]
            if family == "nbmacro":
                result["seconds_per_network"]["default"] = result["seconds_per_network"][member]
    # MACs on exactly the networks of each figure: the paired comparison
    flops = {g: -float(r["flops"]) for g, r in records.items()}
    for fig_key, fig in result["figures"].items():
        scored = result["scores"][fig_key]
        for split, keys in (("tune", tune_set), ("holdout", hold_set)):
            same = {g: flops[g] for g in scored if g in keys}
            fig[f"macs_same_networks_{split}"] = (agreement(truth, same) or {}).get("spearman")
    out.write_text(json.dumps(result, indent=1) + "\n")
    head = f"{'estimator':<22}{'n tune/hold':>12}{'Spearman t/h':>16}{'Kendall t/h':>16}"
    print(f"{head}{'s/net':>8}")
    for est, fig in sorted(result["figures"].items()):
        t, h = fig["tune"] or {}, fig["holdout"] or {}
        sec = result["seconds_per_network"].get(est, {}).get("cpu", float("nan"))
        print(f"{est:<22}{t.get('n', 0):>5}/{h.get('n', 0):<6}"
              f"{_f(t.get('spearman'))}/{_f(h.get('spearman'))}  "
              f"{_f(t.get('kendall_tau'))}/{_f(h.get('kendall_tau'))}{sec:>8.2f}")  # fmt: skip
        print(f"{'  macs, same networks':<34}{_f(fig['macs_same_networks_tune'])}/"
              f"{_f(fig['macs_same_networks_holdout'])}")  # fmt: skip
    for est, fig in sorted(result["mbv3_transfer"].items()):
        fig = fig or {}
        print(f"mbv3 {est:<17}{fig.get('n', 0):>5}  Spearman {_f(fig.get('spearman'))}"
              f"  Kendall {_f(fig.get('kendall_tau'))}")  # fmt: skip
    print(f"wrote {out}", file=sys.stderr)
    return result


def _f(v: float | None) -> str:
    return f"{v:+7.3f}" if isinstance(v, float) else "   n/a "
