"""`shiftnas run [-c CONFIG]` (the whole configured pipeline, resumable) and `shiftnas status`.

`shiftnas run CONFIG` is the shorthand of `shiftnas run --config CONFIG` (the README, the Makefile
and scripts use it); giving both is refused.
"""

from __future__ import annotations

from pathlib import Path

import typer

from shiftnas.cli.options import (
    DEVICE,
    JSON,
    QUIET,
    RUN_DIR,
    RUN_DIR_NEW,
    check_device,
    emit_json,
    human_console,
)
from shiftnas.cli.resolve import one_config
from shiftnas.errors import ShiftnasError


def run_command(
    positional: Path | None = typer.Argument(
        None, metavar="CONFIG", help="Shorthand of --config.", show_default=False
    ),
    config_opt: Path | None = typer.Option(
        None, "--config", "-c", help="YAML config; default: the embedded quickstart."
    ),
    run_dir: Path | None = RUN_DIR_NEW,
    device: str | None = DEVICE,
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Run every configured stage; running it again after a kill resumes where it stopped."""
    from shiftnas.pipeline.config import load_config

    config = one_config(positional, config_opt)
    cfg = load_config(config)  # a typo in the config is reported before torch is imported
    if check_device(device) is not None:
        cfg = cfg.model_copy(update={"device": device})

    from shiftnas.pipeline import run_pipeline
    from shiftnas.pipeline.summary import exported_records, selected_table, stage_records
    from shiftnas.training.distributed import launched_by_torchrun

    if launched_by_torchrun():
        raise ShiftnasError(
            "shiftnas run is one process, not a torchrun job: train with `torchrun ... -m "
            "shiftnas supernet train` (and `retrain`), then `shiftnas run` skips finished training"
        )
    console = human_console(as_json)
    source = str(config) if config is not None else "quickstart.yaml (embedded)"
    run = run_pipeline(cfg, run_dir or Path("runs") / cfg.name, progress=not quiet,
                       console=console, source=source)  # fmt: skip
    ui = None
    if cfg.tracking.enabled:
        from shiftnas.tracking import resolve_tracking_uri, ui_command
        from shiftnas.tracking.state import TrackingState

        state = TrackingState.load(run.root)  # the store the run recorded, wherever we are
        uri = state.uri(run.root) if state else resolve_tracking_uri(run.root, cfg.tracking)
        ui = ui_command(uri)
    if as_json:
        emit_json({"run_dir": str(run.root), "stages": stage_records(run),
                   "exported": exported_records(run), "mlflow_ui": ui})  # fmt: skip
        return
    table = selected_table(run)
    if table is not None:
        console.print(table)
    console.print(f"run folder: {run.root}")
    if ui is not None:
        console.print(f"see it in MLflow: [bold]{ui}[/]")


def status_command(run_dir: Path = RUN_DIR, as_json: bool = JSON) -> None:
    """Show each stage of a run: done, cut off (resumable), failed or waiting."""
    from shiftnas.pipeline import RunDir
    from shiftnas.pipeline.summary import stage_records, status_table

    if as_json:
        emit_json({"run_dir": str(run_dir), "stages": stage_records(RunDir(run_dir))})
        return
    human_console(False).print(status_table(RunDir(run_dir)))
