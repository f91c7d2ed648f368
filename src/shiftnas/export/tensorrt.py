"""TensorRT engines (fp32, fp16) built from the shipped ONNX file, each checked against PyTorch.

Written against the TensorRT 10 Python API (named I/O tensors, `execute_async_v3`). Where TensorRT
or a CUDA GPU is missing, `tensorrt_unavailable()` returns the one-line reason and the export
records it in the card instead of an engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from shiftnas.errors import ShiftnasError
from shiftnas.runtime.trt_engine import PRECISIONS, build_engine, run_engine, tensorrt_unavailable


def export_engines(
    onnx_bytes: bytes,
    reference: dict[str, tuple[np.ndarray, np.ndarray]],
    image_shape: tuple[int, int, int],
    tolerances: dict[str, float],
    mode: str = "auto",
) -> dict[str, Any]:
    """Build, check and time one engine per precision; nothing is written here.

    `reference` maps an input name ("random", "real") to `(inputs, PyTorch outputs)`. Returns
    `{"engines": {precision: bytes}, "card": {...}}`; with `mode="auto"` a missing TensorRT or GPU
    gives `{"card": {"skipped": reason}}`, with `"required"` it raises.
    """
    if mode == "off":
        return {
            "engines": {},
            "card": {"skipped": "TensorRT export turned off (export.tensorrt: off)"},
        }
    reason = tensorrt_unavailable()
    if reason is not None:
        if mode == "required":
            raise ShiftnasError(f"{reason}; export.tensorrt is 'required'")
        return {"engines": {}, "card": {"skipped": reason}}
    import tensorrt as trt

    engines: dict[str, bytes] = {}
    card: dict[str, Any] = {"tensorrt": trt.__version__, "engines": {}}
    for precision in PRECISIONS:
        max_batch = max(len(x) for x, _ in reference.values())
        engine = build_engine(onnx_bytes, image_shape, precision, max_batch)
        errors = {
            name: float(np.max(np.abs(run_engine(engine, x) - expected)))
            for name, (x, expected) in reference.items()
        }
        worst = max(errors.values())
        if not worst <= tolerances[precision]:
            raise ShiftnasError(
                f"TensorRT {precision} engine does not match PyTorch: max abs difference "
                f"{worst:.3g} > {tolerances[precision]:g}; nothing was exported"
            )
        engines[precision] = engine
        card["engines"][precision] = {
            "file": f"model.{precision}.engine",
            "parity_max_abs_error": errors,
            "latency": _engine_latency(engine, image_shape, precision),
        }
    return {"engines": engines, "card": card}


def _engine_latency(engine: bytes, image_shape: tuple[int, int, int], precision: str) -> Any:
    try:
        from shiftnas.profiling.backends import get_backend

        backend = get_backend("tensorrt", precision=precision)
        return backend.measure_prepared(engine, (1, *image_shape)).to_json()
    except (ImportError, ShiftnasError) as err:
        return {"skipped": f"latency not measured: {err}"}


def write_engines(engines: dict[str, bytes], out_dir: Path) -> None:
    from shiftnas.files import write_bytes_atomic

    for precision, engine in engines.items():
        write_bytes_atomic(Path(out_dir) / f"model.{precision}.engine", engine)
