"""Anti-aliased subsampling: a fixed low-pass filter applied before taking every second pixel.

Source: Zhang 2019, "Making Convolutional Networks Shift-Invariant Again" (arXiv:1904.11486),
as SICNS places it inside its candidate blocks. Tensors are (B, C, H, W); the output is
(B, C, ceil(H / stride), ceil(W / stride)).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def triangle_kernel() -> torch.Tensor:
    """The normalised 3x3 triangle filter `[1,2,1]^T [1,2,1] / 16` of SICNS (sums to 1)."""
    row = torch.tensor([1.0, 2.0, 1.0])
    return torch.outer(row, row) / 16.0


class BlurPool(nn.Module):
    """Depthwise triangle blur followed by subsampling, as one strided depthwise convolution.

    Written for export: the filter is a fixed buffer with the channel count baked in (so ONNX and
    TensorRT see an ordinary grouped Conv) and the border is zero-padded, because TensorRT rejects
    the reflect padding of the reference implementation. The filter sums to one, so a constant
    image stays constant away from the border.
    """

    def __init__(self, channels: int, stride: int = 2) -> None:
        super().__init__()
        self.channels = channels
        self.stride = stride
        kernel = triangle_kernel().expand(channels, 1, 3, 3).contiguous()  # (C, 1, 3, 3)
        self.register_buffer("kernel", kernel, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.kernel, stride=self.stride, padding=1, groups=self.channels)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, stride={self.stride}"
