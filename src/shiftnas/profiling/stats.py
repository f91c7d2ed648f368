"""`LatencyResult`: the summary of one timed series, with the device and versions it came from.

Every statistic a lookup table may store (minimum, p10, median) is kept, so the choice between
them is made by measurement, not fixed at timing time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# The statistics a lookup table can be built on, in the order they are reported.
STATISTICS = ("min", "p10", "median")


@dataclass(frozen=True)
class LatencyResult:
    """Latency of one model on one backend, in milliseconds per call of `input_shape`."""

    median_ms: float
    p10_ms: float
    p90_ms: float
    iqr_ms: float
    min_ms: float
    n: int
    backend: str
    device: dict[str, Any]
    versions: dict[str, str]
    input_shape: tuple[int, ...] = ()
    threads: int = 1
    warmup: int = 0
    precision: str = "fp32"
    loadavg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    extra: dict[str, Any] = field(default_factory=dict)

    def statistic(self, name: str) -> float:
        """The figure named `name` (one of `STATISTICS`), in ms."""
        return {"min": self.min_ms, "p10": self.p10_ms, "median": self.median_ms}[name]

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["input_shape"] = list(self.input_shape)
        data["loadavg"] = list(self.loadavg)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LatencyResult:
        data = dict(data)
        data["input_shape"] = tuple(data.get("input_shape", ()))
        data["loadavg"] = tuple(data.get("loadavg", (0.0, 0.0, 0.0)))
        return cls(**data)


def summarize(times_ms: np.ndarray) -> dict[str, float | int]:
    """Order statistics of a series of per-call times (ms); robust to a few slow outliers."""
    times = np.asarray(times_ms, dtype=float)
    if times.size == 0:
        raise ValueError("no timed runs to summarise")
    p10, p25, median, p75, p90 = np.percentile(times, [10, 25, 50, 75, 90])
    return {
        "median_ms": float(median),
        "p10_ms": float(p10),
        "p90_ms": float(p90),
        "iqr_ms": float(p75 - p25),
        "min_ms": float(times.min()),
        "n": int(times.size),
    }
