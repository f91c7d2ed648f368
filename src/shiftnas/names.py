"""One name table of constructors: search spaces, estimators, latency backends, objectives.

Named `names` and `NameTable` (not "registry") so that "registry" means one thing in shiftnas:
MLflow's model registry (`shiftnas.tracking`, the config's `registry:` section).

    SPACES = NameTable("search space", modules=["shiftnas.search.spaces.mbv3", ...])

    @SPACES.register("mbv3")
    def mbv3(settings=None, **overrides): ...

    SPACES.get("mbv3")    # the factory; ShiftnasError naming the choices for an unknown name

`modules` are imported on the first lookup, so the entries that register themselves there are
present without importing them (and torch) when the package is imported.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from shiftnas.errors import ShiftnasError

T = TypeVar("T")


class NameTable(Generic[T]):
    """Entries of one kind by name; `kind` names them in messages ("search space")."""

    def __init__(self, kind: str, modules: Iterable[str] = ()) -> None:
        self.kind = kind
        self._modules = list(modules)
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that adds an entry; ValueError when `name` is taken (a programming error)."""

        def decorate(entry: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} '{name}' is already registered")
            self._entries[name] = entry
            return entry

        return decorate

    def _load(self) -> None:
        while self._modules:
            importlib.import_module(self._modules.pop(0))

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def get(self, name: str) -> T:
        """The entry `name`; ShiftnasError naming every choice when there is none."""
        self._load()
        if name not in self._entries:
            raise ShiftnasError(
                f"unknown {self.kind} '{name}': choose one of {', '.join(self.names())}"
            )
        return self._entries[name]

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries
