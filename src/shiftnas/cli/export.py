"""`shiftnas export --run-dir D --arch A`: ONNX (+ TensorRT) and card.json of a network."""

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
from shiftnas.pipeline.networks import export_in_run


def export_command(
    run_dir: Path = typer.Option(..., "--run-dir", help="Run directory (holds config.yaml)."),
    arch: str | None = ARCH_OR_RENAMED,
    arch_id: str | None = ARCH_ID_RENAMED,
) -> None:
    """Export with parity checks; fails and writes nothing if ONNX disagrees with PyTorch."""
    arch = arch_or_renamed(arch, arch_id)
    network_id = resolve_arch(arch, run_space(run_dir), run_dir).id
    card = export_in_run(open_run(run_dir), network_id)
    errors = card["onnx"]["parity_max_abs_error"]
    typer.echo(
        f"model.onnx: parity {max(errors.values()):.2e} (random and real inputs), "
        f"{card['params']:,} params, {card['macs']:,} MACs"
    )
    tensorrt = card["tensorrt"]
    typer.echo(tensorrt.get("skipped") or f"TensorRT engines: {', '.join(tensorrt['engines'])}")
    typer.echo(f"card: {Path(run_dir) / 'export' / network_id / 'card.json'}")
