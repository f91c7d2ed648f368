"""Integration with a real `mlflow server` on a free localhost port.

The server is started twice in all (once, then again after being stopped mid-run): its start-up
dominates the time here (about 15 s on an idle 2-core machine, a minute under heavy load).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from tracking_helpers import Server, tiny_onnx

from shiftnas.errors import ShiftnasError
from shiftnas.tracking import MlflowTracker, promote, register_model
from shiftnas.tracking.settings import TrackingConfig
from shiftnas.tracking.state import PENDING_FILE
from shiftnas.tracking.store import HTTP_DEFAULTS

mlflow = pytest.importorskip("mlflow")
requests = pytest.importorskip("requests")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # a hung server must not hang CI

TAGS = {"device": "cpu", "latency_ms": 2.5, "accuracy": 0.7, "shift_consistency": 0.9,
        "params": 42, "macs": 1000, "num_classes": 2}  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    running = Server(tmp_path_factory.mktemp("mlflow-server"))
    running.start()
    yield running
    running.stop()


@pytest.fixture
def env(server: Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point tracking at the server; undo the HTTP settings the tracker sets, after the test."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.uri)
    for name, value in HTTP_DEFAULTS.items():
        monkeypatch.setenv(name, value)
    return server.uri


def family(client, parent_id: str) -> list:  # type: ignore[no-untyped-def]
    """The parent run and its nested runs."""
    experiment = client.get_run(parent_id).info.experiment_id
    found = client.search_runs([experiment])
    return [r for r in found if parent_id in (r.info.run_id, r.data.tags.get("mlflow.parentRunId"))]


def test_run_logs_and_registers_on_a_live_server(tmp_path: Path, server: Server, env: str) -> None:
    run_dir = tmp_path / "run"
    onnx_path = tiny_onnx(run_dir / "export" / "abc" / "model.onnx")
    tracker = MlflowTracker.open(run_dir, TrackingConfig(), "live", {"search": {"pop": 10}})
    assert tracker.uri == server.uri
    with tracker.start_stage("search"):
        for generation in range(3):
            tracker.log_metrics({"hypervolume": 0.1 * generation}, step=generation)
        tracker.log_artifact(onnx_path.parent / "model.onnx", "front")
    with tracker.start_stage("register"):
        version = register_model(tracker, onnx_path, "live-net", TAGS)
    tracker.close()

    client = mlflow.MlflowClient(server.uri)
    assert version == "1"
    assert len(family(client, tracker.run_id)) == 3
    assert client.get_run(tracker.run_id).data.params["search.pop"] == "10"
    search_id = tracker.state.stages["search"]
    history = client.get_metric_history(search_id, "hypervolume")
    assert [m.step for m in history] == [0, 1, 2]
    assert [a.path for a in client.list_artifacts(search_id, "front")] == ["front/model.onnx"]
    assert list((server.root / "artifacts").rglob("model.onnx"))  # proxied to the server's store
    assert not (run_dir / "mlflow.db").exists()
    tags = client.get_model_version("live-net", version).tags
    assert tags["latency_ms"] == "2.5" and tags["run_id"] == tracker.run_id
    assert promote(server.uri, "live-net", max_latency_ms=3.0).version == "1"


def test_server_gone_mid_run_loses_nothing(tmp_path: Path, server: Server, env: str) -> None:
    run_dir = tmp_path / "run"
    onnx_path = tiny_onnx(run_dir / "export" / "abc" / "model.onnx")
    (run_dir / "search" / "pareto.json").parent.mkdir(parents=True)
    (run_dir / "search" / "pareto.json").write_text("[]")
    tracker = MlflowTracker.open(run_dir, TrackingConfig(), "flaky", {"seed": 0})
    with tracker.start_stage("search"):
        tracker.log_metrics({"hypervolume": 0.1}, step=0)
        server.stop()
        start = time.perf_counter()
        tracker.log_metrics({"hypervolume": 0.2}, step=1)
        tracker.log_metrics({"hypervolume": 0.3}, step=2)
        tracker.log_artifact(run_dir / "search" / "pareto.json")
    with tracker.start_stage("register"):
        assert register_model(tracker, onnx_path, "flaky-net", TAGS) is None
    tracker.close()
    assert time.perf_counter() - start < 30  # noticed once, then journalled without waiting
    pending = [json.loads(line) for line in (run_dir / PENDING_FILE).read_text().splitlines()]
    assert [r["op"] for r in pending][:3] == ["metrics", "metrics", "artifact"]

    # While it is down, a new run fails at once with one line.
    with pytest.raises(ShiftnasError, match=r"^MLflow tracking server at .* is unreachable"):
        MlflowTracker.open(tmp_path / "other", TrackingConfig(), "x", {})

    server.start()
    again = MlflowTracker.open(run_dir, TrackingConfig(), "flaky", {"seed": 0})
    again.close()
    assert not (run_dir / PENDING_FILE).exists()
    client = mlflow.MlflowClient(server.uri)
    search_id = again.state.stages["search"]
    history = client.get_metric_history(search_id, "hypervolume")
    assert sorted((m.step, m.value) for m in history) == [(0, 0.1), (1, 0.2), (2, 0.3)]
    assert [a.path for a in client.list_artifacts(search_id)] == ["pareto.json"]
    assert client.get_run(search_id).info.status == "FINISHED"
    (version,) = client.search_model_versions("name='flaky-net'")
    assert version.tags["accuracy"] == "0.7"
    assert len(family(client, again.run_id)) == 3  # parent, search, register: no duplicates
