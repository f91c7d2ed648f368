"""`LatencyTable`: per-block latencies of one space and skeleton on one device, and the
calibrated sum that predicts a whole network from them.

The JSON file is self-describing: space, skeleton, backend protocol, device fingerprint, library
versions, every per-pass timing of every entry and of the calibration networks. So a table built
on a user's 2080Ti loads and predicts anywhere, and it refuses a space or skeleton that differs
from the one it was built for instead of guessing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from shiftnas.arch import Arch
from shiftnas.errors import ShiftnasError
from shiftnas.files import write_json_atomic
from shiftnas.profiling.lut_check import check_whole
from shiftnas.profiling.stats import STATISTICS

FORMAT = 1
# How the per-pass figures of one entry are combined: the median resists a slow or a fast pass;
# the minimum assumes noise only ever slows a run (true under contention from other processes).
AGGREGATES = ("median", "min")
# The reading a new table uses; chosen by measurement (benchmarks/latency_lut.py, README).
DEFAULT_STATISTIC = "min"
DEFAULT_AGGREGATE = "min"


def aggregate(samples: Any, how: str, axis: int | None = None) -> Any:
    """Combine repeated per-session figures the way a table's protocol says."""
    return np.min(samples, axis=axis) if how == "min" else np.median(samples, axis=axis)


def space_signature(space: Any) -> dict[str, Any]:
    """What makes two spaces' tables interchangeable: name, candidates and skeleton."""
    info = space.describe()
    return {
        "space": space.name,
        "candidates": info.get("candidates"),
        "skeleton": info.get("skeleton"),
    }


def first_difference(expected: Any, got: Any, where: str = "") -> str | None:
    """The path and values of the first place two JSON-like values differ, or None."""
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in list(expected) + [k for k in got if k not in expected]:
            found = first_difference(
                expected.get(key), got.get(key), f"{where}.{key}" if where else key
            )
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            return f"{where} has {len(expected)} items in the table but {len(got)} here"
        for i, (a, b) in enumerate(zip(expected, got, strict=True)):
            found = first_difference(a, b, f"{where}[{i}]")
            if found:
                return found
        return None
    return None if expected == got else f"{where} is {expected!r} in the table but {got!r} here"


