"""From a `Config` and a run folder to the measures, budgets and call of `run_search`; the
objectives themselves are registered by name in `pipeline.objectives`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from shiftnas.data import DataSplits, load_data
from shiftnas.device import resolve_device
from shiftnas.errors import ShiftnasError
from shiftnas.pipeline.config import Config
from shiftnas.pipeline.objectives import OBJECTIVES, _Context, require_supernet
from shiftnas.search.nsga.objectives import (
    Budget,
    Measure,
)
from shiftnas.search.nsga.run import MetricsSink, SearchResult, run_search
from shiftnas.search.space import SearchSpace, get_space


def build_measures(
    cfg: Config,
    run_dir: Path,
    space: SearchSpace,
    data: DataSplits | None = None,
    progress: bool = True,
) -> tuple[list[Measure], list[Budget]]:
    """The objectives (in config order) and budgets of `cfg.search`; with
    `search.evaluator.surrogate` the surrogate is fitted here (`progress`: its bar)."""
    wanted = [o.name for o in cfg.search.objectives] + list(cfg.search.budgets)
    if data is None and ("error" in wanted or "shift_error" in wanted):
        data = load_data(cfg.data, cfg.seed, cfg.space)
    ctx = _Context(cfg, run_dir, space, data, progress)
    built: dict[str, Measure] = {}
    for name in dict.fromkeys(wanted):
        built[name] = OBJECTIVES.get(name)(ctx)
    objectives = [
        dataclasses.replace(built[o.name], bounds=o.bounds) for o in cfg.search.objectives
    ]
    budgets = [Budget(built[name], float(limit)) for name, limit in cfg.search.budgets.items()]
    return objectives, budgets


def search_from_config(
    cfg: Config,
    run_dir: Path,
    progress: bool = True,
    tracker: MetricsSink | None = None,
    data_loader: Callable[[], DataSplits] | None = None,
) -> SearchResult:
    """The `search` stage of a run: reads the space and data of `cfg`, writes `run_dir/search/`.

    `data_loader` gives the run's already decoded data (the pipeline's context); without it
    the data is loaded here, and only when an objective needs images. Raises ShiftnasError for
    settings that cannot run (workers on CUDA, Ray missing, no trained supernet) before any
    data is loaded."""
    run_dir = Path(run_dir)
    if cfg.search.executor == "ray":
        from shiftnas.search.nsga.ray_executor import require_ray

        require_ray()  # before minutes of data loading
    names = [o.name for o in cfg.search.objectives] + list(cfg.search.budgets)
    pooled = "error" in names or "shift_error" in names  # the measures workers compute
    if cfg.search.workers > 1 and pooled and resolve_device(cfg.device).type == "cuda":
        raise ShiftnasError(
            f"search.workers: {cfg.search.workers} forks worker processes, which cannot use "
            "CUDA: set search.workers: 1 on a GPU (or device: cpu)"
        )
    if "shift_error" in names or ("error" in names and cfg.search.evaluator.name == "inherited"):
        require_supernet(run_dir)  # before minutes of data loading
    data = None
    if "error" in names or "shift_error" in names:
        data = data_loader() if data_loader else load_data(cfg.data, cfg.seed, cfg.space)
    overrides = {"num_classes": data.num_classes} if data is not None else {}
    space = get_space(cfg.space.name, cfg.space, **overrides)
    objectives, budgets = build_measures(cfg, run_dir, space, data, progress)
    seed = cfg.search.seed if cfg.search.seed is not None else cfg.seed
    return run_search(
        space,
        objectives,
        cfg.search,
        run_dir / "search",
        seed,
        budgets=budgets,
        progress=progress,
        tracker=tracker,
    )
