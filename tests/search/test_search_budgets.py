"""#27 kind 3: budgets enter NSGA-II relative to their limits, not in their raw units."""

from __future__ import annotations

import hashlib
import pickle

import numpy as np
import pytest
from pymoo.algorithms.moo.nsga2 import binary_tournament
from pymoo.core.individual import calc_cv
from pymoo.core.population import Population
from search_helpers import measures, small_space

from shiftnas.search.nsga import Budget, Measure, make_nsga2, run_search
from shiftnas.search.nsga.run import _constraint_matrix
from shiftnas.search.settings import SearchConfig


def _measure(name: str) -> Measure:
    return Measure(name, "cheap", lambda: lambda archs: [0.0 for _ in archs])


# The README's budgets: latency in ms, params in parameters.
BUDGETS = [Budget(_measure("latency"), 5.0), Budget(_measure("params"), 1.0e6)]
TWICE_OVER = {"latency": 10.0, "params": 900_000.0}  # latency 100% over its budget
BARELY_OVER = {"latency": 4.0, "params": 1_000_050.0}  # params 0.005% over


def test_violations_are_fractions_of_each_limit() -> None:
    G = _constraint_matrix([TWICE_OVER, BARELY_OVER], BUDGETS)
    # by hand: (10 - 5) / 5 = 1, (900,000 - 1e6) / 1e6 = -0.1; (4 - 5) / 5 = -0.2, 50 / 1e6
    np.testing.assert_allclose(G, [[1.0, -0.1], [-0.2, 5e-5]], rtol=1e-12)
    cv = [calc_cv(G=g) for g in G]  # what pymoo's tournament and survival compare
    np.testing.assert_allclose(cv, [1.0, 5e-5], rtol=1e-12)


def test_the_tournament_prefers_the_network_barely_over_budget() -> None:
    algorithm = make_nsga2(small_space(), n_obj=2, n_constr=2, population=4, generations=2,
                           seed=0)  # fmt: skip
    G = _constraint_matrix([TWICE_OVER, BARELY_OVER], BUDGETS)
    pop = Population.new(X=np.zeros((2, 4)), F=np.array([[0.1, 1.0], [0.2, 2.0]]), G=G)
    winners = binary_tournament(pop, np.array([[0, 1], [1, 0]]), algorithm)
    assert winners.ravel().tolist() == [1, 1]  # the one 0.005% over, not the one 100% over


def test_a_zero_limit_keeps_raw_units_and_unknown_values_add_nothing() -> None:
    budgets = [Budget(_measure("error"), 0.0), Budget(_measure("params"), 100.0)]
    G = _constraint_matrix([{"error": 0.25, "params": None}], budgets)
    np.testing.assert_allclose(G, [[0.25, 0.0]])


def test_one_budget_search_is_unchanged(tmp_path) -> None:
    """One budget: relative and raw violations order networks alike, so the archive is the one
    today's main wrote (hash and front recorded from main at seed 3)."""
    objectives = measures()
    result = run_search(small_space(), objectives, SearchConfig(population=10, generations=6),
                        tmp_path, seed=3, budgets=[Budget(objectives[1], 14.0)],
                        progress=False)  # fmt: skip
    digest = hashlib.sha256((tmp_path / "archive.jsonl").read_bytes()).hexdigest()[:16]
    assert digest == "74ef0cbb2f4d5ffb"
    assert [e["id"] for e in result.front][:3] == ["fc208754f75d", "2d06bb1dc2c2", "9556b55ed4d2"]


@pytest.mark.parametrize("limit", [14.0, 30.0])
def test_a_checkpoint_in_raw_units_is_rescaled_on_resume(tmp_path, limit: float) -> None:
    """A search checkpointed with raw `value - limit` goes on with relative violations."""
    objectives = measures()
    budget = Budget(objectives[1], limit)
    settings = SearchConfig(population=10, generations=2)
    run_search(small_space(), objectives, settings, tmp_path, seed=1, budgets=[budget],
               progress=False)  # fmt: skip
    path = tmp_path / "checkpoint.pkl"
    payload = pickle.loads(path.read_bytes())
    pop = payload["algorithm"].pop
    relative = pop.get("G").copy()
    for individual, g in zip(pop, relative, strict=True):  # as an older version saved it
        individual.G, individual.CV = g * limit, None
    path.write_bytes(pickle.dumps(payload))

    from shiftnas.search.nsga.archive import Archive
    from shiftnas.search.nsga.checkpoint import load_state
    from shiftnas.search.nsga.run import _rescale_population

    state = load_state(path)
    _rescale_population(state, Archive(tmp_path / "archive.jsonl"), [budget])
    np.testing.assert_allclose(state.algorithm.pop.get("G"), relative, rtol=1e-12)
    sizes = np.array([sum(a.genome) for a in state.algorithm.problem.archs(pop.get("X"))])
    np.testing.assert_allclose(relative[:, 0], (sizes - limit) / limit, rtol=1e-12)
