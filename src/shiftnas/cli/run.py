"""`shiftnas run [-c CONFIG]` (the whole configured pipeline, resumable) and `shiftnas status`.

`shiftnas run CONFIG` is the shorthand of `shiftnas run --config CONFIG` (the README, the Makefile
and scripts use it); giving both is refused.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from shiftnas.cli.resolve import one_config
from shiftnas.errors import ShiftnasError
from shiftnas.pipeline import RunDir, run_pipeline
from shiftnas.pipeline.config import load_config
from shiftnas.pipeline.summary import selected_table, status_table


def run_command(
    positional: Path | None = typer.Argument(
        None, metavar="CONFIG", help="Shorthand of --config.", show_default=False
    ),
    config_opt: Path | None = typer.Option(
        None, "--config", "-c", help="YAML config; default: the embedded quickstart."
    ),
    run_dir: Path | None = typer.Option(None, "--run-dir", help="Default: runs/<config name>."),
) -> None:
    """Run every configured stage; running it again after a kill resumes where it stopped."""
    from shiftnas.training.distributed import launched_by_torchrun

    if launched_by_torchrun():
        raise ShiftnasError(
            "shiftnas run is one process, not a torchrun job: train with `torchrun ... -m "
            "shiftnas supernet train` (and `retrain`), then `shiftnas run` skips finished training"
        )
    config = one_config(positional, config_opt)
    cfg = load_config(config)
    console = Console()
    source = str(config) if config is not None else "quickstart.yaml (embedded)"
    run = run_pipeline(cfg, run_dir or Path("runs") / cfg.name, console=console, source=source)
    table = selected_table(run)
    if table is not None:
        console.print(table)
    console.print(f"run folder: {run.root}")
    if cfg.tracking.enabled:
        from shiftnas.tracking import resolve_tracking_uri, ui_command
        from shiftnas.tracking.state import TrackingState

        state = TrackingState.load(run.root)  # the store the run recorded, wherever we are
        uri = state.uri(run.root) if state else resolve_tracking_uri(run.root, cfg.tracking)
        console.print(f"see it in MLflow: [bold]{ui_command(uri)}[/]")


def status_command(
    run_dir: Path = typer.Option(..., "--run-dir", help="A run folder made by `shiftnas run`."),
) -> None:
    """Show each stage of a run: done, cut off (resumable), failed or waiting."""
    Console().print(status_table(RunDir(run_dir)))
