"""Relative paths in a run's config, resolved once, when the run is created, and recorded.

`data.root`, `data.cache_dir`, `search.latency.table` and an SQLite or file `tracking.uri` may be
written relative to the working directory. A run resumed from another directory would read
another dataset or table, or open (and so create) another, empty MLflow store. So when a run
folder is created, each relative value is resolved against the working directory of that
moment, the config the run records (`config.yaml`) holds the absolute location, and
`paths.json` records both the value as written and where it pointed. A later `shiftnas run` whose
config still holds the same relative value uses the recorded location, from whatever directory
it starts; a changed value is a changed config (`pipeline.changes`).

Run folders made before `paths.json` existed keep their values as they were (their search and
tracking records name them that way).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from shiftnas.files import read_json, write_json_atomic
from shiftnas.pipeline.config import Config

PATHS_FILE = "paths.json"
# the config keys that hold a filesystem location (dotted), each read by a stage or the tracker
PATH_KEYS = ("data.root", "data.cache_dir", "search.latency.table", "tracking.uri")


def absolute_location(key: str, value: str, cwd: Path) -> str:
    """`value` resolved against `cwd` when it is a relative path (or an SQLite / file URI with
    a relative path); other values (absolute paths, `http://` URIs) unchanged."""
    if key != "tracking.uri":
        path = Path(value).expanduser()
        return value if path.is_absolute() else str((cwd / path).resolve())
    from shiftnas.tracking.store import absolute_uri

    return absolute_uri(value, cwd)


def _get(config: dict[str, Any], key: str) -> Any:
    node: Any = config
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _set(config: dict[str, Any], key: str, value: str) -> None:
    parts = key.split(".")
    node = config
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value


def resolve_paths(config: Config, run_dir: Path) -> tuple[Config, dict[str, Any] | None]:
    """`config` with every relative location of `PATH_KEYS` made absolute (the recorded one
    when `run_dir/paths.json` holds the same value), and the record to write with
    `record_paths` (None: nothing to record, or a run folder older than `paths.json`)."""
    run_dir = Path(run_dir)
    recorded_file = run_dir / PATHS_FILE
    if (run_dir / "config.yaml").exists() and not recorded_file.exists():
        return config, None  # an older run folder: its records name the values as written
    previous = read_json(recorded_file) if recorded_file.exists() else {}
    recorded = previous.get("paths", {})
    data = config.model_dump(mode="json")
    cwd = Path(os.getcwd())
    record: dict[str, Any] = {}
    for key in PATH_KEYS:
        value = _get(data, key)
        if not isinstance(value, str):
            continue
        before = recorded.get(key)
        if before is not None and before.get("given") == value:
            resolved = before["resolved"]
        else:
            resolved = absolute_location(key, value, cwd)
        if resolved != value:
            record[key] = {"given": value, "resolved": resolved}
            _set(data, key, resolved)
    if not record:
        return config, None
    created_in = previous.get("cwd", str(cwd))  # the working directory the run was created in
    return Config.model_validate(data), {"cwd": created_in, "paths": record}


def record_paths(run_dir: Path, record: dict[str, Any] | None) -> None:
    """Write `paths.json` (atomically) when `record` differs from what it holds."""
    if record is None:
        return
    path = Path(run_dir) / PATHS_FILE
    if path.exists() and read_json(path).get("paths") == record["paths"]:
        return
    write_json_atomic(path, record)
