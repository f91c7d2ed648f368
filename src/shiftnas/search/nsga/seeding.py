"""The first population spread over the range of a cheap objective (`search.initial_population:
spread`).

A uniform sample of a space crowds where most networks are: in NAS-Bench-201 and `mbv3` most
random networks sit in the middle of the MACs range, so the first generation holds few small
or large networks, and the ends of the front are found late. Here the first population is drawn
as `POOL_FACTOR x population` distinct random networks, ordered by the first cheap objective
(parameters, MACs or table latency, computed in-process: milliseconds a network), cut into
`population` groups of equal size, and one random network is taken from each group. Networks
that break a cheap budget are left out of the pool while enough others remain; when fewer than
`population` meet the budgets, all those that do are taken and the other places are spread.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shiftnas.errors import ShiftnasError
from shiftnas.search.nsga.objectives import Budget, Measure
from shiftnas.search.space import SearchSpace

POOL_FACTOR = 10  # pool of random networks per place in the first population


def spread_genomes(
    space: SearchSpace,
    objectives: Sequence[Measure],
    budgets: Sequence[Budget],
    population: int,
    seed: int,
) -> np.ndarray:
    """Genomes `(population, genes)` of distinct canonical networks spread over the first cheap
    objective's range (fewer rows when the space holds fewer networks).

    Raises:
        ShiftnasError: no objective is cheap (nothing to spread over).
    """
    cheap = [m for m in objectives if m.cost == "cheap" and not m.serial]
    if not cheap:
        names = ", ".join(m.name for m in objectives)
        raise ShiftnasError(
            f"search.initial_population 'spread' needs a cheap objective (params, macs or "
            f"latency from a table); the objectives are {names}: add one or use 'random'"
        )
    rng = np.random.default_rng([seed, 1_000_003])
    pool: dict[tuple[int, ...], object] = {}
    for _ in range(100 * POOL_FACTOR * population):
        if len(pool) == POOL_FACTOR * population:
            break
        arch = space.canonical(space.sample(rng))
        pool.setdefault(arch.genome, arch)
    archs = list(pool.values())
    keep = np.ones(len(archs), dtype=bool)
    for budget in budgets:
        if budget.measure.cost == "cheap" and not budget.measure.serial:
            keep &= np.asarray(budget.measure.make()(archs), float) <= budget.limit
    feasible = [a for a, k in zip(archs, keep, strict=True) if k]
    if len(feasible) >= population:
        return _spread(feasible, cheap[0], population, rng)
    # too few meet the budgets: all of them, and the other places spread over the rest
    others = [a for a, k in zip(archs, keep, strict=True) if not k]
    picked = [a.genome for a in feasible]  # type: ignore[attr-defined]
    if others and population > len(picked):
        picked += [tuple(g) for g in _spread(others, cheap[0], population - len(picked), rng)]
    return np.array(picked, dtype=int)


def _spread(archs: list, measure: Measure, n: int, rng: np.random.Generator) -> np.ndarray:
    """One random network from each of `n` equal groups of `archs` ordered by `measure`."""
    values = np.asarray(measure.make()(archs), dtype=float)
    order = np.argsort(values, kind="stable")
    groups = [g for g in np.array_split(order, min(n, len(archs))) if len(g)]
    return np.array([archs[int(rng.choice(g))].genome for g in groups], dtype=int)
