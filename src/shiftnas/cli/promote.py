"""`shiftnas promote`: point an alias at the best registered version within the constraints."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import typer
from rich.console import Console

from shiftnas.cli.options import JSON, RUN_DIR_HELP, emit_json
from shiftnas.errors import ShiftnasError
from shiftnas.tracking.promote import NEAR_CHANCE_MARGIN


def _tracking_uri(tracking_uri: str | None, run_dir: Path | None) -> str:
    """--tracking-uri, else the store a run folder used, else MLFLOW_TRACKING_URI.

    An SQLite store that does not exist is refused: MLflow would silently create an empty one.
    """
    from shiftnas.tracking.sqlite import relocate_artifacts, require_store, store_lock
    from shiftnas.tracking.state import STATE_FILE, TrackingState
    from shiftnas.tracking.store import DEFAULT_STORE, default_uri

    if tracking_uri:
        require_store(tracking_uri, "check --tracking-uri (a path relative to here, or absolute)")
        return tracking_uri
    if run_dir is not None:
        state = TrackingState.load(run_dir)
        if state is None and not (run_dir / DEFAULT_STORE).is_file():
            raise ShiftnasError(
                f"--run-dir {run_dir} has no {STATE_FILE}: pass the folder of a tracked run"
            )
        uri = state.uri(run_dir) if state else default_uri(run_dir)
        require_store(uri, f"--run-dir {run_dir} holds no tracked run; pass the folder of one")
        if state is None or state.tracking_uri is None:  # the folder's own store: moved?
            with store_lock(uri):
                relocate_artifacts(run_dir / DEFAULT_STORE, run_dir)
        return uri
    if os.environ.get("MLFLOW_TRACKING_URI"):
        require_store(os.environ["MLFLOW_TRACKING_URI"], "check MLFLOW_TRACKING_URI")
        return os.environ["MLFLOW_TRACKING_URI"]
    raise ShiftnasError(
        "no MLflow store given: pass --tracking-uri (for example "
        "sqlite:///runs/NAME/mlflow.db), --run-dir, or set MLFLOW_TRACKING_URI"
    )


def promote_command(
    model: str = typer.Option(..., "--model", help="Registered model name."),
    max_latency_ms: float = typer.Option(..., "--max-latency-ms", min=0.0, help="Latency bound."),
    min_accuracy: float | None = typer.Option(
        None, "--min-accuracy", min=0.0, max=1.0, help="Accuracy bound (a fraction, 0-1)."
    ),
    alias: str = typer.Option("champion", "--alias", help="The alias to move."),
    tracking_uri: str | None = typer.Option(
        None, "--tracking-uri", help="MLflow store; default: --run-dir's, or MLFLOW_TRACKING_URI."
    ),
    run_dir: Path | None = typer.Option(
        None, "--run-dir", help=f"{RUN_DIR_HELP}, whose MLflow store to use."
    ),
    allow_near_chance: bool = typer.Option(
        False,
        "--allow-near-chance",
        help=f"Promote even a model within {NEAR_CHANCE_MARGIN:g} of chance accuracy (1/classes).",
    ),
    as_json: bool = JSON,
) -> None:
    """Point the registry alias at the most accurate version within the latency bound.

    Ties go to the faster version; the previous holder keeps a `previous_<alias>` tag. A model
    within a few points of chance accuracy is refused unless --allow-near-chance."""
    from shiftnas.tracking.promote import promote

    uri = _tracking_uri(tracking_uri, run_dir)
    result = promote(uri, model, max_latency_ms, min_accuracy=min_accuracy, alias=alias,
                     allow_near_chance=allow_near_chance)  # fmt: skip
    if as_json:
        emit_json(dataclasses.asdict(result))
        return
    figures = f"accuracy {result.accuracy:g}, {result.latency_ms:g} ms"
    console = Console(highlight=False)
    if not result.changed:
        console.print(f"'{alias}' already points at v{result.version} of {model} ({figures})")
        return
    before = f"; v{result.previous_version} keeps tag previous_{alias}"
    console.print(
        f"[green]✓[/] '{alias}' -> v{result.version} of {model} ({figures})"
        + (before if result.previous_version else "")
    )
