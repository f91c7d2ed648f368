"""What a run folder remembers about its MLflow runs, so resume reuses them and loses nothing.

`tracking.json` holds the ids of the parent run and of each stage's nested run, and the models
already logged and registered; `tracking_pending.jsonl` holds, in order, every logging call that
could not reach the store, to be replayed by the next `open` on the run folder.

`key` is written before anything is created in the store, and every run, logged model and
model version the run folder creates carries it in the tag `shiftnas.key` (see `records`):
a process killed after MLflow committed an object but before `tracking.json` recorded it finds
that object again on resume instead of creating a second one.

The default store (the run folder's own `mlflow.db`) is recorded as `tracking_uri: null`,
never as an absolute path, so a run folder can be moved or copied.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shiftnas.errors import ShiftnasError
from shiftnas.files import append_jsonl, read_jsonl, write_json_atomic, write_text_atomic
from shiftnas.tracking.sqlite import sqlite_path
from shiftnas.tracking.store import DEFAULT_STORE, default_uri

STATE_FILE = "tracking.json"
PENDING_FILE = "tracking_pending.jsonl"
PENDING_DIR = "tracking_pending"  # input examples of models waiting to be logged


def new_key() -> str:
    return uuid.uuid4().hex


@dataclass
class TrackingState:
    tracking_uri: str | None  # None: the run folder's own store, wherever the folder is
    key: str = field(default_factory=new_key)  # the tag value that finds our objects again
    experiment_id: str | None = None
    parent_run_id: str | None = None
    stages: dict[str, str] = field(default_factory=dict)  # stage name -> nested run id
    models: dict[str, str] = field(default_factory=dict)  # "stage/artifact_path" -> model uri
    registered: dict[str, str] = field(default_factory=dict)  # "name@model key" -> version

    @classmethod
    def load(cls, run_dir: Path) -> TrackingState | None:
        path = Path(run_dir) / STATE_FILE
        if not path.exists():
            return None
        try:
            state = cls(**json.loads(path.read_text()))
        except (ValueError, TypeError) as err:  # not JSON, not UTF-8, or not our fields
            raise ShiftnasError(
                f"{path} is damaged ({str(err)[:100]}): delete it to start new MLflow runs "
                "(the run folder's results are kept)"
            ) from None
        if state.tracking_uri is not None and _is_own_store(state.tracking_uri, Path(run_dir)):
            state.tracking_uri = None  # written by an older version, or before a move
        return state

    def uri(self, run_dir: Path) -> str:
        """The store's URI for the run folder as it is now (after a move, too)."""
        return self.tracking_uri or default_uri(run_dir)

    def save(self, run_dir: Path) -> None:
        write_json_atomic(Path(run_dir) / STATE_FILE, asdict(self))


def _is_own_store(uri: str, run_dir: Path) -> bool:
    """An absolute `sqlite:///.../mlflow.db` that is (or was, before the folder moved) the run
    directory's own store: the same file, or a missing file named like it while the run
    directory holds one."""
    path, own = sqlite_path(uri), run_dir / DEFAULT_STORE
    if path is None or path.name != DEFAULT_STORE or not own.is_file():
        return False
    return path.resolve() == own.resolve() or not path.exists()


class PendingLog:
    """An append-only journal of logging calls that did not reach the store.

    A model's input example (`_example`, an array) is saved beside it as `.npy`; files inside
    the run folder are journalled by relative path, so the journal survives a move too.
    """

    FILE_KEYS = ("path", "onnx_path", "example")

    def __init__(self, run_dir: Path) -> None:
        self.root = Path(run_dir)
        self.path = self.root / PENDING_FILE
        self.dir = self.root / PENDING_DIR

    def append(self, record: dict[str, Any]) -> None:
        append_jsonl(self.path, self._stored(record))

    def records(self) -> list[dict[str, Any]]:
        """The journalled calls, in order.

        Raises:
            ShiftnasError: a line other than a torn last one is not a JSON object.
        """
        try:
            return [self._loaded(record) for record in read_jsonl(self.path)]
        except ShiftnasError as err:
            problem = str(err).split(": restore it")[0]
            raise ShiftnasError(
                f"{problem}: repair that line, or delete the file to go on without the MLflow "
                "calls waiting in it (the run folder's results are kept)"
            ) from None

    def _stored(self, record: dict[str, Any]) -> dict[str, Any]:
        record = dict(record)
        if "_example" in record:
            name = hashlib.sha1(record["key"].encode()).hexdigest()[:16]
            self.dir.mkdir(parents=True, exist_ok=True)
            np.save(self.dir / f"{name}.npy", record.pop("_example"))
            record["example"] = str((self.dir / f"{name}.npy").resolve())
        root = self.root.resolve()
        for key in self.FILE_KEYS:
            if isinstance(record.get(key), str) and Path(record[key]).is_relative_to(root):
                record[key] = str(Path(record[key]).relative_to(root))
        return record

    def _loaded(self, record: dict[str, Any]) -> dict[str, Any]:
        for key in self.FILE_KEYS:
            if isinstance(record.get(key), str) and not Path(record[key]).is_absolute():
                record[key] = str(self.root.resolve() / record[key])
        return record

    def replace(self, records: list[dict[str, Any]]) -> None:
        """Keep only `records` (those still not replayed); remove the journal when none remain."""
        if records:
            write_text_atomic(
                self.path, "".join(json.dumps(self._stored(r)) + "\n" for r in records)
            )
        else:
            self.path.unlink(missing_ok=True)

    def __len__(self) -> int:
        return len(self.records())
