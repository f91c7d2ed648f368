"""The search objectives by name, each built from a run's context.

`error` comes from an estimator (`inherited` needs the run's trained supernet), `shift_error` from
the supernet on a fixed, seeded set of shifted validation images, `params`/`macs` from the built
network, `latency` from a lookup table (cheap) or measured on a backend (expensive, serial).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from shiftnas.arch import Arch, input_shape
from shiftnas.data import DataSplits, random_shifts, shift_batch
from shiftnas.device import resolve_device
from shiftnas.errors import ShiftnasError
from shiftnas.names import NameTable
from shiftnas.pipeline.config import Config
from shiftnas.search.nsga.objectives import (
    Measure,
    Scorer,
    macs_measure,
    params_measure,
)
from shiftnas.search.space import SearchSpace

SUPERNET_MEASURES = ("shift_error",)


class _Context:
    """Data and supernet, loaded once in the main process and shared with forked workers."""

    def __init__(
        self,
        cfg: Config,
        run_dir: Path,
        space: SearchSpace,
        data: DataSplits | None,
        progress: bool = True,
    ) -> None:
        self.cfg, self.run_dir, self.space, self.data = cfg, run_dir, space, data
        self.progress = progress
        self.device = resolve_device(cfg.device)
        self._supernet: Any = None

    def supernet(self) -> Any:
        if self._supernet is None:
            from shiftnas.search.supernet import load_supernet

            ckpt = require_supernet(self.run_dir)
            self._supernet = load_supernet(self.space, ckpt, self.device)
        return self._supernet

    def inherited(self, data: DataSplits) -> Scorer:
        return inherited_evaluator(self.cfg, self.supernet(), data, self.device).evaluate


OBJECTIVES: NameTable[Callable[[_Context], Measure]] = NameTable("search objective")
"""Each minimisable quantity of `search.objectives`/`search.budgets` by name: a function from the
search's context (config, run folder, space, data, supernet) to its `Measure`. Add one with
`@OBJECTIVES.register("name")` in this module (or one it imports)."""


def inherited_evaluator(cfg: Config, supernet: Any, data: DataSplits, device: Any) -> Any:
    """The `inherited` estimator exactly as the search uses it (BN recalibration batches and
    size, seed, `search.evaluator.max_val_images`), so `shiftnas eval inherited` and the search
    archive give the same error for the same network."""
    from shiftnas.search.evaluators import InheritedEvaluator

    return InheritedEvaluator(
        supernet,
        data,
        cfg.supernet.bn_recalibration_batches,
        # BN recalibration drops incomplete batches: with fewer training images than the
        # default 256 it would calibrate on none and score every network on reset statistics
        batch_size=max(1, min(256, len(data.train))),
        seed=cfg.seed,
        device=device,
        max_val_images=cfg.search.evaluator.max_val_images,
    )


def require_supernet(run_dir: Path) -> Path:
    ckpt = Path(run_dir) / "supernet" / "checkpoint.pt"
    if not ckpt.exists():
        raise ShiftnasError(
            f"no trained supernet at {ckpt}: train it first with "
            "`shiftnas supernet train --config F` (same --run-dir)"
        )
    return ckpt


def shifted_validation(data: DataSplits, max_shift: int, fill: str, seed: int) -> DataSplits:
    """The validation images, each moved by a fixed random offset in [-k, k]^2."""
    generator = torch.Generator().manual_seed(seed)
    dx, dy = random_shifts(len(data.val), max_shift, generator)
    images = shift_batch(data.val.images, dx, dy, fill)  # type: ignore[arg-type]
    val = dataclasses.replace(data.val, pixels=images, rows=None)
    return dataclasses.replace(data, val=val)


@OBJECTIVES.register("error")
def error_measure(ctx: _Context) -> Measure:
    measure = _estimate_measure(ctx)
    surrogate = ctx.cfg.search.evaluator.surrogate
    return measure if surrogate is None else _surrogate_measure(ctx, measure, surrogate)


def _surrogate_measure(ctx: _Context, measure: Measure, surrogate: Any) -> Measure:
    """`measure` read off an additive fit (`search.surrogate`), fitted here in the main process
    before the search; the scored networks are kept in `search/surrogate-<fingerprint>.jsonl`,
    so a killed fit resumes and a changed estimator never reuses them."""
    from shiftnas.search.surrogate import fit_fingerprint, fit_surrogate

    cfg = ctx.cfg
    seed = (cfg.search.seed if cfg.search.seed is not None else cfg.seed) + 4_242
    key = fit_fingerprint({"evaluator": cfg.search.evaluator.model_dump(mode="json"),
                           "seed": seed, "space": ctx.space.describe()})  # fmt: skip
    model = fit_surrogate(ctx.space, measure.make(), surrogate.networks, seed,
                          ctx.run_dir / "search" / f"surrogate-{key}.jsonl", surrogate.ridge,
                          progress=ctx.progress)  # fmt: skip
    return Measure("error", "cheap", lambda: model.predict, fraction=measure.fraction,
                   estimate=measure.estimate)  # fmt: skip


def _estimate_measure(ctx: _Context) -> Measure:
    settings = ctx.cfg.search.evaluator
    if settings.name == "inherited":
        ctx.supernet()  # fail now, with the one-line message, not in a worker
        data = ctx.data
        return Measure("error", "expensive", lambda: ctx.inherited(data), fraction=True)  # type: ignore[arg-type]

    def make() -> Scorer:
        from shiftnas.search.evaluators import get_evaluator

        evaluator = get_evaluator(
            settings.name,
            space=ctx.space,
            data=ctx.data,
            seed=ctx.cfg.seed,
            device=ctx.device,
            **settings.settings,
        )
        return evaluator.evaluate

    make()  # an unknown name or bad settings fail here, once
    return Measure("error", "expensive", make, estimate=settings.name)


@OBJECTIVES.register("shift_error")
def shift_error_measure(ctx: _Context) -> Measure:
    if ctx.cfg.search.evaluator.name != "inherited":
        raise ShiftnasError(
            "search objective shift_error needs inherited weights: set search.evaluator.name: "
            "inherited (and train the supernet)"
        )
    ctx.supernet()
    shift = ctx.cfg.search.shift_error
    shifted = shifted_validation(ctx.data, shift.max_shift, shift.fill, ctx.cfg.seed)  # type: ignore[arg-type]
    return Measure("shift_error", "expensive", lambda: ctx.inherited(shifted), fraction=True)


@OBJECTIVES.register("latency")
def latency_measure(ctx: _Context) -> Measure:
    settings = ctx.cfg.search.latency
    space = ctx.space
    if settings.table is not None:
        from shiftnas.profiling.lut import LatencyTable
        from shiftnas.profiling.lut_check import check_settings

        table = LatencyTable.load(settings.table)
        table.check_space(space)
        # the settings this config states (the rest follow the table) must be the table's
        stated = settings.model_fields_set & {"backend", "threads", "batch_size"}
        check_settings(
            table,
            settings.model_dump(include=stated),
            str(settings.table),
            "set search.latency to the table's settings, or build a table for these",
        )
        return Measure(
            "latency", "cheap", lambda: lambda archs: [table.predict_ms(a) for a in archs]
        )
    from shiftnas.profiling.backends import get_backend

    shape = input_shape(getattr(space, "settings", None), settings.batch_size)
    options = dict(
        threads=settings.threads,
        batch_size=settings.batch_size,
        warmup=settings.warmup,
        runs=settings.runs,
    )
    get_backend(settings.backend, **options)  # an absent backend fails here, in one line

    def make() -> Scorer:
        backend = get_backend(settings.backend, **options)

        def measure(archs: list[Arch]) -> list[float]:
            return [float(backend.measure(space.build(a).eval(), shape).median_ms) for a in archs]

        return measure  # type: ignore[return-value]

    return Measure("latency", "expensive", make, serial=True)


@OBJECTIVES.register("params")
def _params(ctx: _Context) -> Measure:
    return params_measure(ctx.space)


@OBJECTIVES.register("macs")
def _macs(ctx: _Context) -> Measure:
    return macs_measure(ctx.space)