@dataclass
class LatencyTable:
    """Entries keyed by name ("stem", "head", "layer3/g5"), each with per-pass statistics in ms.

    `layers[i][gene]` names the entry a gene of layer i uses: twins that build the same op (the
    filter flag on a stride-1 layer) share one entry. A prediction is `a * raw + b`, where raw is
    the sum of stem, head and one entry per layer, each the per-session `statistic` combined over
    passes by `aggregate` (default: minimum, then minimum; README "Latency lookup tables").
    The dict fields are plain JSON so the file is the object; `variant` rereads it another way.
    """

    signature: dict[str, Any]
    settings: dict[str, Any]
    backend: dict[str, Any]
    device: dict[str, Any]
    versions: dict[str, str]
    protocol: dict[str, Any]
    layers: list[dict[str, str]]
    entries: dict[str, dict[str, Any]]
    statistic: str = DEFAULT_STATISTIC
    aggregate: str = DEFAULT_AGGREGATE
    calibration: dict[str, Any] = field(default_factory=lambda: {"networks": [], "fits": {}})
    build_seconds: float = 0.0
    loadavg: list[list[float]] = field(default_factory=list)

    @property
    def space(self) -> str:
        return str(self.signature["space"])

    # -- JSON ------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **{k: getattr(self, k) for k in self.__dataclass_fields__}}

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str = "table") -> LatencyTable:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ShiftnasError(f"{source} is not a shiftnas latency table (format {FORMAT})")
        try:
            table = cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        except TypeError as err:
            raise ShiftnasError(f"{source}: latency table is missing a field ({err})") from None
        if table.statistic not in STATISTICS or table.aggregate not in AGGREGATES:
            raise ShiftnasError(
                f"{source}: statistic '{table.statistic}' / aggregate '{table.aggregate}' is not "
                f"one of {STATISTICS} / {AGGREGATES}"
            )
        return table

    def save(self, path: str | Path) -> None:
        write_json_atomic(Path(path), self.to_json())

    @classmethod
    def load(cls, path: str | Path, whole: bool = True) -> LatencyTable:
        """Read a table file; with `whole`, refuse one with a missing entry (`check_whole`).

        Raises:
            ShiftnasError: the file is absent, not JSON, not a table, or (with `whole`) damaged.
        """
        path = Path(path)
        if not path.is_file():
            raise ShiftnasError(
                f"latency table {path} does not exist: build it with `shiftnas lut build`"
            )
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            why = getattr(err, "msg", None) or getattr(err, "reason", "")
            raise ShiftnasError(
                f"latency table {path} is not valid JSON ({why}): rebuild it with "
                "`shiftnas lut build`"
            ) from None
        table = cls.from_json(data, str(path))
        if whole:
            check_whole(table, str(path))
        return table

    # -- use -------------------------------------------------------------------------------
    def check_space(self, space: Any) -> None:
        """Raise unless `space` has exactly the space, candidates and skeleton of this table."""
        diff = first_difference(self.signature, space_signature(space))
        here = getattr(getattr(space, "settings", None), "in_channels", None)
        if not diff and "in_channels" in self.settings and here != self.settings["in_channels"]:
            diff = f"in_channels is {self.settings['in_channels']!r} in the table but {here!r} here"
        if diff:
            raise ShiftnasError(
                f"latency table does not fit this search space: {diff}; "
                "build a table for this space with `shiftnas lut build`"
            )

    @property
    def space_settings(self) -> dict[str, Any]:
        """The skeleton settings the table was built for (without the space's name): rebuild
        its space with `shiftnas.search.get_space(table.space, **table.space_settings)`."""
        return {k: v for k, v in self.settings.items() if k != "name"}

    def value(self, key: str, statistic: str | None = None) -> float:
        """An entry's figure: the per-pass `statistic` (ms) combined over passes by `aggregate`."""
        samples = self.entries[key]["samples"][statistic or self.statistic]
        if not samples:
            raise ShiftnasError(
                f"latency table entry {key} has no measurement yet: resume `shiftnas lut build`"
            )
        return float(aggregate(samples, self.aggregate))

    def raw_ms(self, arch: Arch, statistic: str | None = None) -> float:
        """Uncalibrated sum of stem, head and the entries the genome picks (ms)."""
        if arch.space != self.space:
            raise ShiftnasError(f"latency table is for space '{self.space}', not '{arch.space}'")
        if len(arch.genome) != len(self.layers):
            raise ShiftnasError(
                f"genome has {len(arch.genome)} genes but the latency table's skeleton has "
                f"{len(self.layers)} layers: use a table built for this skeleton"
            )
        keys = ["stem", "head"]
        for i, gene in enumerate(arch.genome):
            key = self.layers[i].get(str(gene))
            if key is None:
                raise ShiftnasError(
                    f"gene {gene} of layer {i} is not a candidate of the latency table"
                )
            keys.append(key)
        return sum(self.value(k, statistic) for k in keys)

    def fit(self, statistic: str | None = None) -> tuple[float, float]:
        """Calibration `(a, b)`: measured = a * raw + b; identity if not calibrated yet."""
        fits = self.calibration.get("fits", {}).get(self.aggregate, {})
        a, b = fits.get(statistic or self.statistic, (1.0, 0.0))
        return float(a), float(b)

    def predict_ms(self, arch: Arch, statistic: str | None = None) -> float:
        """Predicted latency of a whole network (ms), as measured end to end with `statistic`."""
        a, b = self.fit(statistic)
        return a * self.raw_ms(arch, statistic) + b

    def variant(self, statistic: str | None = None, how: str | None = None) -> LatencyTable:
        """The same measurements read with another statistic and/or aggregate over passes."""
        statistic, how = statistic or self.statistic, how or self.aggregate
        if statistic not in STATISTICS or how not in AGGREGATES:
            raise ShiftnasError(
                f"statistic must be one of {', '.join(STATISTICS)} and aggregate one of "
                f"{', '.join(AGGREGATES)}; got {statistic}, {how}"
            )
        return replace(self, statistic=statistic, aggregate=how)

    # -- completeness and calibration ------------------------------------------------------
    def missing(self, passes: int | None = None) -> int:
        """How many (entry or calibration network, pass) measurements are still to be made."""
        passes = passes or int(self.protocol["passes"])
        jobs = list(self.entries.values()) + list(self.calibration["networks"])
        return sum(max(0, passes - len(job["samples"][STATISTICS[0]])) for job in jobs)

    def refit(self) -> None:
        """Least-squares `a * raw + b` per aggregate and statistic over the calibration networks."""
        fits: dict[str, dict[str, list[float]]] = {}
        networks = [n for n in self.calibration["networks"] if n["samples"][STATISTICS[0]]]
        if len(networks) >= 2:
            for how in AGGREGATES:
                table, fits[how] = self.variant(how=how), {}
                for stat in STATISTICS:
                    raw = [table.raw_ms(Arch(self.space, n["genome"]), stat) for n in networks]
                    measured = [float(aggregate(n["samples"][stat], how)) for n in networks]
                    a, b = np.polyfit(raw, measured, 1)
                    fits[how][stat] = [float(a), float(b)]
        self.calibration["fits"] = fits

    def first_passes(self, passes: int) -> LatencyTable:
        """This table as if built with only its first `passes` passes (for comparisons)."""

        def cut(job: dict[str, Any]) -> dict[str, Any]:
            return {**job, "samples": {s: v[:passes] for s, v in job["samples"].items()}}

        table = replace(
            self,
            entries={k: cut(v) for k, v in self.entries.items()},
            calibration={"networks": [cut(n) for n in self.calibration["networks"]], "fits": {}},
            protocol={**self.protocol, "passes": passes},
        )
        table.refit()
        return table
