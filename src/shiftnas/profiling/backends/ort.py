"""ONNX Runtime backends: the runtime most users ship, on the CPU, CUDA or TensorRT provider.

The model is exported once (opset 17, `shiftnas.runtime.onnx_io`); every measurement opens a fresh
session, because a session's memory layout is one of the things that moves a timing.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from torch import nn

from shiftnas.errors import ShiftnasError
from shiftnas.profiling.backends.base import LatencyBackend, register_backend, time_calls
from shiftnas.runtime.onnx_io import export_onnx, onnx_session


class _OrtBackend(LatencyBackend):
    provider: ClassVar[str]
    extra: ClassVar[str]

    def check_available(self) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise ShiftnasError(
                f"backend '{self.name}' needs onnxruntime: pip install 'shiftnas[{self.extra}]'"
            ) from None
        if self.provider not in ort.get_available_providers():
            raise ShiftnasError(
                f"backend '{self.name}' needs ONNX Runtime's {self.provider}, which this "
                f"onnxruntime lacks (no GPU build or no GPU): pip install 'shiftnas[{self.extra}]' "
                "on a CUDA machine"
            )

    def providers(self) -> list[Any]:
        return [self.provider, "CPUExecutionProvider"]

    def prepare(self, model: nn.Module, input_shape: tuple[int, ...]) -> bytes:
        return export_onnx(model, self.shape(input_shape))

    def time_prepared(self, prepared: bytes, input_shape: tuple[int, ...]) -> np.ndarray:
        session = onnx_session(prepared, threads=self.threads, providers=self.providers())
        inputs = {"input": np.random.default_rng(0).standard_normal(self.shape(input_shape),
                                                                   dtype=np.float32)}  # fmt: skip
        return time_calls(lambda: session.run(None, inputs), self.warmup, self.runs)


@register_backend
class OrtCpuBackend(_OrtBackend):
    """ONNX Runtime, CPU execution provider, `threads` intra-op threads, sequential execution."""

    name = "ort-cpu"
    provider = "CPUExecutionProvider"
    extra = "cpu"

    def providers(self) -> list[Any]:
        return [self.provider]


@register_backend
class OrtCudaBackend(_OrtBackend):
    """ONNX Runtime on CUDA; `session.run` returns host outputs, so each call is synchronised."""

    name = "ort-cuda"
    provider = "CUDAExecutionProvider"
    extra = "gpu"


@register_backend
class OrtTensorrtBackend(_OrtBackend):
    """ONNX Runtime's TensorRT provider (engine built during warm-up); fp16 via its option."""

    name = "ort-tensorrt"
    provider = "TensorrtExecutionProvider"
    extra = "gpu,tensorrt"
    precisions = ("fp32", "fp16")

    def providers(self) -> list[Any]:
        options = {"trt_fp16_enable": self.precision == "fp16"}
        return [(self.provider, options), "CUDAExecutionProvider", "CPUExecutionProvider"]
