"""Typed settings of `shiftnas.search`: the `search:` section (NSGA-II, objectives, estimator,
latency, Ray) and the names of the quantities a search can minimise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from shiftnas.section import Section


def _renamed_quantity(value: Any) -> Any:
    if value == "flops":
        raise ValueError("'flops' is now 'macs' (it always held MACs, multiply-adds): use macs")
    return value


# The names are those of `pipeline.objectives.OBJECTIVES` (error, shift_error, params, macs,
# latency and any registered one), checked against it when a run's config is checked.
SearchQuantity = Annotated[
    str, BeforeValidator(_renamed_quantity), Field(pattern=r"^[a-z][a-z0-9_]*$")
]


class SearchObjectiveConfig(Section):
    """One minimised objective; `bounds` fix its hypervolume normalisation (see `search.nsga`)."""

    name: SearchQuantity
    bounds: tuple[float, float] | None = None  # None: the documented default for this objective

    @model_validator(mode="after")
    def _ordered(self) -> SearchObjectiveConfig:
        if self.bounds is not None and not self.bounds[0] < self.bounds[1]:
            raise ValueError(f"bounds of '{self.name}' must be [low, high] with low < high")
        return self


class SearchSurrogateConfig(Section):
    """Rank by an additive fit of the estimate instead of the estimate itself
    (`shiftnas.search.surrogate`): `networks` sampled networks are scored with the estimator
    once, before the search; every network the search asks for is then read off the fit."""

    model: Literal["additive"] = "additive"  # one weight per (gene position, value)
    networks: int = Field(default=200, ge=20, le=100_000)  # scored with the estimator, once
    ridge: float = Field(default=1e-3, ge=0.0)  # L2 penalty, in squared units of the estimate


class SearchEvaluatorConfig(Section):
    """Which estimator gives the `error` objective, and its keyword settings."""

    name: str = Field(default="inherited", min_length=1)
    settings: dict[str, Any] = Field(default_factory=dict)
    max_val_images: int | None = Field(default=None, ge=10)  # inherited / shift_error only
    # an estimator never measured on the space, or measured below `macs` there
    # (`search.evaluators.trust`): one warning line before any work, or a stop with `error`
    unmeasured: Literal["warn", "error"] = "warn"
    # rank by an additive fit of the estimate (`shiftnas.search.surrogate`); absent: the estimate
    surrogate: SearchSurrogateConfig | None = None


class SearchLatencyConfig(Section):
    """`table` (a lookup-table file: cheap) or, when absent, measured on `backend` (expensive)."""

    table: Path | None = None
    backend: str = "ort-cpu"
    threads: int = Field(default=1, ge=1, le=256)
    batch_size: int = Field(default=1, ge=1, le=4096)
    warmup: int = Field(default=20, ge=0, le=100_000)
    runs: int = Field(default=200, ge=1, le=1_000_000)


class SearchShiftConfig(Section):
    max_shift: int = Field(default=4, ge=1, le=64)
    fill: Literal["zero", "circular"] = "zero"


class SearchRayConfig(Section):
    """Where `search.executor: ray` sends the expensive estimates (`search.nsga.ray_executor`).

    `address`: `auto` (the cluster `ray start` made on this machine), `host:6379` (a cluster
    this machine is a node of), `ray://host:10001` (a remote cluster through Ray Client), or
    None: a local cluster of `num_cpus` CPUs (None: one per `search.workers`), started on demand
    and stopped when the search ends.
    """

    address: str | None = Field(default=None, pattern=r"^(auto|ray://\S+|[^\s:/]+:\d+)$")
    num_cpus: int | None = Field(default=None, ge=1, le=100_000)


class SearchConfig(Section):
    """NSGA-II settings (SICNS: population 10 x 50 generations; RWE: 20 x 30)."""

    population: int = Field(default=10, ge=2, le=100_000)
    generations: int = Field(default=50, ge=1, le=100_000)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)  # None: the run's seed
    workers: int = Field(default=1, ge=1, le=256)  # 1: evaluate in-process
    executor: Literal["local", "ray"] = "local"  # ray: on `workers` Ray actors (`search.ray`)
    ray: SearchRayConfig = SearchRayConfig()
    crossover_prob: float = Field(default=0.9, ge=0.0, le=1.0)
    # polynomial mutation on integer genes: a small distribution index (pymoo's integer
    # example uses 3) moves genes by more than one step often enough to matter
    mutation_eta: float = Field(default=3.0, gt=0.0, le=100.0)
    mutation_prob: float | None = Field(default=None, gt=0.0, le=1.0)  # per gene; None: 1/genes
    # breed again any offspring whose network an earlier generation evaluated: each generation
    # brings `population` networks not seen before (benchmarks/search_levers_nb201.py)
    novel_offspring: bool = False
    # first population: `random` (uniform over the space) or `spread` evenly over the range of
    # the first cheap objective (params, macs, table latency; `search.nsga.seeding`)
    initial_population: Literal["random", "spread"] = "random"
    objectives: list[SearchObjectiveConfig] = Field(
        default_factory=lambda: [
            SearchObjectiveConfig(name="error"),
            SearchObjectiveConfig(name="params"),
            SearchObjectiveConfig(name="macs"),
        ],
        min_length=1,
    )
    budgets: dict[SearchQuantity, float] = Field(default_factory=dict)  # value <= budget
    skip_infeasible: bool = True  # no expensive evaluation when a cheap budget already fails
    evaluator: SearchEvaluatorConfig = SearchEvaluatorConfig()
    latency: SearchLatencyConfig = SearchLatencyConfig()
    shift_error: SearchShiftConfig = SearchShiftConfig()

    @model_validator(mode="after")
    def _unique(self) -> SearchConfig:
        names = [o.name for o in self.objectives]
        if len(set(names)) != len(names):
            raise ValueError(f"search.objectives: each objective once, got {', '.join(names)}")
        cheap = {"params", "macs"} | ({"latency"} if self.latency.table is not None else set())
        if self.initial_population == "spread" and not cheap & set(names):
            raise ValueError(
                "search.initial_population 'spread' needs a cheap objective (params, macs, or "
                f"latency with search.latency.table); got {', '.join(names)}: add one or use "
                "'random'"
            )
        return self
