"""darts: genotype strings, canonical node-input order, search and deploy scales."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shiftnas.errors import ShiftnasError
from shiftnas.search import get_space
from shiftnas.search.spaces.darts import DEPLOY


def test_round_trip_build_forward() -> None:
    space = get_space("darts", channels=4, layers=3)
    rng = np.random.default_rng(0)
    for _ in range(5):
        arch = space.sample(rng)
        assert space.canonical(arch) == arch
        assert space.from_string(space.to_string(arch)) == arch
        out = space.build(arch)(torch.randn(2, 3, 16, 16))
        assert out.shape == (2, 10) and torch.isfinite(out).all()


def test_canonical_orders_node_inputs() -> None:
    space = get_space("darts")
    genome = list(space.sample(np.random.default_rng(1)).genome)
    genome[0:4] = [1, 4, 0, 7]  # node 0: (input 1, sep_conv_3x3) + (input 0, dil_conv_5x5)
    from shiftnas.search import Arch

    swapped = Arch("darts", tuple(genome))
    assert space.canonical(swapped).genome[0:4] == (0, 7, 1, 4)


def test_node_inputs_bounded() -> None:
    space = get_space("darts")
    _, high = space.genome_bounds
    assert len(high) == 32 and high[0] == 1 and high[12] == 4 and high[1] == 7
    with pytest.raises(ShiftnasError, match="darts"):
        space.from_string("normal:sep_conv_3x3~0")


def test_deploy_scale_is_bigger() -> None:
    search = get_space("darts")
    deploy = get_space("darts", **DEPLOY)
    arch = search.sample(np.random.default_rng(2))
    small = sum(p.numel() for p in search.build(arch).parameters())
    big = sum(p.numel() for p in deploy.build(arch).parameters())
    assert big > 20 * small
