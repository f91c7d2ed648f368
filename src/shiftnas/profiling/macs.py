"""MACs (multiply-adds) and parameters of the network as it ships, per network and per layer.

MACs are counted by fvcore with only the multiply-add operators enabled: convolutions (dense,
depthwise, the squeeze-and-excite 1x1s, the fixed BlurPool filter) and matrix products (the
classifier, any matmul/bmm/einsum). Nothing else counts: BatchNorm is folded into the preceding
convolution when the network is exported, so it does no work of its own (the few that follow no
convolution, NB201's last one and DARTS' after a concatenation, stay a per-channel scale and shift
in ONNX and are not counted either, as NAS-Bench-201 counts); pooling (global average pooling
included), activations, the squeeze-and-excite gate product and residual additions are not
multiply-adds. This is the convention of NAS-Bench-201 (arXiv:2001.00326; 220.1M for its
all-3x3 network), and of the NAS papers that shiftnas reproduces (SICNS, RWE), which report these
multiply-adds in their "FLOPs" columns. One multiply-add is one MAC; shiftnas reports MACs only.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import nn

# fvcore's own handles for the operators that are multiply-adds; every other op counts 0.
_MAC_OPS = {
    "aten::_convolution": "conv_flop_jit",
    "aten::linear": "linear_flop_jit",
    "aten::addmm": "addmm_flop_jit",
    "aten::matmul": "matmul_flop_jit",
    "aten::mm": "matmul_flop_jit",
    "aten::bmm": "bmm_flop_jit",
    "aten::einsum": "einsum_flop_jit",
}


@dataclass(frozen=True)
class Cost:
    """MACs (multiply-adds, one image unless the shape says otherwise) and parameters."""

    macs: int
    params: int


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_macs(
    model: nn.Module, input_shape: tuple[int, ...], per_module: bool = False
) -> int | dict[str, int]:
    """MACs of one forward pass on a zero input of `input_shape` `(B, C, H, W)` (batch included).

    Counts convolutions and matrix products only (see the module docstring); with `per_module`,
    a dict from module name ("" for the whole network) to its MACs.
    """
    with warnings.catch_warnings():  # fvcore.nn's focal_loss calls torch.jit.script on import
        warnings.filterwarnings("ignore", r"`torch\.jit\.script` is deprecated", FutureWarning)
        from fvcore.nn import FlopCountAnalysis, jit_handles

    model = model.eval()
    device = next(iter(model.parameters()), torch.empty(0)).device
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = FlopCountAnalysis(model, torch.zeros(*input_shape, device=device))
        analysis.clear_op_handles()
        analysis.set_op_handle(**{op: getattr(jit_handles, h) for op, h in _MAC_OPS.items()})
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        if per_module:
            return {name: int(v) for name, v in analysis.by_module().items()}
        return int(analysis.total())


def network_cost(model: nn.Module, input_shape: tuple[int, ...]) -> Cost:
    return Cost(macs=int(count_macs(model, input_shape)), params=count_params(model))  # type: ignore[arg-type]


def layer_costs(model: nn.Module, input_shape: tuple[int, ...]) -> list[tuple[str, Cost]]:
    """Cost of each top-level part of `model`, with `nn.Sequential` parts split one level further.

    For an `mbv3` network this gives stem, layers.0 ... layers.N-1 and head, in execution order;
    the parts add up to `network_cost` (fvcore attributes every op to the module that runs it).
    """
    by_module: dict[str, int] = count_macs(model, input_shape, per_module=True)  # type: ignore[assignment]
    rows: list[tuple[str, Cost]] = []
    for name, child in model.named_children():
        split = isinstance(child, nn.Sequential) and name == "layers"
        parts = child.named_children() if split else ()
        pairs = [(f"{name}.{sub}", module) for sub, module in parts] or [(name, child)]
        for full, module in pairs:
            rows.append((full, Cost(macs=int(by_module.get(full, 0)), params=count_params(module))))
    return rows
