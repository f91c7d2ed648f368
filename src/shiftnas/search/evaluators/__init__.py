"""Performance estimators behind one protocol; importing this package registers them by name."""

from shiftnas.search.evaluators.base import (
    Evaluator,
    evaluator_factory,
    get_evaluator,
    list_evaluators,
    register_evaluator,
)

__all__ = [
    "Evaluator",
    "evaluator_factory",
    "get_evaluator",
    "list_evaluators",
    "register_evaluator",
]

from shiftnas.search.evaluators.inherited import InheritedEvaluator

__all__ += ["InheritedEvaluator"]

from shiftnas.search.evaluators.proxies import CostEvaluator, ProxyEvaluator  # noqa: E402
from shiftnas.search.evaluators.rwe import RweEvaluator  # noqa: E402

__all__ += ["CostEvaluator", "ProxyEvaluator", "RweEvaluator"]

from shiftnas.search.evaluators.ensemble import RankEnsemble  # noqa: E402

__all__ += ["RankEnsemble"]
