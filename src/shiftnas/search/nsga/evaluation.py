"""Evaluating a batch of networks: cached, cheap first, expensive in a pool, latency alone.

Order for the networks of one generation that are not in the archive yet:
1. cheap measures, in the main process;
2. expensive measures that are CPU-bound, in `workers` processes (or in-process for 1), for the
   networks whose cheap budgets hold (when `skip_infeasible`);
3. serial measures (measured latency), in the main process, one network at a time, after the
   pool's batch has finished, so nothing else runs on the device while a network is timed.
Each network goes to the archive as soon as all its measures are known, in the batch's order,
so the archive is the same whether workers are 1 or many, interrupted or not.

With `ray` settings (`search.executor: ray`) steps 2 and 3 run on Ray actors instead of the
process pool and the main process (`search.nsga.ray_executor`); the order, and so the archive,
the front and resume, are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch

from shiftnas.arch import Arch
from shiftnas.search.nsga.archive import Archive, Values
from shiftnas.search.nsga.objectives import Budget, Measure, Scorer
from shiftnas.search.nsga.workers import WORKER_THREADS, RetryingPool
from shiftnas.search.settings import SearchRayConfig

_WORKER_SCORERS: dict[str, Scorer] = {}


@contextmanager
def worker_threads() -> Iterator[None]:
    """Torch at `WORKER_THREADS` threads (as in every pool worker and Ray actor), restored
    after: a float score depends on how many threads split its sums."""
    before = torch.get_num_threads()
    torch.set_num_threads(WORKER_THREADS)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _init_worker(measures: Sequence[Measure]) -> None:
    torch.set_num_threads(WORKER_THREADS)
    _WORKER_SCORERS.clear()
    _WORKER_SCORERS.update({m.name: m.make() for m in measures})


def _score_in_worker(arch: Arch) -> dict[str, float]:
    return {name: float(score([arch])[0]) for name, score in _WORKER_SCORERS.items()}


class Engine:
    """Computes every measure of networks not yet in `archive`, and records them there."""

    def __init__(
        self,
        measures: Sequence[Measure],
        budgets: Sequence[Budget],
        archive: Archive,
        text: Callable[[Arch], str],
        workers: int = 1,
        skip_infeasible: bool = True,
        ray: SearchRayConfig | None = None,
    ) -> None:
        self.measures = list(measures)
        self.budgets = list(budgets)
        self.archive = archive
        self.text = text
        self.workers = workers
        self.skip_infeasible = skip_infeasible
        self.cheap = [m for m in self.measures if m.cost == "cheap"]
        self.pooled = [m for m in self.measures if m.cost == "expensive" and not m.serial]
        self.serial = [m for m in self.measures if m.cost == "expensive" and m.serial]
        self._scorers: dict[str, Scorer] = {}
        self._pool: RetryingPool | None = None
        self.ray = ray
        self._ray_executor: Any = None
        if ray is not None:
            from shiftnas.search.nsga.ray_executor import require_ray

            require_ray()  # one line now, not after the first generation's cheap measures
        self.evaluated = 0  # networks evaluated by this process (cache misses)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._ray_executor is not None:
            self._ray_executor.close()
            self._ray_executor = None

    def scorer(self, measure: Measure) -> Scorer:
        if measure.name not in self._scorers:
            self._scorers[measure.name] = measure.make()
        return self._scorers[measure.name]

    def pool(self) -> RetryingPool:
        """The worker processes; a dead one is replaced (`search.nsga.workers`)."""
        if self._pool is None:
            self._pool = RetryingPool(self.workers, _init_worker, (self.pooled,))
        return self._pool

    def ray_executor(self) -> Any:
        if self._ray_executor is None:
            from shiftnas.search.nsga.ray_executor import RayExecutor

            assert self.ray is not None
            self._ray_executor = RayExecutor(self.pooled, self.serial, self.workers, self.ray)
        return self._ray_executor

    def cheap_ok(self, values: Values) -> bool:
        return all(
            values[b.measure.name] is None or values[b.measure.name] <= b.limit  # type: ignore[operator]
            for b in self.budgets
            if b.measure.name in values
        )

    def evaluate(self, archs: Sequence[Arch], generation: int) -> list[Values]:
        """The measures of each (canonical) architecture, from the archive or computed now."""
        todo: list[Arch] = []
        for arch in archs:
            if arch.id not in self.archive and arch.id not in {a.id for a in todo}:
                todo.append(arch)
        if todo:
            self._compute(todo, generation)
        return [self.archive.values(arch.id) for arch in archs]

    def _compute(self, archs: list[Arch], generation: int) -> None:
        values: list[Values] = [{} for _ in archs]
        for measure in self.cheap:
            for v, score in zip(values, self.scorer(measure)(archs), strict=True):
                v[measure.name] = float(score)
        go = [not self.skip_infeasible or self.cheap_ok(v) for v in values]
        for v, ok in zip(values, go, strict=True):
            if not ok:
                v.update({m.name: None for m in self.pooled + self.serial})
        chosen = [i for i, ok in enumerate(go) if ok]
        results = self._pooled([archs[i] for i in chosen])
        for i, arch in enumerate(archs):
            if go[i]:
                values[i].update(next(results))
            if not (go[i] and self.serial):  # else recorded after its serial measures
                self._record(arch, values[i], generation)
        if self.serial:
            for i in chosen:
                values[i].update(self._serial(archs[i]))
                self._record(archs[i], values[i], generation)

    def _pooled(self, archs: list[Arch]) -> Iterator[dict[str, float]]:
        if not self.pooled:
            return iter([{} for _ in archs])
        if self.ray is not None:
            return self.ray_executor().map(archs)
        if self.workers <= 1:
            return (self._in_process(a) for a in archs)
        return self.pool().map(_score_in_worker, archs)

    def _in_process(self, arch: Arch) -> dict[str, float]:
        with worker_threads():  # the threads of a pool worker: the same scores for any workers
            return {m.name: float(self.scorer(m)([arch])[0]) for m in self.pooled}

    def _serial(self, arch: Arch) -> dict[str, float]:
        if self.ray is not None:
            return self.ray_executor().serial(arch)
        return {m.name: float(self.scorer(m)([arch])[0]) for m in self.serial}

    def _record(self, arch: Arch, values: Values, generation: int) -> None:
        ordered = {m.name: values[m.name] for m in self.measures}
        self.archive.add(arch, self.text(arch), ordered, generation)
        self.evaluated += 1
