"""The `SearchSpace` protocol and the name table that maps a space name to its constructor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from torch import nn

from shiftnas.arch import Arch
from shiftnas.errors import ShiftnasError
from shiftnas.names import NameTable


@dataclass(frozen=True)
class LayerSpec:
    """One searchable position of a space, as a latency lookup table needs to know it."""

    index: int
    in_channels: int
    out_channels: int
    stride: int
    input_size: int  # spatial side of the square input feature map
    num_choices: int


def describe_layers(specs: tuple[LayerSpec, ...]) -> list[dict[str, int]]:
    """The skeleton's layers as `shiftnas space describe` prints them (channels, stride, input
    side in pixels), one dict a layer."""
    return [
        {"layer": s.index, "in": s.in_channels, "out": s.out_channels, "stride": s.stride,
         "input_size": s.input_size}
        for s in specs
    ]  # fmt: skip


# What a space can serve beyond the `SearchSpace` protocol; a space lists its own in the class
# attribute `capabilities`, and the pipeline refuses a stage that needs one the space lacks.
CAPABILITIES: dict[str, str] = {
    "supernet": "a weight-sharing supernet (inherited-weight estimates, retrain.init: inherited)",
    "filter_twins": "a with/without BlurPool twin of each network (robustness, its ablation)",
    "layer_table": "layer descriptions for latency lookup tables (`shiftnas lut build`)",
}


@runtime_checkable
class SearchSpace(Protocol):
    """What search, evaluators and profiling need from a space; each space is one file."""

    name: str
    capabilities: frozenset[str]  # a subset of CAPABILITIES' keys

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


SPACES: NameTable[Callable[..., SearchSpace]] = NameTable(
    "search space",
    modules=[
        f"shiftnas.search.spaces.{name}" for name in ("mbv3", "nbmacro", "nb201", "darts", "macro")
    ],
)
register_space = SPACES.register


def list_spaces() -> list[str]:
    return SPACES.names()


def space_capabilities(name: str) -> frozenset[str]:
    """The capabilities (keys of `CAPABILITIES`) of the space `name`, from its default skeleton;
    ShiftnasError for an unknown name."""
    return frozenset(getattr(get_space(name), "capabilities", frozenset()))


def require_capability(space_name: str, capability: str, needed_by: str, fix: str) -> None:
    """ShiftnasError, one line, when space `space_name` lacks `capability`; `needed_by` names
    the setting that needs it and `fix` what to change."""
    if capability not in space_capabilities(space_name):
        raise ShiftnasError(
            f"{needed_by}: needs {CAPABILITIES[capability]}, which space '{space_name}' does not "
            f"have: {fix}"
        )


def get_space(name: str, settings: Any = None, **overrides: Any) -> SearchSpace:
    """Build a space by name from its settings model (or defaults) and keyword overrides.

    Raises ShiftnasError for an unknown name, pydantic.ValidationError for a bad override."""
    return SPACES.get(name)(settings, **overrides)
