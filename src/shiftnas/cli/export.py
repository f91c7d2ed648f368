"""`shiftnas export --run-dir D --arch-id ID`: ONNX (+ TensorRT) and card.json of a network."""

from __future__ import annotations

from pathlib import Path

import typer

from shiftnas.pipeline.context import open_run
from shiftnas.pipeline.networks import export_in_run


def export_command(
    run_dir: Path = typer.Option(..., "--run-dir", help="Run directory (holds config.yaml)."),
    arch_id: str = typer.Option(..., "--arch-id", help="Id of a network under retrain/."),
) -> None:
    """Export with parity checks; fails and writes nothing if ONNX disagrees with PyTorch."""
    card = export_in_run(open_run(run_dir), arch_id)
    errors = card["onnx"]["parity_max_abs_error"]
    typer.echo(
        f"model.onnx: parity {max(errors.values()):.2e} (random and real inputs), "
        f"{card['params']:,} params, {card['macs']:,} MACs"
    )
    tensorrt = card["tensorrt"]
    typer.echo(tensorrt.get("skipped") or f"TensorRT engines: {', '.join(tensorrt['engines'])}")
    typer.echo(f"card: {Path(run_dir) / 'export' / arch_id / 'card.json'}")
