"""`shiftnas robustness --run-dir D --arch A`: shift metrics, ablation and report."""

from __future__ import annotations

from pathlib import Path

import typer

from shiftnas.cli.options import ARCH, DEVICE, JSON, QUIET, RUN_DIR, check_device, emit_json


def robustness_command(
    run_dir: Path = RUN_DIR,
    arch: str = ARCH,
    device: str | None = DEVICE,
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Evaluate clean/shifted accuracy and consistency; write robustness/<id>.json and a report."""
    from shiftnas.cli.resolve import resolve_arch, run_space
    from shiftnas.pipeline.context import open_run
    from shiftnas.pipeline.networks import robustness_in_run

    ctx = open_run(run_dir, progress=not quiet, device=check_device(device))
    result = robustness_in_run(ctx, resolve_arch(arch, run_space(run_dir), run_dir).id)
    if as_json:
        emit_json(result)
        return
    network = result["network"]
    typer.echo(f"clean accuracy {100 * network['clean_acc']:.2f}%")
    for fill, m in network["fills"].items():
        typer.echo(
            f"{fill:>8} fill: shifted accuracy {100 * m['shifted_acc']:.2f}%, "
            f"consistency {100 * m['consistency']:.2f}%"
        )
    typer.echo(f"report: {Path(run_dir) / result['report']['html']}")
