"""`run_pipeline`: run the configured stages in order, skipping those that already finished."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from shiftnas.config import Config
from shiftnas.data import load_data
from shiftnas.device import resolve_device
from shiftnas.pipeline.rundir import RunDir
from shiftnas.search import get_space
from shiftnas.search.train_supernet import train_supernet


def run_pipeline(config: Config, run_dir: Path, progress: bool = True) -> RunDir:
    device = resolve_device(config.device)
    data = load_data(config.data, config.seed)  # bad data is reported before a run folder is made
    run = RunDir(Path(run_dir))
    run.bind(config)
    console = Console()
    space = get_space(config.space.name, config.space, num_classes=data.num_classes)
    for stage in config.stages:
        if run.state()["stages"].get(stage, {}).get("status") == "done":
            console.print(f"[green]✓[/] {stage}: already done")
            continue
        run.set_stage_state(stage, "running")
        if stage == "supernet":
            _, result = train_supernet(
                space, data, config.supernet, run.stage("supernet"),
                seed=config.seed, device=device, progress=progress,
            )  # fmt: skip
            last = result.history[-1] if result.history else {}
            console.print(f"[green]✓[/] supernet: {result.epochs} epochs, last epoch {last}")
        run.set_stage_state(stage, "done")
    return run
