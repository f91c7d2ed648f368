"""macro: Genetic-CNN bit strings, dropped nodes, residual bit, forward on a batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shiftnas.errors import ShiftnasError
from shiftnas.search import Arch, get_space


def test_round_trip_build_forward() -> None:
    space = get_space("macro", channels=4, nodes=4)
    rng = np.random.default_rng(0)
    for _ in range(5):
        arch = space.sample(rng)
        assert space.from_string(space.to_string(arch)) == arch
        out = space.build(arch)(torch.randn(2, 3, 16, 16))
        assert out.shape == (2, 10) and torch.isfinite(out).all()


def test_bits_decide_the_graph() -> None:
    space = get_space("macro", channels=4, nodes=4)
    per = space.bits_per_phase  # 6 pair bits + residual
    assert per == 7 and len(space.genome_bounds[0]) == 21
    empty = space.build(Arch("macro", (0,) * 21))
    chain = space.build(space.from_string("1010010-1010010-1010010"))  # 0->1, 1->2, 2->3
    n_empty = sum(p.numel() for p in empty.parameters())
    n_chain = sum(p.numel() for p in chain.parameters())
    assert n_chain - n_empty == 3 * 4 * (4 * 4 * 9 + 2 * 4)  # 4 nodes of conv+BN per phase
    assert (
        not empty.taps[0].residual
        and space.build(space.from_string("0000001-0000000-0000000")).taps[0].residual
    )
    with pytest.raises(ShiftnasError, match="macro"):
        space.from_string("1010010-1010010")
