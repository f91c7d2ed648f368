"""Typed settings of `shiftnas.tracking`: the `tracking:` and `registry:` sections."""

from __future__ import annotations

from pydantic import Field

from shiftnas.section import Section


class TrackingConfig(Section):
    """MLflow tracking and the model registry (`shiftnas.tracking`).

    `uri: None` means an SQLite store inside the run folder (`mlflow.db`, artifacts in
    `mlartifacts/`), so the default needs no server; the `MLFLOW_TRACKING_URI` environment
    variable, when set, wins over `uri`.
    """

    enabled: bool = True
    uri: str | None = None
    experiment: str = Field(default="shiftnas", min_length=1)
    registered_model: str = Field(default="shiftnas", min_length=1)


class RegistryConfig(Section):
    """After registration, point `alias` at the best version within these constraints."""

    alias: str = Field(default="champion", pattern=r"^[A-Za-z0-9_-]+$")
    max_latency_ms: float | None = Field(default=None, gt=0.0)
    min_accuracy: float | None = Field(default=None, ge=0.0, le=1.0)
    # Point the alias at a model within 0.05 of chance accuracy (1/num_classes) all the same.
    allow_near_chance: bool = False
