"""`MlflowTracker`: one parent run per pipeline run, one nested run per stage, resumable.

Every logging call is a small JSON record applied to the store by `_apply`. When the store stops
answering mid-run, the record (and every later one) goes to `tracking_pending.jsonl` instead, and
the next `open` on the run folder replays them in order: a server that goes away loses
nothing. The run ids live in `tracking.json`, so a resumed run logs into the same MLflow runs.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from shiftnas.errors import ShiftnasError
from shiftnas.tracking import models
from shiftnas.tracking.keyed import start_parent
from shiftnas.tracking.params import flatten_params
from shiftnas.tracking.promote import PromotionResult
from shiftnas.tracking.records import apply_record
from shiftnas.tracking.settings import TrackingConfig
from shiftnas.tracking.sqlite import (
    relocate_artifacts,
    require_recorded_store,
    store_lock,
    with_busy_timeout,
)
from shiftnas.tracking.state import STATE_FILE, PendingLog, TrackingState
from shiftnas.tracking.store import (
    DEFAULT_STORE,
    absolute_uri,
    default_uri,
    first_line,
    is_http,
    is_transient,
    require_reachable,
    resolve_tracking_uri,
    server_reachable,
    unreachable_error,
    use_short_http_timeouts,
)

log = logging.getLogger("shiftnas.tracking")

PARENT = "pipeline"  # the key of calls made outside any stage


def _now_ms() -> int:
    return int(time.time() * 1000)


class MlflowTracker:
    def __init__(self, run_dir: Path, uri: str, client: Any, state: TrackingState) -> None:
        self.run_dir = Path(run_dir)
        self.uri = uri
        self.client = client
        self.state = state
        self.pending = PendingLog(self.run_dir)
        self._stage: str | None = None
        self._offline = False
        self._warned = False  # warn once per run, not at every stage boundary

    @classmethod
    def open(
        cls, run_dir: Path, config: TrackingConfig, run_name: str, params: Mapping[str, Any]
    ) -> MlflowTracker:
        """Start (or, on resume, reopen) the parent run and replay what is pending.

        `params` (the resolved config) become the parent run's params and its `config.yaml`.
        An SQLite store is opened under its file lock (`sqlite.store_lock`); the run folder's
        own store is pointed at the folder where it is now (`sqlite.relocate_artifacts`). Runs
        lost by a kill before `tracking.json` recorded them are found again (`keyed`). Raises
        `ShiftnasError` (one line) when the store is unusable; an HTTP store that does not
        answer fails here at once, later failures are journalled (see the module docstring).
        """
        from mlflow import MlflowClient

        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        uri = resolve_tracking_uri(run_dir, config)  # absolute: the same store from anywhere
        state = TrackingState.load(run_dir)
        if state is not None and absolute_uri(state.uri(run_dir)) != uri:
            raise ShiftnasError(
                f"{run_dir} was tracked at {state.uri(run_dir)}, not {uri}: set "
                f"MLFLOW_TRACKING_URI={state.uri(run_dir)} to resume there, or delete "
                f"{run_dir / STATE_FILE} to start new MLflow runs"
            )
        if state is None:
            state = TrackingState(tracking_uri=None if uri == default_uri(run_dir) else uri)
        elif state.parent_run_id is not None:
            require_recorded_store(run_dir, uri)  # never let MLflow create an empty one
        if is_http(uri):
            use_short_http_timeouts()
            require_reachable(uri)
        # MLflow logs each SQL error with its traceback (a full disk: hundreds of lines); a store
        # that stops answering is reported once, in one line, by `_go_offline`
        logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
        try:
            with store_lock(uri):  # one process at a time creates the store and the experiment
                if state.tracking_uri is None and (run_dir / DEFAULT_STORE).is_file():
                    relocate_artifacts(run_dir / DEFAULT_STORE, run_dir)
                client_uri = with_busy_timeout(uri)
                client = MlflowClient(tracking_uri=client_uri, registry_uri=client_uri)
                tracker = cls(run_dir, uri, client, state)
                start_parent(client, state, run_dir, uri, config.experiment, run_name)
                tracker._apply({"op": "params", "stage": None, "params": flatten_params(params)})
                if params:  # the resolved config, as a file of the parent run
                    tracker._submit({"op": "config", "stage": None, "config": dict(params)})
        except ShiftnasError:
            raise
        except Exception as exc:
            if is_http(uri) and is_transient(exc):
                raise unreachable_error(uri) from None
            raise ShiftnasError(
                f"MLflow tracking store at {uri} failed: {first_line(exc)}: check the URI"
            ) from None
        tracker.flush_pending()
        return tracker

    @property
    def run_id(self) -> str:
        assert self.state.parent_run_id is not None
        return self.state.parent_run_id

    # --- the Tracker protocol -------------------------------------------------------------

    @contextmanager
    def start_stage(self, name: str) -> Iterator[None]:
        if self._stage is not None:
            raise RuntimeError(f"stage {name!r} started inside stage {self._stage!r}")
        self._reconnect()
        self._submit({"op": "stage", "stage": name})
        self._stage = name
        status = "FAILED"
        try:
            yield
            status = "FINISHED"
        except KeyboardInterrupt:
            status = "KILLED"
            raise
        finally:
            self._stage = None
            self._submit({"op": "status", "stage": name, "status": status, "time": _now_ms()})

    def log_params(self, params: Mapping[str, Any]) -> None:
        self._submit({"op": "params", "stage": self._stage, "params": flatten_params(params)})

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        values = {key: float(value) for key, value in metrics.items()}
        record = {"op": "metrics", "stage": self._stage, "metrics": values, "step": step}
        self._submit({**record, "time": _now_ms()})

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        path = Path(path).resolve()
        if not path.is_file():
            raise ShiftnasError(f"artifact {path} does not exist: write it before logging it")
        record = {"op": "artifact", "stage": self._stage, "path": str(path)}
        self._submit({**record, "artifact_path": artifact_path})

    def log_artifacts(self, path: str | Path, artifact_path: str | None = None) -> None:
        path = Path(path).resolve()
        if not path.is_dir():
            raise ShiftnasError(f"artifact folder {path} does not exist: write it before logging")
        record = {"op": "artifacts", "stage": self._stage, "path": str(path)}
        self._submit({**record, "artifact_path": artifact_path})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        values = {key: str(value) for key, value in tags.items()}
        self._submit({"op": "tags", "stage": self._stage, "tags": values})

    def log_model_onnx(
        self, onnx_path: str | Path, artifact_path: str, input_example: np.ndarray
    ) -> str | None:
        """Log an ONNX file as an MLflow model with a signature; its URI, or None if pending.

        Logged once per (stage, artifact_path): a resumed stage gets the first URI back.
        """
        key = f"{self._stage or PARENT}/{artifact_path}"
        if key in self.state.models:
            return self.state.models[key]
        record = {"op": "model", "stage": self._stage, "key": key, "name": artifact_path,
                  "onnx_path": str(Path(onnx_path).resolve())}  # fmt: skip
        return self._submit({**record, "_example": np.asarray(input_example)})

    def register(
        self,
        model: str | Path,
        name: str,
        tags: Mapping[str, Any],
        artifact_path: str | None = None,
    ) -> str | None:
        """See `register_model`."""
        values = models.version_tags(tags)
        is_file = isinstance(model, Path) or not str(model).startswith(("models:/", "runs:/"))
        if is_file:
            path = Path(model)
            name_in_run = artifact_path or f"{path.parent.name}-{path.stem}"
            self.log_model_onnx(path, name_in_run, models.example_input(path))
            model_key, model_uri = f"{self._stage or PARENT}/{name_in_run}", None
        else:
            model_key, model_uri = str(model), str(model)
        key = f"{name}@{model_key}"
        if key in self.state.registered:
            return self.state.registered[key]
        record = {"op": "register", "stage": self._stage, "key": key, "name": name}
        return self._submit(
            {**record, "model_key": model_key, "model_uri": model_uri, "tags": values}
        )

    def promote(
        self,
        name: str,
        max_latency_ms: float,
        min_accuracy: float | None = None,
        alias: str = "champion",
        allow_near_chance: bool = False,
    ) -> PromotionResult | None:
        """`tracking.promote.promote` on this run's store; None when the store is away: the
        call is then journalled and replayed on resume, after the registrations before it."""
        settings = {"name": name, "max_latency_ms": max_latency_ms, "min_accuracy": min_accuracy,
                    "alias": alias, "allow_near_chance": allow_near_chance}  # fmt: skip
        return self._submit({"op": "promote", "stage": self._stage, "promote": settings})

    def close(self, status: str = "FINISHED") -> None:
        self._reconnect()
        self._submit({"op": "status", "stage": None, "status": status, "time": _now_ms()})

    def __enter__(self) -> MlflowTracker:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        killed = kind is not None and issubclass(kind, KeyboardInterrupt)
        self.close("FINISHED" if kind is None else "KILLED" if killed else "FAILED")

    # --- applying records, journalling those that cannot reach the store ------------------

    def flush_pending(self) -> int:
        """Replay the journal in order; returns how many records left it."""
        records = self.pending.records()
        done = 0
        for record in records:
            try:
                self._apply(record)
            except Exception as exc:
                if is_transient(exc):
                    self._go_offline(exc)
                    break
                log.warning("dropped a pending MLflow %s call: %s", record["op"], first_line(exc))
            done += 1
        if records:
            self.pending.replace(records[done:])
        if done == len(records):
            shutil.rmtree(self.pending.dir, ignore_errors=True)  # input examples replayed
        return done

    def _submit(self, record: dict[str, Any]) -> Any:
        if not self._offline:
            try:
                return self._apply(record)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                self._go_offline(exc)
        self.pending.append(record)
        return None

    def _go_offline(self, exc: BaseException) -> None:
        if not self._warned:
            self._warned = True
            log.warning(
                "MLflow tracking store at %s stopped answering (%s): results stay in %s and are "
                "logged to MLflow when the run resumes", self.uri, first_line(exc), self.run_dir,
            )  # fmt: skip
        self._offline = True

    def _reconnect(self) -> None:
        """At stage boundaries, try an offline store again (a quick probe first)."""
        if self._offline and (not is_http(self.uri) or server_reachable(self.uri, timeout=2.0)):
            self._offline = False
            self.flush_pending()

    def _apply(self, record: dict[str, Any]) -> Any:
        return apply_record(self.client, self.state, self.run_dir, record)
