"""The `Tracker` protocol the pipeline codes against, and `NullTracker` for tracking switched off.

Stages depend on this small protocol rather than on MLflow, so a stage runs the same whether its
results go to an SQLite store, a server, or nowhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from shiftnas.tracking.settings import TrackingConfig


@runtime_checkable
class Tracker(Protocol):
    """Where a pipeline run reports params, metrics, artifacts and models.

    Calls made inside `with tracker.start_stage(name):` go to that stage's (nested) run, calls
    outside any stage to the pipeline's (parent) run.
    """

    def start_stage(self, name: str) -> AbstractContextManager[None]: ...

    def log_params(self, params: Mapping[str, Any]) -> None: ...

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None: ...

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None: ...

    def log_artifacts(self, path: str | Path, artifact_path: str | None = None) -> None: ...

    def set_tags(self, tags: Mapping[str, Any]) -> None: ...

    def log_model_onnx(
        self, onnx_path: str | Path, artifact_path: str, input_example: np.ndarray
    ) -> str | None: ...

    def close(self, status: str = "FINISHED") -> None: ...


class NullTracker:
    """Tracking disabled (`tracking.enabled: false`): every call does nothing."""

    run_id: str | None = None

    @contextmanager
    def start_stage(self, name: str) -> Iterator[None]:
        yield

    def log_params(self, params: Mapping[str, Any]) -> None:
        pass

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        pass

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        pass

    def log_artifacts(self, path: str | Path, artifact_path: str | None = None) -> None:
        pass

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        pass

    def log_model_onnx(
        self, onnx_path: str | Path, artifact_path: str, input_example: np.ndarray
    ) -> str | None:
        return None

    def close(self, status: str = "FINISHED") -> None:
        pass

    def __enter__(self) -> NullTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def open_tracker(
    run_dir: Path, config: TrackingConfig, run_name: str, params: Mapping[str, Any]
) -> Tracker:
    """`MlflowTracker.open(...)`, or a `NullTracker` when `config.enabled` is false."""
    if not config.enabled:
        return NullTracker()
    from shiftnas.tracking.mlflow_tracker import MlflowTracker  # imports mlflow: only when used

    return MlflowTracker.open(run_dir, config, run_name, params)
