"""MLflow tracking against the embedded default (an SQLite store inside the run folder)."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import pytest
from tracking_helpers import free_port, seeded_run_dir, tiny_onnx

from shiftnas.errors import ShiftnasError
from shiftnas.pipeline.config import Config, config_from_dict, load_config
from shiftnas.tracking import (
    MlflowTracker,
    NullTracker,
    flatten_params,
    open_tracker,
    promote,
    register_model,
    resolve_tracking_uri,
)
from shiftnas.tracking.models import using_uri
from shiftnas.tracking.settings import TrackingConfig
from shiftnas.tracking.state import PENDING_DIR, PENDING_FILE, STATE_FILE
from shiftnas.tracking.store import HTTP_DEFAULTS

mlflow = pytest.importorskip("mlflow")
TAGS = {"device": "cpu", "latency_ms": 1.5, "accuracy": 0.75, "shift_consistency": 0.9,
        "params": 42, "macs": 1000, "num_classes": 2}  # fmt: skip


@pytest.fixture(autouse=True)
def _no_env_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def runs(tracker: MlflowTracker) -> list:
    return tracker.client.search_runs([tracker.state.experiment_id])


def test_flatten_params_dotted_keys_and_limits() -> None:
    flat = flatten_params({"a": {"b": 1, "c": {"d": None}}, "l": [3, 5], "s": [{"x": 1}],
                           "long": "x" * 2000, "p": Path("/tmp")})  # fmt: skip
    assert flat["a.b"] == "1" and flat["a.c.d"] == "None"
    assert flat["l"] == "[3, 5]" and flat["s.0.x"] == "1" and flat["p"] == "/tmp"
    assert len(flat["long"]) == 500 and "2000 chars" in flat["long"]
    assert flatten_params({"long": "y" * 2000})["long"] != flat["long"]
    whole = flatten_params(Config().model_dump(mode="json"))
    assert whole["supernet.lr"] == "0.05" and whole["tracking.enabled"] == "True"
    assert all(isinstance(v, str) and len(v) <= 500 for v in whole.values())


def test_uri_precedence_env_over_config_over_default(tmp_path, monkeypatch) -> None:
    default = resolve_tracking_uri(tmp_path, TrackingConfig())
    assert default == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    monkeypatch.chdir(tmp_path)  # a relative store is made absolute against the working directory
    absolute = f"sqlite:///{tmp_path.resolve()}/x.db"
    assert resolve_tracking_uri(tmp_path, TrackingConfig(uri="sqlite:///x.db")) == absolute
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:1")
    assert resolve_tracking_uri(tmp_path, TrackingConfig(uri="sqlite:///x.db")).startswith("http")
    assert isinstance(open_tracker(tmp_path, TrackingConfig(enabled=False), "r", {}), NullTracker)
    with pytest.raises(
        ShiftnasError, match=r"tracking\.urii: unknown key 'urii'; allowed keys here"
    ):
        config_from_dict({"tracking": {"urii": "x"}})


def test_unreachable_server_fails_at_once_in_one_line(tmp_path, monkeypatch) -> None:
    uri = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    for name, value in HTTP_DEFAULTS.items():  # what open() sets, undone after the test
        monkeypatch.setenv(name, value)
    start = time.perf_counter()
    with pytest.raises(ShiftnasError) as err:
        MlflowTracker.open(tmp_path, TrackingConfig(), "run", {"a": 1})
    assert time.perf_counter() - start < 10
    message = str(err.value)
    assert "\n" not in message
    assert message == (
        f"MLflow tracking server at {uri} is unreachable: start it or unset MLFLOW_TRACKING_URI"
    )
    assert not (tmp_path / STATE_FILE).exists()


def test_unusable_store_uri_is_one_line(tmp_path) -> None:
    config = TrackingConfig(uri="nosuchscheme://store")
    with pytest.raises(ShiftnasError, match=r"^MLflow tracking store at nosuch.*URI$") as err:
        MlflowTracker.open(tmp_path / "run", config, "run", {})
    assert "\n" not in str(err.value)


def test_nested_runs_params_metrics_artifacts_and_resume(tmp_path) -> None:
    run_dir = tmp_path / "run"
    config = Config(name="demo")
    params = config.model_dump(mode="json")
    (run_dir / "search").mkdir(parents=True)
    (run_dir / "search" / "pareto.json").write_text("[]")
    (run_dir / "search" / "archive.jsonl").write_text("{}\n")

    tracker = MlflowTracker.open(run_dir, config.tracking, "demo", params)
    assert tracker.uri == f"sqlite:///{run_dir.resolve()}/mlflow.db"
    with tracker.start_stage("supernet"):
        for epoch in range(3):
            tracker.log_metrics({"loss": 2.0 - epoch, "accuracy": 0.1 * epoch}, step=epoch)
        tracker.log_artifact(run_dir / "search" / "pareto.json")
    with tracker.start_stage("search"):
        tracker.log_artifacts(run_dir / "search", "search")
        tracker.set_tags({"front_size": 3})
    with pytest.raises(ValueError), tracker.start_stage("retrain"):
        raise ValueError("boom")
    tracker.close()

    client = tracker.client
    parent = client.get_run(tracker.run_id)
    assert parent.info.status == "FINISHED" and parent.info.run_name == "demo"
    assert parent.data.params["supernet.lr"] == "0.05"
    assert parent.data.params["data.shapes.image_size"] == "32"
    # The resolved config is a file of the parent run, and reads back as the config itself.
    assert [a.path for a in client.list_artifacts(tracker.run_id)] == ["config.yaml"]
    logged = Path(client.download_artifacts(tracker.run_id, "config.yaml", str(tmp_path)))
    assert load_config(logged) == config
    children = {r.info.run_name: r for r in runs(tracker) if r.info.run_id != tracker.run_id}
    assert set(children) == {"supernet", "search", "retrain"}
    assert all(r.data.tags["mlflow.parentRunId"] == tracker.run_id for r in children.values())
    assert children["supernet"].info.status == "FINISHED"
    assert children["retrain"].info.status == "FAILED"
    history = client.get_metric_history(children["supernet"].info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 2.0), (1, 1.0), (2, 0.0)]
    listed = {a.path for a in client.list_artifacts(children["search"].info.run_id, "search")}
    assert listed == {"search/pareto.json", "search/archive.jsonl"}
    assert (run_dir / "mlartifacts").is_dir()  # artifacts stay inside the run folder
    assert children["search"].data.tags["front_size"] == "3"

    # Resume: same parent and stage runs, no duplicates, the cut-off stage is reopened.
    again = MlflowTracker.open(run_dir, config.tracking, "demo", params)
    assert again.run_id == tracker.run_id
    assert client.get_run(again.run_id).info.status == "RUNNING"
    with again.start_stage("retrain"):
        again.log_metrics({"loss": 0.5}, step=0)
    again.close()
    assert len(runs(again)) == 4
    assert client.get_run(children["retrain"].info.run_id).info.status == "FINISHED"
    saved = json.loads((run_dir / STATE_FILE).read_text())
    assert saved["parent_run_id"] == tracker.run_id and set(saved["stages"]) == set(children)
    assert saved["tracking_uri"] is None  # the folder's own store: no absolute path pinned

    changed = {**params, "supernet": {**params["supernet"], "lr": 0.1}}
    MlflowTracker.open(run_dir, config.tracking, "demo", changed).close()  # warns, keeps 0.05
    assert client.get_run(tracker.run_id).data.params["supernet.lr"] == "0.05"

    other = tmp_path / "other"
    MlflowTracker.open(other, TrackingConfig(uri=tracker.uri), "x", {}).close()
    with pytest.raises(ShiftnasError, match=r"was tracked at .*delete .*tracking.json"):
        MlflowTracker.open(other, TrackingConfig(), "x", {})


def test_model_logged_with_signature_registered_once_and_promoted(tmp_path, template_db) -> None:
    run_dir = seeded_run_dir(tmp_path / "run", template_db)
    onnx_path = tiny_onnx(tmp_path / "net" / "model.onnx")
    with (
        MlflowTracker.open(run_dir, TrackingConfig(), "demo", {}) as tracker,
        tracker.start_stage("register"),
    ):
        uri = tracker.log_model_onnx(onnx_path, "net", np.zeros((1, 3, 8, 8), np.float32))
        assert uri is not None and uri.startswith("models:/")
        assert tracker.log_model_onnx(onnx_path, "net", np.zeros((1, 3, 8, 8))) == uri
        version = register_model(tracker, uri, "shapes-net", TAGS)
        assert register_model(tracker, uri, "shapes-net", TAGS) == version  # no duplicate
        second = register_model(tracker, onnx_path, "shapes-net", {**TAGS, "accuracy": 0.8})
        with pytest.raises(ShiftnasError, match="latency_ms"):
            register_model(tracker, uri, "shapes-net", {"accuracy": 0.9})
    assert register_model(NullTracker(), uri, "shapes-net", TAGS) is None

    with using_uri(tracker.uri):
        info = mlflow.models.get_model_info(uri)
    assert tuple(info.signature.inputs.to_dict()[0]["tensor-spec"]["shape"]) == (-1, 3, 8, 8)
    assert tuple(info.signature.outputs.to_dict()[0]["tensor-spec"]["shape"]) == (-1, 2)
    client = tracker.client
    assert client.get_run(tracker.run_id).info.status == "FINISHED"
    first = client.get_model_version("shapes-net", version)
    assert {k: first.tags[k] for k in TAGS} == {k: str(v) for k, v in TAGS.items()}
    assert first.tags["run_id"] == tracker.run_id
    assert first.tags["stage_run_id"] == tracker.state.stages["register"]
    assert len(client.search_model_versions("name='shapes-net'")) == 2
    # MLflow's global URIs and the environment are left as they were: a plain client follows
    # its tracking URI for the registry, and the next run is not sent to this store.
    assert "MLFLOW_TRACKING_URI" not in os.environ
    assert mlflow.MlflowClient(tracker.uri).get_model_version("shapes-net", version).version
    result = promote(client, "shapes-net", max_latency_ms=2.0)
    assert (result.version, result.accuracy) == (second, 0.8)


@pytest.mark.timeout(300)
def test_store_going_away_mid_run_is_journalled_and_replayed(
    tmp_path, caplog, template_db, monkeypatch
) -> None:
    """A real client call to a dead port fails like a server that went away (fast variant; the
    real server is stopped and restarted in test_mlflow_server.py)."""
    from mlflow import MlflowClient

    for name, value in HTTP_DEFAULTS.items():  # short retries, as open() sets for HTTP stores
        monkeypatch.setenv(name, value)
    run_dir = seeded_run_dir(tmp_path / "run", template_db)
    onnx_path = tiny_onnx(tmp_path / "net" / "model.onnx")
    (run_dir / "report.md").write_text("# report")
    tracker = MlflowTracker.open(run_dir, TrackingConfig(), "demo", {"seed": 0})
    with tracker.start_stage("supernet"):
        tracker.log_metrics({"loss": 3.0}, step=0)
        live = tracker.client
        tracker.client = MlflowClient(f"http://127.0.0.1:{free_port()}")  # the store is gone
        with caplog.at_level(logging.WARNING, logger="shiftnas.tracking"):
            tracker.log_metrics({"loss": 2.0}, step=1)
            tracker.log_metrics({"loss": 1.0}, step=2)
            tracker.log_artifact(run_dir / "report.md")
    with tracker.start_stage("register"):
        assert register_model(tracker, onnx_path, "gone-net", TAGS) is None
        assert register_model(tracker, onnx_path, "gone-net", TAGS) is None  # still one version
        assert tracker.promote("gone-net", max_latency_ms=10.0) is None  # waits for the store
    tracker.close()
    assert len([r for r in caplog.records if "stopped answering" in r.message]) == 1
    pending = [json.loads(line) for line in (run_dir / PENDING_FILE).read_text().splitlines()]
    ops = [r["op"] for r in pending]
    assert list((run_dir / PENDING_DIR).glob("*.npy"))  # the model's input example waits too
    assert ops == ["metrics", "metrics", "artifact", "status", "stage", "model", "register",
                   "model", "register", "promote", "status", "status"]  # fmt: skip
    assert pending[2]["path"] == "report.md"  # files of the run folder: relative, movable

    again = MlflowTracker.open(run_dir, TrackingConfig(), "demo", {"seed": 0})
    assert not (run_dir / PENDING_FILE).exists() and not (run_dir / PENDING_DIR).exists()
    stage_id = again.state.stages["supernet"]
    history = live.get_metric_history(stage_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 3.0), (1, 2.0), (2, 1.0)]
    assert [a.path for a in live.list_artifacts(stage_id)] == ["report.md"]
    assert live.get_run(stage_id).info.status == "FINISHED"
    (version,) = live.search_model_versions("name='gone-net'")
    assert version.tags["accuracy"] == "0.75"
    assert live.get_model_version_by_alias("gone-net", "champion").version == version.version
    assert len(runs(again)) == 3  # parent, supernet, register: nothing duplicated
