"""`search.executor: ray`: the same archive, front and resume as the local executor.

One local Ray cluster of 2 CPUs (and the `latency_host` resource) serves the whole module:
starting one costs seconds. The measures are search_helpers' fakes plus a serial one, so the
test covers the pooled actors, the latency-host actor and the cheap-budget skip.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from search_helpers import Counting, fake_size, small_space

from shiftnas.errors import ShiftnasError
from shiftnas.pipeline.config import config_from_dict
from shiftnas.search.nsga import Budget, Measure, run_search
from shiftnas.search.nsga.evaluation import Engine
from shiftnas.search.settings import SearchConfig, SearchRayConfig

try:
    import ray
except ImportError:  # the extra is absent: only the message test runs
    ray = None

needs_ray = pytest.mark.skipif(ray is None, reason="ray is not installed (pip install -e '.[ray]')")


class FakeLatency(Counting):
    def __call__(self, archs):
        self.calls += len(archs)
        return [sum(g * g for g in a.genome) / 100 for a in archs]


@pytest.fixture(scope="module")
def cluster():
    # the actors' processes must import search_helpers (the measures' classes) like this one
    here, tests = str(Path(__file__).parent), str(Path(__file__).parents[1])
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([here, tests, *([old] if old else [])])
    ray.init(
        num_cpus=2, resources={"latency_host": 1}, include_dashboard=False, logging_level="ERROR"
    )
    yield
    ray.shutdown()
    if old is None:
        os.environ.pop("PYTHONPATH")
    else:
        os.environ["PYTHONPATH"] = old


def _search(folder, generations, executor, counters):
    error, latency = counters
    size = Measure("size", "cheap", lambda: lambda archs: [fake_size(a) for a in archs])
    objectives = [
        Measure("error", "expensive", lambda: error),
        size,
        Measure("latency", "expensive", lambda: latency, serial=True),
    ]
    settings = SearchConfig(
        population=8, generations=generations, workers=2 if executor == "ray" else 1,
        executor=executor,
        ray=SearchRayConfig(num_cpus=2),
    )  # fmt: skip
    # a size budget that some networks break: they skip the expensive measures
    return run_search(
        small_space(), objectives, settings, folder, seed=3, budgets=[Budget(size, 30.0)],
        progress=False,
    )  # fmt: skip


@needs_ray
def test_ray_gives_the_archive_front_and_resume_of_the_local_executor(cluster, tmp_path):
    local_counters = (Counting(), FakeLatency())
    local = _search(tmp_path / "local", 4, "local", local_counters)
    ray_counters = (Counting(), FakeLatency())
    _search(tmp_path / "ray", 2, "ray", ray_counters)  # stopped after generation 2 ...
    remote = _search(tmp_path / "ray", 4, "ray", ray_counters)  # ... and resumed to 4
    for name in ("archive.jsonl", "pareto.json"):
        assert (tmp_path / "ray" / name).read_text() == (tmp_path / "local" / name).read_text()
    assert remote.front == local.front and remote.evaluations == local.evaluations
    archive = (tmp_path / "ray" / "archive.jsonl").read_text()
    assert '"error": null' in archive  # the budget skipped some networks' expensive measures
    # the local executor computed in this process; the Ray one only in its actors
    assert local_counters[0].calls > 0 and local_counters[1].calls > 0
    assert ray_counters[0].calls == 0 and ray_counters[1].calls == 0


@needs_ray
@pytest.mark.parametrize(
    ("resources", "cost", "serial", "message"),
    [
        ({"CPU": 2.0}, "expensive", True, "no node with the resource 'latency_host'"),
        ({"latency_host": 1.0}, "expensive", False, "no CPU for the estimates"),
    ],
)
def test_a_cluster_without_what_the_measures_need_is_refused(
    cluster, monkeypatch, resources, cost, serial, message
):
    monkeypatch.setattr(ray, "cluster_resources", lambda: resources)
    measure = Measure("m", cost, lambda: FakeLatency(), serial=serial)
    engine = Engine([measure], [], None, str, ray=SearchRayConfig())  # type: ignore[arg-type]
    with pytest.raises(ShiftnasError, match=message):
        engine.ray_executor()


def test_ray_executor_without_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(ShiftnasError, match=r"pip install -e '\.\[ray\]'"):
        Engine([], [], None, str, ray=SearchRayConfig())  # type: ignore[arg-type]


def test_executor_settings_are_checked_in_the_config():
    cfg = config_from_dict({"search": {"executor": "ray", "ray": {"address": "ray://h:10001"}}})
    assert cfg.search.executor == "ray" and cfg.search.ray.address == "ray://h:10001"
    with pytest.raises(ShiftnasError, match=r"search\.ray\.address"):
        config_from_dict({"search": {"ray": {"address": "http://h:8265"}}})
    with pytest.raises(ShiftnasError, match=r"search\.executor"):
        config_from_dict({"search": {"executor": "dask"}})


def test_pipeline_without_ray_stops_before_the_supernet(monkeypatch, tmp_path):
    from shiftnas.pipeline import run_pipeline

    monkeypatch.setitem(sys.modules, "ray", None)
    cfg = config_from_dict({"search": {"executor": "ray"}})
    with pytest.raises(ShiftnasError, match=r"\.\[ray\]"):
        run_pipeline(cfg, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


# --- #27 kind 4: an actor that dies is restarted and its task retried; then one line ------------


@needs_ray
def test_a_killed_actor_is_restarted_and_the_archive_is_unchanged(cluster, tmp_path):
    from test_search_workers import KillingError, _outputs
    from test_search_workers import _search as pool_search

    pool_search(tmp_path / "local", KillingError(tmp_path, kills=0), workers=1)
    settings = {"executor": "ray", "ray": SearchRayConfig(num_cpus=2)}
    pool_search(tmp_path / "ray", KillingError(tmp_path, kills=1), workers=2, **settings)
    assert len(list(tmp_path.glob("kill-*"))) == 1  # an actor really died
    assert _outputs(tmp_path / "ray") == _outputs(tmp_path / "local")


@needs_ray
def test_an_actor_that_keeps_dying_is_one_line_and_the_same_call_resumes(cluster, tmp_path):
    from test_search_workers import KillingError, _outputs
    from test_search_workers import _search as pool_search

    pool_search(tmp_path / "local", KillingError(tmp_path, kills=0), workers=1)
    settings = {"executor": "ray", "ray": SearchRayConfig(num_cpus=2)}
    with pytest.raises(ShiftnasError) as err:
        pool_search(tmp_path / "ray", KillingError(tmp_path, kills=100), workers=2, **settings)
    message = str(err.value)
    assert "\n" not in message and "a search worker died (Ray: " in message
    assert "run the same command again to resume" in message
    pool_search(tmp_path / "ray", KillingError(tmp_path, kills=0), workers=2, **settings)
    assert _outputs(tmp_path / "ray") == _outputs(tmp_path / "local")
