"""`shiftnas predict --run-dir D IMAGE...` (or `--model DIR`): classify raw image files."""

from __future__ import annotations

from pathlib import Path

import typer

from shiftnas.cli.options import JSON, RUN_DIR_OPTIONAL, emit_json
from shiftnas.errors import ShiftnasError


def predict_command(
    images: list[Path] = typer.Argument(..., help="Image files (any size and common format)."),
    run_dir: Path | None = RUN_DIR_OPTIONAL,
    model: Path | None = typer.Option(
        None, "--model", help="An exported model: its folder (model.onnx + card.json)."
    ),
    arch: str | None = typer.Option(
        None, "--arch", help="Which export of the run (default: the most accurate)."
    ),
    as_json: bool = JSON,
) -> None:
    """Classify images through the model card's input recipe with onnxruntime; one line each:
    path, class, probability."""
    from shiftnas.export.predict import model_folder, predict

    if (run_dir is None) == (model is None):
        raise ShiftnasError("predict needs exactly one of --run-dir D or --model DIR")
    folder = model_folder(run_dir, model, arch)
    predictions = predict(folder, list(images))
    if as_json:
        emit_json({"model": str(folder), "predictions": [
            {"path": str(p.path), "label": p.label, "probability": p.probability}
            for p in predictions]})  # fmt: skip
        return
    for p in predictions:
        typer.echo(f"{p.path}\t{p.label}\t{p.probability:.4f}")
