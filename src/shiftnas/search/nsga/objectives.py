"""What a search measures of each network: objectives and budgets, declared with their cost.

A `Measure` is a named quantity, always minimised. Its `cost` decides the order of evaluation:
every cheap measure (parameters, MACs, lookup-table latency) of a batch is computed first, so a
network that already breaks a cheap budget need not be sent to an expensive one (error, shifted
error, measured latency). `serial` measures (latency measured on a device) run alone in the main
process, never alongside each other or the worker pool, so the timings stay clean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from shiftnas.arch import Arch, input_shape
from shiftnas.errors import ShiftnasError
from shiftnas.search.space import SearchSpace

Scorer = Callable[[Sequence[Arch]], list[float]]
# how dear a measure is to compute: cheap ones first, then the expensive ones for survivors
MeasureCost = Literal["cheap", "expensive"]


@dataclass(frozen=True)
class Measure:
    """A quantity of a network. `make` builds its scorer in the process that will run it (the
    main process or a pool worker), so heavy state (a supernet, a dataset) is never pickled;
    only the Ray executor pickles `make` and what it holds, once, into Ray's object store."""

    name: str
    cost: MeasureCost
    make: Callable[[], Scorer]
    serial: bool = False
    bounds: tuple[float, float] | None = None  # hypervolume normalisation; None: default rule
    # values are fractions in [0, 1] (a classifier's error), so [0, 1] normalises them; an
    # estimator's "error" may be a negated proxy, a rank or a regression loss, and is not one
    fraction: bool = False
    direction: Literal["min"] = "min"
    # the training-free estimator behind the measure (its name), if any: a generation it scores
    # all alike stops the search (`check_not_blind`)
    estimate: str | None = None


@dataclass(frozen=True)
class Budget:
    """A constraint `measure <= limit`, handed to pymoo as `G = (value - limit) / |limit| <= 0`.

    Relative to the limit (pymoo's constraint-handling guide): pymoo sums the positive `G` of a
    network into one violation, so raw units would let the largest unit decide (1,000,050
    params over a 1e6 budget, 0.005% over, would count 10 times more than 10 ms over a 5 ms
    budget, 100% over). A limit of 0 has no scale: its `G` stays `value - limit`.
    """

    measure: Measure
    limit: float

    def violation(self, value: float | None) -> float:
        """`G` of one network: > 0 by the fraction of the limit it is over (0.5: 50% over),
        <= 0 when met. None (not measured: another budget already failed) adds nothing."""
        if value is None:
            return 0.0
        scale = abs(self.limit) if self.limit != 0 else 1.0
        return (value - self.limit) / scale


def constraint_matrix(
    values: Sequence[dict[str, float | None]], budgets: Sequence[Budget]
) -> np.ndarray:
    """pymoo's `G` `(networks, budgets)`: each budget's `violation`, unitless."""
    rows = [[b.violation(v[b.measure.name]) for b in budgets] for v in values]
    return np.array(rows, dtype=float).reshape(len(values), len(budgets))


def check_not_blind(
    measures: Sequence[Measure], values: Sequence[dict[str, float | None]], generation: int
) -> None:
    """Raise, in one line, when an estimator's measure gave every network of a generation (two
    or more) the same value: it cannot rank them, and NSGA-II would silently rank by the other
    objectives alone (issue #25: `rwe_paper` scored every `mbv3` network 0.900).

    Raises:
        ShiftnasError: a measure with `estimate` set is constant over `values`.
    """
    for m in measures:
        if m.estimate is None:
            continue
        known = [v[m.name] for v in values if v.get(m.name) is not None]
        if len(known) >= 2 and len(set(known)) == 1:
            raise ShiftnasError(
                f"search.evaluator.name: '{m.estimate}' gave all {len(known)} networks of "
                f"generation {generation} the same {m.name} ({known[0]:.6g}): a blind estimate "
                "cannot rank them; choose one measured on this space (shiftnas estimators "
                "--space NAME)"
            )


def check_some_feasible(
    budgets: Sequence[Budget], values: Sequence[dict[str, float | None]]
) -> None:
    """Raise, in one line, when no evaluated network meets every budget, naming each budget and
    the best (smallest) value found for it: such a search has no front to hand on.

    Raises:
        ShiftnasError: `budgets` is not empty and no row of `values` meets all of them.
    """
    if not budgets:
        return

    def meets(v: dict[str, float | None], b: Budget) -> bool:
        x = v.get(b.measure.name)
        return x is not None and x <= b.limit

    if any(all(meets(v, b) for b in budgets) for v in values):
        return
    parts = []
    for b in budgets:
        known = [v[b.measure.name] for v in values if v.get(b.measure.name) is not None]
        best = f"best found {min(known):,.6g}" if known else "never measured"  # type: ignore[type-var]
        met = sum(meets(v, b) for v in values)
        parts.append(f"{b.measure.name} <= {b.limit:,.6g} ({best}; met by {met})")
    raise ShiftnasError(
        f"no evaluated network met the search budgets ({len(values)} networks): "
        f"{', '.join(parts)}: relax search.budgets"
    )


def params_measure(space: SearchSpace) -> Measure:
    def make() -> Scorer:
        from shiftnas.profiling import count_params

        return lambda archs: [float(count_params(space.build(a))) for a in archs]

    return Measure("params", "cheap", make)


def macs_measure(space: SearchSpace) -> Measure:
    """MACs of the exported network, one image (`shiftnas.profiling.macs.count_macs`)."""
    shape = input_shape(getattr(space, "settings", None))

    def make() -> Scorer:
        from shiftnas.profiling import count_macs

        return lambda archs: [float(count_macs(space.build(a), shape)) for a in archs]  # type: ignore[arg-type]

    return Measure("macs", "cheap", make)


def scorer_measure(
    name: str, make: Callable[[], Scorer], cost: MeasureCost = "expensive"
) -> Measure:
    """Wrap any `archs -> scores` factory (an evaluator's `evaluate`) as a measure."""
    return Measure(name, cost, make)
