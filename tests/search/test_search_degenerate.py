"""Degenerate search settings and impossible budgets (issue 13, kinds 2 and 3): the search ends
cleanly or stops in one line with exit code 2, and keeps what it computed."""

from __future__ import annotations

import json

import pytest
import torch
import yaml

from shiftnas.errors import ShiftnasError
from shiftnas.pipeline.config import config_from_dict
from shiftnas.pipeline.select import select_from_front
from shiftnas.profiling import count_params
from shiftnas.search import Arch, get_space
from shiftnas.search.nsga import Measure, run_search
from shiftnas.search.settings import SearchConfig

ONE_LAYER = {
    "name": "mbv3", "input_size": 8, "stem_channels": 8, "head_channels": 16,
    "layers": [{"channels": 8, "stride": 1}],
}  # fmt: skip


def one_layer_space():
    return get_space("mbv3", **{k: v for k, v in ONE_LAYER.items() if k != "name"})


def gene_measures() -> list[Measure]:
    first = Measure("a", "cheap", lambda: lambda archs: [float(a.genome[0]) for a in archs])
    second = Measure("b", "cheap", lambda: lambda archs: [float(-a.genome[0] % 5) for a in archs])
    return [first, second]


def test_space_smaller_than_the_population_is_searched_whole(tmp_path) -> None:
    space = one_layer_space()
    # stride 1: the filter flag folds away, 6 blocks + conv1x1 = 7 distinct networks of 13 genomes
    every = {space.canonical(Arch("mbv3", (g,))).id for g in range(13)}
    assert len(every) == 7
    settings = SearchConfig(population=8, generations=3)
    result = run_search(space, gene_measures(), settings, tmp_path, seed=0, progress=False)
    archive = [json.loads(line)["id"] for line in (tmp_path / "archive.jsonl").open()]
    assert set(archive) == every and result.evaluations == 7
    assert result.generations == 1 and "no network it had not evaluated" in result.stopped
    assert json.loads((tmp_path / "pareto.json").read_text())["stopped"] == result.stopped
    again = run_search(space, gene_measures(), settings, tmp_path, seed=0, progress=False)
    assert again.front == result.front and again.stopped == result.stopped  # resume: same end


def run_main(*args: str) -> tuple[int, str]:
    from cli_helpers import shiftnas

    code, _, err = shiftnas(*args)
    return code, err.strip()


def test_impossible_budget_stops_the_search_in_one_line(tmp_path) -> None:
    cfg = {
        "name": "tiny", "device": "cpu", "space": ONE_LAYER,
        "search": {"population": 4, "generations": 2, "budgets": {"params": 100},
                   "objectives": [{"name": "params"}, {"name": "macs"}]},
    }  # fmt: skip
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    run_dir = tmp_path / "run"
    code, err = run_main("search", "--config", str(path), "--run-dir",
                         str(run_dir), "--quiet")  # fmt: skip
    archive = [json.loads(line) for line in (run_dir / "search" / "archive.jsonl").open()]
    best = min(r["objectives"]["params"] for r in archive)
    space = one_layer_space()
    assert best == min(count_params(space.build(Arch("mbv3", (g,)))) for g in range(13))
    assert code == 2 and len(err.splitlines()) == 1
    assert f"params <= 100 (best found {best:,.0f}; met by 0)" in err
    assert "relax search.budgets" in err and not (run_dir / "search" / "pareto.json").exists()


def test_select_names_the_budgets_that_emptied_the_front() -> None:
    with pytest.raises(ShiftnasError, match=r"front is empty.*relax search\.budgets"):
        select_from_front([], ["error", "params"])
    front = [{"id": "a", "objectives": {"error": 0.2, "params": 5.0}}]
    with pytest.raises(ShiftnasError, match="names latency, which the search did not"):
        select_from_front(front, ["error", "params"], budgets={"latency": 1.0})
    with pytest.raises(ShiftnasError, match=r"\(params <= 1\).*relax select.budgets"):
        select_from_front(front, ["error", "params"], budgets={"params": 1.0})


def test_proxy_batch_sizes_it_cannot_use_are_refused(tiny_data, tiny_space) -> None:
    from shiftnas.search.evaluators import get_evaluator

    n = len(tiny_data.train)
    with pytest.raises(ShiftnasError, match=f"larger than the {n} training images"):
        get_evaluator("snip", space=tiny_space, data=tiny_data, batch_size=n + 1)
    with pytest.raises(ShiftnasError, match="not an integer >= 2"):
        get_evaluator("naswot", space=tiny_space, data=tiny_data, batch_size=1)
    assert get_evaluator("naswot", space=tiny_space, data=tiny_data, batch_size=n).batch_size == n


def test_inherited_calibrates_on_a_split_smaller_than_its_batch(tiny_data, tmp_path) -> None:
    from shiftnas.pipeline.objectives import _Context
    from shiftnas.search.supernet import Supernet

    cfg = config_from_dict({"device": "cpu", "space": ONE_LAYER})
    space = one_layer_space()
    ctx = _Context(cfg, tmp_path, space, tiny_data)
    ctx._supernet = Supernet(space).eval()
    evaluator = ctx.inherited(tiny_data).__self__  # type: ignore[attr-defined]
    assert len(tiny_data.train) < 256  # the evaluator's default batch: no full batch
    assert len(evaluator.calibration_batches()) == 1  # was 0: BN scored on reset statistics


def test_search_workers_cannot_fork_onto_cuda(tmp_path, monkeypatch) -> None:
    from shiftnas.pipeline.search_setup import search_from_config

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    search = {"workers": 2, "evaluator": {"name": "synflow"}}
    cfg = config_from_dict({"device": "cuda", "space": ONE_LAYER, "search": search})
    with pytest.raises(ShiftnasError, match=r"set search\.workers: 1"):
        search_from_config(cfg, tmp_path, progress=False)
