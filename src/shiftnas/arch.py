"""`Arch`: one network of a search space, a frozen value to hash, store and compare."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shiftnas.errors import ShiftnasError


@dataclass(frozen=True)
class Arch:
    """A search-space name plus an integer genome.

    The id hashes both, so two equal architectures share an id across runs and machines; spaces
    canonicalise a genome (`SearchSpace.canonical`) before its id is used as a cache key.
    """

    space: str
    genome: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "genome", tuple(int(g) for g in self.genome))

    @property
    def id(self) -> str:
        text = f"{self.space}:{','.join(map(str, self.genome))}"
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    def to_json(self) -> dict[str, Any]:
        return {"space": self.space, "genome": list(self.genome)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Arch:
        if not isinstance(data, dict) or "space" not in data or "genome" not in data:
            raise ShiftnasError(
                'architecture JSON must be an object {"space": NAME, "genome": [ints]}; '
                f"got {str(data)[:80]}"
            )
        genome = data["genome"]
        if not isinstance(genome, list) or not all(
            isinstance(g, int) and not isinstance(g, bool) for g in genome
        ):
            raise ShiftnasError("architecture JSON: 'genome' must be a list of integers")
        return cls(space=str(data["space"]), genome=tuple(genome))

    @classmethod
    def load(cls, path: str | Path) -> Arch:
        path = Path(path)
        if not path.exists():
            raise ShiftnasError(f"architecture file {path} does not exist: pass a JSON file path")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ShiftnasError(f"architecture file {path} is not valid JSON: {err.msg}") from None
        return cls.from_json(data)

    def __str__(self) -> str:
        return f"{self.space}[{','.join(map(str, self.genome))}]"


def input_shape(settings: Any, batch_size: int = 1) -> tuple[int, int, int, int]:
    """(batch, channels, height, width) of the images a space's networks take, from its skeleton
    settings (`in_channels`, square `input_size` in pixels; every shipped space has both).

    Raises ShiftnasError for settings without them (a space that does not state its input)."""
    size = getattr(settings, "input_size", None)
    channels = getattr(settings, "in_channels", None)
    if size is None or channels is None:
        raise ShiftnasError(
            f"space settings {type(settings).__name__} have no input_size/in_channels: MACs and "
            "latency need them; drop the macs/latency objectives for this space"
        )
    return (batch_size, int(channels), int(size), int(size))
