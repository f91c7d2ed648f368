"""Building a `LatencyTable`: every (layer, candidate, input shape) block plus stem and head,
timed in several shuffled passes, then a handful of whole networks for the calibration.

Why this protocol (see the README, "Latency lookup tables"): on a shared machine the noise comes
in bursts that last longer than one measurement. Shuffling the order of every pass and mixing the
calibration networks into the same passes spreads a burst over many entries instead of ruining
one, and the median over passes then drops it. The file is saved after every measurement, so a
killed build resumes with everything it had measured.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from shiftnas.arch import Arch, input_shape
from shiftnas.errors import ShiftnasError
from shiftnas.profiling.backends import LatencyBackend
from shiftnas.profiling.fingerprint import (
    device_fingerprint,
    device_identity,
    library_versions,
    load_average,
)
from shiftnas.profiling.lut import (
    DEFAULT_AGGREGATE,
    DEFAULT_STATISTIC,
    LatencyTable,
    first_difference,
    space_signature,
)
from shiftnas.profiling.stats import STATISTICS, summarize

Progress = Callable[[int, int, str], None]  # (done, total, what was just measured)


def _empty_samples() -> dict[str, list[float]]:
    return {s: [] for s in STATISTICS}


def table_parts(space: Any, batch_size: int) -> tuple[list[dict[str, str]], dict[str, Any], dict]:
    """Layer -> gene -> entry-key maps, the entries (with input shapes) and their builders."""
    for needed in ("layer_specs", "build_op", "canonical_gene"):
        if not hasattr(space, needed):
            raise ShiftnasError(
                f"space '{space.name}' has no per-layer structure ({needed}); latency tables "
                "need a layer-wise space such as mbv3"
            )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = space.build(Arch(space.name, (0,) * len(space.layer_specs))).eval()
        x = torch.zeros(input_shape(space.settings))
        with torch.no_grad():
            head_in = net.layers(net.stem(x)).shape
    stem, head = net.stem, net.head
    shape = lambda c, s: [batch_size, int(c), int(s), int(s)]  # noqa: E731
    entries: dict[str, Any] = {
        "stem": {"part": "stem", "input_shape": shape(x.shape[1], x.shape[2])},
        "head": {"part": "head", "input_shape": shape(head_in[1], head_in[2])},
    }
    builders: dict[str, Callable[[], nn.Module]] = {"stem": lambda: stem, "head": lambda: head}
    layers: list[dict[str, str]] = []
    for spec in space.layer_specs:
        genes: dict[str, str] = {}
        for gene in range(spec.num_choices):
            canonical = space.canonical_gene(spec.index, gene)
            key = f"layer{spec.index}/g{canonical}"
            genes[str(gene)] = key
            if key not in entries:
                entries[key] = {
                    "part": "layer",
                    "layer": spec.index,
                    "gene": canonical,
                    "input_shape": shape(spec.in_channels, spec.input_size),
                }
                builders[key] = lambda i=spec.index, g=canonical: space.build_op(i, g)
        layers.append(genes)
    return layers, entries, builders


def _new_table(space: Any, backend: LatencyBackend, passes: int, seed: int) -> LatencyTable:
    layers, entries, _ = table_parts(space, backend.batch_size)
    for entry in entries.values():
        entry["samples"] = _empty_samples()
    settings = space.settings.model_dump(mode="json") if hasattr(space, "settings") else {}
    return LatencyTable(
        signature=space_signature(space),
        settings=settings,
        backend=backend.settings(),
        device=device_fingerprint(backend.name),
        versions=library_versions(),
        protocol={
            "passes": passes,
            "seed": seed,
            "session": "fresh session per measurement",
            "order": "each pass shuffled; blocks and calibration networks interleaved",
            "aggregate": "per-session statistic combined over passes by the table's `aggregate`",
            "calibration": "least squares measured = a * raw_sum + b",
        },
        layers=layers,
        entries=entries,
    )


def _check_resume(table: LatencyTable, space: Any, backend: LatencyBackend, path: Path) -> None:
    table.check_space(space)
    diff = first_difference(table.backend, backend.settings())
    here = device_fingerprint(backend.name)
    diff = diff or first_difference(device_identity(table.device), device_identity(here))
    if diff:
        raise ShiftnasError(
            f"{path} was started with other settings or on another device ({diff}): "
            "resume with the same settings on the same machine, or pass another --out"
        )


def build_table(
    space: Any,
    backend: LatencyBackend,
    out_path: str | Path,
    passes: int = 5,
    calibration_networks: int = 10,
    statistic: str = DEFAULT_STATISTIC,
    how: str = DEFAULT_AGGREGATE,
    seed: int = 0,
    progress: Progress | None = None,
) -> LatencyTable:
    """Measure (or resume measuring) a lookup table for `space` on `backend` into `out_path`."""
    if passes < 1 or calibration_networks < 0:
        raise ShiftnasError("lut build: --passes must be >= 1 and --calibration >= 0")
    path = Path(out_path)
    if path.exists():
        table = LatencyTable.load(path, whole=False)  # a damaged table is mended here
        _check_resume(table, space, backend, path)
        table.layers, entries, _ = table_parts(space, backend.batch_size)
        for key, entry in entries.items():
            table.entries.setdefault(key, {**entry, "samples": _empty_samples()})
    else:
        table = _new_table(space, backend, passes, seed)
    table = table.variant(statistic, how)
    table.protocol["passes"] = passes = max(passes, int(table.protocol["passes"]))
    seed = int(table.protocol["seed"])
    networks = table.calibration["networks"]
    rng = np.random.default_rng([seed, 1])
    for i in range(calibration_networks):
        genome = list(space.sample(rng).genome)
        if i >= len(networks):
            networks.append({"genome": genome, "samples": _empty_samples()})
    table.protocol["calibration_networks"] = len(networks)

    _, _, builders = table_parts(space, backend.batch_size)
    jobs: list[tuple[str, dict[str, Any], Callable[[], nn.Module]]] = [
        (key, entry, builders[key]) for key, entry in table.entries.items()
    ] + [
        (f"network{i}", net, lambda g=tuple(net["genome"]): space.build(Arch(space.name, g)))
        for i, net in enumerate(networks)
    ]
    network_shape = list(input_shape(space.settings, backend.batch_size))
    total = len(jobs) * passes
    done = total - table.missing(passes)
    prepared: dict[str, Any] = {}
    started = time.perf_counter()
    table.loadavg.append(list(load_average()))
    try:
        for p in range(passes):
            order = np.random.default_rng([seed, 2, p]).permutation(len(jobs))
            for j in order:
                name, job, build = jobs[j]
                if len(job["samples"][STATISTICS[0]]) > p:
                    continue
                shape = tuple(job.get("input_shape", network_shape))
                if name not in prepared:
                    with torch.random.fork_rng():
                        torch.manual_seed(0)
                        prepared[name] = backend.prepare(build(), shape)
                stats = summarize(backend.time_prepared(prepared[name], shape))
                for stat in STATISTICS:
                    job["samples"][stat].append(round(float(stats[_field(stat)]), 6))
                done += 1
                _save(table, path, started)
                started = time.perf_counter()
                if progress:
                    progress(done, total, name)
        table.refit()
        table.loadavg.append(list(load_average()))
        _save(table, path, started)
    except BaseException:
        _save(table, path, started)
        raise
    return table


def _field(stat: str) -> str:
    return {"min": "min_ms", "p10": "p10_ms", "median": "median_ms"}[stat]


def _save(table: LatencyTable, path: Path, since: float) -> None:
    table.build_seconds = round(table.build_seconds + time.perf_counter() - since, 3)
    table.save(path)
