"""Choosing which networks of the front to retrain: the knee and the extremes, or the best under
the deployment constraints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from shiftnas.errors import ShiftnasError


def knee_index(objectives: np.ndarray) -> int:
    """The member closest to the ideal point once every objective is scaled to [0, 1] over the
    front: the best compromise when no objective is preferred."""
    low, high = objectives.min(axis=0), objectives.max(axis=0)
    scaled = (objectives - low) / np.where(high > low, high - low, 1.0)
    return int(np.argmin(np.linalg.norm(scaled, axis=1)))


def select_from_front(
    front: Sequence[Mapping[str, Any]],
    objective_names: Sequence[str],
    k: int = 3,
    strategy: str = "knee_extremes",
    budgets: Mapping[str, float] | None = None,
) -> list[dict[str, Any]]:
    """Pick up to `k` front members, each returned with the reason it was picked.

    `knee_extremes`: the knee, then the best member of each objective in the configured order.
    `best_feasible`: the members that meet `budgets`, ordered by the first objective (the error).
    Members that break a budget are never picked; no feasible member is a clear error.

    Raises:
        ShiftnasError: the front is empty (search.budgets), a budget names a quantity the front
            does not hold, or no member meets `budgets` (select.budgets).
    """
    budgets = dict(budgets or {})
    if not front:
        raise ShiftnasError(
            "the search front is empty: no searched network met search.budgets; relax "
            "search.budgets (select.budgets only filter a front that exists)"
        )
    unmeasured = sorted(set(budgets) - set(front[0]["objectives"]))
    if unmeasured:
        raise ShiftnasError(
            f"select.budgets names {', '.join(unmeasured)}, which the search did not minimise "
            f"(objectives: {', '.join(objective_names)}): add it to search.objectives or drop it"
        )
    feasible = [m for m in front if all(m["objectives"][q] <= b for q, b in budgets.items())]
    if not feasible:
        limits = ", ".join(f"{q} <= {b:g}" for q, b in budgets.items())
        raise ShiftnasError(
            f"no network of the front meets the budgets ({limits}): "
            "relax select.budgets or search longer"
        )
    values = np.array(
        [[m["objectives"][n] for n in objective_names] for m in feasible], dtype=float
    )
    picked: list[tuple[int, str]] = []
    if strategy == "best_feasible":
        order = np.argsort(values[:, 0], kind="stable")
        picked = [(int(i), f"best {objective_names[0]} within budgets") for i in order]
    elif strategy == "knee_extremes":
        picked.append((knee_index(values), "knee"))
        for j, name in enumerate(objective_names):
            picked.append((int(np.argmin(values[:, j])), f"best {name}"))
    else:
        raise ShiftnasError(f"select.strategy '{strategy}' is not knee_extremes or best_feasible")
    chosen: dict[int, list[str]] = {}
    for index, reason in picked:
        if index in chosen:
            chosen[index].append(reason)
        elif len(chosen) < k:
            chosen[index] = [reason]
    return [{**feasible[i], "reasons": reasons} for i, reasons in chosen.items()]
