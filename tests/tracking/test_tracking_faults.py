"""Tracking under the faults of issue #13 (kinds 6 and 7) and #14 (a moved run folder): several
runs on one fresh SQLite store at once, a kill between MLflow's commit and `tracking.json`, and
a run folder moved with `mv`."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import sqlite3
from pathlib import Path

import pytest
from cli_helpers import one_line_error, shiftnas
from tracking_helpers import seeded_run_dir, tiny_onnx

from shiftnas.errors import ShiftnasError
from shiftnas.tracking import MlflowTracker, models, register_model
from shiftnas.tracking.settings import TrackingConfig
from shiftnas.tracking.state import STATE_FILE

mlflow = pytest.importorskip("mlflow")
TAGS = {"accuracy": 0.75, "latency_ms": 1.5, "num_classes": 2}


class Killed(BaseException):
    """Stands for SIGKILL: no `except Exception` sees it, nothing after it runs."""


@pytest.fixture(autouse=True)
def _no_env_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def kill_after(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[object]:
    """Make `owner.name` do its work, record the result, then die: the store has committed,
    the caller never sees the result."""
    real, made = getattr(owner, name), []

    def dying(*args: object, **kwargs: object) -> object:
        made.append(real(*args, **kwargs))
        monkeypatch.setattr(owner, name, real)  # the rerun's process is healthy
        raise Killed

    monkeypatch.setattr(owner, name, dying)
    return made


def all_runs(client, experiment: str) -> list:  # type: ignore[no-untyped-def]
    return client.search_runs([experiment])


# --- kind 6: concurrent runs on one SQLite store ------------------------------------------------


def _one_run(root: str, index: int, onnx_path: str, results) -> None:  # type: ignore[no-untyped-def]
    """What `shiftnas run` does with the store, in a process of its own."""
    try:
        config = TrackingConfig(uri=f"sqlite:///{root}/shared.db")
        with MlflowTracker.open(
            Path(root) / f"run{index}", config, f"run{index}", {"i": index}
        ) as t:
            with t.start_stage("supernet"):
                t.log_metrics({"loss": 1.0 + index}, step=0)
            with t.start_stage("register"):
                register_model(t, Path(onnx_path), "shared-net", TAGS, artifact_path="net")
        results.put((index, "ok"))
    except BaseException as exc:
        results.put((index, f"{type(exc).__name__}: {exc}"[:300]))


@pytest.mark.timeout(300)
def test_three_runs_open_one_fresh_sqlite_store_at_once(tmp_path, monkeypatch) -> None:
    """#13 kind 6: on main two of three fail with `table ... already exists` or `duplicate
    column name` from MLflow's schema migrations."""
    monkeypatch.chdir(tmp_path)  # on main the artifacts of a given store went to ./mlruns
    onnx_path = tiny_onnx(tmp_path / "net" / "model.onnx")
    context = multiprocessing.get_context("fork")  # MLflow is imported already: fast starts
    results = context.Queue()
    workers = [context.Process(target=_one_run, args=(str(tmp_path), i, str(onnx_path), results))
               for i in range(3)]  # fmt: skip
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=240)
        if worker.is_alive():  # hung: fail below, leave no process behind
            worker.kill()
    outcome = dict(results.get(timeout=5) for _ in workers)
    assert outcome == {0: "ok", 1: "ok", 2: "ok"}
    uri = f"sqlite:///{tmp_path}/shared.db"
    client = mlflow.MlflowClient(uri, uri)
    (experiment,) = [e for e in client.search_experiments() if e.name == "shiftnas"]
    runs = all_runs(client, experiment.experiment_id)
    assert len(runs) == 9 and all(r.info.status == "FINISHED" for r in runs)
    losses = sorted(r.data.metrics["loss"] for r in runs if r.info.run_name == "supernet")
    assert losses == [1.0, 2.0, 3.0]
    versions = client.search_model_versions("name='shared-net'")
    assert sorted(int(v.version) for v in versions) == [1, 2, 3]
    assert experiment.artifact_location == (tmp_path / "mlartifacts").as_uri()  # beside the db


def test_experiment_created_by_another_process_meanwhile_is_looked_up(
    tmp_path, template_db
) -> None:
    """#13 kind 6, with the schema present: the lookup misses, another process creates the
    experiment, our create fails (`UNIQUE constraint failed`): look it up again."""
    from shiftnas.tracking.keyed import experiment_id
    from shiftnas.tracking.sqlite import with_busy_timeout, without_busy_timeout

    uri = f"sqlite:///{seeded_run_dir(tmp_path / 'store', template_db) / 'mlflow.db'}"
    other = mlflow.MlflowClient(uri)

    class Late(mlflow.MlflowClient):
        def get_experiment_by_name(self, name: str):  # type: ignore[no-untyped-def]
            if not hasattr(self, "raced"):
                self.raced = other.create_experiment(name)  # the other process wins the race
                return None
            return super().get_experiment_by_name(name)

    client = Late(uri)
    assert experiment_id(client, "exp", None) == client.raced
    assert [e.name for e in other.search_experiments()].count("exp") == 1
    # Every connection waits 60 s for another process's write lock (sqlite3's default: 5 s).
    assert with_busy_timeout(uri) == f"{uri}?timeout=60"
    assert without_busy_timeout(with_busy_timeout(uri)) == uri  # what messages show
    assert with_busy_timeout("http://host:5000") == "http://host:5000"


# --- kind 7: a kill between MLflow's commit and tracking.json -----------------------------------


def test_kill_after_parent_run_created_reuses_it(tmp_path, template_db, monkeypatch) -> None:
    run_dir = seeded_run_dir(tmp_path / "run", template_db)
    made = kill_after(monkeypatch, mlflow.MlflowClient, "create_run")
    with pytest.raises(Killed):
        MlflowTracker.open(run_dir, TrackingConfig(), "demo", {"seed": 0})
    assert json.loads((run_dir / STATE_FILE).read_text())["parent_run_id"] is None
    with MlflowTracker.open(run_dir, TrackingConfig(), "demo", {"seed": 0}) as tracker:
        assert tracker.run_id == made[0].info.run_id
    (parent,) = all_runs(tracker.client, tracker.state.experiment_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["shiftnas.key"] == tracker.state.key  # the tag it was found by


def test_kill_after_stage_run_created_reuses_it(tmp_path, template_db, monkeypatch) -> None:
    run_dir = seeded_run_dir(tmp_path / "run", template_db)
    MlflowTracker.open(run_dir, TrackingConfig(), "demo", {})  # killed later: never closed
    made = kill_after(monkeypatch, mlflow.MlflowClient, "create_run")
    with pytest.raises(Killed):
        tracker = MlflowTracker.open(run_dir, TrackingConfig(), "demo", {})
        with tracker.start_stage("supernet"):
            pass
    assert "supernet" not in json.loads((run_dir / STATE_FILE).read_text())["stages"]
    with (
        MlflowTracker.open(run_dir, TrackingConfig(), "demo", {}) as again,
        again.start_stage("supernet"),
    ):
        again.log_metrics({"loss": 0.5}, step=0)
    assert again.state.stages["supernet"] == made[0].info.run_id
    runs = all_runs(again.client, again.state.experiment_id)
    assert sorted(r.info.run_name for r in runs) == ["demo", "supernet"]
    assert all(r.info.status == "FINISHED" for r in runs)


def test_kill_after_model_version_created_reuses_it(tmp_path, template_db, monkeypatch) -> None:
    run_dir = seeded_run_dir(tmp_path / "run", template_db)
    onnx_path = tiny_onnx(tmp_path / "net" / "model.onnx")
    made = kill_after(monkeypatch, models, "create_version")
    with pytest.raises(Killed):
        tracker = MlflowTracker.open(run_dir, TrackingConfig(), "demo", {})
        with tracker.start_stage("register"):
            register_model(tracker, onnx_path, "net", TAGS)
    assert made == ["1"] and not json.loads((run_dir / STATE_FILE).read_text())["registered"]
    with (
        MlflowTracker.open(run_dir, TrackingConfig(), "demo", {}) as again,
        again.start_stage("register"),
    ):
        assert register_model(again, onnx_path, "net", TAGS) == "1"
    (version,) = again.client.search_model_versions("name='net'")
    assert version.status == "READY" and version.tags["accuracy"] == "0.75"
    assert len(again.client.search_logged_models([again.state.experiment_id])) == 1
    runs = all_runs(again.client, again.state.experiment_id)
    assert len(runs) == 2 and all(r.info.status == "FINISHED" for r in runs)


def test_kill_while_logging_a_model_reuses_the_logged_model(
    tmp_path, template_db, monkeypatch
) -> None:
    """Killed after MLflow created the logged model, before its files were uploaded."""
    run_dir = seeded_run_dir(tmp_path / "run", template_db)
    onnx_path = tiny_onnx(tmp_path / "net" / "model.onnx")
    made = kill_after(monkeypatch, mlflow.MlflowClient, "create_logged_model")
    with pytest.raises(Killed):
        tracker = MlflowTracker.open(run_dir, TrackingConfig(), "demo", {})
        with tracker.start_stage("register"):
            register_model(tracker, onnx_path, "net", TAGS)
    with (
        MlflowTracker.open(run_dir, TrackingConfig(), "demo", {}) as again,
        again.start_stage("register"),
    ):
        register_model(again, onnx_path, "net", TAGS)
    (logged,) = again.client.search_logged_models([again.state.experiment_id])
    assert logged.model_id == made[0].model_id and logged.status.value == "READY"
    assert len(again.client.search_model_versions("name='net'")) == 1


# --- #14: a run folder that was moved -----------------------------------------------------------


def test_moved_run_folder_resumes_promotes_and_loads(tmp_path, template_db) -> None:
    first = seeded_run_dir(tmp_path / "first", template_db)
    onnx_path = tiny_onnx(first / "export" / "model.onnx")
    with (
        MlflowTracker.open(first, TrackingConfig(), "demo", {"seed": 0}) as tracker,
        tracker.start_stage("register"),
    ):
        register_model(tracker, onnx_path, "net", TAGS)
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    shutil.move(first, moved)

    with (
        MlflowTracker.open(moved, TrackingConfig(), "demo", {"seed": 0}) as again,
        again.start_stage("register"),
    ):
        again.log_artifact(moved / "export" / "model.onnx")
    assert again.run_id == tracker.run_id and again.uri == f"sqlite:///{moved}/mlflow.db"
    stage = again.client.get_run(again.state.stages["register"])
    assert stage.info.artifact_uri.startswith((moved / "mlartifacts").as_uri())
    assert (moved / "mlartifacts").is_dir() and not first.exists()  # nothing at the old place
    assert again.client.get_run(again.run_id).data.tags["shiftnas.run_dir"] == str(moved)
    with sqlite3.connect(moved / "mlflow.db") as db:  # no location still points at the old place
        rows = db.execute("SELECT artifact_location FROM experiments").fetchall()
        rows += db.execute("SELECT storage_location FROM model_versions").fetchall()
    assert not [r for r in rows if str(first) in r[0]]
    with models.using_uri(again.uri):  # the registered model loads from the moved files
        assert mlflow.onnx.load_model("models:/net/1").graph.input[0].name

    code, out, err = shiftnas("promote", "--model", "net", "--max-latency-ms", "2",
                              "--run-dir", moved)  # fmt: skip
    assert code == 0, err
    assert "'champion' -> v1 of net" in out
    assert not first.exists()


def test_old_tracking_json_with_absolute_store_is_read_after_a_move(tmp_path, template_db) -> None:
    """Run folders written before this change pin `sqlite:////abs/path/mlflow.db`."""
    first = seeded_run_dir(tmp_path / "first", template_db)
    with MlflowTracker.open(first, TrackingConfig(), "demo", {}) as tracker:
        pass
    state = json.loads((first / STATE_FILE).read_text())
    (first / STATE_FILE).write_text(json.dumps({**state, "tracking_uri": tracker.uri}))
    moved = tmp_path / "moved"
    shutil.move(first, moved)
    with MlflowTracker.open(moved, TrackingConfig(), "demo", {}) as again:
        assert again.run_id == tracker.run_id
    assert json.loads((moved / STATE_FILE).read_text())["tracking_uri"] is None
    assert not first.exists()


