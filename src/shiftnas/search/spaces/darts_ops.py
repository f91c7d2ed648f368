"""The 8 DARTS operations (Liu et al. 2019), in DARTS' order, for the `darts` cell space."""

from __future__ import annotations

from torch import nn

from shiftnas.search.spaces.cell_ops import FactorizedReduce, Zero, avg_pool_3x3

OPS = (
    "none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
    "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5",
)  # fmt: skip


def dil_conv(cin: int, cout: int, kernel: int, stride: int, dilation: int) -> nn.Sequential:
    """ReLU -> depthwise (dilated) conv -> pointwise conv -> BN."""
    padding = dilation * (kernel - 1) // 2
    return nn.Sequential(
        nn.ReLU(inplace=False),
        nn.Conv2d(cin, cin, kernel, stride, padding, dilation=dilation, groups=cin, bias=False),
        nn.Conv2d(cin, cout, 1, bias=False),
        nn.BatchNorm2d(cout),
    )


def sep_conv(channels: int, kernel: int, stride: int) -> nn.Sequential:
    """Two stacked depthwise-separable units, the first one strided (DARTS' SepConv)."""
    return nn.Sequential(
        dil_conv(channels, channels, kernel, stride, 1), dil_conv(channels, channels, kernel, 1, 1)
    )


def make_op(name: str, channels: int, stride: int) -> nn.Module:
    if name == "none":
        return Zero(stride)
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride, padding=1)
    if name == "avg_pool_3x3":
        return avg_pool_3x3(stride)
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(channels, channels)
    kind, size = name.rsplit("_", 1)
    kernel = int(size.split("x")[0])
    if kind == "sep_conv":
        return sep_conv(channels, kernel, stride)
    return dil_conv(channels, channels, kernel, stride, 2)
