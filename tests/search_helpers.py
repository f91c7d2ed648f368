"""Shared by the search tests: a small space and cheap, deterministic fake measures."""

from __future__ import annotations

from collections.abc import Sequence

from shiftnas.search import Arch, get_space
from shiftnas.search.nsga import Measure

# 4 layers, 2 of them stride 1 (their filter flag folds away in `canonical`): 13^4 genomes.
LAYERS = [
    {"channels": 8, "stride": 1},
    {"channels": 16, "stride": 2},
    {"channels": 16, "stride": 1},
    {"channels": 24, "stride": 2},
]
TARGET = (3, 8, 5, 10)


def small_space():
    return get_space(
        "mbv3", stem_channels=8, stem_stride=2, layers=LAYERS, head_channels=32, input_size=16
    )


def fake_error(arch: Arch) -> float:
    """Smallest at TARGET, a little rugged; conflicts with `fake_size`."""
    total = sum(
        (g - t) ** 2 + (g * 7 + i) % 3
        for i, (g, t) in enumerate(zip(arch.genome, TARGET, strict=True))
    )
    return total / 600


def fake_size(arch: Arch) -> float:
    return float(sum(arch.genome))


class Counting:
    """An evaluator that counts its calls and can die after `fail_after` networks (a kill)."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.calls = 0
        self.seen: list[str] = []
        self.fail_after = fail_after

    def __call__(self, archs: Sequence[Arch]) -> list[float]:
        out = []
        for arch in archs:
            if self.fail_after is not None and self.calls >= self.fail_after:
                raise KeyboardInterrupt("simulated kill")
            self.calls += 1
            self.seen.append(arch.id)
            out.append(fake_error(arch))
        return out


def measures(counter: Counting | None = None) -> list[Measure]:
    counter = counter or Counting()
    return [
        Measure("error", "expensive", lambda: counter),
        Measure("size", "cheap", lambda: lambda archs: [fake_size(a) for a in archs]),
    ]
