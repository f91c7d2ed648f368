"""`shiftnas export --run-dir D --arch A`: ONNX (+ TensorRT) and card.json of a network.

Export has no `--device`: the parity check runs PyTorch on the CPU, and the latency is measured
on `export.latency_backend` (which names its device: `ort-cpu`, `ort-cuda`, `tensorrt`, ...).
"""

from __future__ import annotations

from pathlib import Path

import typer

from shiftnas.cli.options import ARCH, JSON, RUN_DIR, emit_json


def export_command(run_dir: Path = RUN_DIR, arch: str = ARCH, as_json: bool = JSON) -> None:
    """Export with parity checks; fails and writes nothing if ONNX disagrees with PyTorch."""
    from shiftnas.cli.resolve import resolve_arch, run_space
    from shiftnas.pipeline.context import open_run
    from shiftnas.pipeline.networks import export_in_run

    network_id = resolve_arch(arch, run_space(run_dir), run_dir).id
    card = export_in_run(open_run(run_dir), network_id)
    path = Path(run_dir) / "export" / network_id / "card.json"
    if as_json:
        emit_json({"card_path": path, "card": card})
        return
    errors = card["onnx"]["parity_max_abs_error"]
    typer.echo(
        f"model.onnx: parity {max(errors.values()):.2e} (random and real inputs), "
        f"{card['params']:,} params, {card['macs']:,} MACs"
    )
    tensorrt = card["tensorrt"]
    typer.echo(tensorrt.get("skipped") or f"TensorRT engines: {', '.join(tensorrt['engines'])}")
    typer.echo(f"card: {path}")