def test_pending_journal_survives_a_move_of_a_relative_run_folder(tmp_path, monkeypatch) -> None:
    """Calls journalled while the store was away name the run folder's files relatively."""
    import numpy as np

    from shiftnas.tracking.state import PendingLog

    monkeypatch.chdir(tmp_path)
    PendingLog(Path("run")).append({"op": "model", "stage": "register", "key": "register/net",
                                    "onnx_path": str(tmp_path / "run" / "net.onnx"),
                                    "_example": np.arange(3.0)})  # fmt: skip
    shutil.move("run", "moved")
    (record,) = PendingLog(Path("moved")).records()
    assert record["onnx_path"] == str(tmp_path / "moved" / "net.onnx")
    assert np.load(record["example"]).tolist() == [0.0, 1.0, 2.0]


def test_damaged_tracking_json_is_one_line(tmp_path) -> None:
    (tmp_path / STATE_FILE).write_text('{"tracking_uri": nu')  # cut off mid-write by hand
    with pytest.raises(ShiftnasError, match=r"tracking\.json is damaged .*: delete it") as err:
        MlflowTracker.open(tmp_path, TrackingConfig(), "demo", {})
    assert "\n" not in str(err.value)
    code, _, err = shiftnas("promote", "--model", "m", "--max-latency-ms", "1",
                            "--run-dir", tmp_path)  # fmt: skip
    one_line_error(code, err, "tracking.json is damaged")
    assert not (tmp_path / "mlflow.db").exists()
