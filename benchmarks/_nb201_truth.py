"""What is known to be true about NAS-Bench-201 here, and fronts judged against it.

The truth is `../shared/benchmarks/nb201_cifar10_dev.csv`: 1,000 networks of the 15,625 with
their CIFAR-10 test accuracy (%) after NB201's 200-epoch training. Any other network's accuracy is
unknown here, so a found front is judged on its members that are in the file, and the share of
members that are is always reported beside the figure.

Hypervolume (issue 15): objectives are (test error in %, MACs in millions), both minimised; the
reference point lies 10% beyond the true front's worst error and worst MACs.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from shiftnas.arch import Arch
from shiftnas.profiling import count_macs
from shiftnas.search.nsga.metrics import front_indices

SHAPE = (1, 3, 32, 32)


class MacsModel:
    """fvcore MACs of any NB201 network from 5 measured ones: base + one cost per op on each of
    the canonical genome's edges (every edge of a cell sees the same channels). Checked exactly
    against fvcore on `check` networks when made."""

    def __init__(self, space: Any, check: Iterable[Arch] = ()) -> None:
        self.space = space
        self.base = count_macs(space.build(Arch(space.name, (0,) * 6)), SHAPE)
        self.cost = {0: 0}
        for op in range(1, 5):
            genome = (0, 0, 0, op, 0, 0)  # edge 0->3 always reaches the output
            self.cost[op] = count_macs(space.build(Arch(space.name, genome)), SHAPE) - self.base
        for arch in check:
            assert self(arch) == count_macs(space.build(arch), SHAPE), arch

    def __call__(self, arch: Arch) -> int:
        return int(self.base + sum(self.cost[g] for g in self.space.canonical(arch).genome))


class Truth:
    """Canonical id -> true test accuracy (%) and MACs of the development networks."""

    def __init__(self, space: Any, path: Path) -> None:
        rows = list(csv.DictReader(path.open()))
        archs = [space.canonical(space.from_string(r["arch"])) for r in rows]
        self.macs = MacsModel(space, check=archs[:5])
        self.acc: dict[str, float] = {}
        self.arch: dict[str, Arch] = {}
        for arch, row in zip(archs, rows, strict=True):
            self.acc.setdefault(arch.id, float(row["cifar10_test_acc_200ep"]))
            self.arch.setdefault(arch.id, arch)
        ids = list(self.acc)
        self.points = self.error_macs(ids)
        self.front = [ids[k] for k in front_indices(self.points, np.ones(len(ids), bool))]
        self.front.sort(key=lambda i: self.macs(self.arch[i]))
        worst = self.error_macs(self.front).max(axis=0)
        self.reference = 1.1 * worst

    def records(self, scores: dict[str, float]) -> list[dict[str, Any]]:
        """Archive-like records (id, objectives: error = the estimate, macs) of scored networks."""
        return [{"id": i, "objectives": {"error": float(v), "macs": self.macs(self.arch[i])}}
                for i, v in scores.items()]  # fmt: skip

    def error_macs(self, ids: Iterable[str]) -> np.ndarray:
        """`(N, 2)`: true error in %, MACs in millions."""
        rows = [[100.0 - self.acc[i], self.macs(self.arch[i]) / 1e6] for i in ids]
        return np.array(rows, float).reshape(-1, 2)

    def hypervolume(self, ids: Iterable[str]) -> float:
        """Hypervolume of the known networks among `ids` (unknown ones are left out)."""
        from pymoo.indicators.hv import HV

        points = self.error_macs([i for i in ids if i in self.acc])
        inside = points[np.all(points <= self.reference, axis=1)]
        return float(HV(ref_point=self.reference)(inside)) if len(inside) else 0.0

    def judge(self, front_ids: list[str], evaluated_ids: list[str]) -> dict[str, Any]:
        """A found front (and everything its search evaluated) against the true front."""
        true_hv = self.hypervolume(self.front)
        known = [i for i in front_ids if i in self.acc]
        seen = [i for i in evaluated_ids if i in self.acc]
        gaps = [self.gap(i) for i in known]
        return {
            "front_members_with_truth": len(known),
            "front_members": len(front_ids),
            "hypervolume_ratio_front": round(self.hypervolume(known) / true_hv, 4),
            "evaluated_with_truth": len(seen),
            "hypervolume_ratio_evaluated": round(self.hypervolume(seen) / true_hv, 4),
            "true_front_members_found": sorted(set(front_ids) & set(self.front)),
            "true_front_members_evaluated": sorted(set(evaluated_ids) & set(self.front)),
            "mean_gap_to_true_front_pts": round(float(np.mean(gaps)), 3) if gaps else None,
        }

    def gap(self, arch_id: str) -> float:
        """True error minus the best true error of a dev network with at most its MACs (pts)."""
        macs = self.macs(self.arch[arch_id])
        reachable = [100.0 - self.acc[i] for i in self.acc if self.macs(self.arch[i]) <= macs]
        return 100.0 - self.acc[arch_id] - min(reachable)


def estimated_front(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The non-dominated records in (estimated error, MACs), sorted by MACs."""
    F = np.array([[r["objectives"]["error"], r["objectives"]["macs"]] for r in records], float)
    picked = [records[k] for k in front_indices(F, np.isfinite(F).all(axis=1))]
    return sorted(picked, key=lambda r: (r["objectives"]["macs"], r["objectives"]["error"]))
