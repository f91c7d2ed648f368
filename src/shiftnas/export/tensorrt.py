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

PRECISIONS = ("fp32", "fp16")


def tensorrt_unavailable() -> str | None:
    """None when engines can be built here, else why not (and what to install)."""
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        return (
            "TensorRT engine skipped: tensorrt is not installed (pip install 'shiftnas[tensorrt]')"
        )
    import torch

    if not torch.cuda.is_available():
        return "TensorRT engine skipped: no CUDA GPU visible to torch"
    return None


def build_engine(
    onnx_bytes: bytes, image_shape: tuple[int, int, int], precision: str, max_batch: int = 32
) -> bytes:
    """A serialized engine for batches 1..`max_batch` of `image_shape` `(C, H, W)`."""
    import tensorrt as trt

    if precision not in PRECISIONS:
        raise ShiftnasError(f"TensorRT precision must be one of {', '.join(PRECISIONS)}")
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_bytes):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise ShiftnasError(f"TensorRT could not parse the ONNX model: {errors}")
    config = builder.create_builder_config()
    profile = builder.create_optimization_profile()
    profile.set_shape("input", (1, *image_shape), (1, *image_shape), (max_batch, *image_shape))
    config.add_optimization_profile(profile)
    if precision == "fp16":
        config.set_flag(trt.BuilderFlag.FP16)
    engine = builder.build_serialized_network(network, config)
    if engine is None:
        raise ShiftnasError(f"TensorRT failed to build the {precision} engine; see its log above")
    return bytes(engine)


def run_engine(engine_bytes: bytes, inputs: np.ndarray) -> np.ndarray:
    """Outputs of the engine on a float32 batch `(B, C, H, W)`, through CUDA tensors of torch."""
    import tensorrt as trt
    import torch

    runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    engine = runtime.deserialize_cuda_engine(engine_bytes)
    context = engine.create_execution_context()
    x = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32)).cuda()
    context.set_input_shape("input", tuple(x.shape))
    out = torch.empty(tuple(context.get_tensor_shape("output")), device="cuda")
    context.set_tensor_address("input", x.data_ptr())
    context.set_tensor_address("output", out.data_ptr())
    stream = torch.cuda.Stream()
    context.execute_async_v3(stream.cuda_stream)
    stream.synchronize()
    return out.cpu().numpy()


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
