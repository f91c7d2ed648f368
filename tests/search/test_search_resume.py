"""A search killed at any point and started again ends exactly like an uninterrupted one."""

from __future__ import annotations

import json

import pytest
from search_helpers import Counting, measures, small_space

from shiftnas.search.nsga import Budget, run_search
from shiftnas.search.settings import SearchConfig

SETTINGS = SearchConfig(population=8, generations=5)


def outputs(folder):
    pareto = json.loads((folder / "pareto.json").read_text())
    return pareto["front"], pareto["archive_front"], (folder / "archive.jsonl").read_text()


def budgeted_search(counter: Counting, folder):
    """The search every kill test runs: seed 7, a size budget of 20."""
    objectives = measures(counter)
    budgets = [Budget(objectives[1], 20.0)]
    return run_search(
        small_space(), objectives, SETTINGS, folder, seed=7, budgets=budgets, progress=False
    )


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("whole")
    counter = Counting()
    budgeted_search(counter, folder)
    return folder, counter.calls


# kills: during the initial population, mid-generation, right after a checkpoint, twice
@pytest.mark.parametrize("kills", [(3,), (13,), (16,), (5, 11)])
def test_killed_and_resumed_equals_uninterrupted(tmp_path, uninterrupted, kills):
    whole, whole_calls = uninterrupted
    calls = 0
    for fail_after in kills:
        counter = Counting(fail_after=fail_after)
        with pytest.raises(KeyboardInterrupt):
            budgeted_search(counter, tmp_path)
        calls += counter.calls
    counter = Counting()
    result = budgeted_search(counter, tmp_path)
    calls += counter.calls
    assert outputs(tmp_path) == outputs(whole)
    assert result.generations == SETTINGS.generations
    # nothing evaluated twice: the networks archived before each kill came from the archive
    lines = (tmp_path / "archive.jsonl").read_text().splitlines()
    ids = [json.loads(x)["id"] for x in lines]
    assert len(ids) == len(set(ids))
    assert calls == whole_calls
    metrics = [
        json.loads(x)["generation"] for x in (tmp_path / "metrics.jsonl").read_text().splitlines()
    ]
    assert metrics == list(range(1, SETTINGS.generations + 1))


def test_finished_search_run_again_evaluates_nothing(tmp_path):
    counter = Counting()
    run_search(small_space(), measures(counter), SETTINGS, tmp_path, seed=2, progress=False)
    before = outputs(tmp_path)
    again = Counting()
    run_search(small_space(), measures(again), SETTINGS, tmp_path, seed=2, progress=False)
    assert again.calls == 0 and outputs(tmp_path) == before


def test_a_torn_archive_line_is_cut_off_and_recomputed(tmp_path, uninterrupted):
    whole, _ = uninterrupted
    with pytest.raises(KeyboardInterrupt):
        budgeted_search(Counting(fail_after=10), tmp_path)
    archive = tmp_path / "archive.jsonl"
    archive.write_bytes(archive.read_bytes()[:-25])  # killed in the middle of writing a line
    budgeted_search(Counting(), tmp_path)
    assert outputs(tmp_path) == outputs(whole)


def test_extending_a_finished_search_equals_asking_for_more_at_once(tmp_path):
    short, long = (
        SearchConfig(population=8, generations=3),
        SearchConfig(population=8, generations=5),
    )
    run_search(small_space(), measures(), short, tmp_path / "grown", seed=3, progress=False)
    grown = run_search(small_space(), measures(), long, tmp_path / "grown", seed=3, progress=False)
    run_search(small_space(), measures(), long, tmp_path / "once", seed=3, progress=False)
    assert grown.generations == 5
    assert outputs(tmp_path / "grown") == outputs(tmp_path / "once")
