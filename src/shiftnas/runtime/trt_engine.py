"""TensorRT engines from ONNX bytes: availability, build, run (TensorRT 10 Python API: named I/O
tensors, `execute_async_v3`). Shared by the export (engines shipped beside the ONNX file) and the
`tensorrt` latency backend; both fail with one line where TensorRT or a CUDA GPU is missing.
"""

from __future__ import annotations

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
    onnx_bytes: bytes,
    image_shape: tuple[int, int, int],
    precision: str,
    max_batch: int = 32,
    opt_batch: int = 1,
    min_batch: int = 1,
) -> bytes:
    """A serialized engine for batches `min_batch`..`max_batch` (tuned for `opt_batch`) of
    images `image_shape` `(C, H, W)`, with the input tensor named `input` (as `export_onnx`
    names it). Raises ShiftnasError when TensorRT cannot parse the model or build the engine."""
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
    profile.set_shape(
        "input", (min_batch, *image_shape), (opt_batch, *image_shape), (max_batch, *image_shape)
    )
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
