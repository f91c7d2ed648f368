"""What a run directory remembers about its MLflow runs, so resume reuses them and loses nothing.

`tracking.json` holds the ids of the parent run and of each stage's nested run, and the models
already logged and registered; `tracking_pending.jsonl` holds, in order, every logging call that
could not reach the store, to be replayed by the next `open` on the run directory.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shiftnas.files import (
    append_jsonl,
    damaged,
    read_json,
    read_jsonl,
    write_json_atomic,
    write_text_atomic,
)  # fmt: skip

STATE_FILE = "tracking.json"
PENDING_FILE = "tracking_pending.jsonl"
PENDING_DIR = "tracking_pending"  # input examples of models waiting to be logged


@dataclass
class TrackingState:
    tracking_uri: str
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
        data = read_json(path)
        try:
            return cls(**data)
        except TypeError:
            raise damaged(path, "not the ids of MLflow runs") from None

    def save(self, run_dir: Path) -> None:
        write_json_atomic(Path(run_dir) / STATE_FILE, asdict(self))


class PendingLog:
    """An append-only journal of logging calls that did not reach the store."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / PENDING_FILE
        self.dir = Path(run_dir) / PENDING_DIR

    def append(self, record: dict[str, Any]) -> None:
        append_jsonl(self.path, record)

    def records(self) -> list[dict[str, Any]]:
        return list(read_jsonl(self.path))

    def replace(self, records: list[dict[str, Any]]) -> None:
        """Keep only `records` (those still not replayed); remove the journal when none remain."""
        if records:
            write_text_atomic(self.path, "".join(json.dumps(r) + "\n" for r in records))
        else:
            self.path.unlink(missing_ok=True)

    def __len__(self) -> int:
        return len(self.records())
