"""Find-or-create for the objects a run folder makes in MLflow, by the tag `shiftnas.key`.

A process can die after MLflow committed a run, a logged model or a model version and before
`tracking.json` recorded its id. Each such object is created with the tag `shiftnas.key` (the
run folder's `TrackingState.key`, plus the stage, model or version it stands for; written to
`tracking.json` before anything is created), and looked up by that tag before creating: a
resumed run reuses what the killed one made instead of creating a second one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from shiftnas.errors import ShiftnasError
from shiftnas.tracking.sqlite import sqlite_path
from shiftnas.tracking.state import TrackingState, new_key
from shiftnas.tracking.store import default_artifact_location

log = logging.getLogger("shiftnas.tracking")

KEY_TAG = "shiftnas.key"
RUN_DIR_TAG = "shiftnas.run_dir"  # where the run folder is (updated when it has moved)


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def find_run(client: Any, experiment_id: str, key: str) -> str | None:
    """The id of the live run of `experiment_id` tagged `key`, or None (the oldest if several)."""
    runs = client.search_runs(
        [experiment_id],
        f"tags.`{KEY_TAG}` = {_quoted(key)}",
        order_by=["attributes.start_time ASC"],
    )
    return runs[0].info.run_id if runs else None


def find_or_create_run(
    client: Any, experiment_id: str, key: str, run_name: str, tags: dict[str, str]
) -> str:
    """The run tagged `key`, created (with `tags` and the key) if no such run exists yet."""
    found = find_run(client, experiment_id, key)
    if found is not None:
        return found
    run = client.create_run(experiment_id, run_name=run_name, tags={**tags, KEY_TAG: key})
    return run.info.run_id


def find_logged_model(client: Any, experiment_id: str, key: str) -> Any:
    """The logged model of `experiment_id` tagged `key` (READY ones first), or None."""
    query = f"tags.`{KEY_TAG}` = {_quoted(key)}"
    found = list(client.search_logged_models([experiment_id], filter_string=query))
    found.sort(key=lambda model: (not is_ready(model), model.creation_timestamp))
    return found[0] if found else None


def is_ready(model: Any) -> bool:
    """A logged model whose files were all uploaded (not one cut off while logging)."""
    return getattr(model.status, "value", model.status) == "READY"


def find_version(client: Any, name: str, key: str) -> str | None:
    """The version of registered model `name` tagged `key`, or None (also when `name` is new)."""
    token = None
    while True:
        page = client.search_model_versions(f"name={_quoted(name)}", page_token=token)
        for version in page:
            if version.tags.get(KEY_TAG) == key:
                return str(version.version)
        token = page.token
        if not token:
            return None


def existing_run(client: Any, run_id: str) -> Any:
    """The run `run_id`, or None when it was deleted from the store."""
    from mlflow.exceptions import MlflowException

    try:
        run = client.get_run(run_id)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    return None if run.info.lifecycle_stage == "deleted" else run


def experiment_id(client: Any, name: str, location: str | None) -> str:
    """The experiment `name`, created at `location` if missing; a create that loses a race to
    another process (RESOURCE_ALREADY_EXISTS, `UNIQUE constraint failed`) looks it up again."""
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    try:
        return client.create_experiment(name, location)
    except MlflowException:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


def require_experiment(client: Any, state: TrackingState, run_dir: Path, uri: str) -> None:
    """Refuse, changing nothing, a store without the experiment `tracking.json` recorded: it is
    another store (or the experiment was deleted), not one whose runs are certainly gone."""
    from mlflow.exceptions import MlflowException

    try:
        experiment = client.get_experiment(state.experiment_id)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        experiment = None
    if experiment is None or experiment.lifecycle_stage == "deleted":
        raise ShiftnasError(
            f"the MLflow store at {uri} has no experiment {state.experiment_id}, where "
            f"{Path(run_dir) / 'tracking.json'} says this run's runs are: point tracking.uri "
            "(or MLFLOW_TRACKING_URI) at the store the run used, or delete tracking.json to "
            "start new MLflow runs"
        )


def start_parent(
    client: Any, state: TrackingState, run_dir: Path, uri: str, experiment: str, run_name: str
) -> None:
    """Find (by id, else by `shiftnas.key`) or create the experiment and the parent run of
    `run_dir`, mark it RUNNING and record it in `state` (saved)."""
    if state.experiment_id is None:  # artifacts beside an SQLite store, not in ./mlruns
        database = sqlite_path(uri)
        location = None if database is None else default_artifact_location(database.parent)
        state.experiment_id = experiment_id(client, experiment, location)
    here = str(Path(run_dir).resolve())
    if state.parent_run_id is not None:
        require_experiment(client, state, run_dir, uri)  # else this is not the run's store
        if existing_run(client, state.parent_run_id) is None:
            log.warning("MLflow run %s of %s is gone: starting new runs", state.parent_run_id,
                        run_dir)  # fmt: skip
            state.key = new_key()  # do not find the old ones again
            state.parent_run_id = None
            state.stages, state.models, state.registered = {}, {}, {}
        else:
            client.set_tag(state.parent_run_id, RUN_DIR_TAG, here)  # it may have moved
    if state.parent_run_id is None:
        state.save(run_dir)  # the key is on disk before anything carries it
        state.parent_run_id = find_or_create_run(
            client, state.experiment_id, state.key, run_name, {RUN_DIR_TAG: here}
        )
    client.update_run(state.parent_run_id, status="RUNNING")
    state.save(run_dir)
