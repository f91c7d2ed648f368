"""A rank ensemble of estimators, and `default`, the ensemble chosen by measurement.

Scores of different estimators live on different scales, so the ensemble averages ranks. Ranks
within one `evaluate` call are only comparable inside that call, which breaks a search that
compares parents and offspring scored in different generations. With `reference=K` (the
`default`), each member's score is instead placed within the scores of K fixed random networks of
the space (seeded), a population-independent scale: same network, same score, in any call.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from shiftnas.arch import Arch
from shiftnas.search.evaluators.base import Evaluator, get_evaluator, register_evaluator

# Chosen by mean Spearman on 5 random tune halves of the 1,000 NB201 development networks, judged
# on the holdout halves (0.925); README "Performance estimators".
DEFAULT_MEMBERS = ("rwe", "synflow", "jacob_cov", "macs")
DEFAULT_REFERENCE = 48
# MobileNet-block spaces: chosen on the tune half of 1,000 NAS-Bench-Macro networks, judged on the
# holdout half and on the 46 `mbv3` networks (benchmarks/results/nbmacro_estimators.json,
# docs/concepts/estimators.md): NASWOT ranked both above MACs, at about 1 CPU-s a network; RWE
# and the NB201 ensemble ranked them below MACs.
DEFAULT_BY_SPACE: dict[str, tuple[str, ...]] = {"mbv3": ("naswot",), "nbmacro": ("naswot",)}


def reference_rank(scores: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Mid-rank of each score among the sorted reference scores, in [0, 1]."""
    ref = np.sort(reference)
    below = np.searchsorted(ref, scores, side="left")
    upto = np.searchsorted(ref, scores, side="right")
    return (below + upto) / (2.0 * len(ref))


class RankEnsemble:
    """Mean of the members' ranks (lower = better). Members are evaluator names or objects."""

    def __init__(
        self,
        *,
        members: Sequence[str | Evaluator] = DEFAULT_MEMBERS,
        reference: int = DEFAULT_REFERENCE,
        weights: Sequence[float] | None = None,
        name: str = "ensemble",
        **kwargs: Any,
    ) -> None:
        self.name = name
        self.members = [get_evaluator(m, **kwargs) if isinstance(m, str) else m for m in members]
        self.weights = np.asarray(weights if weights is not None else [1.0] * len(self.members))
        self.space = kwargs.get("space") or getattr(self.members[0], "space", None)
        self.seed = int(kwargs.get("seed", 0))
        self.reference_size = reference
        self._reference: list[np.ndarray] | None = None
        self.reference_seconds = 0.0

    def reference_scores(self) -> list[np.ndarray]:
        if self._reference is None:
            start = time.perf_counter()
            rng = np.random.default_rng(self.seed + 7_777)
            archs = [self.space.sample(rng) for _ in range(self.reference_size)]
            self._reference = [np.asarray(m.evaluate(archs)) for m in self.members]
            self.reference_seconds = time.perf_counter() - start
        return self._reference

    def evaluate(self, archs: Sequence[Arch]) -> list[float]:
        if not archs:
            return []
        columns = [np.asarray(m.evaluate(archs)) for m in self.members]
        if self.reference_size > 0:
            ranks = [
                reference_rank(c, r) for c, r in zip(columns, self.reference_scores(), strict=True)
            ]
        else:
            ranks = [(stats.rankdata(c) - 0.5) / len(c) for c in columns]
        combined = np.average(np.stack(ranks), axis=0, weights=self.weights)
        return [float(v) for v in combined]


@register_evaluator("ensemble")
def ensemble(**kwargs: Any) -> RankEnsemble:
    return RankEnsemble(**kwargs)


def default_members(space: Any) -> tuple[str, ...]:
    """The members `default` uses on `space` (by its name; the NB201 choice elsewhere)."""
    return DEFAULT_BY_SPACE.get(getattr(space, "name", ""), DEFAULT_MEMBERS)


@register_evaluator("default")
def default(**kwargs: Any) -> RankEnsemble:
    """The best estimator measured at <= 3 s per network on the space's family (one member:
    that estimator itself, renamed; see docs/concepts/estimators.md)."""
    members = kwargs.pop("members", None) or default_members(kwargs.get("space"))
    if len(members) == 1:
        extra = {k: v for k, v in kwargs.items() if k not in ("reference", "weights", "name")}
        evaluator = get_evaluator(members[0], **extra)
        evaluator.name = "default"
        return evaluator  # type: ignore[return-value]
    settings: dict[str, Any] = {"members": members, "reference": DEFAULT_REFERENCE}
    settings.update(kwargs)
    return RankEnsemble(name="default", **settings)
