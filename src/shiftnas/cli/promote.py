"""`shiftnas promote`: point an alias at the best registered version within the constraints."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console

from shiftnas.errors import ShiftnasError


def _tracking_uri(tracking_uri: str | None, run_dir: Path | None) -> str:
    """--tracking-uri, else the store a run directory used, else MLFLOW_TRACKING_URI."""
    if tracking_uri:
        return tracking_uri
    if run_dir is not None:
        from shiftnas.tracking.state import STATE_FILE, TrackingState

        state = TrackingState.load(run_dir)
        if state is None:
            raise ShiftnasError(
                f"--run-dir {run_dir} has no {STATE_FILE}: pass the folder of a tracked run"
            )
        return state.tracking_uri
    if os.environ.get("MLFLOW_TRACKING_URI"):
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
    run_dir: Path | None = typer.Option(None, "--run-dir", help="Use the store of this run."),
) -> None:
    """Point ALIAS at the most accurate version within the bounds (ties: the faster one); the
    previous holder keeps a `previous_<alias>` tag."""
    from shiftnas.tracking.promote import promote

    uri = _tracking_uri(tracking_uri, run_dir)
    result = promote(uri, model, max_latency_ms, min_accuracy=min_accuracy, alias=alias)
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
