"""Small operations shared by the cell spaces (`nb201`, `darts`): conv-BN units, zero, pooling."""

from __future__ import annotations

import torch
from torch import nn


class ReLUConvBN(nn.Sequential):
    """ReLU -> conv (no bias) -> BN, the unit of NAS-Bench-201 and DARTS cells."""

    def __init__(
        self, cin: int, cout: int, kernel: int, stride: int = 1, dilation: int = 1
    ) -> None:
        padding = dilation * (kernel - 1) // 2
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(cin, cout, kernel, stride, padding, dilation=dilation, bias=False),
            nn.BatchNorm2d(cout),
        )


class Zero(nn.Module):
    """The `none` op: a zero map of the output shape (kept in the graph so shapes stay defined)."""

    def __init__(self, stride: int = 1, out_channels: int | None = None) -> None:
        super().__init__()
        self.stride = stride
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        if self.out_channels is not None and self.out_channels != x.shape[1]:
            x = x.new_zeros(x.shape[0], self.out_channels, *x.shape[2:])
        return x.mul(0.0)


class FactorizedReduce(nn.Module):
    """Halve the resolution without losing pixels: two offset stride-2 1x1 convs, concatenated."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.conv_a = nn.Conv2d(cin, cout // 2, 1, 2, bias=False)
        self.conv_b = nn.Conv2d(cin, cout - cout // 2, 1, 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = nn.functional.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
        return self.bn(torch.cat([self.conv_a(x), self.conv_b(shifted)], dim=1))


def avg_pool_3x3(stride: int = 1) -> nn.AvgPool2d:
    return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
