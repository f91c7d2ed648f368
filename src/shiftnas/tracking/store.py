"""Which MLflow store a run talks to, and whether it is there.

Precedence: `MLFLOW_TRACKING_URI` > `tracking.uri` in the config > an SQLite store inside the run
directory (`mlflow.db`, artifacts in `mlartifacts/`), the default that needs no server.
"""

from __future__ import annotations

import os
from pathlib import Path

from shiftnas.errors import ShiftnasError
from shiftnas.tracking.settings import TrackingConfig

ENV_URI = "MLFLOW_TRACKING_URI"
# MLflow's defaults (7 retries with exponential back-off, 120 s timeout) make one call to a dead
# server hang for minutes; a pipeline run should notice within seconds and keep going. Only set
# where the user has not chosen a value.
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
}
PROBE_TIMEOUT_S = 10.0
DEFAULT_STORE = "mlflow.db"  # the default store, inside the run folder
ARTIFACTS = "mlartifacts"  # its artifacts, beside it
# MLflow error codes that mean the call itself is wrong: retrying later cannot help.
CLIENT_ERRORS = frozenset({
    "INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST", "RESOURCE_ALREADY_EXISTS",
    "BAD_REQUEST", "INVALID_STATE", "PERMISSION_DENIED", "UNAUTHENTICATED", "NOT_FOUND",
})  # fmt: skip


def is_transient(exc: BaseException) -> bool:
    """A store that is down or busy (worth a retry on resume), not a wrong call."""
    import requests
    from mlflow.exceptions import MlflowException

    if isinstance(exc, requests.RequestException | ConnectionError | TimeoutError):
        return True
    return isinstance(exc, MlflowException) and exc.error_code not in CLIENT_ERRORS


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def default_uri(run_dir: Path) -> str:
    """The run folder's own store, as an absolute URI for the folder where it is now."""
    return f"sqlite:///{(Path(run_dir) / DEFAULT_STORE).resolve()}"


def default_artifact_location(run_dir: Path) -> str:
    return (Path(run_dir) / ARTIFACTS).resolve().as_uri()


def resolve_tracking_uri(run_dir: Path, config: TrackingConfig) -> str:
    """The store a run uses, made absolute (`absolute_uri`) against the working directory."""
    return absolute_uri(os.environ.get(ENV_URI) or config.uri or default_uri(run_dir))


def absolute_uri(uri: str, cwd: Path | None = None) -> str:
    """`uri` with a relative local path made absolute against `cwd` (default: the working
    directory): `sqlite:///track.db` (MLflow opens it relative to wherever the process runs),
    `file:mlruns`, or a bare path `./mlruns`. Server URIs, absolute paths and in-memory SQLite
    are returned unchanged."""
    base = Path.cwd() if cwd is None else Path(cwd)
    if uri.startswith("sqlite:///"):
        rest = uri[len("sqlite:///") :]
        path, sep, query = rest.partition("?")
        if not path or path.startswith("/") or path == ":memory:":
            return uri
        return f"sqlite:///{(base / path).resolve()}{sep}{query}"
    if uri.startswith("file:"):
        path = uri[len("file:") :]
        if path.startswith("/"):
            return uri
        return (base / path).resolve().as_uri()
    if ":" in uri or uri in ("databricks", "databricks-uc", "uc") or Path(uri).is_absolute():
        return uri  # a scheme (http:, databricks://...) or already absolute
    return str((base / uri).resolve())


def is_http(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def use_short_http_timeouts() -> None:
    for name, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(name, value)


def server_reachable(uri: str, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """True when something answers HTTP at `uri` (any status: only a dead socket is "down")."""
    import requests

    try:
        requests.get(uri.rstrip("/") + "/health", timeout=timeout)
    except requests.RequestException:
        return False
    return True


def unreachable_error(uri: str, hint: str | None = None) -> ShiftnasError:
    if hint is None:
        hint = f"or unset {ENV_URI}" if os.environ.get(ENV_URI) else "or change tracking.uri"
    return ShiftnasError(f"MLflow tracking server at {uri} is unreachable: start it {hint}")


def require_reachable(uri: str, hint: str | None = None) -> None:
    """Fail at once, in one line, when an HTTP tracking server is not there."""
    if is_http(uri) and not server_reachable(uri):
        raise unreachable_error(uri, hint)


def ui_command(uri: str) -> str:
    """What to run (or open) to look at the runs of `uri`."""
    if is_http(uri):
        return uri
    return f"mlflow ui --backend-store-uri {uri}"
