"""#27 kind 4: a search worker that dies (the OOM killer's SIGKILL) is replaced and its networks
retried; one that keeps dying ends the search in one line that says how to resume."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from cli_helpers import one_line_error, shiftnas
from search_helpers import fake_error, fake_size, small_space

from shiftnas.errors import ShiftnasError
from shiftnas.search.nsga import Budget, Measure, evaluation, run_search
from shiftnas.search.nsga.workers import WORKER_RETRIES
from shiftnas.search.settings import SearchConfig


class KillingError:
    """`fake_error`, but a worker process kills itself (SIGKILL) at its second network while
    fewer than `kills` kill markers exist in `folder` (markers survive the dead process)."""

    def __init__(self, folder: Path, kills: int) -> None:
        self.folder, self.kills, self.calls = folder, kills, 0
        self.main = os.getpid()  # pickled along to a Ray actor, which imports this module anew

    def __call__(self, archs):
        if os.getpid() != self.main:
            self.calls += 1
            if self.calls == 2 and self._claim_a_kill():
                os.kill(os.getpid(), signal.SIGKILL)
        return [fake_error(a) for a in archs]

    def _claim_a_kill(self) -> bool:
        """Create marker `kill-<i>` for the first free i < `kills`, atomically (two processes at
        their second network at once must not both die when one kill is asked for)."""
        for i in range(self.kills):
            try:
                with open(self.folder / f"kill-{i}", "x"):
                    return True
            except FileExistsError:
                continue
        return False


def _search(folder: Path, scorer, workers: int, generations: int = 3, **more):
    objectives = [
        Measure("error", "expensive", lambda: scorer),
        Measure("size", "cheap", lambda: lambda archs: [fake_size(a) for a in archs]),
    ]
    settings = SearchConfig(population=8, generations=generations, workers=workers, **more)
    return run_search(small_space(), objectives, settings, folder, seed=5,
                      budgets=[Budget(objectives[1], 30.0)], progress=False)  # fmt: skip


def _outputs(folder: Path):
    return (folder / "archive.jsonl").read_text(), json.loads((folder / "pareto.json").read_text())


def test_a_killed_pool_worker_is_replaced_and_the_archive_is_unchanged(tmp_path) -> None:
    _search(tmp_path / "whole", KillingError(tmp_path, kills=0), workers=1)
    _search(tmp_path / "killed", KillingError(tmp_path, kills=1), workers=2)
    assert len(list(tmp_path.glob("kill-*"))) == 1  # a worker really died
    assert _outputs(tmp_path / "killed") == _outputs(tmp_path / "whole")


def test_a_worker_that_keeps_dying_is_one_error_and_the_same_call_resumes(tmp_path) -> None:
    _search(tmp_path / "whole", KillingError(tmp_path, kills=0), workers=1)
    with pytest.raises(ShiftnasError) as err:
        _search(tmp_path / "run", KillingError(tmp_path, kills=100), workers=2)
    message = str(err.value)
    assert "\n" not in message
    assert "a search worker died (killed by SIGKILL" in message and "out of memory" in message
    assert f"on each of {WORKER_RETRIES} fresh workers" in message
    assert "run the same command again to resume" in message
    # the pool broke 1 + WORKER_RETRIES times; each time one or both of its 2 workers died
    assert 1 + WORKER_RETRIES <= len(list(tmp_path.glob("kill-*"))) <= 2 * (1 + WORKER_RETRIES)
    _search(tmp_path / "run", KillingError(tmp_path, kills=0), workers=2)
    assert _outputs(tmp_path / "run") == _outputs(tmp_path / "whole")


SCORED: dict[str, Path] = {}
_REAL_SCORE = evaluation._score_in_worker


def dies_after_the_first_generation(arch):
    """A pool worker on a machine out of memory: killed once 6 networks were scored."""
    (SCORED["folder"] / arch.id).touch()
    if len(list(SCORED["folder"].iterdir())) > 6:
        os.kill(os.getpid(), signal.SIGKILL)
    return _REAL_SCORE(arch)


TINY = {
    "name": "tiny", "device": "cpu",
    "data": {"dataset": "shapes", "shapes": {"train_size": 60, "test_size": 20,
                                             "image_size": 16}},
    "space": {"name": "mbv3", "input_size": 16, "stem_channels": 8, "stem_stride": 2,
              "head_channels": 32, "layers": [{"channels": 8, "stride": 1},
                                              {"channels": 16, "stride": 2}]},
}  # fmt: skip


def test_cli_search_whose_workers_keep_dying_exits_2_and_resumes(tmp_path, monkeypatch) -> None:
    """`shiftnas search` with 2 workers whose every process is killed after the first
    generation: one line, exit 2, and the same command then finishes the search with the
    archive of an uninterrupted one."""
    search = {"population": 6, "generations": 3, "workers": 2,
              "objectives": [{"name": "error"}, {"name": "macs"}],
              "evaluator": {"name": "params"}}  # fmt: skip
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({**TINY, "search": search}))
    monkeypatch.chdir(tmp_path)
    code, _, err = shiftnas("search", "-c", config, "--quiet", "--run-dir", "whole")
    assert code == 0, err
    first = len((tmp_path / "whole/search/archive.jsonl").read_text().splitlines())
    (tmp_path / "scored").mkdir()
    monkeypatch.setitem(SCORED, "folder", tmp_path / "scored")
    monkeypatch.setattr(evaluation, "_score_in_worker", dies_after_the_first_generation)
    code, _, err = shiftnas("search", "-c", config, "--quiet", "--run-dir", "run")
    one_line_error(code, err, "a search worker died (killed by SIGKILL", "out of memory",
                   "run the same command again to resume")  # fmt: skip
    kept = (tmp_path / "run/search/archive.jsonl").read_text().splitlines()
    assert len(kept) >= 6 and first > 6  # the first generation was kept; the search went on
    monkeypatch.setattr(evaluation, "_score_in_worker", _REAL_SCORE)
    code, _, err = shiftnas("search", "-c", config, "--quiet", "--run-dir", "run")
    assert code == 0, err
    for name in ("search/archive.jsonl", "search/pareto.json"):
        assert (tmp_path / "run" / name).read_text() == (tmp_path / "whole" / name).read_text()


# --- #27 kind 5: the same torch threads on every path where the archive is promised equal -------


class ThreadCount:
    """`fake_error` plus the number of torch threads the score was computed with: how a float
    sum is split over threads is what makes scores differ between paths."""

    def __call__(self, archs):
        return [float(torch.get_num_threads()) + fake_error(a) for a in archs]


def test_in_process_and_pool_workers_score_with_the_same_threads(tmp_path) -> None:
    torch.set_num_threads(2)  # as in a real process (the tests' conftest pins 1 for speed)
    _search(tmp_path / "one", ThreadCount(), workers=1)
    _search(tmp_path / "two", ThreadCount(), workers=2)
    assert _outputs(tmp_path / "one") == _outputs(tmp_path / "two")
    records = [json.loads(x) for x in (tmp_path / "one/archive.jsonl").read_text().splitlines()]
    scored = [r for r in records if r["objectives"]["error"] is not None]
    assert scored and all(1.0 <= r["objectives"]["error"] < 2.0 for r in scored)  # 1 thread
    assert torch.get_num_threads() == 2  # the main process's threads are given back


def test_workers_killed_between_batches_are_replaced(tmp_path) -> None:
    """The OOM killer may strike while the pool waits for the next generation."""
    from shiftnas.search.nsga.archive import Archive
    from shiftnas.search.nsga.evaluation import Engine

    space = small_space()
    objectives = [Measure("error", "expensive", lambda: KillingError(tmp_path, kills=0))]
    rng = np.random.default_rng(0)
    archs = [space.canonical(space.sample(rng)) for _ in range(8)]
    archs = list({a.id: a for a in archs}.values())
    with Engine(objectives, [], Archive(tmp_path / "a.jsonl"), str, workers=2) as engine:
        first = engine.evaluate(archs[:3], generation=1)
        processes = multiprocessing.active_children()  # the pool's 2 workers
        assert len(processes) == 2
        for process in processes:
            os.kill(process.pid, signal.SIGKILL)
            process.join(timeout=10)
        second = engine.evaluate(archs[3:], generation=2)
    expected = [{"error": fake_error(a)} for a in archs]
    assert first + second == expected
