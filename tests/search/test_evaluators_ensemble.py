"""Rank ensemble: a population-independent scale with a reference, and the registered default."""

from __future__ import annotations

import numpy as np

from shiftnas.search import Arch, get_space
from shiftnas.search.evaluators import RankEnsemble, get_evaluator
from shiftnas.search.evaluators.ensemble import DEFAULT_MEMBERS, reference_rank


def test_reference_rank() -> None:
    ref = np.array([3.0, 1.0, 2.0, 4.0])
    assert reference_rank(np.array([0.0, 2.0, 9.0]), ref).tolist() == [0.0, 0.375, 1.0]


def test_scores_do_not_depend_on_the_population() -> None:
    space = get_space("nb201", channels=4, cells_per_stage=1, input_size=16)
    ens = RankEnsemble(members=["synflow", "params"], reference=8, space=space, seed=0)
    rng = np.random.default_rng(5)
    archs = [space.sample(rng) for _ in range(6)]
    together = ens.evaluate(archs)
    alone = [ens.evaluate([a])[0] for a in archs]
    assert together == alone
    convs, skips = Arch("nb201", (3,) * 6), Arch("nb201", (1,) * 6)
    assert ens.evaluate([convs])[0] < ens.evaluate([skips])[0]
    batch = RankEnsemble(members=["synflow", "params"], reference=0, space=space)
    assert batch.evaluate([convs, skips]) == [0.25, 0.75]


def test_default_is_registered_with_its_members(tiny_data) -> None:
    space = get_space("nb201", channels=4, cells_per_stage=1, input_size=16)
    ev = get_evaluator("default", space=space, data=tiny_data, seed=0, reference=2)
    assert ev.name == "default" and [m.name for m in ev.members] == list(DEFAULT_MEMBERS)
    (score,) = ev.evaluate([Arch("nb201", (3,) * 6)])
    assert 0.0 <= score <= 1.0
