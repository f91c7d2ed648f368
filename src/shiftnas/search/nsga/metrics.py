"""Front and normalised hypervolume of a generation.

Normalisation bounds are fixed for the whole search, so hypervolumes of different generations
(and of a resumed run) compare directly. For each objective, in order of precedence:
1. `bounds` declared on the measure (config: `search.objectives[].bounds`);
2. fractions (`Measure.fraction`: `error` from inherited weights, `shift_error`): [0, 1];
3. an objective with a budget: [0, budget];
4. otherwise [min(0, m), M + 0.1 (M - min(0, m))] for the smallest m and largest M value in the
   initial population (so negative proxy scores work too).
Objectives are mapped to [0, 1] by these bounds and the hypervolume is taken with pymoo's HV
indicator against the reference point (1, ..., 1): 1.0 would be a network at the lower bound of
every objective. Points beyond the reference point add nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from pymoo.indicators.hv import HV
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from shiftnas.search.nsga.objectives import Measure

Bounds = dict[str, tuple[float, float]]


def fixed_bounds(
    objectives: Sequence[Measure], budgets: Mapping[str, float], initial: np.ndarray
) -> Bounds:
    """Bounds by the rules above; `initial` is the initial population's `(N, n_obj)` values."""
    bounds: Bounds = {}
    for j, m in enumerate(objectives):
        if m.bounds is not None:
            bounds[m.name] = (float(m.bounds[0]), float(m.bounds[1]))
        elif m.fraction:
            bounds[m.name] = (0.0, 1.0)
        elif m.name in budgets:
            bounds[m.name] = (0.0, float(budgets[m.name]))
        else:
            finite = initial[:, j][np.isfinite(initial[:, j])]
            low = min(0.0, float(finite.min())) if finite.size else 0.0
            top = float(finite.max()) if finite.size else 1.0
            high = top + 0.1 * (top - low)
            bounds[m.name] = (low, high if high > low else low + 1.0)
    return bounds


def normalise(F: np.ndarray, names: Sequence[str], bounds: Bounds) -> np.ndarray:
    low = np.array([bounds[n][0] for n in names])
    high = np.array([bounds[n][1] for n in names])
    return (F - low) / (high - low)


def front_indices(F: np.ndarray, feasible: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows among the feasible ones (empty if none is feasible)."""
    index = np.flatnonzero(feasible)
    if index.size == 0:
        return index
    nds = NonDominatedSorting().do(F[index], only_non_dominated_front=True)
    return np.sort(index[nds])


def hypervolume(F_norm: np.ndarray) -> float:
    inside = F_norm[np.all(F_norm <= 1.0, axis=1)]
    if len(inside) == 0:
        return 0.0
    return float(HV(ref_point=np.ones(F_norm.shape[1]))(inside))


def generation_record(
    generation: int,
    F: np.ndarray,
    feasible: np.ndarray,
    names: Sequence[str],
    bounds: Bounds,
    evaluations: int,
) -> dict[str, object]:
    """One line of `metrics.jsonl` for the current population."""
    front = front_indices(F, feasible)
    hv = hypervolume(normalise(F[front], names, bounds)) if front.size else 0.0
    best = {n: float(F[feasible, j].min()) if feasible.any() else None for j, n in enumerate(names)}
    return {
        "generation": generation,
        "hypervolume": hv,
        "front_size": int(front.size),
        "feasible": int(feasible.sum()),
        "evaluations": evaluations,
        "best": best,
    }
