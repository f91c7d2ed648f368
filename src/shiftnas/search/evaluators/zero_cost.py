"""Zero-cost proxies: one score from a randomly initialised network and one batch, higher = better.

Each function is a pure computation on (network, batch); the evaluators in `proxies.py` negate
them so that lower is better like every other estimator. Definitions follow Abdelfattah et al.
2021 ("Zero-cost proxies for lightweight NAS", arXiv:2101.08134: snip, grad_norm, fisher, synflow;
synflow itself: Tanaka et al. 2020, arXiv:2006.05467) and Mellor et al. 2021 ("Neural
architecture search without training", arXiv:2006.04647: naswot, jacob_cov).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from shiftnas.errors import ShiftnasError

WEIGHTED = (nn.Conv2d, nn.Linear)


def _weights(network: nn.Module) -> list[torch.Tensor]:
    return [m.weight for m in network.modules() if isinstance(m, WEIGHTED)]


def _loss_grads(network: nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    network.train()
    network.zero_grad(set_to_none=True)
    nn.functional.cross_entropy(network(x), y).backward()
    return [w.grad if w.grad is not None else torch.zeros_like(w) for w in _weights(network)]


def grad_norm(network: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Sum over layers of the norm of the loss gradient."""
    return float(sum(g.norm() for g in _loss_grads(network, x, y)))


def snip(network: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Connection sensitivity: sum |w * dL/dw|."""
    grads = _loss_grads(network, x, y)
    return float(
        sum((w.detach() * g).abs().sum() for w, g in zip(_weights(network), grads, strict=True))
    )


def fisher(network: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fisher information of each conv/linear output channel: 0.5 E_batch[(sum a * dL/da)^2]."""
    acts: list[torch.Tensor] = []

    def keep(_m: nn.Module, _i: object, out: torch.Tensor) -> None:
        out.retain_grad()
        acts.append(out)

    hooks = [m.register_forward_hook(keep) for m in network.modules() if isinstance(m, WEIGHTED)]
    try:
        network.train()
        network.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(network(x), y).backward()
    finally:
        for h in hooks:
            h.remove()
    total = 0.0
    for a in acts:
        if a.grad is None:
            continue
        prod = a.detach() * a.grad
        per_channel = prod.sum(dim=(2, 3)) if prod.ndim == 4 else prod  # (B, C)
        total += float(0.5 * per_channel.pow(2).mean(0).sum())
    return total


def without_batchnorm(network: nn.Module) -> nn.Module:
    """A copy with every BatchNorm replaced by identity (synflow's data-free setting)."""
    clone = copy.deepcopy(network)
    for module in list(clone.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                setattr(module, child_name, nn.Identity())
    return clone


def synflow(network: nn.Module, x: torch.Tensor, _y: torch.Tensor | None = None) -> float:
    """log of sum |w * dR/dw| with R the output sum of |w| on an all-ones input, float64, no BN."""
    net = without_batchnorm(network).double().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad(set_to_none=True)
    ones = torch.ones((1, *x.shape[1:]), dtype=torch.float64, device=x.device)
    net(ones).sum().backward()
    total = sum(
        (m.weight.detach() * m.weight.grad).abs().sum()
        for m in net.modules()
        if isinstance(m, WEIGHTED) and m.weight.grad is not None
    )
    return float(torch.log(torch.as_tensor(total, dtype=torch.float64) + 1e-300))


# Elementwise nonlinearities whose units NASWOT reads: the code of a unit is the sign of the
# activation's input (for ReLU: whether the unit is active), whatever the activation is.
ACTIVATIONS: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU,
    nn.SiLU, nn.Mish, nn.Hardswish, nn.Hardsigmoid, nn.Hardtanh, nn.Sigmoid, nn.Tanh,
    nn.Softplus,
)  # fmt: skip


def activation_modules(network: nn.Module, proxy: str) -> list[nn.Module]:
    """The activation modules of `network` (any of ACTIVATIONS).

    Raises:
        ShiftnasError: the network has none (its activations are functional calls, which no
            hook can see): `proxy` cannot score it.
    """
    found = [m for m in network.modules() if isinstance(m, ACTIVATIONS)]
    if not found:
        raise ShiftnasError(
            f"{proxy} reads the network's activation modules, and this network has none (its "
            f"activations are functions): use another estimator, e.g. synflow or rwe"
        )
    return found


def naswot(network: nn.Module, x: torch.Tensor, _y: torch.Tensor | None = None) -> float:
    """log|K| of the Hamming kernel of the network's binary activation codes over the batch
    (Mellor et al. 2021, arXiv:2006.04647).

    A unit's code is 1 when the input of its activation is positive, read before the activation
    runs (in-place activations overwrite it): for ReLU that is "the unit is active", as in the
    paper; hardswish, GELU, SiLU and the others are read the same way, so a MobileNetV3 network is
    scored from all of its units, not only its squeeze-and-excite ReLUs. `x` is `(B, C, H, W)`,
    B >= 2; K is `(B, B)`. Returns log(1e-300) = -690.8 when K is singular.

    Raises:
        ShiftnasError: the network has no activation module to read.
    """
    n = x.shape[0]
    kernel = torch.zeros(n, n, dtype=torch.float64, device=x.device)

    def add(_m: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        codes = (args[0].detach().reshape(n, -1) > 0).double()
        kernel.add_(codes @ codes.t() + (1 - codes) @ (1 - codes).t())

    modules = activation_modules(network, "naswot")
    hooks = [m.register_forward_pre_hook(add) for m in modules]
    try:
        network.train()
        with torch.no_grad():
            network(x)
    finally:
        for h in hooks:
            h.remove()
    sign, logdet = torch.linalg.slogdet(kernel)
    return float(logdet) if sign > 0 else float(np.log(1e-300))


def jacob_cov(network: nn.Module, x: torch.Tensor, _y: torch.Tensor | None = None) -> float:
    """Correlation of input Jacobians across the batch: -sum(log(l + k) + 1/(l + k))."""
    network.train()
    x = x.clone().requires_grad_(True)
    network(x).sum().backward()
    jac = x.grad.reshape(x.shape[0], -1).double()  # (B, C*H*W)
    corr = torch.nan_to_num(torch.corrcoef(jac), nan=0.0)
    eig = torch.linalg.eigvalsh(corr).clamp_min(0.0)
    k = 1e-5
    return float(-torch.sum(torch.log(eig + k) + 1.0 / (eig + k)))


PROXIES = {
    "synflow": synflow,
    "naswot": naswot,
    "snip": snip,
    "grad_norm": grad_norm,
    "fisher": fisher,
    "jacob_cov": jacob_cov,
}
