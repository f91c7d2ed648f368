"""SQLite tracking stores: shared safely by concurrent runs, movable with their run folder.

- **Concurrent runs.** Creating a fresh store runs MLflow's schema migrations, which are not safe
  against a second process doing the same (`table alembic_version already exists`, `duplicate
  column name`). `store_lock` serialises the creation, and the experiment lookup-or-create, with
  a file lock next to the database (`<db>.lock`); `with_busy_timeout` makes every connection wait
  up to `BUSY_TIMEOUT_S` for another writer instead of failing with `database is locked`.
- **Moved run folders.** MLflow records absolute artifact locations in the database. The default
  store lives inside its run folder, so after `mv` or `cp -r` of the folder `relocate_artifacts`
  points those locations at the folder's own `mlartifacts/` again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shiftnas.errors import ShiftnasError
from shiftnas.tracking.store import ARTIFACTS, default_artifact_location

BUSY_TIMEOUT_S = 60  # how long one SQLite statement waits for another process's write lock
LOCK_TIMEOUT_S = 600.0  # creating a store takes 3-10 s; several queued runs wait their turn
# The columns where MLflow keeps absolute artifact locations (MLflow 2.x and 3.x); a column an
# older schema lacks is skipped.
LOCATION_COLUMNS = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("logged_models", "artifact_location"),
    ("model_versions", "storage_location"),
    ("model_versions", "source"),
)


def sqlite_path(uri: str) -> Path | None:
    """The database file of an `sqlite:///` URI (relative to the working directory when the URI
    is), or None for other stores and for an in-memory database."""
    if not uri.startswith("sqlite:"):
        return None
    from sqlalchemy.engine import make_url

    database = make_url(uri).database
    return Path(database) if database and database != ":memory:" else None


def with_busy_timeout(uri: str) -> str:
    """`uri` with SQLite's busy timeout set (seconds), unless the URI already sets one."""
    if sqlite_path(uri) is None or "timeout=" in uri:
        return uri
    return f"{uri}{'&' if '?' in uri else '?'}timeout={BUSY_TIMEOUT_S}"


def without_busy_timeout(uri: str) -> str:
    """`uri` as the user gave it (for messages): the inverse of `with_busy_timeout`."""
    suffix = f"timeout={BUSY_TIMEOUT_S}"
    return uri[: -len(suffix) - 1] if uri.endswith((f"?{suffix}", f"&{suffix}")) else uri


@contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Hold `<db>.lock` (an OS file lock, released if the process dies) for an SQLite store;
    a no-op for other stores. Raises `ShiftnasError` after `LOCK_TIMEOUT_S`."""
    path = sqlite_path(uri)
    if path is None:
        yield
        return
    from filelock import FileLock, Timeout

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(f"{path}.lock", timeout=LOCK_TIMEOUT_S)
    try:
        lock.acquire()
    except Timeout:
        raise ShiftnasError(
            f"another process has held {lock.lock_file} for {LOCK_TIMEOUT_S:g} s: wait for it "
            "to finish, or move concurrent runs to an `mlflow server`"
        ) from None
    try:
        yield
    finally:
        lock.release()


def require_store(uri: str, hint: str) -> None:
    """Refuse an SQLite URI whose database does not exist (MLflow would create an empty one)."""
    path = sqlite_path(uri)
    if path is not None and not path.is_file():
        raise ShiftnasError(f"no MLflow store at {path}: {hint}")


def require_recorded_store(run_dir: Path, uri: str) -> None:
    """Refuse, changing nothing, to reopen the runs recorded in `run_dir/tracking.json` from an
    SQLite store that does not exist: MLflow would create an empty one, and the run's records
    would then look like runs that were deleted. Raises `ShiftnasError` naming the fixes."""
    path = sqlite_path(uri)
    if path is None or path.is_file():
        return
    raise ShiftnasError(
        f"{run_dir} was tracked in {uri}, and no such store exists (working directory "
        f"{Path.cwd()}): set MLFLOW_TRACKING_URI or tracking.uri to the store's absolute URI, "
        f"or delete {Path(run_dir) / 'tracking.json'} to start new MLflow runs"
    )


def relocate_artifacts(db_path: Path, run_dir: Path) -> int:
    """Point the artifact locations of a run folder's own store at `run_dir/mlartifacts`.

    Every location under another folder's `mlartifacts/` (where the folder was before a move
    or copy) is rewritten, in one transaction; MLflow's default experiment (`./mlruns`) is left
    alone. Returns the number of rows changed (0 when the folder has not moved). Call it while
    holding `store_lock`.
    """
    try:
        changed = _relocate(db_path, default_artifact_location(run_dir))
    except sqlite3.DatabaseError as err:
        raise ShiftnasError(
            f"{db_path} is not a readable MLflow store ({err}): restore it from a copy, or "
            f"delete it and {Path(run_dir) / 'tracking.json'} to start new MLflow runs"
        ) from None
    if changed:
        _forget_artifact_repositories()
    return changed


def _relocate(db_path: Path, new: str) -> int:
    with sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_S) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "experiments" not in tables:
            return 0  # a store MLflow has not initialised yet
        old = [
            row[0]
            for row in db.execute("SELECT artifact_location FROM experiments")
            if row[0] and row[0].rstrip("/").endswith(f"/{ARTIFACTS}") and row[0] != new
        ]
        changed = 0
        for prefix in old:
            for table, column in LOCATION_COLUMNS:
                if table not in tables:
                    continue
                columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                if column not in columns:
                    continue
                changed += db.execute(
                    f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
                    f"WHERE {column} = ? OR substr({column}, 1, ?) = ?",
                    (new, len(prefix) + 1, prefix, len(prefix) + 1, f"{prefix}/"),
                ).rowcount
    return changed


def _forget_artifact_repositories() -> None:
    """Drop MLflow's per-process cache of artifact locations (keyed by run and model id), which
    would still send this process's artifacts to the old folder. Private to MLflow: skipped
    where a version lacks it."""
    try:
        from mlflow.tracking._tracking_service import utils
    except ImportError:
        return
    cache = getattr(utils, "_artifact_repos_cache", None)
    if cache is not None:
        cache.clear()
