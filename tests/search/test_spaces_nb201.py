"""nb201: the benchmark's network size, its strings, canonical form, forward on a batch."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pytest
import torch
from conftest import NB201_DEV, needs_shared

from shiftnas.errors import ShiftnasError
from shiftnas.pipeline.config import config_from_dict
from shiftnas.profiling.macs import count_macs, count_params
from shiftnas.search import Arch, get_space

C3 = "nor_conv_3x3"
ALL_3X3 = f"|{C3}~0|+|{C3}~0|{C3}~1|+|{C3}~0|{C3}~1|{C3}~2|"


def conv_linear_macs(model: torch.nn.Module) -> int:
    from fvcore.nn import FlopCountAnalysis

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = FlopCountAnalysis(model.eval(), torch.zeros(1, 3, 32, 32))
        analysis.unsupported_ops_warnings(False)
        by_op = analysis.by_operator()
    return int(by_op["conv"] + by_op["linear"])


def test_all_3x3_matches_published_size() -> None:
    space = get_space("nb201")
    net = space.build(space.from_string(ALL_3X3))
    # The benchmark publishes 1.53M parameters (classifier included) and 220.1M "FLOPs", which
    # are the MACs of convolutions and the classifier: what `count_macs` counts.
    assert count_params(net) == 1_531_546
    assert round(conv_linear_macs(net) / 1e6, 1) == 220.1
    assert count_macs(net, (1, 3, 32, 32)) == conv_linear_macs(net)


def test_string_round_trip_and_forward() -> None:
    space = get_space("nb201", channels=4, cells_per_stage=1)
    rng = np.random.default_rng(0)
    for _ in range(10):
        arch = space.sample(rng)
        assert space.from_string(space.to_string(arch)) == arch
        assert Arch.from_json(arch.to_json()) == arch
    net = space.build(space.from_string(ALL_3X3))
    out = net(torch.randn(3, 3, 32, 32))
    assert out.shape == (3, 10) and torch.isfinite(out).all()
    assert len(net.taps) == 6  # 3 cells, 2 reductions, the last activation


def test_canonical_drops_only_dead_edges() -> None:
    space = get_space("nb201", channels=4, cells_per_stage=1)
    # Node 2 has no live way to node 3 (edge 2->3 is none): edges into node 2 are dead.
    dead = space.from_string(
        "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
    )
    canon = space.canonical(dead)
    assert space.to_string(canon) == (
        "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
    )
    x = torch.randn(2, 3, 32, 32)
    torch.manual_seed(0)
    a = space.build(dead).eval()
    torch.manual_seed(0)
    b = space.build(canon).eval()
    b.load_state_dict(a.state_dict(), strict=False)  # shared weights have the same names
    with torch.no_grad():
        assert torch.allclose(a(x), b(x))
    live = space.from_string(ALL_3X3)
    assert space.canonical(live) == live


def test_bad_strings_raise_one_line() -> None:
    space = get_space("nb201")
    for text in ["|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "|none~0|", "garbage"]:
        with pytest.raises(ShiftnasError, match="nb201"):
            space.from_string(text)


def test_settings_in_config() -> None:
    cfg = config_from_dict({"space": {"name": "nb201", "channels": 8, "cells_per_stage": 1}})
    assert get_space(cfg.space.name, cfg.space).settings.channels == 8


@needs_shared
def test_parses_every_benchmark_string() -> None:
    space = get_space("nb201")
    with NB201_DEV.open() as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        assert space.to_string(space.from_string(row["arch"])) == row["arch"]
