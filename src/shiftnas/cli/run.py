"""`shiftnas run [CONFIG]`: the whole configured pipeline, resumable."""

from __future__ import annotations

from pathlib import Path

import typer

from shiftnas.config import load_config
from shiftnas.pipeline import run_pipeline


def run_command(
    config: Path | None = typer.Argument(
        None, help="YAML config; default: the embedded quickstart."
    ),
    run_dir: Path | None = typer.Option(None, "--run-dir", help="Default: runs/<config name>."),
) -> None:
    """Run every configured stage; running it again after a kill resumes where it stopped."""
    cfg = load_config(config)
    run_pipeline(cfg, run_dir or Path("runs") / cfg.name)
