"""Classify raw image files with an exported model, through its card's input recipe.

The images go through `shiftnas.data.decode.decode_image` with the card's resize policy, size
and channels, are normalised with the card's mean/std, and run through `model.onnx` with
onnxruntime on the CPU: exactly the preprocessing the pipeline trained and tested with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shiftnas.data.decode import UnreadableImage, decode_image
from shiftnas.errors import ShiftnasError
from shiftnas.files import read_json


@dataclass(frozen=True)
class Prediction:
    path: Path
    label: str
    index: int
    probability: float  # softmax of the logits, in [0, 1]


def model_folder(run_dir: Path | None, model: Path | None, arch: str | None = None) -> Path:
    """The export folder (holding `model.onnx` and `card.json`) to predict with: `model` (the
    folder or its `model.onnx`), else `run_dir/export/<arch>`, else the run's one export or its
    most accurate one (test accuracy on the card)."""
    if model is not None:
        folder = model.parent if model.suffix == ".onnx" else model
    else:
        assert run_dir is not None
        exports = Path(run_dir) / "export"
        folders = sorted(p.parent for p in exports.glob("*/card.json"))
        if arch is not None:
            folders = [f for f in folders if f.name == arch]
        if not folders:
            which = f" for --arch {arch}" if arch else ""
            raise ShiftnasError(
                f"no exported model{which} under {exports}: run the export stage "
                f"(`shiftnas export --run-dir {run_dir} --arch A`) first"
            )
        folders.sort(key=lambda f: -(read_json(f / "card.json").get("accuracy", {})
                                     .get("test_acc") or 0.0))  # fmt: skip
        folder = folders[0]
    for name in ("model.onnx", "card.json"):
        if not (folder / name).is_file():
            raise ShiftnasError(
                f"{folder} has no {name}: pass the folder `shiftnas export` wrote (export/<arch>)"
            )
    return folder


def preprocess(paths: list[Path], card: dict[str, Any]) -> np.ndarray:
    """Images `(N, C, H, W)` float32, normalised, through the card's recipe; one `ShiftnasError`
    line listing every file that is missing or cannot be decoded, before any inference."""
    spec = card["input"].get("recipe") or {}
    _, c, h, _ = card["input"]["shape"]
    policy = spec.get("resize", "none")
    arrays, bad = [], []
    for path in paths:
        try:
            pixels = decode_image(path, h, policy, c, spec.get("fill", 0))
        except (UnreadableImage, FileNotFoundError) as err:
            bad.append(f"{path} ({str(err).splitlines()[0] if str(err) else 'unreadable'})")
            continue
        if pixels.shape != (c, h, h):
            bad.append(f"{path} ({pixels.shape[2]}x{pixels.shape[1]} px, not {h}x{h})")
            continue
        arrays.append(pixels)
    if bad:
        raise ShiftnasError(
            f"{len(bad)} of {len(paths)} images cannot be classified: {'; '.join(bad[:3])}"
            + (f"; +{len(bad) - 3} more" if len(bad) > 3 else "")
            + (": fix or leave them out" if policy != "none" else
               ": the model's recipe has resize none: resize them first")
        )  # fmt: skip
    mean = np.array(card["input"]["mean"], dtype=np.float32).reshape(1, -1, 1, 1)
    std = np.array(card["input"]["std"], dtype=np.float32).reshape(1, -1, 1, 1)
    return (np.stack(arrays).astype(np.float32) / 255.0 - mean) / std


def predict(folder: Path, paths: list[Path], batch_size: int = 64) -> list[Prediction]:
    """The most likely class of each image in `paths`, by the model in `folder`."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise ShiftnasError(
            "shiftnas predict runs the model with onnxruntime, which is not installed: "
            "pip install 'shiftnas[cpu]' (or onnxruntime-gpu)"
        ) from None
    card = read_json(folder / "card.json")
    classes = card["output"]["classes"]
    x = preprocess(paths, card)
    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    logits = np.concatenate([
        session.run(["output"], {"input": x[i : i + batch_size]})[0]
        for i in range(0, len(x), batch_size)
    ])  # fmt: skip
    shifted = np.exp(logits - logits.max(1, keepdims=True))
    probs = shifted / shifted.sum(1, keepdims=True)
    best = probs.argmax(1)
    return [Prediction(p, classes[int(b)], int(b), float(probs[i, b]))
            for i, (p, b) in enumerate(zip(paths, best, strict=True))]  # fmt: skip
