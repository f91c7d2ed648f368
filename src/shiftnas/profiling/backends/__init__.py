"""Latency backends behind one interface, chosen by name (`get_backend`)."""

from shiftnas.profiling.backends import eager, ort, tensorrt  # noqa: F401  (register backends)
from shiftnas.profiling.backends.base import (
    DEFAULT_RUNS,
    DEFAULT_WARMUP,
    LatencyBackend,
    get_backend,
    list_backends,
    register_backend,
    time_calls,
)

__all__ = [
    "DEFAULT_RUNS",
    "DEFAULT_WARMUP",
    "LatencyBackend",
    "get_backend",
    "list_backends",
    "register_backend",
    "time_calls",
]
