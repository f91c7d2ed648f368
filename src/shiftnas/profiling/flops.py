"""Multiply-accumulates and parameters with fvcore, per network and per layer.

fvcore counts one fused multiply-add as one "flop": that figure is a MAC count, and shiftnas calls
it MACs. The papers (SICNS, RWE, NAS-Bench-201) also report this number under the name "FLOPs";
`flops_convention` is 2 x MACs, the count of separate multiplies and adds.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Cost:
    macs: int
    params: int

    @property
    def flops(self) -> int:
        """Separate multiplies and adds (2 x MACs)."""
        return 2 * self.macs


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_macs(
    model: nn.Module, input_shape: tuple[int, ...], per_module: bool = False
) -> int | dict[str, int]:
    """fvcore MACs of one forward pass on a zero input of `input_shape` (batch included)."""
    from fvcore.nn import FlopCountAnalysis

    model = model.eval()
    device = next(iter(model.parameters()), torch.empty(0)).device
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = FlopCountAnalysis(model, torch.zeros(*input_shape, device=device))
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
