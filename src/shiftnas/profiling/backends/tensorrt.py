"""Native TensorRT: an engine built from the ONNX export, timed with CUDA events (fp32, fp16).

Written against the TensorRT 10 API (named tensors, `execute_async_v3`); it cannot run on a
machine without a GPU, where it fails with one line naming the missing piece.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from shiftnas.errors import ShiftnasError
from shiftnas.export.onnx import export_onnx
from shiftnas.profiling.backends.base import LatencyBackend, register_backend
from shiftnas.profiling.backends.cuda_timing import time_cuda_calls


@register_backend
class TensorrtBackend(LatencyBackend):
    name = "tensorrt"
    precisions = ("fp32", "fp16")

    def check_available(self) -> None:
        import torch

        try:
            import tensorrt  # noqa: F401
        except ImportError:
            raise ShiftnasError(
                "backend 'tensorrt' needs the tensorrt package: pip install 'shiftnas[tensorrt]'"
            ) from None
        if not torch.cuda.is_available():
            raise ShiftnasError("backend 'tensorrt' needs a CUDA GPU, and torch sees none")

    def prepare(self, model: nn.Module, input_shape: tuple[int, ...]) -> bytes:
        """Build a serialized engine for exactly this input shape."""
        import tensorrt as trt

        shape = self.shape(input_shape)
        logger = trt.Logger(trt.Logger.WARNING)
        builder = trt.Builder(logger)
        network = builder.create_network(0)
        parser = trt.OnnxParser(network, logger)
        if not parser.parse(export_onnx(model, shape)):
            errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
            raise ShiftnasError(f"TensorRT could not parse the ONNX export: {errors}")
        config = builder.create_builder_config()
        profile = builder.create_optimization_profile()
        profile.set_shape("input", shape, shape, shape)
        config.add_optimization_profile(profile)
        if self.precision == "fp16":
            config.set_flag(trt.BuilderFlag.FP16)
        engine = builder.build_serialized_network(network, config)
        if engine is None:
            raise ShiftnasError("TensorRT failed to build an engine; see its log above")
        return bytes(engine)

    def time_prepared(self, prepared: bytes, input_shape: tuple[int, ...]) -> np.ndarray:
        import tensorrt as trt
        import torch

        shape = self.shape(input_shape)
        runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        engine = runtime.deserialize_cuda_engine(prepared)
        context = engine.create_execution_context()
        context.set_input_shape("input", shape)
        generator = torch.Generator().manual_seed(0)
        inputs = torch.randn(shape, generator=generator).cuda()
        outputs = torch.empty(tuple(context.get_tensor_shape("output")), device="cuda")
        context.set_tensor_address("input", inputs.data_ptr())
        context.set_tensor_address("output", outputs.data_ptr())

        def call(stream: Any) -> None:
            context.execute_async_v3(stream.cuda_stream)

        return time_cuda_calls(call, self.warmup, self.runs)
