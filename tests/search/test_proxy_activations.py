"""Proxies read the network's own activations (issue 13, kind 5): NASWOT codes from any
activation module, the same scores as before on ReLU networks, a clear refusal without one."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from shiftnas.errors import ShiftnasError
from shiftnas.search import get_space
from shiftnas.search.evaluators.zero_cost import naswot

NB201_NET = (
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|"
    "+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
)


def hand_net(activation: nn.Module) -> nn.Sequential:
    linear = nn.Linear(2, 3, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    return nn.Sequential(linear, activation)


@pytest.mark.parametrize(
    "activation", [nn.ReLU(), nn.Hardswish(inplace=True), nn.GELU(), nn.SiLU(), nn.Hardsigmoid()]
)
def test_naswot_of_a_hand_checked_net(activation) -> None:
    # pre-activations x W^T: [1, -1, 0], [-1, 2, 1], [2, 1, 3] -> codes 100, 011, 111;
    # K = units - Hamming distance = [[3, 0, 1], [0, 3, 2], [1, 2, 3]], det K = 15 - 3 = 12
    x = torch.tensor([[1.0, -1.0], [-1.0, 2.0], [2.0, 1.0]])
    assert naswot(hand_net(activation), x) == pytest.approx(math.log(12.0), abs=1e-12)


def relu_output_naswot(network: nn.Module, x: torch.Tensor) -> float:
    """The previous definition: codes of nn.ReLU outputs only (kept here as the reference)."""
    n, kernel = x.shape[0], torch.zeros(x.shape[0], x.shape[0], dtype=torch.float64)

    def add(_m, _i, out):
        codes = (out.detach().reshape(n, -1) > 0).double()
        kernel.add_(codes @ codes.t() + (1 - codes) @ (1 - codes).t())

    hooks = [m.register_forward_hook(add) for m in network.modules() if isinstance(m, nn.ReLU)]
    network.train()
    with torch.no_grad():
        network(x)
    for h in hooks:
        h.remove()
    return float(torch.linalg.slogdet(kernel)[1])


def test_naswot_scores_of_relu_networks_do_not_change() -> None:
    space = get_space("nb201", channels=4, cells_per_stage=1)
    torch.manual_seed(0)
    net = space.build(space.from_string(NB201_NET))
    x = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    score = naswot(net, x)
    assert score == relu_output_naswot(net, x)
    assert score == pytest.approx(81.03993337675952, rel=1e-9)  # this net's score before the fix


def test_an_all_1x1_mbv3_network_is_scored_from_its_hardswish_units() -> None:
    space = get_space("mbv3")
    torch.manual_seed(0)
    net = space.build(space.from_string("-".join(["12"] * 12)))  # no ReLU at all
    x = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    score = naswot(net, x)
    assert score > 0 and score != pytest.approx(np.log(1e-300))  # was the floor, -690.8
    # a kernel over every hardswish unit: its diagonal is the unit count of the network
    units = []
    hooks = [m.register_forward_pre_hook(lambda _m, a: units.append(a[0][0].numel()))
             for m in net.modules() if isinstance(m, nn.Hardswish)]  # fmt: skip
    net(x[:1])
    for h in hooks:
        h.remove()
    assert len(units) == 14 and score < 8 * math.log(sum(units))  # stem, 12 layers, head


class FunctionalRelu(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(x))


def test_naswot_refuses_a_network_whose_activations_it_cannot_see() -> None:
    with pytest.raises(ShiftnasError, match="naswot reads the network's activation modules"):
        naswot(FunctionalRelu(), torch.randn(4, 2))
