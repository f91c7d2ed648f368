"""`shiftnas retrain --run-dir D --arch A`: retrain one searched network of a run."""

from __future__ import annotations

from pathlib import Path

import typer

from shiftnas.cli.resolve import ARCH, resolve_arch, run_space
from shiftnas.pipeline.context import open_run
from shiftnas.pipeline.networks import retrain_in_run
from shiftnas.training.distributed import is_main_process


def retrain_command(
    run_dir: Path = typer.Option(..., "--run-dir", help="Run directory (holds config.yaml)."),
    arch: str = ARCH,
    max_steps: int | None = typer.Option(None, "--max-steps", help="Stop after N steps in total."),
) -> None:
    """Train the network with the run's `retrain` recipe; run again after a kill to resume."""
    done = retrain_in_run(open_run(run_dir), resolve_arch(arch, run_space(run_dir), run_dir),
                          max_steps=max_steps)  # fmt: skip
    if not is_main_process():  # under torchrun, rank 0 reports
        return
    last = done.result.history[-1] if done.result.history else {}
    shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in last.items()}
    typer.echo(f"retrained {done.arch.id} -> {done.out_dir}: {shown}")
