"""Performance estimators behind one protocol; importing this package registers them by name."""

from shiftnas.search.evaluators.base import (
    Evaluator,
    get_evaluator,
    list_evaluators,
    register_evaluator,
)

__all__ = ["Evaluator", "get_evaluator", "list_evaluators", "register_evaluator"]

from shiftnas.search.evaluators.inherited import InheritedEvaluator  # noqa: E402  (registers)

__all__ += ["InheritedEvaluator"]
