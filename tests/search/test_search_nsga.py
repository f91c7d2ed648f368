"""NSGA-II operators, duplicates, constraints, outputs and the golden seeded front."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pymoo.core.evaluator import Evaluator
from pymoo.core.population import Population
from pymoo.problems.static import StaticProblem
from search_helpers import Counting, fake_error, fake_size, measures, small_space

from shiftnas.errors import ShiftnasError
from shiftnas.search import Arch, get_space, list_spaces
from shiftnas.search.nsga import Budget, Measure, make_nsga2, run_search
from shiftnas.search.settings import SearchConfig


def drive(algorithm, generations: int):
    """Ask/tell loop with the fake objectives; yields (population before, offspring)."""
    for _ in range(generations):
        before = algorithm.pop
        pop = algorithm.ask()
        yield before, pop
        archs = algorithm.problem.archs(pop.get("X"))
        F = np.array([[fake_error(a), fake_size(a)] for a in archs], float)
        Evaluator().eval(StaticProblem(algorithm.problem, F=F), pop)
        algorithm.tell(infills=pop)


def test_offspring_are_integer_genomes_within_bounds():
    space = small_space()
    low, high = space.genome_bounds
    algorithm = make_nsga2(space, 2, 0, population=12, generations=8, seed=3)
    seen = set()
    for _, pop in drive(algorithm, 8):
        X = pop.get("X")
        assert np.array_equal(X, np.rint(X)), "genes must be integers"
        assert np.array_equal(np.clip(X, low, high), X), "gene outside the bounds"
        seen |= {int(v) for v in X.ravel()}
    # rounding with half-step margins still reaches both ends of a gene's range
    assert {0, 12} <= seen


def test_duplicates_are_eliminated_on_canonical_architectures():
    space = small_space()
    algorithm = make_nsga2(space, 2, 0, population=10, generations=10, seed=1)
    # two genomes that differ only in the filter flag of stride-1 layer 0 are one network
    twins = Population.new(X=np.array([[2, 5, 4, 6], [3, 5, 5, 6], [2, 5, 4, 7]]))
    kept = algorithm.eliminate_duplicates.do(twins)
    assert len(kept) == 2
    for before, pop in drive(algorithm, 10):
        ids = [a.id for a in algorithm.problem.archs(pop.get("X"))]
        assert len(ids) == len(set(ids)), "offspring duplicate each other"
        if before is not None and len(before):
            parents = {a.id for a in algorithm.problem.archs(before.get("X"))}
            assert not parents & set(ids), "offspring duplicate the population"


def settings(**kw) -> SearchConfig:
    base = dict(population=10, generations=6)
    return SearchConfig(**{**base, **kw})


def test_budgets_are_constraints_and_skip_expensive_work(tmp_path):
    space = small_space()
    counter = Counting()
    objectives = measures(counter)
    budget = Budget(objectives[1], 14.0)  # size <= 14: many random networks break it
    result = run_search(
        space, objectives, settings(), tmp_path, seed=0, budgets=[budget], progress=False
    )
    records = [json.loads(x) for x in (tmp_path / "archive.jsonl").read_text().splitlines()]
    over = [r for r in records if r["objectives"]["size"] > 14.0]
    assert over, "the budget never bit: the test proves nothing"
    assert all(r["objectives"]["error"] is None for r in over), "expensive work on infeasible"
    assert counter.calls == len(records) - len(over)
    assert result.front and all(e["objectives"]["size"] <= 14.0 for e in result.front)
    pareto = json.loads((tmp_path / "pareto.json").read_text())
    by_id = {r["id"]: r for r in records}
    assert all(by_id[i]["objectives"]["size"] <= 14.0 for i in pareto["archive_front"])


def test_outputs_metrics_and_tracker(tmp_path):
    class Tracker:
        def __init__(self):
            self.steps = []

        def log_metrics(self, metrics, step):
            assert "hypervolume" in metrics and "best_error" in metrics
            self.steps.append(step)

    tracker = Tracker()
    space = small_space()
    result = run_search(
        space,
        measures(),
        settings(generations=4),
        tmp_path,
        seed=0,
        progress=False,
        tracker=tracker,
    )
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["generation"] for r in lines] == [1, 2, 3, 4] == tracker.steps
    assert all(0.0 <= r["hypervolume"] <= 1.0 for r in lines)
    assert (tmp_path / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pareto = json.loads((tmp_path / "pareto.json").read_text())
    # per generation: the population's front; the final front also holds what crowding dropped
    assert lines[-1]["hypervolume"] > 0
    assert lines[-1]["front_size"] == len(pareto["population_front"]) <= len(result.front)
    archive_ids = {
        json.loads(x)["id"] for x in (tmp_path / "archive.jsonl").read_text().splitlines()
    }
    for entry in pareto["front"]:
        arch = Arch.from_json(entry["arch"])
        assert entry["id"] == arch.id in archive_ids and entry["string"] == space.to_string(arch)
        assert entry["objectives"] == {"error": fake_error(arch), "size": fake_size(arch)}
    # the front is exactly the non-dominated part of everything evaluated (brute force)
    records = [json.loads(x) for x in (tmp_path / "archive.jsonl").read_text().splitlines()]
    A = np.array([[r["objectives"]["error"], r["objectives"]["size"]] for r in records])

    def dominated(a):
        return any((b <= a).all() and (b < a).any() for b in A)

    assert {e["id"] for e in pareto["front"]} == {
        r["id"] for r, a in zip(records, A, strict=True) if not dominated(a)
    }
    assert set(pareto["population_front"]) <= archive_ids


# Seed 0, population 10, 6 generations of the fake objectives: a regression guard on the whole
# loop (operators, canonical duplicates, survival). Regenerate only on purpose.
GOLDEN_FRONT = [  # the archive's front: the 10 networks of the last population's front (the
    # golden list before the front was taken from the archive) and 5 that crowding had dropped
    "260113eb8b28",
    "0afc2ece70d3",
    "90d5c229eee3",
    "e890b92a0606",
    "572557528bf5",
    "ecc694c630f8",
    "20c5c3582d35",
    "9c83d85cf53d",
    "ba834b8b29bd",
    "f144d7b4333f",
    "5474bb7870ed",
    "0868b0f1245a",
    "82eb4b50b93b",
    "0da3fb09b816",
    "4e4b440a9b17",
]


def test_golden_seeded_front(tmp_path):
    space = small_space()
    a = run_search(space, measures(), settings(), tmp_path / "a", seed=0, progress=False)
    b = run_search(space, measures(), settings(), tmp_path / "b", seed=0, progress=False)
    ids = [e["id"] for e in a.front]
    assert ids == [e["id"] for e in b.front]
    assert ids == GOLDEN_FRONT, ids


def test_pool_workers_give_the_same_archive(tmp_path):
    space = small_space()
    one = run_search(
        space, measures(), settings(generations=3), tmp_path / "one", seed=4, progress=False
    )
    two = run_search(
        space,
        measures(),
        settings(generations=3, workers=2),
        tmp_path / "two",
        seed=4,
        progress=False,
    )
    assert (tmp_path / "one/archive.jsonl").read_text() == (
        tmp_path / "two/archive.jsonl"
    ).read_text()
    assert one.front == two.front


def test_other_settings_in_the_same_folder_are_refused(tmp_path):
    space = small_space()
    run_search(space, measures(), settings(generations=2), tmp_path, seed=0, progress=False)
    with pytest.raises(ShiftnasError, match="other settings"):
        run_search(space, measures(), settings(generations=2), tmp_path, seed=1, progress=False)


@pytest.mark.parametrize("name", list_spaces())
def test_every_registered_space_can_be_searched(tmp_path, name):
    space = get_space(name)
    objectives = [
        Measure("a", "cheap", lambda: lambda archs: [float(sum(x.genome)) for x in archs]),
        Measure("b", "cheap", lambda: lambda archs: [float(-max(x.genome)) for x in archs]),
    ]
    result = run_search(space, objectives, settings(population=6, generations=2), tmp_path,
                        seed=0, progress=False)  # fmt: skip
    records = [json.loads(x) for x in (tmp_path / "archive.jsonl").read_text().splitlines()]
    low, high = space.genome_bounds
    for r in records:
        arch = Arch.from_json(r["arch"])
        assert space.canonical(arch) == arch and r["string"] == space.to_string(arch)
        assert np.array_equal(np.clip(arch.genome, low, high), arch.genome)
    assert result.front and result.generations == 2


def test_values_of_another_evaluator_are_not_reused(tmp_path):
    space = small_space()
    run_search(space, measures(), settings(generations=2), tmp_path, seed=0, progress=False)
    other = settings(generations=2, evaluator={"name": "rwe"})
    with pytest.raises(ShiftnasError, match="other settings"):
        run_search(space, measures(), other, tmp_path, seed=0, progress=False)


def test_hypervolume_bounds_follow_the_documented_rules():
    from shiftnas.search.nsga.metrics import fixed_bounds, hypervolume, normalise

    def measure(name, bounds=None, fraction=False):
        return Measure(name, "cheap", lambda: None, bounds=bounds, fraction=fraction)

    objectives = [measure("error", fraction=True), measure("params"), measure("macs"),
                  measure("proxy"), measure("latency", (1.0, 3.0))]  # fmt: skip
    initial = np.array([[0.3, 5e5, 2e7, -40.0, 2.0], [0.5, 9e5, 1e7, -10.0, 1.5]])
    bounds = fixed_bounds(objectives, {"params": 1e6}, initial)
    assert bounds == {"error": (0.0, 1.0), "params": (0.0, 1e6), "macs": (0.0, 2.2e7),
                      "proxy": (-40.0, -10.0 + 3.0), "latency": (1.0, 3.0)}  # fmt: skip
    names = list(bounds)
    # a single point at the lower bounds covers the unit box; beyond the reference adds nothing
    assert hypervolume(normalise(np.array([[0.0, 0.0, 0.0, -40.0, 1.0]]), names, bounds)) == 1.0
    assert hypervolume(normalise(np.array([[0.5, 2e6, 0.0, -40.0, 1.0]]), names, bounds)) == 0.0
    # an estimator's "error" that is no fraction (a negated proxy) follows the data rule
    proxy_error = fixed_bounds([measure("error")], {}, np.array([[-40.0], [-10.0]]))
    assert proxy_error == {"error": (-40.0, -10.0 + 3.0)}


def test_novel_offspring_spend_every_generation_on_unseen_networks(tmp_path):
    space = small_space()
    runs = {}
    for novel in (False, True):
        folder = tmp_path / str(novel)
        runs[novel] = run_search(
            space, measures(), settings(novel_offspring=novel, generations=8), folder, seed=2,
            progress=False,
        )  # fmt: skip
        per_gen = [json.loads(x)["generation"] for x in (folder / "archive.jsonl").open()]
        runs[novel] = [per_gen.count(g) for g in range(1, 9)]
    # with novel offspring: 10 new networks in each of the 8 generations (80 distinct)
    assert runs[True] == [10] * 8
    # without: later generations re-propose networks already evaluated (cache hits)
    assert sum(runs[False]) < 80 and runs[False][0] == 10
