"""How far a `LatencyTable` can be trusted: predictions against end-to-end measurements.

Each random network is measured `repeats` times, in passes whose order is shuffled (so a burst
of load hits different networks in different passes); their median is the truth, and the median
relative difference between two repeats is the noise floor that no predictor can beat.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from shiftnas.arch import input_shape
from shiftnas.errors import ShiftnasError
from shiftnas.profiling.backends import LatencyBackend, get_backend
from shiftnas.profiling.fingerprint import device_fingerprint, device_identity, load_average
from shiftnas.profiling.lut import AGGREGATES, LatencyTable, aggregate, first_difference
from shiftnas.profiling.stats import STATISTICS, summarize

Progress = Callable[[int, int, str], None]


def backend_of(table: LatencyTable) -> LatencyBackend:
    """The backend with the exact protocol the table was built with."""
    settings = {k: v for k, v in table.backend.items() if k != "backend"}
    return get_backend(table.backend["backend"], **settings)


def accuracy(predicted: np.ndarray, measured: np.ndarray) -> dict[str, float]:
    """Share within +-5% and +-10%, mean absolute percentage error, Spearman, worst signed error."""
    from scipy.stats import spearmanr  # slow to import: only when scoring

    errors = predicted / measured - 1.0
    worst = int(np.argmax(np.abs(errors)))
    rho = spearmanr(predicted, measured).statistic if len(measured) > 1 else float("nan")
    return {
        "within_5pct": float(np.mean(np.abs(errors) <= 0.05)),
        "within_10pct": float(np.mean(np.abs(errors) <= 0.10)),
        "mape": float(np.mean(np.abs(errors))),
        "spearman": float(rho),
        "worst_error": float(errors[worst]),
        "worst_index": worst,
    }


def measure_networks(
    space: Any,
    archs: list[Any],
    backend: LatencyBackend,
    repeats: int = 2,
    seed: int = 1,
    progress: Progress | None = None,
) -> dict[str, np.ndarray]:
    """Per-session statistics of each network, shape (repeats, n), in shuffled passes."""
    shape = input_shape(space.settings, backend.batch_size)
    samples = {s: np.zeros((repeats, len(archs))) for s in STATISTICS}
    prepared: dict[int, Any] = {}
    done = 0
    for r in range(repeats):
        for i in np.random.default_rng([seed, 3, r]).permutation(len(archs)):
            if i not in prepared:
                with torch.random.fork_rng():
                    torch.manual_seed(0)
                    prepared[i] = backend.prepare(space.build(archs[i]), shape)
            stats = summarize(backend.time_prepared(prepared[i], shape))
            for s, key in zip(STATISTICS, ("min_ms", "p10_ms", "median_ms"), strict=True):
                samples[s][r, i] = stats[key]
            done += 1
            if progress:
                progress(done, len(archs) * repeats, archs[i].id)
    return samples


def score_table(
    table: LatencyTable, space: Any, archs: list[Any], samples: dict[str, np.ndarray]
) -> dict[str, dict[str, Any]]:
    """Scores of every (statistic, aggregate) reading of a table against the same measurements
    of `archs`, networks of `space` (the space the table was built for)."""
    return {
        f"{s}/{how}": _score(table.variant(s, how), archs, samples[s], space)
        for how in AGGREGATES
        for s in STATISTICS
    }


def validate_table(
    table: LatencyTable,
    space: Any,
    n: int = 100,
    seed: int = 1,
    repeats: int = 2,
    backend: LatencyBackend | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Measure `n` random networks of `space` end to end and score the table's predictions.

    `space` must be the one the table was built for (`get_space(table.space,
    **table.space_settings)`); raises ShiftnasError when it is not, when the table is
    incomplete or describes another device, or when `n` or `repeats` is below 2."""
    if n < 2 or repeats < 2:
        raise ShiftnasError("lut validate: --n must be >= 2 and repeats >= 2 (for the noise floor)")
    if table.missing():
        raise ShiftnasError(
            f"latency table is incomplete ({table.missing()} measurements missing): "
            "resume `shiftnas lut build` with the same --out first"
        )
    table.check_space(space)
    backend = backend or backend_of(table)
    diff = first_difference(
        device_identity(table.device), device_identity(device_fingerprint(backend.name))
    )
    if diff:
        raise ShiftnasError(
            f"latency table describes another device ({diff}): validate it on that device; "
            "here it can only predict"
        )
    rng = np.random.default_rng(seed)
    archs = [space.sample(rng) for _ in range(n)]
    load = [list(load_average())]
    started = time.perf_counter()
    samples = measure_networks(space, archs, backend, repeats, seed, progress)
    load.append(list(load_average()))
    variants = score_table(table, space, archs, samples)
    return {
        "n": n,
        "repeats": repeats,
        "seed": seed,
        "statistic": table.statistic,
        "aggregate": table.aggregate,
        **variants[f"{table.statistic}/{table.aggregate}"],
        "variants": variants,
        "validate_seconds": round(time.perf_counter() - started, 1),
        "loadavg": load,
    }


def _score(table: LatencyTable, archs: list[Any], samples: np.ndarray, space: Any) -> dict:
    """Scores of one (statistic, aggregate) reading of the same measurements."""
    measured = aggregate(samples, table.aggregate, axis=0)
    predicted = np.array([table.predict_ms(a) for a in archs])
    pair = samples[:2]
    noise = np.abs(pair[0] - pair[1]) / pair.mean(axis=0)
    scores = accuracy(predicted, measured)
    worst = scores.pop("worst_index")
    return {
        **scores,
        "noise_floor": float(np.median(noise)),
        "worst_arch": space.to_string(archs[worst]),
        "worst_predicted_ms": float(predicted[worst]),
        "worst_measured_ms": float(measured[worst]),
        "measured_ms_range": [float(measured.min()), float(measured.max())],
        "calibration": list(table.fit()),
    }
