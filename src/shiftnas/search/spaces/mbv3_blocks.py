"""The candidate operations of the SICNS space: MobileNetV3 blocks and a plain 1x1 convolution.

The block is the inverted residual with squeeze-and-excite and hard-swish of Howard et al. 2019,
"Searching for MobileNetV3" (arXiv:1905.02244); SICNS Table I adds a BlurPool variant of each
(paper text in ../shared/papers/sicns-shift-invariant-network-search.txt). Ops map
(B, C_in, H, W) to (B, C_out, H / stride, W / stride).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from shiftnas.search.spaces.blurpool import BlurPool


@dataclass(frozen=True)
class Candidate:
    """One row of SICNS Table I: kernel, expansion, and whether a low-pass filter comes first."""

    index: int
    kernel: int
    expand: int | None  # None: the plain 1x1 convolution op
    blur: bool

    @property
    def is_conv1x1(self) -> bool:
        return self.expand is None

    @property
    def label(self) -> str:
        if self.is_conv1x1:
            return "conv1x1"
        return f"mb_k{self.kernel}_e{self.expand}" + ("_blur" if self.blur else "")


# Table I order: ID = 2 * (kernel position) + 6 * (expand position) + filter flag, ID 12 = conv1x1.
CANDIDATES: tuple[Candidate, ...] = (
    *(
        Candidate(index=6 * e_pos + 2 * k_pos + blur, kernel=k, expand=e, blur=bool(blur))
        for e_pos, e in enumerate((3, 6))
        for k_pos, k in enumerate((3, 5, 7))
        for blur in (0, 1)
    ),
    Candidate(index=12, kernel=1, expand=None, blur=False),
)
CONV1X1 = 12


def _make_divisible(value: float, divisor: int = 8) -> int:
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class SqueezeExcite(nn.Module):
    """Channel attention of MobileNetV3: global pool, bottleneck, hard-sigmoid gate."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        hidden = _make_divisible(channels / reduction)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, hidden, 1)
        self.act = nn.ReLU(inplace=True)
        self.expand = nn.Conv2d(hidden, channels, 1)
        self.gate = nn.Hardsigmoid(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.gate(self.expand(self.act(self.reduce(self.pool(x)))))  # (B, C, 1, 1)
        return x * scale


def conv_bn_act(
    cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, act: bool = True
) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act:
        layers.append(nn.Hardswish(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV3 block: expand 1x1, depthwise kxk, [BlurPool], squeeze-excite, project 1x1.

    With the filter, the depthwise convolution runs at stride 1 and `BlurPool` does the
    subsampling after the activation, as in anti-aliased MobileNetV2; without it the depthwise
    convolution itself is strided.
    """

    def __init__(self, cin: int, cout: int, stride: int, kernel: int, expand: int, blur: bool):
        super().__init__()
        hidden = cin * expand
        blur = blur and stride > 1
        self.use_residual = stride == 1 and cin == cout
        self.expand = conv_bn_act(cin, hidden, 1)
        self.depthwise = conv_bn_act(hidden, hidden, kernel, 1 if blur else stride, groups=hidden)
        self.blur = BlurPool(hidden, stride) if blur else nn.Identity()
        self.se = SqueezeExcite(hidden)
        self.project = conv_bn_act(hidden, cout, 1, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.project(self.se(self.blur(self.depthwise(self.expand(x)))))
        return out + x if self.use_residual else out


class Conv1x1(nn.Module):
    """The plain conv2D op of Table I: a strided 1x1 convolution, batch norm and activation."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.body = conv_bn_act(cin, cout, 1, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def make_candidate(index: int, cin: int, cout: int, stride: int) -> nn.Module:
    candidate = CANDIDATES[index]
    if candidate.is_conv1x1:
        return Conv1x1(cin, cout, stride)
    assert candidate.expand is not None
    return InvertedResidual(cin, cout, stride, candidate.kernel, candidate.expand, candidate.blur)
