"""MLflow tracking, the model registry and promotion.

Named `tracking` rather than `mlflow` so that `import mlflow` inside it always means the library.
MLflow itself is imported inside the functions that use it: `import shiftnas` stays light.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shiftnas.config import TrackingConfig
from shiftnas.tracking.base import NullTracker, Tracker
from shiftnas.tracking.mlflow_tracker import MlflowTracker
from shiftnas.tracking.params import flatten_params
from shiftnas.tracking.promote import PromotionResult, promote
from shiftnas.tracking.registry import register_model
from shiftnas.tracking.store import resolve_tracking_uri, ui_command

__all__ = [
    "MlflowTracker",
    "NullTracker",
    "PromotionResult",
    "Tracker",
    "flatten_params",
    "open_tracker",
    "promote",
    "register_model",
    "resolve_tracking_uri",
    "ui_command",
]


def open_tracker(
    run_dir: Path, config: TrackingConfig, run_name: str, params: Mapping[str, Any]
) -> Tracker:
    """`MlflowTracker.open(...)`, or a `NullTracker` when `config.enabled` is false."""
    if not config.enabled:
        return NullTracker()
    return MlflowTracker.open(run_dir, config, run_name, params)
