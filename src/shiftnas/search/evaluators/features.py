"""Features of a frozen random network for random-weight evaluation (RWE).

Where features come from (`taps`), how they are pooled (`grid`), how the weights are initialised
(`init`) and what BatchNorm does (`bn`) are the knobs that decide whether RWE ranks networks
well; `rwe.py` picks them, the benchmark measures them.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from shiftnas.data import ImageData, iterate_batches, normalize
from shiftnas.search.bn import recalibrate_bn
from shiftnas.search.evaluators.zero_cost import without_batchnorm

Init = Literal["default", "kaiming", "kaiming_uniform", "xavier"]
BnMode = Literal["eval", "train", "recal", "remove"]
Taps = Literal["last", "all", "each"]  # each: every tap of `all`, one probe per tap


@torch.no_grad()
def initialise(network: nn.Module, scheme: Init) -> nn.Module:
    """`default` keeps PyTorch's init (the RWE paper's); the others re-draw conv/linear weights."""
    if scheme == "default":
        return network
    for m in network.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            if scheme == "kaiming":
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            elif scheme == "kaiming_uniform":
                nn.init.kaiming_uniform_(m.weight, mode="fan_in", nonlinearity="relu")
            else:
                nn.init.xavier_normal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return network


def tap_modules(network: nn.Module, taps: Taps) -> list[nn.Module]:
    """`last`: the classifier's input. `all`: every cell/layer output the network lists in `taps`
    (or the children of its `layers`), plus the classifier's input."""
    linear = [m for m in network.modules() if isinstance(m, nn.Linear)]
    last = [linear[-1]] if linear else []
    if taps == "last":
        return last  # "all" and "each" read the same taps
    listed = getattr(network, "taps", None)
    if listed is None:
        layers = getattr(network, "layers", None)
        listed = list(layers.children()) if layers is not None else []
    return [*listed, *last]


@torch.no_grad()
def extract_features(
    network: nn.Module,
    images: ImageData,
    mean: tuple[float, ...],
    std: tuple[float, ...],
    *,
    taps: Taps = "last",
    grid: int = 1,
    bn: BnMode = "eval",
    calibration: list[torch.Tensor] | None = None,
    batch_size: int = 256,
    device: torch.device | None = None,
    widths: list[int] | None = None,
) -> torch.Tensor:
    """Pooled features `(N, D)` of every image, computed once without gradients; `widths`, when
    given, receives the number of columns each tap contributes (in order)."""
    device = device or torch.device("cpu")
    points = tap_modules(network, taps)
    if bn == "remove":
        network = without_batchnorm(network)
        points = tap_modules(network, taps)
    elif bn == "recal" and calibration:
        recalibrate_bn(network, network, calibration)
    network.train(bn == "train")
    store: list[torch.Tensor] = []

    def pooled(t: torch.Tensor) -> torch.Tensor:
        if t.ndim == 4:  # (B, C, H, W) -> (B, C * grid * grid)
            return nn.functional.adaptive_avg_pool2d(t, min(grid, t.shape[-1])).flatten(1)
        return t.flatten(1)

    def on_input(_m: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        store.append(pooled(args[0]))

    def on_output(_m: nn.Module, _a: object, out: torch.Tensor) -> None:
        store.append(pooled(out))

    hooks = [
        p.register_forward_pre_hook(on_input) if isinstance(p, nn.Linear)
        else p.register_forward_hook(on_output)
        for p in points
    ]  # fmt: skip
    rows = []
    try:
        for batch, _ in iterate_batches(images, batch_size):
            store.clear()
            network(normalize(batch, mean, std, device))
            if widths is not None and not rows:
                widths[:] = [t.shape[1] for t in store]
            rows.append(torch.cat(store, dim=1).float().cpu())
    finally:
        for h in hooks:
            h.remove()
    return torch.cat(rows)
