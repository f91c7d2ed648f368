"""`shiftnas supernet train`: train (or resume) the one-shot model of a config."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from shiftnas.cli.resolve import CONFIG_REQUIRED
from shiftnas.data import load_data
from shiftnas.data.checks import check_fits_space
from shiftnas.device import resolve_device
from shiftnas.pipeline.checks import check_config
from shiftnas.pipeline.config import load_config
from shiftnas.pipeline.rundir import RunDir
from shiftnas.search import get_space
from shiftnas.training.supernet import train_supernet

app = typer.Typer(help="Train the one-shot supernet.", no_args_is_help=True)


@app.command("train")
def train_command(
    config: Path = CONFIG_REQUIRED,
    run_dir: Path | None = typer.Option(None, "--run-dir", help="Default: runs/<config name>."),
) -> None:
    """Train the supernet; running it again after a kill resumes from the last checkpoint."""
    cfg = load_config(config)
    check_config(cfg, str(config), stages=["supernet"])
    # bad data is reported before a run folder is made
    data = load_data(cfg.data, cfg.seed, cfg.space)
    check_fits_space(data, cfg.space)
    run = RunDir(run_dir or Path("runs") / cfg.name)
    for line in run.bind(cfg):
        Console().print(line, markup=False, highlight=False, soft_wrap=True)
    space = get_space(cfg.space.name, cfg.space, num_classes=data.num_classes)
    _, result = train_supernet(
        space, data, cfg.supernet, run.stage("supernet"), seed=cfg.seed,
        device=resolve_device(cfg.device),
    )  # fmt: skip
    for record in result.history:
        Console().print(record)
