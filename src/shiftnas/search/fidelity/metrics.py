"""How well an estimate ranks networks against a measured truth: Kendall tau, Spearman rho and
top-10% precision, over distinct networks.

Conventions: both mappings go from a network's key (its genome string) to a number where HIGHER
is BETTER (accuracy; pass `-error` or `-score` for an estimate where lower is better). Only the
keys present in both are compared. Kendall tau is tau-b (ties counted as ties, scipy); Spearman
rho uses average ranks. Top-10% precision: the share of the predicted top decile that is in the
true top decile; the predicted top decile is every network scored at least the k-th best
predicted score (k = ceil(n / 10)), so ties at the boundary enter together and a constant
estimate scores the base rate k / n, not an arbitrary pick.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from shiftnas.errors import ShiftnasError


@dataclass(frozen=True)
class RankAgreement:
    """Agreement of one estimate with the truth over `n` networks; a value is None where it is
    undefined (a constant side)."""

    n: int
    kendall_tau: float | None
    spearman: float | None
    top10_precision: float

    def to_json(self) -> dict[str, float | int | None]:
        return asdict(self)


def top_precision(truth: np.ndarray, predicted: np.ndarray, fraction: float = 0.1) -> float:
    """Share of the predicted top `fraction` (ties at the boundary included) in the true top
    `fraction` (also tie-inclusive); both arrays (n,), higher = better."""
    k = max(1, math.ceil(fraction * len(truth)))
    true_top = truth >= np.sort(truth)[::-1][k - 1]
    predicted_top = predicted >= np.sort(predicted)[::-1][k - 1]
    return float(np.mean(true_top[predicted_top]))


def rank_agreement(
    truth: Mapping[str, float], predicted: Mapping[str, float], top_fraction: float = 0.1
) -> RankAgreement:
    """Kendall tau-b, Spearman rho and top-`top_fraction` precision of `predicted` against
    `truth` (both higher = better) over their common keys.

    Raises ShiftnasError when fewer than 3 keys are shared or a value is not finite."""
    from scipy import stats

    keys = sorted(set(truth) & set(predicted))
    if len(keys) < 3:
        raise ShiftnasError(
            f"only {len(keys)} networks have both a measured accuracy and an estimate: rank "
            "agreement needs at least 3 (check that the truth and the estimate name the same "
            "space)"
        )
    t = np.array([truth[k] for k in keys], dtype=float)
    p = np.array([predicted[k] for k in keys], dtype=float)
    if not (np.isfinite(t).all() and np.isfinite(p).all()):
        raise ShiftnasError("a measured accuracy or an estimate is not a finite number")

    def defined(value: float) -> float | None:
        return None if math.isnan(value) else float(value)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        tau = defined(stats.kendalltau(p, t).statistic)
        rho = defined(stats.spearmanr(p, t).statistic)
    return RankAgreement(len(keys), tau, rho, top_precision(t, p, top_fraction))
