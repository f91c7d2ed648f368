"""The one timing protocol every latency backend follows, and the name table that names them.

Protocol: convert the model once (`prepare`: ONNX bytes, an engine, or the module itself), then
for each measurement open a fresh session, run `warmup` untimed calls and `runs` timed calls one
after another on the same input, with a fixed number of intra-op threads. Splitting `prepare`
from `time_prepared` lets a lookup table export a block once and time it in several passes.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from torch import nn

from shiftnas.errors import ShiftnasError
from shiftnas.names import NameTable
from shiftnas.profiling.fingerprint import device_fingerprint, library_versions, load_average
from shiftnas.profiling.stats import LatencyResult, summarize

DEFAULT_WARMUP = 20
DEFAULT_RUNS = 200
PRECISIONS = ("fp32", "fp16")


class LatencyBackend(ABC):
    """Times models on one runtime and device; construct through `get_backend(name, ...)`."""

    name: ClassVar[str]
    precisions: ClassVar[tuple[str, ...]] = ("fp32",)

    def __init__(
        self,
        threads: int = 1,
        batch_size: int = 1,
        warmup: int = DEFAULT_WARMUP,
        runs: int = DEFAULT_RUNS,
        precision: str = "fp32",
    ) -> None:
        for field, value, low in (("threads", threads, 1), ("batch_size", batch_size, 1),
                                  ("warmup", warmup, 0), ("runs", runs, 1)):  # fmt: skip
            if not isinstance(value, int) or value < low:
                raise ShiftnasError(f"latency {field} must be an integer >= {low}, got {value!r}")
        if precision not in self.precisions:
            raise ShiftnasError(
                f"backend '{self.name}' supports precision {', '.join(self.precisions)}, "
                f"not '{precision}'"
            )
        self.threads, self.batch_size = threads, batch_size
        self.warmup, self.runs, self.precision = warmup, runs, precision
        self.check_available()

    # -- what each backend implements ------------------------------------------------------
    def check_available(self) -> None:  # noqa: B027  (optional hook: most backends need none)
        """Raise a one-line `ShiftnasError` naming the missing piece and the extra to install."""

    @abstractmethod
    def prepare(self, model: nn.Module, input_shape: tuple[int, ...]) -> Any:
        """Convert `model` once for this runtime (for example ONNX bytes)."""

    @abstractmethod
    def time_prepared(self, prepared: Any, input_shape: tuple[int, ...]) -> np.ndarray:
        """Per-call times in ms of `runs` calls after `warmup`, in a fresh session."""

    # -- shared ----------------------------------------------------------------------------
    def shape(self, input_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        """`input_shape` with its batch axis set to this backend's `batch_size`."""
        if len(input_shape) != 4:
            raise ShiftnasError(f"input shape must be (B, C, H, W), got {tuple(input_shape)}")
        return (self.batch_size, *(int(d) for d in input_shape[1:]))  # type: ignore[return-value]

    def measure(self, model: nn.Module, input_shape: tuple[int, int, int, int]) -> LatencyResult:
        """Latency of `model` on inputs of `input_shape`; its batch axis is `batch_size`."""
        shape = self.shape(input_shape)
        return self.measure_prepared(self.prepare(model, shape), shape)

    def measure_prepared(self, prepared: Any, input_shape: tuple[int, ...]) -> LatencyResult:
        shape = self.shape(input_shape)
        load = load_average()
        times = self.time_prepared(prepared, shape)
        return LatencyResult(
            **summarize(times),  # type: ignore[arg-type]
            backend=self.name,
            device=device_fingerprint(self.name),
            versions=library_versions(),
            input_shape=shape,
            threads=self.threads,
            warmup=self.warmup,
            precision=self.precision,
            loadavg=load,
        )

    def settings(self) -> dict[str, Any]:
        """The protocol, as recorded in every lookup table and benchmark file."""
        return {"backend": self.name, "threads": self.threads, "batch_size": self.batch_size,
                "warmup": self.warmup, "runs": self.runs, "precision": self.precision}  # fmt: skip


def time_calls(call: Callable[[], Any], warmup: int, runs: int) -> np.ndarray:
    """Wall-clock time of each of `runs` sequential calls after `warmup` untimed ones, in ms.

    `call` must block until its result is ready (synchronise inside it on a GPU).
    """
    for _ in range(warmup):
        call()
    times = np.empty(runs)
    clock = time.perf_counter_ns
    for i in range(runs):
        start = clock()
        call()
        times[i] = clock() - start
    return times / 1e6


BACKENDS: NameTable[type[LatencyBackend]] = NameTable("latency backend")


def register_backend(cls: type[LatencyBackend]) -> type[LatencyBackend]:
    """Class decorator: registers a backend under its `name`."""
    return BACKENDS.register(cls.name)(cls)


def list_backends() -> list[str]:
    return BACKENDS.names()


def get_backend(
    name: str,
    threads: int = 1,
    batch_size: int = 1,
    warmup: int = DEFAULT_WARMUP,
    runs: int = DEFAULT_RUNS,
    precision: str = "fp32",
) -> LatencyBackend:
    """A backend by name; raises a one-line `ShiftnasError` if its hardware or library is absent."""
    return BACKENDS.get(name)(threads=threads, batch_size=batch_size, warmup=warmup, runs=runs,
                           precision=precision)  # fmt: skip
