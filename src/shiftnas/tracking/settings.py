"""Typed settings of `shiftnas.tracking`: the `tracking:` and `registry:` sections."""

from __future__ import annotations

import posixpath
import re

from pydantic import Field, field_validator

from shiftnas.section import Section

# MLflow's rules for a registered model alias (mlflow.utils.validation._validate_model_alias_name):
# letters, digits, `_` and `-`, at most 255 characters, and neither `latest` nor `v<number>` in
# any case (MLflow reserves them for "the newest version" and "version <number>").
ALIAS_PATTERN = re.compile(r"^[\w\-]+$")
ALIAS_MAX_LENGTH = 255
RESERVED_VERSION_ALIAS = re.compile(r"^[vV]\d+$")
# MLflow's rules for names (`_validate_model_name`, `_validate_experiment_name`): a registered
# model name holds no '/' or ':' and is a plain relative path ('.', '..', 'a//b' are refused);
# an experiment name is at most 500 characters.
EXPERIMENT_MAX_LENGTH = 500


def alias_problem(alias: str) -> str | None:
    """Why MLflow would refuse `alias` as a registered model alias, or None when it accepts it."""
    if not alias or not ALIAS_PATTERN.match(alias):
        return f"alias '{alias}' may only hold letters, digits, '_' and '-' (MLflow's rule)"
    if len(alias) > ALIAS_MAX_LENGTH:
        return f"alias is {len(alias)} characters long; MLflow allows {ALIAS_MAX_LENGTH}"
    if alias.lower() == "latest" or RESERVED_VERSION_ALIAS.match(alias):
        return (
            f"alias '{alias}' is reserved by MLflow ('latest' and 'v<number>', any case, name "
            "versions): choose another name, such as champion"
        )
    return None


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

    @field_validator("registered_model")
    @classmethod
    def _mlflow_accepts_name(cls, name: str) -> str:
        if any(c in name for c in "/:") or not name.strip():
            raise ValueError(
                f"'{name}': MLflow refuses a blank name or one with '/' or ':': rename it"
            )
        if posixpath.normpath(name) != name or name == "." or name.startswith(".."):
            raise ValueError(f"'{name}': MLflow refuses names like '.', '..' or 'a//b': rename it")
        return name

    @field_validator("experiment")
    @classmethod
    def _mlflow_accepts_experiment(cls, name: str) -> str:
        if len(name) > EXPERIMENT_MAX_LENGTH:
            raise ValueError(f"{len(name)} characters; MLflow allows {EXPERIMENT_MAX_LENGTH}")
        return name


class RegistryConfig(Section):
    """After registration, point `alias` at the best version within these constraints."""

    alias: str = "champion"  # checked against MLflow's rules (`alias_problem`) at load
    max_latency_ms: float | None = Field(default=None, gt=0.0)
    min_accuracy: float | None = Field(default=None, ge=0.0, le=1.0)
    # Point the alias at a model within 0.05 of chance accuracy (1/num_classes) all the same.
    allow_near_chance: bool = False

    @field_validator("alias")
    @classmethod
    def _mlflow_accepts(cls, alias: str) -> str:
        problem = alias_problem(alias)
        if problem is not None:
            raise ValueError(problem)
        return alias
