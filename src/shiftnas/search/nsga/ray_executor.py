"""`search.executor: ray`: a generation's expensive estimates as tasks of Ray actors.

The engine (`evaluation.Engine`) keeps every decision: cheap measures and budgets in the driver,
the order of the archive, resume. Only where a network's expensive measures run changes:
- pooled measures (error, shifted error) go to `search.workers` actors of one CPU each, anywhere
  in the cluster; each builds its scorers once (a supernet, a dataset), like a pool worker;
  `ray.util.ActorPool.map` returns the results in the batch's order;
- serial measures (measured latency) go to one actor pinned to the node that holds the custom
  resource `latency_host`, one network at a time, after the pooled batch has finished. Start
  that node with `--resources='{"latency_host": 1}' --num-cpus=0` so no estimate runs beside
  a timing. A local cluster started on demand is its own latency host.

Ray is the optional extra `.[ray]` (https://docs.ray.io); without it, `search.executor: ray` is
refused in one line.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch

from shiftnas.arch import Arch
from shiftnas.errors import ShiftnasError
from shiftnas.search.nsga.objectives import Measure
from shiftnas.search.nsga.workers import WORKER_RETRIES, WORKER_THREADS, ray_death_error
from shiftnas.search.settings import SearchRayConfig

LATENCY_RESOURCE = "latency_host"


def require_ray() -> Any:
    """The `ray` module, or ShiftnasError naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise ShiftnasError(
            "search.executor is 'ray' but ray is not installed: pip install -e '.[ray]' "
            "(or set search.executor: local)"
        ) from None
    return ray


class _Scorers:
    """An actor's scorers, built once in the actor's process from the measures' factories."""

    def __init__(self, measures: Sequence[Measure], threads: int | None) -> None:
        if threads is not None:
            torch.set_num_threads(threads)
        self.scorers = {m.name: m.make() for m in measures}

    def score(self, arch: Arch) -> dict[str, float]:
        return {name: float(score([arch])[0]) for name, score in self.scorers.items()}


class RayExecutor:
    """`workers` actors (at most one per CPU of the cluster) for `pooled` measures and one
    latency-host actor for `serial` ones.

    Connects to `settings.address`, or starts a local cluster (`settings.num_cpus` CPUs, default
    `workers`, plus one `latency_host`) that `close` stops again. Raises ShiftnasError when ray is
    missing, the cluster cannot be reached, or serial measures are asked for on a cluster
    without a `latency_host` node.
    """

    def __init__(
        self,
        pooled: Sequence[Measure],
        serial: Sequence[Measure],
        workers: int,
        settings: SearchRayConfig,
    ) -> None:
        ray = require_ray()
        self._ray = ray
        self._started = False
        self._pooled: list[Any] = []
        self._latency: Any = None
        self._measures_ref: Any = None
        if not ray.is_initialized():
            self._connect(settings, workers)
        if serial and ray.cluster_resources().get(LATENCY_RESOURCE, 0) < 1:
            self.close()
            raise ShiftnasError(
                f"the Ray cluster has no node with the resource '{LATENCY_RESOURCE}' for "
                "measured latency: start the timing node with ray start --resources="
                f"'{{\"{LATENCY_RESOURCE}\": 1}}' --num-cpus=0, or use search.latency.table"
            )
        actor = ray.remote(_Scorers)
        if pooled:
            # no more actors than CPUs: an actor that cannot be placed would hold its tasks
            cpus = int(ray.cluster_resources().get("CPU", 0))
            if cpus < 1:
                self.close()
                raise ShiftnasError(
                    "the Ray cluster has no CPU for the estimates: add a node with CPUs "
                    "(ray start --address HEAD:6379)"
                )
            measures = ray.put(list(pooled))
            # held for the executor's life: a restarted actor runs its constructor again and
            # needs this object; dropped, Ray's reference counting deletes it first
            self._measures_ref = measures
            # a killed actor restarts (its scorers built again) and its tasks are retried
            # `WORKER_RETRIES` times before the search stops (`workers.ray_death_error`)
            restart = {"max_restarts": WORKER_RETRIES, "max_task_retries": WORKER_RETRIES}
            self._pooled = [
                actor.options(num_cpus=1, **restart).remote(measures, WORKER_THREADS)
                for _ in range(min(workers, cpus))
            ]
        if serial:
            restart = {"max_restarts": WORKER_RETRIES, "max_task_retries": WORKER_RETRIES}
            self._latency = actor.options(
                num_cpus=0, resources={LATENCY_RESOURCE: 1}, **restart
            ).remote(list(serial), None)

    def _connect(self, settings: SearchRayConfig, workers: int) -> None:
        ray = self._ray
        try:
            if settings.address is None:
                ray.init(
                    num_cpus=settings.num_cpus or workers,
                    resources={LATENCY_RESOURCE: 1},
                    include_dashboard=False,
                    logging_level="WARNING",
                )
                self._started = True
            else:
                ray.init(address=settings.address, logging_level="WARNING")
        except (ConnectionError, RuntimeError, ValueError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ShiftnasError(
                f"cannot reach the Ray cluster at search.ray.address={settings.address!r} "
                f"({first}): start it (ray start --head) or fix the address"
            ) from None

    def map(self, archs: Sequence[Arch]) -> Iterator[dict[str, float]]:
        """The pooled measures of each network, in the order of `archs`."""
        from ray.util import ActorPool

        if not archs:
            return iter([])
        pool = ActorPool(self._pooled)
        return self._dying(pool.map(lambda actor, arch: actor.score.remote(arch), list(archs)))

    def _dying(self, results: Iterator[dict[str, float]]) -> Iterator[dict[str, float]]:
        """`results`, with an actor that died after its restarts as `ray_death_error`."""
        from ray.exceptions import OutOfMemoryError, RayActorError

        try:
            yield from results
        except (RayActorError, OutOfMemoryError) as err:
            raise ray_death_error(err) from None

    def serial(self, arch: Arch) -> dict[str, float]:
        """The serial measures of one network, on the latency host."""
        from ray.exceptions import OutOfMemoryError, RayActorError

        assert self._latency is not None
        try:
            return self._ray.get(self._latency.score.remote(arch))
        except (RayActorError, OutOfMemoryError) as err:
            raise ray_death_error(err) from None

    def close(self) -> None:
        """Stop the actors, and the local cluster when this executor started it."""
        for actor in [*self._pooled, self._latency]:
            if actor is not None:
                self._ray.kill(actor)
        self._pooled, self._latency, self._measures_ref = [], None, None
        if self._started:
            self._ray.shutdown()
            self._started = False
