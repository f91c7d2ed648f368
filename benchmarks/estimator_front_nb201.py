"""How close to the true front can a search with a given estimator get? Measured on NB201's
1,000 development networks, where every accuracy is known.

A search returns the front of its *estimated* objectives. Restricted to the development networks,
the best any search can do with an estimator is that estimator's own front among all of them;
its true hypervolume (error in %, MACs; reference 10% beyond the true front's worst) against the
true front's is the ceiling of that estimator, whatever the search. Uses the raw scores that
`evaluator_fidelity.py --n 1000 --resume FILE` wrote (committed:
`benchmarks/results/evaluator_scores_nb201_dev.json`), so it runs in seconds.

    .venv/bin/python benchmarks/estimator_front_nb201.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info
from _nb201_truth import Truth, estimated_front

from shiftnas.files import write_json_atomic
from shiftnas.search import get_space
from shiftnas.search.evaluators.ensemble import DEFAULT_MEMBERS, DEFAULT_REFERENCE, reference_rank

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "benchmarks" / "nb201_cifar10_dev.csv"


def read_scores(path: Path) -> dict[str, dict[str, float]]:
    """method -> canonical id -> raw score, from `evaluator_fidelity.py --resume FILE`."""
    return {m: {i: v[0] for i, v in s.items()} for m, s in json.loads(path.read_text()).items()}


def scored_ids(truth: Truth, raw: dict[str, dict[str, float]]) -> list[str]:
    """The development networks every member of `default` scored."""
    return [i for i in truth.acc if all(i in raw[m] for m in DEFAULT_MEMBERS)]


def default_scores(space: Any, raw: dict[str, dict[str, float]], ids: list[str]) -> dict:
    """`default`'s score of each id, computed as `RankEnsemble(seed=0)` does: each member's
    rank among its 48 reference networks, averaged."""
    rng = np.random.default_rng(7_777)  # the reference networks of RankEnsemble(seed=0)
    reference = [space.sample(rng).id for _ in range(DEFAULT_REFERENCE)]
    ranks = [
        reference_rank(np.array([raw[m][i] for i in ids]), np.array([raw[m][r] for r in reference]))
        for m in DEFAULT_MEMBERS
    ]
    return dict(zip(ids, np.mean(ranks, axis=0).tolist(), strict=True))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--scores", type=Path, default=ROOT / "benchmarks/results/evaluator_scores_nb201_dev.json"
    )
    p.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks/results/estimator_front_nb201.json"
    )
    args = p.parse_args()
    if not DEV.exists():
        print(f"skipped: needs {DEV}")
        return
    space = get_space("nb201")
    truth = Truth(space, DEV)
    raw = read_scores(args.scores)
    ids = scored_ids(truth, raw)
    estimators = {"default": default_scores(space, raw, ids)}
    # macs and params are left out: as the error objective beside MACs every network is on
    # their front (-MACs against MACs), so their "front" is the whole file
    estimators |= {m: {i: raw[m][i] for i in ids} for m in raw if m not in ("macs", "params")}
    estimators["true error (a perfect estimator)"] = {i: -truth.acc[i] for i in ids}
    results = {}
    print(f"{'estimator':34} {'front':>5} {'true front found':>16} {'HV ratio':>9} {'mean gap':>9}")
    for name, score in estimators.items():
        records = truth.records(score)
        front = [r["id"] for r in estimated_front(records)]
        judged = truth.judge(front, ids)
        found = len(judged["true_front_members_found"])
        results[name] = {k: judged[k] for k in ("front_members", "hypervolume_ratio_front",
                                                "mean_gap_to_true_front_pts")}  # fmt: skip
        results[name]["true_front_members_found"] = found
        hv, gap = judged["hypervolume_ratio_front"], judged["mean_gap_to_true_front_pts"]
        print(f"{name:34} {len(front):>5} {found:>9} of {len(truth.front):<4} {hv:>9.4f} {gap:>9}")
    write_json_atomic(args.out, {
        "benchmark": "estimator_front_nb201", "networks": len(ids),
        "true_front_size": len(truth.front), "default_members": list(DEFAULT_MEMBERS),
        "reference_point_error_pct_macs_m": truth.reference.round(4).tolist(),
        "estimators": results, "machine": machine_info(),
    })  # fmt: skip
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
