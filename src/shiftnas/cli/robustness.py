"""`shiftnas robustness --run-dir D --arch A`: shift metrics, ablation and report."""

from __future__ import annotations

from pathlib import Path

import typer

from shiftnas.cli.resolve import (
    ARCH_ID_RENAMED,
    ARCH_OR_RENAMED,
    arch_or_renamed,
    resolve_arch,
    run_space,
)
from shiftnas.pipeline.context import open_run
from shiftnas.pipeline.networks import robustness_in_run


def robustness_command(
    run_dir: Path = typer.Option(..., "--run-dir", help="Run directory (holds config.yaml)."),
    arch: str | None = ARCH_OR_RENAMED,
    arch_id: str | None = ARCH_ID_RENAMED,
) -> None:
    """Evaluate clean/shifted accuracy and consistency; write robustness/<id>.json and a report."""
    arch = arch_or_renamed(arch, arch_id)
    result = robustness_in_run(
        open_run(run_dir), resolve_arch(arch, run_space(run_dir), run_dir).id
    )
    network = result["network"]
    typer.echo(f"clean accuracy {100 * network['clean_acc']:.2f}%")
    for fill, m in network["fills"].items():
        typer.echo(
            f"{fill:>8} fill: shifted accuracy {100 * m['shifted_acc']:.2f}%, "
            f"consistency {100 * m['consistency']:.2f}%"
        )
    typer.echo(f"report: {Path(run_dir) / result['report']['html']}")
