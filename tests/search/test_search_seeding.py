"""The first population spread over a cheap objective's range (`search.nsga.seeding`)."""

from __future__ import annotations

import json

import numpy as np
import pydantic
import pytest
from search_helpers import Counting, fake_size, measures, small_space

from shiftnas.errors import ShiftnasError
from shiftnas.search import Arch
from shiftnas.search.nsga import Budget, Measure, run_search
from shiftnas.search.nsga.seeding import POOL_FACTOR, spread_genomes
from shiftnas.search.settings import SearchConfig, SearchObjectiveConfig


def sizes(genomes: np.ndarray) -> np.ndarray:
    return np.array([fake_size(Arch("mbv3", tuple(g))) for g in genomes])


def test_one_network_from_each_tenth_of_the_size_range():
    space = small_space()
    first = spread_genomes(space, measures(), [], population=10, seed=4)
    assert first.shape == (10, 4)
    assert len({tuple(g) for g in first}) == 10
    assert all(space.canonical(Arch("mbv3", tuple(g))).genome == tuple(g) for g in first)
    # independent check against another uniform draw of 100 networks (the pool's size): the
    # first and last picks come from the pool's lowest and highest tenth, so they lie in the
    # outer fifths of another draw (10 uniform draws reach both only 1 - 2 * 0.8^10 = 79% of
    # the time)
    rng = np.random.default_rng(0)
    pool = sizes(np.array([space.sample(rng).genome for _ in range(POOL_FACTOR * 10)]))
    low, high = np.quantile(pool, [0.2, 0.8])
    spread = np.sort(sizes(first))
    assert spread[0] <= low and spread[-1] >= high
    # and the values are spread: every decile of the uniform pool's range holds at most 3
    counts = np.histogram(spread, bins=np.quantile(pool, np.linspace(0, 1, 11)))[0]
    assert counts.max() <= 3


def test_same_seed_same_population_other_seed_other():
    space = small_space()
    a = spread_genomes(space, measures(), [], population=10, seed=1)
    b = spread_genomes(space, measures(), [], population=10, seed=1)
    c = spread_genomes(space, measures(), [], population=10, seed=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_cheap_budget_keeps_the_first_population_feasible():
    space = small_space()
    objectives = measures()
    budget = Budget(objectives[1], 20.0)  # size <= 20: about half of random networks
    first = spread_genomes(space, objectives, [budget], population=10, seed=0)
    assert sizes(first).max() <= 20.0
    # without the budget the spread reaches beyond it
    assert sizes(spread_genomes(space, objectives, [], population=10, seed=0)).max() > 20.0


def test_the_few_networks_that_meet_a_tight_budget_are_all_taken():
    """Review finding: with fewer feasible networks in the pool than places, the spread used to
    ignore the budget and could miss them all; now every one of them is in the first
    population, the other places spread over the rest."""
    space = small_space()
    objectives = measures()
    rng = np.random.default_rng([3, 1_000_003])  # the pool `spread_genomes` draws for seed 3
    pool = {}
    while len(pool) < POOL_FACTOR * 10:
        arch = space.canonical(space.sample(rng))
        pool.setdefault(arch.genome, arch)
    limit = float(np.sort(sizes(np.array(list(pool))))[2])  # 3 or a few more (ties) meet it
    feasible = {g for g in pool if fake_size(Arch("mbv3", g)) <= limit}
    assert 3 <= len(feasible) < 10
    first = spread_genomes(space, objectives, [Budget(objectives[1], limit)], 10, seed=3)
    assert len(first) == 10 and len({tuple(g) for g in first}) == 10
    assert feasible <= {tuple(g) for g in first}


def test_no_cheap_objective_is_refused_in_one_line():
    space = small_space()
    only_expensive = [Measure("error", "expensive", lambda: lambda archs: [0.0] * len(archs))]
    with pytest.raises(ShiftnasError, match="needs a cheap objective"):
        spread_genomes(space, only_expensive, [], population=10, seed=0)
    with pytest.raises(pydantic.ValidationError, match="needs a cheap objective"):
        SearchConfig(initial_population="spread", objectives=[SearchObjectiveConfig(name="error")])


def test_the_search_starts_from_the_spread_population_and_resumes(tmp_path):
    space = small_space()
    settings = SearchConfig(population=10, generations=3, initial_population="spread")
    run_search(space, measures(), settings, tmp_path / "a", seed=5, progress=False)
    records = [json.loads(x) for x in (tmp_path / "a" / "archive.jsonl").open()]
    first = [tuple(r["arch"]["genome"]) for r in records if r["generation"] == 1]
    expected = spread_genomes(space, measures(), [], population=10, seed=5)
    assert first == [tuple(g) for g in expected]
    fingerprint = json.loads((tmp_path / "a" / "settings.json").read_text())
    assert fingerprint["algorithm"]["initial_population"] == "spread"
    # a random start is another search: the folder refuses it instead of mixing the two
    with pytest.raises(ShiftnasError, match="other settings"):
        run_search(space, measures(), settings.model_copy(update={"initial_population": "random"}),
                   tmp_path / "a", seed=5, progress=False)  # fmt: skip
    # and a random start keeps the fingerprint it had before the setting existed
    run_search(space, measures(), settings.model_copy(update={"initial_population": "random"}),
               tmp_path / "b", seed=5, progress=False)  # fmt: skip
    fingerprint = json.loads((tmp_path / "b" / "settings.json").read_text())
    assert "initial_population" not in fingerprint["algorithm"]


@pytest.mark.parametrize("kill_after", [4, 14])  # in the first population; in generation 2
def test_a_killed_spread_search_resumes_to_the_uninterrupted_result(tmp_path, kill_after):
    space = small_space()
    settings = SearchConfig(population=10, generations=3, initial_population="spread")
    run_search(space, measures(), settings, tmp_path / "whole", seed=6, progress=False)
    with pytest.raises(KeyboardInterrupt):
        run_search(space, measures(Counting(fail_after=kill_after)), settings, tmp_path / "k",
                   seed=6, progress=False)  # fmt: skip
    run_search(space, measures(), settings, tmp_path / "k", seed=6, progress=False)
    for name in ("archive.jsonl", "pareto.json"):
        assert (tmp_path / "k" / name).read_text() == (tmp_path / "whole" / name).read_text()
