"""Zero-cost proxies and cost baselines: finite for every NB201 op, seeded, lower = better."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from shiftnas.errors import ShiftnasError
from shiftnas.search import Arch, get_space
from shiftnas.search.evaluators import get_evaluator, list_evaluators
from shiftnas.search.evaluators.zero_cost import PROXIES

PROXY_NAMES = sorted(PROXIES)


@pytest.fixture
def nb201_tiny():
    return get_space("nb201", channels=4, cells_per_stage=1, input_size=16)


def uniform(op: int) -> Arch:
    return Arch("nb201", (op,) * 6)


def test_registered() -> None:
    assert set(PROXY_NAMES) | {"macs", "params"} <= set(list_evaluators())


@pytest.mark.parametrize("proxy", PROXY_NAMES)
def test_every_op_gives_finite_scores(proxy, nb201_tiny, tiny_data) -> None:
    ev = get_evaluator(proxy, space=nb201_tiny, data=tiny_data, seed=0, batch_size=16)
    for op in range(5):  # none, skip, 1x1, 3x3, avg pool: each everywhere in the cell
        assert math.isfinite(ev.score(uniform(op))), (proxy, op)
    mixed = nb201_tiny.sample(np.random.default_rng(0))
    again = get_evaluator(proxy, space=nb201_tiny, data=tiny_data, seed=0, batch_size=16)
    assert ev.evaluate([mixed]) == again.evaluate([mixed])  # deterministic under the seed


@pytest.mark.parametrize("proxy", ["jacob_cov", "snip"])
def test_score_does_not_depend_on_global_rng(proxy, tiny_data) -> None:
    # mbv3 ends in dropout, and these proxies run the network in train mode: the dropout mask
    # must come from (seed, arch), not from whatever consumed torch's RNG before
    space = get_space("mbv3", input_size=16, dropout=0.5)
    arch = space.sample(np.random.default_rng(0))
    scores = []
    for before in (1, 2):
        torch.manual_seed(before)
        ev = get_evaluator(proxy, space=space, data=tiny_data, seed=0, batch_size=8)
        scores.append(ev.evaluate([arch])[0])
    assert scores[0] == scores[1]
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    get_evaluator(proxy, space=space, data=tiny_data, seed=1, batch_size=8).evaluate([arch])
    assert torch.rand(1) == expected  # the caller's random stream is left as it was


def test_synflow_and_costs_prefer_convs(nb201_tiny) -> None:
    convs, skips = uniform(3), uniform(1)
    for name in ("synflow", "macs", "params"):
        ev = get_evaluator(name, space=nb201_tiny, seed=0)  # data-free
        conv_score, skip_score = ev.evaluate([convs, skips])
        assert conv_score < skip_score, name  # bigger network, better predicted


def test_data_needed(nb201_tiny) -> None:
    with pytest.raises(ShiftnasError, match="needs images"):
        get_evaluator("naswot", space=nb201_tiny).evaluate([uniform(3)])


def test_other_spaces(tiny_data) -> None:
    for name, kw in [("darts", dict(channels=4, layers=3)), ("macro", dict(channels=4, nodes=3))]:
        space = get_space(name, input_size=16, **kw)
        ev = get_evaluator("naswot", space=space, data=tiny_data, seed=0, batch_size=16)
        assert all(math.isfinite(s) for s in ev.evaluate([space.sample(np.random.default_rng(1))]))
