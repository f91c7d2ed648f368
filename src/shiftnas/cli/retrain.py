"""`shiftnas retrain --run-dir D --arch A`: retrain one searched network of a run."""

from __future__ import annotations

from pathlib import Path

import typer

from shiftnas.cli.options import ARCH, DEVICE, JSON, QUIET, RUN_DIR, check_device, emit_json


def retrain_command(
    run_dir: Path = RUN_DIR,
    arch: str = ARCH,
    max_steps: int | None = typer.Option(None, "--max-steps", help="Stop after N steps in total."),
    device: str | None = DEVICE,
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Train the network with the run's `retrain` recipe; run again after a kill to resume."""
    from shiftnas.cli.resolve import resolve_arch, run_space
    from shiftnas.pipeline.context import open_run
    from shiftnas.pipeline.networks import retrain_in_run
    from shiftnas.training.distributed import is_main_process

    ctx = open_run(run_dir, progress=not quiet, device=check_device(device))
    done = retrain_in_run(ctx, resolve_arch(arch, run_space(run_dir), run_dir),
                          max_steps=max_steps)  # fmt: skip
    if not is_main_process():  # under torchrun, rank 0 reports
        return
    last = done.result.history[-1] if done.result.history else {}
    if as_json:
        emit_json({"arch_id": done.arch.id, "out_dir": done.out_dir, "steps": done.result.steps,
                   "epochs": done.result.epochs, "last_epoch": last})  # fmt: skip
        return
    shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in last.items()}
    typer.echo(f"retrained {done.arch.id} -> {done.out_dir}: {shown}")
