"""The `Evaluator` protocol: architectures in, one score each out, lower is better."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from shiftnas.arch import Arch
from shiftnas.names import NameTable


@runtime_checkable
class Evaluator(Protocol):
    """Estimates how good each network is; a lower score means a better predicted network.

    Errors are returned as fractions in [0, 1]; proxies where higher is better are negated, so
    every method ranks the same way. Implementations are deterministic under their seed and
    cache by canonical architecture id.

    Constructors are keyword-only with defaults; every random-init estimator (rwe, rwe_paper,
    synflow, naswot, snip, grad_norm, fisher, jacob_cov, macs, params, ensemble, default) takes
    `get_evaluator(name, space=space, data=splits, seed=0, device="cpu", **method_settings)`;
    `data` may be None for the data-free ones (synflow, macs, params).
    """

    name: str

    def evaluate(self, archs: Sequence[Arch]) -> list[float]: ...


EVALUATORS: NameTable[Callable[..., Evaluator]] = NameTable("evaluation method")
register_evaluator = EVALUATORS.register


def list_evaluators() -> list[str]:
    return EVALUATORS.names()


def get_evaluator(name: str, **kwargs: Any) -> Evaluator:
    """Build the estimator `name`; ShiftnasError naming the choices for an unknown one."""
    return EVALUATORS.get(name)(**kwargs)


def evaluator_factory(name: str) -> Callable[..., Evaluator]:
    """The registered constructor of `name`, so a config's settings can be checked against it."""
    return EVALUATORS.get(name)
