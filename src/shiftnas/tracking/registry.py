"""Register exported networks as versions of one registered model, tagged with their figures."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shiftnas.tracking.base import Tracker
from shiftnas.tracking.mlflow_tracker import MlflowTracker


def register_model(
    tracker: Tracker,
    model: str | Path,
    name: str,
    tags: Mapping[str, Any],
    artifact_path: str | None = None,
) -> str | None:
    """Register `model` (an ONNX file, logged first into the current run, or a `models:/` or
    `runs:/` URI) as a new version of `name`; returns the version, or None when tracking is off
    or the store is away (the registration then happens on resume).

    `tags` must hold `accuracy` (test accuracy, a fraction in [0, 1]) and `latency_ms`, which
    promotion ranks by, and `num_classes`, which it checks accuracy against chance with; the
    pipeline also gives `device` (the CPU or GPU the latency was measured on), `backend`,
    `shift_consistency`, `params` and `macs`. Raises `ShiftnasError` when one of the three is
    missing. `run_id` (the
    pipeline's parent run) and `stage_run_id` are added. Registering the same model under the
    same name again (a resumed stage) returns the first version instead of a duplicate.
    """
    if not isinstance(tracker, MlflowTracker):
        return None
    return tracker.register(model, name, tags, artifact_path=artifact_path)
