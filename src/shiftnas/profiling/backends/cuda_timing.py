"""Timing on a CUDA stream with events, so a GPU figure is device time and not launch time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def time_cuda_calls(call: Callable[[Any], Any], warmup: int, runs: int) -> np.ndarray:
    """Per-call ms of `call(stream)` timed by CUDA events on one stream, synchronised per call."""
    import torch

    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        for _ in range(warmup):
            call(stream)
        stream.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        times = np.empty(runs)
        for i in range(runs):
            start.record(stream)
            call(stream)
            end.record(stream)
            end.synchronize()
            times[i] = start.elapsed_time(end)
    return times
