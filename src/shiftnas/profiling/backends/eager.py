"""Eager PyTorch: the latency of the training framework itself (CUDA events on a GPU).

Useful as a reference point and where no exported runtime is wanted; on the CPU the thread count
is set for the measurement and restored afterwards.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from shiftnas.errors import ShiftnasError
from shiftnas.profiling.backends.base import LatencyBackend, register_backend, time_calls
from shiftnas.profiling.backends.cuda_timing import time_cuda_calls


@register_backend
class TorchBackend(LatencyBackend):
    name = "torch"
    precisions = ("fp32", "fp16")

    def check_available(self) -> None:
        if self.precision == "fp16" and not torch.cuda.is_available():
            raise ShiftnasError("backend 'torch' runs fp16 only on a CUDA GPU: use precision fp32")

    @property
    def device(self) -> torch.device:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")

    def prepare(self, model: nn.Module, input_shape: tuple[int, ...]) -> nn.Module:
        model = copy.deepcopy(model).eval().to(self.device)
        return model.half() if self.precision == "fp16" else model

    def time_prepared(self, prepared: nn.Module, input_shape: tuple[int, ...]) -> np.ndarray:
        generator = torch.Generator().manual_seed(0)
        dtype = torch.float16 if self.precision == "fp16" else torch.float32
        inputs = torch.randn(self.shape(input_shape), generator=generator).to(self.device, dtype)
        with torch.inference_mode():
            if self.device.type == "cuda":
                return time_cuda_calls(lambda stream: prepared(inputs), self.warmup, self.runs)
            previous = torch.get_num_threads()
            torch.set_num_threads(self.threads)
            try:
                return time_calls(lambda: prepared(inputs), self.warmup, self.runs)
            finally:
                torch.set_num_threads(previous)
