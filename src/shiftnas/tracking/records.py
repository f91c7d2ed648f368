"""Apply one logging record to an MLflow store: the single path for live calls and replays.

A record is a small JSON-able dict (`op`, `stage`, payload); the tracker builds it, applies it
here, and journals it unchanged when the store is away, so a replay is exactly the first try.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from shiftnas.errors import ShiftnasError
from shiftnas.tracking import models
from shiftnas.tracking.keyed import KEY_TAG, find_or_create_run, find_version
from shiftnas.tracking.promote import promote
from shiftnas.tracking.state import TrackingState

log = logging.getLogger("shiftnas.tracking")

BATCH = 100  # MLflow's limit of params or tags per log_batch call
CONFIG_ARTIFACT = "config.yaml"  # the resolved config, in the parent run's artifacts


def run_for(client: Any, state: TrackingState, run_dir: Path, stage: str | None) -> str:
    """The MLflow run of `stage` (None: the parent), created as a nested run the first time."""
    assert state.parent_run_id is not None, "the parent run is started first"
    if stage is None:
        return state.parent_run_id
    if stage not in state.stages:
        tags = {"mlflow.parentRunId": state.parent_run_id, "shiftnas.stage": stage}
        key = f"{state.key}/{stage}"
        state.stages[stage] = find_or_create_run(client, state.experiment_id, key, stage, tags)
        state.save(run_dir)
    return state.stages[stage]


def _new_params(client: Any, run_id: str, params: dict[str, str]) -> dict[str, str]:
    """MLflow params cannot change: on resume keep the first value, log only new keys."""
    if not params:
        return {}
    existing = client.get_run(run_id).data.params
    changed = sorted(k for k, v in params.items() if k in existing and existing[k] != v)
    if changed:
        log.warning("MLflow params keep their first value: %s", ", ".join(changed[:5]))
    return {k: v for k, v in params.items() if k not in existing}


def apply_record(client: Any, state: TrackingState, run_dir: Path, record: dict[str, Any]) -> Any:
    from mlflow.entities import Metric, Param, RunTag

    op = record["op"]
    created = record["stage"] is not None and record["stage"] not in state.stages
    run_id = run_for(client, state, run_dir, record["stage"])
    if op == "stage" and not created:
        client.update_run(run_id, status="RUNNING")
    elif op == "params":
        items = [Param(k, v) for k, v in _new_params(client, run_id, record["params"]).items()]
        for start in range(0, len(items), BATCH):
            client.log_batch(run_id, params=items[start : start + BATCH])
    elif op == "tags":
        tags = [RunTag(k, v) for k, v in record["tags"].items()]
        for start in range(0, len(tags), BATCH):
            client.log_batch(run_id, tags=tags[start : start + BATCH])
    elif op == "metrics":
        step, stamp = record["step"] or 0, record["time"]
        metrics = [Metric(k, v, stamp, step) for k, v in record["metrics"].items()]
        client.log_batch(run_id, metrics=metrics)
    elif op == "artifact":
        client.log_artifact(run_id, record["path"], record["artifact_path"])
    elif op == "artifacts":
        client.log_artifacts(run_id, record["path"], record["artifact_path"])
    elif op == "status":
        client.set_terminated(run_id, record["status"], end_time=record["time"])
    elif op == "config":
        client.log_dict(run_id, record["config"], CONFIG_ARTIFACT)
    elif op == "promote":
        return promote(client, **record["promote"])
    elif op == "model" and record["key"] in state.models:  # journalled twice, or replayed again
        return state.models[record["key"]]
    elif op == "register" and record["key"] in state.registered:
        return state.registered[record["key"]]
    elif op == "model":
        example = record.get("_example")
        example = np.load(record["example"]) if example is None else example
        uri = models.log_onnx(client, run_id, Path(record["onnx_path"]), record["name"],
                              example, key=f"{state.key}/{record['key']}")  # fmt: skip
        state.models[record["key"]] = uri
        state.save(run_dir)
        return uri
    elif op == "register":
        model_uri = record["model_uri"] or state.models.get(record["model_key"])
        if model_uri is None:
            raise ShiftnasError(f"model {record['model_key']} was never logged")
        key = f"{state.key}/{record['key']}"
        tags = {**record["tags"], "run_id": state.parent_run_id, "stage_run_id": run_id,
                KEY_TAG: key}  # fmt: skip
        version = find_version(client, record["name"], key) or models.create_version(
            client.tracking_uri, model_uri, record["name"], tags
        )
        state.registered[record["key"]] = version
        state.save(run_dir)
        return version
    return None
