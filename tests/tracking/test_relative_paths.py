"""#27 kind 2: relative paths of a run are resolved when the run is created and recorded; a
resume from another directory uses the recorded store and files, or refuses in one line,
changing nothing; bookkeeping is never reset while the store it describes may still exist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cli_helpers import one_line_error, shiftnas, tiny_run_config, write_config

from shiftnas.pipeline.config import config_from_dict
from shiftnas.pipeline.paths import PATHS_FILE, record_paths, resolve_paths

mlflow = pytest.importorskip("mlflow")

SEARCH = {"population": 4, "generations": 1, "objectives": [{"name": "params"},
                                                           {"name": "macs"}]}  # fmt: skip


@pytest.fixture(autouse=True)
def _no_env_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def _config(folder: Path, stages: list[str]) -> Path:
    data = tiny_run_config(tracking={"uri": "sqlite:///track.db"}, search=SEARCH, stages=stages)
    data["supernet"] = {"batch_size": 50}
    return write_config(folder / f"{'-'.join(stages)}.yaml", data)


def _parents(db: Path) -> list:
    client = mlflow.MlflowClient(f"sqlite:///{db}")
    experiment = client.get_experiment_by_name("shiftnas")
    runs = client.search_runs([experiment.experiment_id])
    return [r for r in runs if "mlflow.parentRunId" not in r.data.tags], runs


@pytest.fixture(scope="module")
def started_in_a(tmp_path_factory: pytest.TempPathFactory):
    """A run created in directory A with `tracking.uri: sqlite:///track.db` (supernet only)."""
    root = tmp_path_factory.mktemp("rel")
    a, b = root / "A", root / "B"
    a.mkdir(), b.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.chdir(a)
        code, _, err = shiftnas("run", _config(root, ["supernet"]), "--run-dir", root / "run")
    assert code == 0, err
    return root


def test_resume_from_another_directory_uses_the_recorded_store(started_in_a, monkeypatch):
    root = started_in_a
    before = json.loads((root / "run/tracking.json").read_text())
    assert before["tracking_uri"] == f"sqlite:///{(root / 'A/track.db').resolve()}"
    paths = json.loads((root / "run" / PATHS_FILE).read_text())
    assert paths["paths"]["tracking.uri"] == {"given": "sqlite:///track.db",
                                              "resolved": before["tracking_uri"]}  # fmt: skip
    monkeypatch.chdir(root / "B")
    config = _config(root, ["supernet", "search"])
    code, out, err = shiftnas("run", config, "--run-dir", root / "run")
    assert code == 0, err
    assert not (root / "B/track.db").exists()  # no empty store made here
    after = json.loads((root / "run/tracking.json").read_text())
    assert after["parent_run_id"] == before["parent_run_id"] and after["key"] == before["key"]
    assert set(after["stages"]) == {"supernet", "search"}
    parents, runs = _parents(root / "A/track.db")
    assert len(parents) == 1  # one parent run, and both stages under it
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == before["parent_run_id"]]
    assert {r.data.tags["shiftnas.stage"] for r in children} == {"supernet", "search"}
    assert str(root / "A/track.db") in out  # `see it in MLflow` names the recorded store


def _legacy(root: Path, tmp: Path) -> Path:
    """A copy of the run as a version before #27 left it: the store recorded relative to the
    working directory, no paths.json."""
    import shutil

    copy = tmp / "legacy"
    shutil.copytree(root / "run", copy)
    (copy / PATHS_FILE).unlink(missing_ok=True)
    state = json.loads((copy / "tracking.json").read_text())
    state["tracking_uri"] = "sqlite:///track.db"
    (copy / "tracking.json").write_text(json.dumps(state))
    text = yaml.safe_load((copy / "config.yaml").read_text())
    text["tracking"]["uri"] = "sqlite:///track.db"
    (copy / "config.yaml").write_text(yaml.safe_dump(text, sort_keys=False))
    stages = json.loads((copy / "state.json").read_text())
    stages["stages"].pop("search", None)  # the search waits: resuming opens the store
    (copy / "state.json").write_text(json.dumps(stages))
    return copy


def test_missing_recorded_store_is_one_line_and_changes_nothing(
    started_in_a, tmp_path, monkeypatch
):
    run = _legacy(started_in_a, tmp_path)
    before = (run / "tracking.json").read_bytes()
    monkeypatch.chdir(started_in_a / "B")
    code, _, err = shiftnas("run", _config(started_in_a, ["supernet", "search"]), "--run-dir", run)
    one_line_error(code, err, "no such store exists", "delete", "tracking.json")
    assert not (started_in_a / "B/track.db").exists()
    assert (run / "tracking.json").read_bytes() == before


def test_another_store_at_the_same_uri_is_one_line_and_changes_nothing(
    started_in_a, tmp_path, monkeypatch
):
    run = _legacy(started_in_a, tmp_path)
    before = (run / "tracking.json").read_bytes()
    elsewhere = tmp_path / "C"
    elsewhere.mkdir()
    mlflow.MlflowClient(f"sqlite:///{elsewhere / 'track.db'}").search_experiments()  # empty store
    monkeypatch.chdir(elsewhere)
    code, _, err = shiftnas("run", _config(started_in_a, ["supernet", "search"]), "--run-dir", run)
    one_line_error(code, err, "has no experiment", "tracking.json")
    assert (run / "tracking.json").read_bytes() == before
    parents, _ = _parents(started_in_a / "A/track.db")
    assert len(parents) == 1  # the real store was not touched either


def test_config_paths_are_resolved_once_and_recorded(tmp_path, monkeypatch):
    a, b = tmp_path / "A", tmp_path / "B"
    a.mkdir(), b.mkdir()
    data = {"data": {"dataset": "imagefolder", "root": "images", "cache_dir": "../cache"},
            "search": {"latency": {"table": "tables/lut.json"}},
            "tracking": {"uri": "mlruns"}}  # fmt: skip
    config = config_from_dict(data)
    run = tmp_path / "run"
    monkeypatch.chdir(a)
    resolved, record = resolve_paths(config, run)
    assert str(resolved.data.root) == str(a / "images")
    assert str(resolved.data.cache_dir) == str(tmp_path / "cache")
    assert str(resolved.search.latency.table) == str(a / "tables/lut.json")
    assert resolved.tracking.uri == str(a / "mlruns")
    run.mkdir()
    (run / "config.yaml").write_text("name: run\n")
    record_paths(run, record)
    monkeypatch.chdir(b)  # the same config from B: the locations recorded in A
    again, _ = resolve_paths(config, run)
    assert again == resolved
    changed, _ = resolve_paths(config_from_dict({**data, "tracking": {"uri": "other"}}), run)
    assert changed.tracking.uri == str(b / "other")  # a new value is resolved where it is given
    assert str(changed.data.root) == str(a / "images")


def test_cli_search_records_relative_paths_and_resumes_from_elsewhere(tmp_path, monkeypatch):
    """`shiftnas search` binds the same run folder as `shiftnas run`: the relative `data.root`
    resolved in A is the one used from B, so the config has not changed and nothing resets."""
    a, b = tmp_path / "A", tmp_path / "B"
    a.mkdir(), b.mkdir()
    data = tiny_run_config(search={**SEARCH, "generations": 2})
    data["data"]["root"] = "images"  # read by image datasets; shapes ignores it
    config = write_config(tmp_path / "c.yaml", data)
    monkeypatch.chdir(a)
    code, _, err = shiftnas("search", "-c", config, "--quiet", "--run-dir", tmp_path / "run")
    assert code == 0, err
    recorded = json.loads((tmp_path / "run" / PATHS_FILE).read_text())["paths"]
    assert recorded == {"data.root": {"given": "images", "resolved": str(a / "images")}}
    assert yaml.safe_load((tmp_path / "run/config.yaml").read_text())["data"]["root"] == str(
        a / "images"
    )
    monkeypatch.chdir(b)
    code, out, err = shiftnas("search", "-c", config, "--quiet", "--run-dir", tmp_path / "run")
    assert code == 0, err
    assert "data.root" not in out and not (tmp_path / "run/replaced").exists()
