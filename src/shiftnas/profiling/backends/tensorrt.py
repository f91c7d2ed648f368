"""Native TensorRT: an engine built from the ONNX export, timed with CUDA events (fp32, fp16).

Written against the TensorRT 10 API (named tensors, `execute_async_v3`); it cannot run on a
machine without a GPU, where it fails with one line naming the missing piece.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from shiftnas.errors import ShiftnasError
from shiftnas.profiling.backends.base import LatencyBackend, register_backend
from shiftnas.profiling.backends.cuda_timing import time_cuda_calls
from shiftnas.runtime.onnx_io import export_onnx
from shiftnas.runtime.trt_engine import build_engine


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
        shape = self.shape(input_shape)
        batch = shape[0]
        return build_engine(
            export_onnx(model, shape), tuple(shape[1:]), self.precision, batch, batch, batch
        )

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
