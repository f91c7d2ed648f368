"""`shiftnas supernet train`: train (or resume) the one-shot model of a config."""

from __future__ import annotations

from pathlib import Path

import typer

from shiftnas.cli.options import (
    CONFIG_REQUIRED,
    DEVICE,
    JSON,
    QUIET,
    RUN_DIR_NEW,
    check_device,
    emit_json,
    human_console,
)

app = typer.Typer(
    help="Train the one-shot supernet.", no_args_is_help=True, rich_markup_mode="markdown"
)


@app.command("train")
def train_command(
    config: Path = CONFIG_REQUIRED,
    run_dir: Path | None = RUN_DIR_NEW,
    device: str | None = DEVICE,
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Train the supernet; running it again after a kill resumes from the last checkpoint."""
    from shiftnas.pipeline.config import load_config

    cfg = load_config(config)
    if check_device(device) is not None:
        cfg = cfg.model_copy(update={"device": device})

    from shiftnas.data import load_data
    from shiftnas.data.checks import check_fits_space
    from shiftnas.device import resolve_device
    from shiftnas.pipeline.checks import check_config
    from shiftnas.pipeline.rundir import RunDir
    from shiftnas.search import get_space
    from shiftnas.training.supernet import train_supernet

    check_config(cfg, str(config), stages=["supernet"])
    # bad data is reported before a run folder is made
    data = load_data(cfg.data, cfg.seed, cfg.space)
    check_fits_space(data, cfg.space)
    run = RunDir(run_dir or Path("runs") / cfg.name)
    console = human_console(as_json)
    for line in run.bind(cfg):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    space = get_space(cfg.space.name, cfg.space, num_classes=data.num_classes)
    out_dir = run.stage("supernet")
    _, result = train_supernet(
        space, data, cfg.supernet, out_dir, seed=cfg.seed,
        device=resolve_device(cfg.device), progress=not quiet,
    )  # fmt: skip
    if as_json:
        emit_json({"checkpoint": out_dir / "checkpoint.pt", "steps": result.steps,
                   "epochs": result.epochs, "seconds": result.seconds,
                   "history": result.history})  # fmt: skip
        return
    for record in result.history:
        console.print(record)
