"""Checks that a `LatencyTable` is whole and is used under the settings it was measured with.

A table predicts the latency of one protocol: one backend, thread count, batch size and precision
(recorded in its `backend` field) on one device. Using it for another batch size or thread count
gives a figure for the wrong question (a batch-1 table says 0.041 ms for a network that takes
0.517 ms at batch 16), so a use under other settings is refused in one line. A file with an entry
or a calibration network removed would otherwise pass as complete: it is refused at load.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shiftnas.errors import ShiftnasError
from shiftnas.profiling.stats import STATISTICS

if TYPE_CHECKING:
    from shiftnas.profiling.lut import LatencyTable

# The recorded backend settings that change what a network's latency is (warm-up and run counts
# only change how precisely it is measured).
LATENCY_SETTINGS = ("backend", "threads", "batch_size", "precision")


def check_whole(table: LatencyTable, source: str) -> None:
    """Raise unless every entry the layers name, stem, head and every calibration network is
    present with a sample list per statistic.

    Raises:
        ShiftnasError: one line naming `source` and the first missing or malformed part.
    """
    damaged = f"latency table {source} is damaged"
    resume = "resume it with `shiftnas lut build` (same settings) to measure what is missing"
    try:
        candidates = table.signature.get("candidates")
        skeleton = table.signature.get("skeleton") or {}
        specs = skeleton.get("layers") if isinstance(skeleton, dict) else None
        if isinstance(specs, list) and len(table.layers) != len(specs):
            raise ShiftnasError(
                f"{damaged}: it maps {len(table.layers)} layers but its skeleton has "
                f"{len(specs)}; build it again with `shiftnas lut build`"
            )
        for i, genes in enumerate(table.layers):
            if isinstance(candidates, list) and len(genes) != len(candidates):
                raise ShiftnasError(
                    f"{damaged}: layer {i} maps {len(genes)} of the {len(candidates)} candidate "
                    "ops; build it again with `shiftnas lut build`"
                )
        needed = dict.fromkeys(["stem", "head", *(k for g in table.layers for k in g.values())])
        for key in needed:
            entry = table.entries.get(key)
            if entry is None:
                raise ShiftnasError(f"{damaged}: entry '{key}' is missing; {resume}")
            _check_samples(entry, f"{damaged}: entry '{key}'")
        networks = table.calibration["networks"]
        expected = table.protocol.get("calibration_networks", len(networks))
        if len(networks) != expected:
            raise ShiftnasError(
                f"{damaged}: {len(networks)} calibration networks of the {expected} its protocol "
                f"records; {resume}"
            )
        for i, network in enumerate(networks):
            _check_samples(network, f"{damaged}: calibration network {i}")
    except (KeyError, TypeError, AttributeError) as err:
        raise ShiftnasError(f"{damaged}: unexpected structure ({err!r}); rebuild it") from None


def _check_samples(job: Mapping[str, Any], what: str) -> None:
    samples = job["samples"]
    lost = [s for s in STATISTICS if not isinstance(samples.get(s), list)]
    if lost:
        raise ShiftnasError(f"{what} has no '{lost[0]}' samples; rebuild it")


def check_settings(table: LatencyTable, wanted: Mapping[str, Any], source: str, fix: str) -> None:
    """Raise when a setting in `wanted` (a subset of LATENCY_SETTINGS) differs from the one the
    table recorded; a setting the table did not record cannot be checked and is passed.

    Raises:
        ShiftnasError: one line naming the table, the setting, both values and `fix`.
    """
    for name in LATENCY_SETTINGS:
        if name in wanted and name in table.backend and wanted[name] != table.backend[name]:
            raise ShiftnasError(
                f"latency table {source} was measured with {name} {table.backend[name]!r}, not "
                f"{wanted[name]!r}: its predictions are for {name} {table.backend[name]!r}; "
                f"{fix}"
            )
