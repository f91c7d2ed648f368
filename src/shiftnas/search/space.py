"""The `SearchSpace` protocol and the registry that maps a space name to its constructor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from torch import nn

from shiftnas.errors import ShiftnasError
from shiftnas.search.arch import Arch


@dataclass(frozen=True)
class LayerSpec:
    """One searchable position of a space, as a latency lookup table needs to know it."""

    index: int
    in_channels: int
    out_channels: int
    stride: int
    input_size: int  # spatial side of the square input feature map
    num_choices: int


@runtime_checkable
class SearchSpace(Protocol):
    """What search, evaluators and profiling need from a space; each space is one file."""

    name: str

    @property
    def genome_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Inclusive integer lower and upper bounds of each gene."""
        ...

    def sample(self, rng: np.random.Generator) -> Arch: ...

    def canonical(self, arch: Arch) -> Arch:
        """The one representative of all genomes that build the same network."""
        ...

    def validate(self, arch: Arch) -> Arch:
        """Return `arch` if it belongs to this space, else raise a one-line `ShiftnasError`."""
        ...

    def build(self, arch: Arch) -> nn.Module: ...

    def to_string(self, arch: Arch) -> str: ...

    def from_string(self, text: str) -> Arch: ...

    def describe(self) -> dict[str, Any]: ...


def check_genome(space: SearchSpace, arch: Arch) -> Arch:
    """Shared bounds check used by every space's `validate`."""
    if arch.space != space.name:
        raise ShiftnasError(
            f"architecture belongs to space '{arch.space}', not '{space.name}': "
            f"pass --space {arch.space} or an architecture of '{space.name}'"
        )
    low, high = space.genome_bounds
    if len(arch.genome) != len(low):
        raise ShiftnasError(
            f"genome has {len(arch.genome)} genes but space '{space.name}' needs {len(low)}: "
            "check the space settings (skeleton) it was made for"
        )
    genome = np.asarray(arch.genome)
    bad = np.flatnonzero((genome < low) | (genome > high))
    if bad.size:
        i = int(bad[0])
        raise ShiftnasError(
            f"gene {i} of the genome is {genome[i]}, outside [{low[i]}, {high[i]}] "
            f"allowed by space '{space.name}'"
        )
    return arch


_SPACES: dict[str, Callable[..., SearchSpace]] = {}


def register_space(name: str) -> Callable[[Callable[..., SearchSpace]], Callable[..., SearchSpace]]:
    def decorate(factory: Callable[..., SearchSpace]) -> Callable[..., SearchSpace]:
        if name in _SPACES:
            raise ValueError(f"search space '{name}' is already registered")
        _SPACES[name] = factory
        return factory

    return decorate


def list_spaces() -> list[str]:
    return sorted(_SPACES)


def get_space(name: str, settings: Any = None, **overrides: Any) -> SearchSpace:
    """Build a space by name from its settings model (or defaults) and keyword overrides."""
    if name not in _SPACES:
        raise ShiftnasError(
            f"unknown search space '{name}': choose one of {', '.join(list_spaces())}"
        )
    return _SPACES[name](settings, **overrides)
